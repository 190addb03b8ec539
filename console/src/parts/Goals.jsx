// Team goals (GET /v1/goals) with their progress this week or month: everyone in the team sees them (the Me
// screen); supervisors add, change and remove them (the dashboard).
import { useState } from "react";
import { ApiError, del, put } from "../api.js";
import { t } from "../i18n.js";
import { Field, OtherProblems } from "./forms.jsx";
import { GOAL_METRICS, formatKpi, kpiLabel, unitOf } from "./kpi.js";
import { useGet } from "./hooks.js";

// How far the value is along to the target: for "at least" goals value/target, for "at most" goals full while
// within the target and shrinking as the value exceeds it.
export function goalShare(goal) {
  const { value, target } = goal.progress || {};
  if (value === null || value === undefined) return 0;
  if (goal.op === ">=") return target > 0 ? Math.min(100, (100 * value) / target) : 100;
  return value <= target ? 100 : Math.max(0, (100 * target) / value);
}

function Goal({ goal, onEdit, onDelete }) {
  const p = goal.progress || {};
  const state = p.met === true ? "met" : p.met === false ? "not-met" : "unknown";
  return (
    <li className={`goal ${state}`} data-testid={`goal-${goal.id}`}>
      <div className="row">
        <strong>{goal.title || `${kpiLabel(goal.metric)} ${goal.op} ${formatKpi(goal.metric, goal.target)}`}</strong>
        <span className="muted small">{goal.team} · {goal.period === "month" ? t("this month") : t("this week")}</span>
        <span className={`badge ${state}`}>{p.met === true ? t("Met") : p.met === false ? t("Not met yet") : t("Nothing measured yet")}</span>
        <span className="spacer" />
        {onEdit && <button type="button" onClick={() => onEdit(goal)}>{t("Edit")}</button>}
        {onDelete && <button type="button" onClick={() => onDelete(goal)}>{t("Delete")}</button>}
      </div>
      <div className="small">
        {kpiLabel(goal.metric)}: <strong data-testid="goal-value">{formatKpi(goal.metric, p.value)}</strong> {goal.op === ">=" ? "≥" : "≤"} {formatKpi(goal.metric, goal.target)}
        {p.sample !== undefined && p.sample !== null && <span className="muted"> · {t("{n} measured", { n: p.sample })}</span>}
      </div>
      <progress className="goal-bar" max={100} value={goalShare(goal)} aria-label={t("Progress to the target")} />
      <div className="elapsed small muted">
        <progress className="elapsed-bar" max={100} value={p.elapsed_share || 0} aria-label={t("Share of the period gone")} />
        {t("{n} % of the period gone", { n: p.elapsed_share ?? 0 })}
      </div>
    </li>
  ); // prettier-ignore
}

const EMPTY = (team) => ({ id: "", team, metric: "sla_compliance", op: ">=", target: 95, period: "week", title: "" });

