// The weekly escalation review (`#/reports/escalations`, supervisors): pick any day, the API reviews its week
// (Monday to Monday, UTC) — totals, findings, escalations per day by level, causes against the week before, the
// escalated tickets still open — and a CSV of it to download.
import { useState } from "react";
import { download, query } from "../api.js";
import { locale, t } from "../i18n.js";
import { ChartBox } from "../parts/Chart.jsx";
import { useGet } from "../parts/hooks.js";
import { TeamSelect } from "../parts/forms.jsx";

const COLOURS = ["#ffb74d", "#ef6c00", "#c62828", "#6a1b9a", "#37474f"];
const dayLabel = (day) => new Date(`${day}T00:00:00Z`).toLocaleDateString(locale(), { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });

export function EscalationReview({ who }) {
  const admin = who.role === "admin";
  const teams = who.teams || [];
  const [week, setWeek] = useState(new Date().toISOString().slice(0, 10));
  const [team, setTeam] = useState(admin ? "" : teams[0] || "");
  const [problem, setProblem] = useState(null);
  const params = { week, team };
  const { data, error } = useGet(`/v1/reports/escalations${query(params)}`);
  const days = data?.by_day || [];
  const levels = [...new Set(days.flatMap((d) => Object.keys(d.by_level || {})))].sort();

  const csvFile = async () => {
    setProblem(null);
    try {
      await download(`/v1/reports/escalations${query({ ...params, format: "csv" })}`, `escalations-${data?.week?.from || week}.csv`);
    } catch (failure) {
      setProblem(failure.message);
    }
  };

  return (
    <section className="page escalations" aria-label={t("Escalation review")}>
      <div className="row">
        <h1>{t("Escalation review")}</h1>
        <label className="inline"><span>{t("Week of")}</span>
          <input type="date" name="week" value={week} onChange={(e) => e.target.value && setWeek(e.target.value)} /></label>
        <TeamSelect admin={admin} teams={teams} team={team} setTeam={setTeam} />
        <button type="button" onClick={csvFile} disabled={!data}>{t("Download CSV")}</button>
        {data && <span className="muted small">{t("{from} to {to} (UTC, the end not included)", { from: data.week.from, to: data.week.to })}</span>}
      </div>
      {(error || problem) && <p role="alert" className="error">{error?.message || problem}</p>}
      {!data && !error && <p className="muted">{t("loading…")}</p>}
      {data && (
        <>
          <ul className="plain kpis" data-testid="totals">
            <li className="kpi"><div className="kpi-name">{t("Escalations")}</div><div className="kpi-value">{data.totals.escalations}</div>
              <div className="small muted">{t("Week before")}: {data.totals.previous_week}</div></li>
            <li className="kpi"><div className="kpi-name">{t("New tickets")}</div><div className="kpi-value">{data.totals.tickets}</div></li>
            <li className="kpi"><div className="kpi-name">{t("Escalation rate")}</div>
              <div className="kpi-value">{data.totals.escalation_rate === null ? "—" : `${data.totals.escalation_rate} %`}</div></li>
            <li className="kpi"><div className="kpi-name">{t("Still open")}</div><div className="kpi-value">{data.open_escalated.length}</div></li>
          </ul>
          <section className="panel">
            <h2>{t("Findings")}</h2>
            <ul data-testid="findings">{data.findings.map((f, i) => <li key={i}>{f}</li>)}</ul>
          </section>
          <div className="grid two">
            <section className="panel">
              <h2>{t("Escalations per day by level")}</h2>
              <ChartBox type="bar" label={t("Escalations per day, stacked by level")} labels={days.map((d) => dayLabel(d.day))}
                datasets={levels.length ? levels.map((lv, i) => ({ label: t("level {n}", { n: lv }), data: days.map((d) => d.by_level?.[lv] || 0), backgroundColor: COLOURS[i % COLOURS.length] }))
                  : [{ label: t("Escalations"), data: days.map((d) => d.total), backgroundColor: COLOURS[1] }]}
                options={{ scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } }} height={220} />
            </section>
            <section className="panel">
              <h2>{t("By cause, against the week before")}</h2>
              <table className="dense" data-testid="by-cause">
                <thead><tr><th>{t("Cause")}</th><th>{t("This week")}</th><th>{t("Week before")}</th><th>{t("Change")}</th></tr></thead>
                <tbody>{data.by_cause.map((c) => (
                  <tr key={c.cause} className={c.change >= 3 ? "overload" : ""}><td>{c.cause}</td><td>{c.count}</td><td>{c.previous_week}</td>
                    <td>{c.change > 0 ? `+${c.change}` : c.change}</td></tr>))}
                </tbody>
              </table>
              {!data.by_cause.length && <p className="muted">{t("No escalations in either week.")}</p>}
              {data.by_level.length > 0 && (
                <table className="dense">
                  <thead><tr><th>{t("Level")}</th><th>{t("This week")}</th><th>{t("Week before")}</th></tr></thead>
                  <tbody>{data.by_level.map((l) => <tr key={l.level}><td>{t("level {n}", { n: l.level })}</td><td>{l.count}</td><td>{l.previous_week}</td></tr>)}</tbody>
                </table>
              )}
            </section>
          </div>
          <section className="panel">
            <h2>{t("Escalated tickets still open")} ({data.open_escalated.length})</h2>
            <table className="dense" data-testid="open-escalated">
              <thead><tr><th>{t("Ref")}</th><th>{t("Level")}</th><th>{t("Team")}</th><th>{t("Escalated")}</th><th>{t("Causes")}</th></tr></thead>
              <tbody>{data.open_escalated.map((x) => (
                <tr key={x.ticket_id}><td><a href={`#/tickets/${x.ticket_id}`}>{x.ref}</a></td><td>{t("level {n}", { n: x.level })}</td><td>{x.team}</td>
                  <td>{x.escalated_at ? new Date(x.escalated_at).toLocaleString(locale(), { dateStyle: "medium", timeStyle: "short" }) : "—"}</td>
                  <td>{(x.causes || []).join(", ")}</td></tr>))}
              </tbody>
            </table>
          </section>
        </>
      )}
    </section>
  ); // prettier-ignore
}
