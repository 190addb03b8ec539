import { useMemo, useState } from "react";
import { useFeed } from "../feed.js";
import { age, isOpen, priorityLabel, queueOrder } from "../format.js";
import { locale, t } from "../i18n.js";
import { ChartBox } from "../parts/Chart.jsx";
import { useGet, useNow } from "../parts/hooks.js";

const DAY = 86400000;

// Open tickets at the end of each of the last `days` days (and now), from what the console holds: created by
// then and not yet resolved by then.
export function backlogTrend(tickets, now, days = 14) {
  const points = [];
  for (let back = days - 1; back >= 0; back -= 1) {
    const end = back === 0 ? now : new Date(new Date(now - back * DAY).setHours(23, 59, 59, 999)).getTime();
    const open = tickets.filter((x) => Date.parse(x.created_at) <= end && !(x.resolved_at && Date.parse(x.resolved_at) <= end)
      && !(x.status === "closed" && !x.resolved_at && Date.parse(x.updated_at) <= end)).length; // prettier-ignore
    points.push([new Date(end).toLocaleDateString(locale(), { day: "numeric", month: "short" }), open]);
  }
  return points;
}

export function Board({ who }) {
  const state = useFeed();
  const now = useNow(5000);
  const known = useMemo(() => [...new Set([...(who.teams || []), ...state.folders.map((f) => f.team)])].sort(), [state.folders]);
  const [team, setTeam] = useState((who.teams || [])[0] || known[0] || "support");
  const agents = useGet(`/v1/agents?team=${encodeURIComponent(team)}`, { every: 3000 }).data?.items || [];
  const escalations = useGet(`/v1/escalations?team=${encodeURIComponent(team)}`, { every: 5000 }).data;
  const strategy = useGet(`/v1/teams/${encodeURIComponent(team)}`).data?.strategy || "urgency";
  const tickets = useMemo(() => [...state.tickets.values()].filter((x) => x.team === team), [state.version, team]);
  const waiting = tickets.filter((x) => isOpen(x) && !x.assignee).sort(queueOrder(strategy));
  const trend = backlogTrend(tickets, now);
  const levels = escalations?.levels || [];

  return (
    <section className="page board" aria-label={t("Team board")}>
      <div className="row">
        <h1>{t("Team board")}</h1>
        <label className="inline"><span>{t("Team")}</span>
          <select name="team" value={team} onChange={(e) => setTeam(e.target.value)}>
            {known.map((x) => <option key={x} value={x}>{x}</option>)}
          </select></label>
        <span className="muted small">{t("{n} waiting · {e} escalated · {a} agents", { n: waiting.length, e: escalations?.count ?? "…", a: agents.length })}</span>
      </div>
      <div className="grid">
        <section className="panel">
          <h2>{t("Agents: load against capacity")}</h2>
          <table className="dense" data-testid="agents">
            <thead><tr><th>{t("Agent")}</th><th>{t("Presence")}</th><th>{t("Load")}</th><th>{t("Capacity")}</th><th /></tr></thead>
            <tbody>
              {agents.map((a) => {
                const over = a.load > a.capacity;
                const full = a.load >= a.capacity && a.capacity > 0;
                return (
                  <tr key={a.id} className={over ? "overload" : full ? "full" : ""} data-agent={a.id}>
                    <td>{a.name || a.id}</td><td><span className={`presence ${a.presence}`}>{t(a.presence)}</span></td>
                    <td data-testid={`load-${a.id}`}>{a.load}</td><td>{a.capacity}</td>
                    <td>{over ? <strong className="error">{t("overloaded")}</strong> : full ? t("full") : ""}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <ChartBox type="bar" label={t("Load against capacity per agent")} labels={agents.map((a) => a.id)}
            datasets={[{ label: t("Load"), data: agents.map((a) => a.load), backgroundColor: agents.map((a) => (a.load > a.capacity ? "#c62828" : "#1565c0")) },
                       { label: t("Capacity"), data: agents.map((a) => a.capacity), backgroundColor: "#cfd8dc" }]}
            options={{ indexAxis: "y", scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } }} height={Math.max(120, agents.length * 28 + 60)} />
        </section>
        <section className="panel">
          <h2>{t("Waiting queue")} ({waiting.length})</h2>
          <table className="dense" data-testid="waiting">
            <thead><tr><th>#</th><th>{t("Ref")}</th><th>{t("Subject")}</th><th>{t("Priority")}</th><th>{t("Waiting")}</th></tr></thead>
            <tbody>{waiting.slice(0, 50).map((x, i) => (
              <tr key={x.id}><td>{i + 1}</td><td><a href={`#/tickets/${x.id}`}>{x.ref}</a></td><td>{x.subject}</td>
                <td><span className={`pri ${x.priority}`}>{priorityLabel(x.priority)}</span></td><td>{age(x.created_at, now)}</td></tr>))}
            </tbody>
          </table>
          {!waiting.length && <p className="muted">{t("Nobody is waiting.")}</p>}
        </section>
        <section className="panel">
          <h2>{t("Escalations by level")}</h2>
          <ChartBox type="bar" label={t("Escalated tickets per tier")} labels={levels.map((l) => t("tier {n}", { n: l.level + 1 }))}
            datasets={[{ label: t("Escalated"), data: levels.map((l) => l.count), backgroundColor: "#ef6c00" }]}
            options={{ scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }, plugins: { legend: { display: false } } }} height={160} />
          <ul className="plain" data-testid="escalations">
            {levels.flatMap((l) => l.items.map((x) => (
              <li key={x.id}><a href={`#/tickets/${x.id}`}>{x.ref}</a> {t("tier {n}", { n: l.level + 1 })} · {Object.keys(x.causes).join(", ")} ·
                {" "}{x.assignee || t("unassigned")} · {age(x.created_at, now)}</li>)))}
          </ul>
        </section>
        <section className="panel">
          <h2>{t("Backlog, last 14 days")}</h2>
          <ChartBox type="line" label={t("Open tickets at the end of each day")} labels={trend.map((p) => p[0])}
            datasets={[{ label: t("Open tickets"), data: trend.map((p) => p[1]), borderColor: "#1565c0", backgroundColor: "rgba(21,101,192,.15)", fill: true, tension: 0.2 }]}
            options={{ scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }, plugins: { legend: { display: false } } }} height={180} />
        </section>
      </div>
    </section>
  ); // prettier-ignore
}
