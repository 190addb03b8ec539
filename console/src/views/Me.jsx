import { useEffect, useState } from "react";
import { put } from "../api.js";
import { atLeast } from "../App.jsx";
import { useFeed } from "../feed.js";
import { isOpen } from "../format.js";
import { t } from "../i18n.js";
import { GoalsPanel } from "../parts/Goals.jsx";
import { useGet } from "../parts/hooks.js";

const PRESENCE = ["online", "away", "offline"];

export function Me({ who }) {
  const { data: me, error, reload } = useGet(who.agent ? `/v1/agents/${encodeURIComponent(who.agent)}` : null);
  const [capacity, setCapacity] = useState("");
  const [status, setStatus] = useState(null);
  const [presence, setPresence] = useState(null); // shown at once, confirmed by the save
  const state = useFeed();
  useEffect(() => {
    if (me) setCapacity(String(me.capacity));
  }, [me?.capacity]);
  const mine = [...state.tickets.values()].filter((x) => x.assignee === who.agent && isOpen(x));

  const save = async (changes, done) => {
    setStatus(null);
    try {
      await put(`/v1/agents/${encodeURIComponent(who.agent)}`, changes);
      setStatus({ ok: done });
      reload();
    } catch (problem) {
      setStatus({ error: problem.message, fields: problem.fields || {} });
      setPresence(null);
    }
  };

  if (!who.agent) return <section className="page"><p>{t("This session acts as no agent.")}</p><GoalsPanel who={who} /></section>;
  if (error && error.status === 404) {
    return (
      <section className="page">
        <h1>{t("Me")}</h1>
        <p>{t("You are not on the roster yet. A supervisor adds you, or go online to join team {team}.", { team: who.teams?.[0] })}</p>
        <button type="button" className="primary" onClick={() => save({ team: who.teams?.[0] || "support", presence: "online" }, t("You are online"))}>{t("Go online")}</button>
        {status?.error && <p role="alert" className="error">{status.error}</p>}
        <GoalsPanel who={who} />
      </section>
    );
  }
  if (!me) return <section className="page"><p className="muted">{t("loading…")}</p></section>;
  const full = me.load >= me.capacity;
  return (
    <section className="page me">
      <h1>{me.name || me.id} <span className="muted small">{me.team} · {t("tier {n}", { n: me.tier })}</span></h1>
      <fieldset className="presence">
        <legend>{t("Presence")}</legend>
        {PRESENCE.map((p) => (
          <label key={p} className={`check pill ${(presence ?? me.presence) === p ? "on" : ""}`}>
            <input type="radio" name="presence" value={p} checked={(presence ?? me.presence) === p}
                   onChange={() => { setPresence(p); save({ presence: p }, t("Presence saved")); }} />
            {t(p)}
          </label>
        ))}
      </fieldset>
      <p className={full ? "load full" : "load"} data-testid="my-load">
        {t("Load {load} of {capacity}", { load: me.load, capacity: me.capacity })}{full ? ` — ${t("full: no new tickets until one is done")}` : ""}
      </p>
      <meter min={0} max={Math.max(me.capacity, 1)} value={me.load} aria-label={t("Load")} />
      {atLeast(who, "supervisor") && (
        <form className="row" onSubmit={(e) => { e.preventDefault(); save({ capacity: Number(capacity) }, t("Capacity saved")); }}>
          <label className="inline"><span>{t("Capacity")}</span>
            <input name="capacity" type="number" min={0} max={100} value={capacity} onChange={(e) => setCapacity(e.target.value)} />
          </label>
          <button type="submit">{t("Save")}</button>
          {status?.fields?.capacity && <span className="error">{status.fields.capacity}</span>}
        </form>
      )}
      {status?.ok && <p role="status" className="notice">{status.ok}</p>}
      {status?.error && <p role="alert" className="error">{status.error}</p>}
      <h2>{t("My open tickets")} ({mine.length})</h2>
      <ul className="plain">{mine.map((x) => <li key={x.id}><a href={`#/tickets/${x.id}`}>{x.ref} {x.subject}</a></li>)}</ul>
      <GoalsPanel who={who} />
    </section>
  ); // prettier-ignore
}