export function GoalsPanel({ who, editable = false }) {
  const goals = useGet("/v1/goals", { every: 10000 }); // progress moves as the work does
  const [draft, setDraft] = useState(null);
  const [isNew, setIsNew] = useState(false);
  const [state, setState] = useState({ error: null, saved: null });
  const teams = who.teams || [];
  const fields = state.error?.fields || {};
  const set = (name, value) => setDraft({ ...draft, [name]: value });

  const save = async (event) => {
    event.preventDefault();
    const { id, target, title, ...rest } = draft;
    setState({ error: null, saved: null });
    try {
      await put(`/v1/goals/${encodeURIComponent(id.trim() || "goal")}`, { ...rest, target: target === "" ? null : Number(target), title: title.trim() || null });
      setState({ error: null, saved: t("Goal saved") });
      setDraft(null);
      goals.reload();
    } catch (problem) {
      setState({ error: problem instanceof ApiError ? problem : { message: String(problem), fields: {} }, saved: null });
    }
  };
  const remove = async (goal) => {
    setState({ error: null, saved: null });
    try {
      await del(`/v1/goals/${encodeURIComponent(goal.id)}`);
      setState({ error: null, saved: t("Goal removed") });
      goals.reload();
    } catch (problem) {
      setState({ error: problem, saved: null });
    }
  };
  const items = goals.data?.items || [];
  const unit = draft ? unitOf(draft.metric) : null;
  return (
    <section className="panel goals" aria-labelledby="goals-title">
      <div className="row">
        <h2 id="goals-title">{t("Team goals")}</h2>
        <span className="spacer" />
        {editable && <button type="button" onClick={() => { setDraft(EMPTY(teams[0] || "")); setIsNew(true); setState({ error: null, saved: null }); }}>+ {t("New goal")}</button>}
      </div>
      {goals.error && <p role="alert" className="error">{goals.error.message}</p>}
      {!items.length && goals.data && <p className="muted">{t("Your team has no goals yet.")}</p>}
      <ul className="plain goal-list">
        {items.map((goal) => (
          <Goal key={goal.id} goal={goal}
                onEdit={editable ? (g) => { setDraft({ ...EMPTY(g.team), ...g, title: g.title || "", target: String(g.target) }); setIsNew(false); } : null}
                onDelete={editable ? remove : null} />
        ))}
      </ul>
      {state.saved && <p role="status" className="notice">{state.saved}</p>}
      {!draft && state.error && <p role="alert" className="error">{state.error.message}</p>}
      {editable && draft && (
        <form className="editor" onSubmit={save} aria-label={t("Goal")}>
          <OtherProblems error={state.error} shown={["team", "metric", "op", "target", "period", "title"]} />
          <div className="cols">
            <Field label={t("Id")} path="id" fields={fields}>
              <input name="goal-id" value={draft.id} onChange={(e) => set("id", e.target.value)} required readOnly={!isNew}
                     pattern={"[A-Za-z0-9_.:\\-]+"} placeholder="sla-week" />
            </Field>
            <Field label={t("Team")} path="team" fields={fields}>
              {teams.length ? (
                <select name="goal-team" value={draft.team} onChange={(e) => set("team", e.target.value)}>
                  {[...new Set([...teams, draft.team].filter(Boolean))].map((x) => <option key={x} value={x}>{x}</option>)}
                </select>
              ) : <input name="goal-team" value={draft.team} onChange={(e) => set("team", e.target.value)} />}
            </Field>
            <Field label={t("Metric")} path="metric" fields={fields}>
              <select name="goal-metric" value={draft.metric} onChange={(e) => set("metric", e.target.value)}>
                {GOAL_METRICS.map((m) => <option key={m} value={m}>{kpiLabel(m)}</option>)}
              </select>
            </Field>
            <Field label={t("Comparison")} path="op" fields={fields}>
              <select name="goal-op" value={draft.op} onChange={(e) => set("op", e.target.value)}>
                <option value=">=">≥ {t("at least")}</option>
                <option value="<=">≤ {t("at most")}</option>
              </select>
            </Field>
            <Field label={t("Target")} path="target" fields={fields}
                   hint={unit === "duration" ? t("seconds") : unit === "rate" ? "%" : unit === "csat" ? "1–5" : null}>
              <input name="goal-target" type="number" step="any" value={draft.target} onChange={(e) => set("target", e.target.value)} />
            </Field>
            <Field label={t("Period")} path="period" fields={fields}>
              <select name="goal-period" value={draft.period} onChange={(e) => set("period", e.target.value)}>
                <option value="week">{t("week")}</option>
                <option value="month">{t("month")}</option>
              </select>
            </Field>
            <Field label={t("Title")} path="title" fields={fields}>
              <input name="goal-title" value={draft.title} maxLength={120} onChange={(e) => set("title", e.target.value)} />
            </Field>
          </div>
          <div className="row">
            <button type="submit" className="primary">{t("Save goal")}</button>
            <button type="button" onClick={() => setDraft(null)}>{t("Cancel")}</button>
          </div>
        </form>
      )}
    </section>
  ); // prettier-ignore
}
