import { useEffect, useState, useSyncExternalStore } from "react";
import { session } from "./api.js";
import { feed } from "./feed.js";
import { setLanguage, t, useLanguage } from "./i18n.js";
import { SignIn } from "./views/SignIn.jsx";
import { Inbox } from "./views/Inbox.jsx";
import { Me } from "./views/Me.jsx";
import { Board } from "./views/Board.jsx";
import { Admin } from "./views/Admin.jsx";
import { Portal } from "./views/Portal.jsx";
import { HelpArticle, HelpSearch } from "./views/Help.jsx";
import { Articles } from "./views/Articles.jsx";
import { Dashboard } from "./views/Dashboard.jsx";
import { EscalationReview } from "./views/Escalations.jsx";

// Screens by the location's hash (#/inbox, #/tickets/<id>, #/me, #/board, #/admin/sla): the hash never holds
// the agent's token, and a reload keeps the screen. A query after "?" (#/help/<id>?from=portal) is read apart.
// The public pages (#/portal/<ticket>/<token>, #/help) are routed before the session check.
export const hashQuery = () => new URLSearchParams(window.location.hash.split("?")[1] || "");

function useRoute() {
  const read = () => (window.location.hash.replace(/^#\/?/, "").split("?")[0] || "inbox").split("/").map((part) => {
    try {
      return decodeURIComponent(part);
    } catch {
      return part;
    }
  });
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const changed = () => setRoute(read());
    window.addEventListener("hashchange", changed);
    return () => window.removeEventListener("hashchange", changed);
  }, []);
  return route;
}

export const go = (path) => {
  window.location.hash = `#/${path}`;
};

function useSession() {
  return useSyncExternalStore(
    (listener) => {
      window.addEventListener("session-changed", listener);
      return () => window.removeEventListener("session-changed", listener);
    },
    () => sessionStorage.getItem("ticketing.session"),
  );
}

const RANK = { agent: 1, supervisor: 2, admin: 3 };
export const atLeast = (who, role) => RANK[who?.role] >= RANK[role];

export function App() {
  const language = useLanguage();
  useSession();
  const who = session.get();
  const route = useRoute();

  useEffect(() => {
    if (who) feed.start();
    else feed.stop();
  }, [who?.token]);

  const [screen, ...rest] = route;
  if (screen === "portal") return <Portal ticketId={rest[0]} token={rest[1]} rate={rest[2] === "rate"} key={rest.join("/")} />;
  if (screen === "help") {
    return rest[0] ? <HelpArticle id={rest[0]} fromPortal={hashQuery().get("from") === "portal"} key={rest[0]} /> : <HelpSearch initial={hashQuery().get("q") || ""} />;
  }
  if (!who) return <SignIn />;
  const nav = [
    ["inbox", t("Inbox"), "agent"],
    ["me", t("Me"), "agent"],
    ["board", t("Team board"), "supervisor"],
    ["dashboard", t("Dashboard"), "supervisor"],
    ["articles", t("Articles"), "supervisor"],
    ["reports/escalations", t("Escalation review"), "supervisor"],
    ["admin", t("Admin"), "admin"],
  ].filter(([, , role]) => atLeast(who, role));

  return (
    <div className="app">
      <header className="topbar">
        <strong className="brand">{t("Support console")}</strong>
        <nav aria-label={t("Main")}>
          {nav.map(([id, label]) => (
            <a key={id} href={`#/${id}`} className={(id.split("/")[0] === screen || (screen === "tickets" && id === "inbox")) ? "active" : ""}
               aria-current={id.split("/")[0] === screen ? "page" : undefined}>{label}</a>
          ))}
          <a href="#/help" target="_blank" rel="noopener">{t("Help centre")} ↗</a>
        </nav>
        <span className="spacer" />
        <label className="inline">
          <span className="sr-only">{t("Language")}</span>
          <select aria-label={t("Language")} value={language} onChange={(e) => setLanguage(e.target.value)}>
            <option value="en">English</option>
            <option value="id">Bahasa Indonesia</option>
          </select>
        </label>
        <span className="who" data-testid="who">
          {who.agent || t("(no agent)")} · {t(who.role)} · {(who.teams || []).join(", ")}
        </span>
        <button type="button" onClick={() => session.clear()}>{t("Sign out")}</button>
      </header>
      <main>
        {(screen === "inbox" || screen === "tickets") && <Inbox who={who} selected={screen === "tickets" ? rest[0] : null} />}
        {screen === "me" && <Me who={who} />}
        {screen === "board" && atLeast(who, "supervisor") && <Board who={who} />}
        {screen === "admin" && atLeast(who, "admin") && <Admin section={rest[0] || "sla"} />}
        {screen === "dashboard" && atLeast(who, "supervisor") && <Dashboard who={who} />}
        {screen === "articles" && atLeast(who, "supervisor") && <Articles />}
        {screen === "reports" && atLeast(who, "supervisor") && <EscalationReview who={who} />}
      </main>
    </div>
  );
}
