// The supervisor's dashboard (`#/dashboard`): every KPI of a period beside its baseline (GET /v1/metrics/summary),
// flagged by the API's rule; the daily trend and escalations by cause; workload with overloaded agents and the
// "automate or hire" signal; the breakdown by a dimension; and the team's goals with a form. Refreshed every few
// seconds (the aggregates follow the tickets through a stream).
import { useState } from "react";
import { query } from "../api.js";
import { locale, t } from "../i18n.js";
import { ChartBox } from "../parts/Chart.jsx";
import { GoalsPanel } from "../parts/Goals.jsx";
import { useGet } from "../parts/hooks.js";
import { FLAG_LABELS, formatChange, formatKpi, kpiLabel } from "../parts/kpi.js";
import { TeamSelect } from "../parts/forms.jsx";

const DAY = 86400000;
const iso = (ms) => new Date(ms).toISOString().slice(0, 10);
const todayUtc = () => Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
const mondayUtc = (ms) => ms - ((new Date(ms).getUTCDay() + 6) % 7) * DAY;

export const PERIODS = {
  week: () => { const m = mondayUtc(todayUtc()); return [iso(m), iso(m + 7 * DAY)]; },
  last_week: () => { const m = mondayUtc(todayUtc()); return [iso(m - 7 * DAY), iso(m)]; },
  days30: () => { const d = todayUtc(); return [iso(d - 29 * DAY), iso(d + DAY)]; },
}; // prettier-ignore
const GROUPS = ["channel", "priority", "team", "agent", "tier"];
const GROUP_COLUMNS = ["volume", "resolved", "first_response_median", "resolution_median", "sla_compliance", "csat_average", "escalations", "backlog"];
const dayLabel = (day) => new Date(`${day}T00:00:00Z`).toLocaleDateString(locale(), { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });

export function FlagBadge({ flag }) {
  if (!flag) return null;
  return <span className={`badge flag-${flag}`} data-flag={flag}>{FLAG_LABELS()[flag] || flag}</span>;
}

function KpiCard({ name, entry }) {
  const percent = entry.change_percent;
  return (
    <li className={`kpi ${entry.flag ? `flag-${entry.flag}` : ""}`} data-testid={`kpi-${name}`}>
      <div className="kpi-name">{kpiLabel(name)}</div>
      <div className="kpi-value" data-testid="value">{formatKpi(name, entry.value)}</div>
      <div className="small muted" data-testid="baseline">{t("Baseline")}: {formatKpi(name, entry.baseline)}</div>
      {entry.change !== undefined && (
        <div className="small">{t("Change")}: {formatChange(name, entry.change)}
          {percent !== null && percent !== undefined && ` (${percent > 0 ? "+" : ""}${percent} %)`}</div>
      )}
      <FlagBadge flag={entry.flag} />
    </li>
  ); // prettier-ignore
}

function Workload({ workload }) {
  const agents = workload?.agents || [];
  const teams = workload?.teams || [];
  return (
    <section className="panel" aria-labelledby="workload-title">
      <h2 id="workload-title">{t("Workload")}</h2>
      {teams.filter((x) => x.signal).map((x) => (
        <p key={x.team} className="signal" role="note" data-testid={`signal-${x.team}`}><strong>{x.team}:</strong> {x.signal}</p>
      ))}
      <table className="dense" data-testid="workload-teams">
        <thead><tr><th>{t("Team")}</th><th>{t("Online")}</th><th>{t("Load")}</th><th>{t("Utilisation")}</th><th>{t("Waiting")}</th><th>{t("Overloaded")}</th></tr></thead>
        <tbody>{teams.map((x) => (
          <tr key={x.team}><td>{x.team}</td><td>{x.online}/{x.agents}</td><td>{x.load}/{x.capacity}</td>
            <td>{x.utilisation === null ? "—" : `${x.utilisation} %`}</td><td>{x.waiting}</td><td>{x.overloaded_agents}</td></tr>))}
        </tbody>
      </table>
      <div className="scroll-x">
        <table className="dense" data-testid="workload-agents">
          <thead><tr><th>{t("Agent")}</th><th>{t("Presence")}</th><th>{t("Load")}</th><th>{t("Utilisation")}</th><th>{t("Resolved")}</th><th /></tr></thead>
          <tbody>{agents.map((a) => (
            <tr key={a.agent} data-agent={a.agent} className={a.overloaded ? "overload" : ""}>
              <td>{a.name || a.agent}</td><td><span className={`presence ${a.presence}`}>{t(a.presence)}</span></td>
              <td>{a.load}/{a.capacity}</td><td>{a.utilisation === null ? "—" : `${a.utilisation} %`}</td><td>{a.resolved}</td>
              <td className="wrap">{a.overloaded && <><span className="badge flag-act">{t("Overloaded")}</span> <span className="small">{a.why}</span></>}</td>
            </tr>))}
          </tbody>
        </table>
      </div>
      {workload?.rule && <p className="muted small">{workload.rule}</p>}
    </section>
  ); // prettier-ignore
}

export function Dashboard({ who }) {
  const admin = who.role === "admin";
  const teams = who.teams || [];
  const [period, setPeriod] = useState(PERIODS.week);
  const [choice, setChoice] = useState("week");
  const [groupBy, setGroupBy] = useState("");
  const [team, setTeam] = useState(admin ? "" : teams[0] || "");
  const path = `/v1/metrics/summary${query({ from: period[0], to: period[1], group_by: groupBy, team })}`;
  const { data, error } = useGet(path, { every: 5000 });
  const quick = (name) => { setChoice(name); setPeriod(PERIODS[name]()); }; // prettier-ignore
  const custom = (index, value) => {
    if (!value) return;
    const next = [...period];
    next[index] = value;
    setChoice("custom");
    setPeriod(next);
  };
  const summary = data;
  const kpis = Object.entries(summary?.kpis || {});
  const trend = summary?.trend || [];
  const causes = summary?.escalations?.causes || [];

  return (
    <section className="page dashboard" aria-label={t("Dashboard")}>
      <div className="row">
        <h1>{t("Dashboard")}</h1>
        <div className="subnav quick" role="group" aria-label={t("Period")}>
          {[["week", t("This week")], ["last_week", t("Last week")], ["days30", t("Last 30 days")]].map(([name, label]) => (
            <button key={name} type="button" className={choice === name ? "active" : ""} aria-pressed={choice === name} onClick={() => quick(name)}>{label}</button>
          ))}
        </div>
        <label className="inline"><span>{t("From")}</span><input type="date" name="from" value={period[0]} onChange={(e) => custom(0, e.target.value)} /></label>
        <label className="inline"><span>{t("To (not included)")}</span><input type="date" name="to" value={period[1]} onChange={(e) => custom(1, e.target.value)} /></label>
        <label className="inline"><span>{t("Group by")}</span>
          <select name="group_by" value={groupBy} onChange={(e) => setGroupBy(e.target.value)}>
            <option value="">{t("— none —")}</option>
            {GROUPS.map((g) => <option key={g} value={g}>{t(g)}</option>)}
          </select></label>
        <TeamSelect admin={admin} teams={teams} team={team} setTeam={setTeam} />
      </div>
      {error && <p role="alert" className="error">{error.message}</p>}
      {summary && (
        <p className="muted small">
          {t("{from} to {to} (UTC, the end not included), against {bfrom} to {bto}", { from: summary.period.from, to: summary.period.to, bfrom: summary.baseline.from, bto: summary.baseline.to })}
          {summary.team ? ` · ${t("team")} ${summary.team}` : ""}
        </p>
      )}
      {!summary && !error && <p className="muted">{t("loading…")}</p>}
      {summary && (
        <>
          <ul className="plain kpis" aria-label={t("KPIs")} data-testid="kpis">
            {kpis.map(([name, entry]) => <KpiCard key={name} name={name} entry={entry} />)}
          </ul>
          <details className="rule"><summary>{t("When is a change worth acting on?")}</summary><p className="small">{summary.rule}</p></details>
          <div className="grid two">
            <section className="panel">
              <h2>{t("Per day")}</h2>
              <ChartBox type="bar" label={t("New, resolved and escalated tickets per day")} labels={trend.map((d) => dayLabel(d.day))}
                datasets={[{ label: t("New tickets"), data: trend.map((d) => d.volume), backgroundColor: "#1565c0" },
                           { label: t("Resolved tickets"), data: trend.map((d) => d.resolved), backgroundColor: "#2e7d32" },
                           { label: t("Escalations"), data: trend.map((d) => d.escalations), backgroundColor: "#ef6c00" }]}
                options={{ scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }} height={220} />
            </section>
            <section className="panel">
              <h2>{t("Escalations by cause")} ({summary.escalations?.total ?? 0} · {t("Baseline")} {summary.escalations?.baseline_total ?? 0})</h2>
              {causes.length ? (
                <ChartBox type="bar" label={t("Escalations by cause against the baseline")} labels={causes.map((c) => c.cause)}
                  datasets={[{ label: t("This period"), data: causes.map((c) => c.count), backgroundColor: "#ef6c00" },
                             { label: t("Baseline"), data: causes.map((c) => c.baseline), backgroundColor: "#cfd8dc" }]}
                  options={{ indexAxis: "y", scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } }} height={Math.max(140, causes.length * 36 + 60)} />
              ) : <p className="muted">{t("No escalations in either period.")}</p>}
            </section>
            <Workload workload={summary.workload} />
            <GoalsPanel who={who} editable />
          </div>
          {summary.groups && (
            <section className="panel" aria-labelledby="groups-title">
              <h2 id="groups-title">{t("By {group}", { group: t(summary.group_by || groupBy) })}</h2>
              <div className="scroll-x">
                <table className="dense" data-testid="groups">
                  <thead><tr><th>{t(summary.group_by || groupBy)}</th>{GROUP_COLUMNS.map((c) => <th key={c}>{kpiLabel(c)}</th>)}</tr></thead>
                  <tbody>{summary.groups.map((g) => (
                    <tr key={g.value}><td>{g.value}</td>{GROUP_COLUMNS.map((c) => (
                      <td key={c}>{formatKpi(c, g.kpis[c]?.value)} <span className="muted small">({formatKpi(c, g.kpis[c]?.baseline)})</span> <FlagBadge flag={g.kpis[c]?.flag === "too_few" ? null : g.kpis[c]?.flag} /></td>))}</tr>))}
                  </tbody>
                </table>
              </div>
            </section>
          )}
        </>
      )}
    </section>
  ); // prettier-ignore
}
