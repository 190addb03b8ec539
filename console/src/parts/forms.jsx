import { t } from "../i18n.js";

// The API's validation errors (`error.fields`: path → problem) beside the field they are about: a field shows
// the problems of its own path and of anything below it ("ladder" shows "ladder[1].at").
export function problemsFor(fields, path) {
  return Object.entries(fields || {}).filter(([key]) => key === path || key.startsWith(`${path}.`) || key.startsWith(`${path}[`));
}

export function FieldError({ fields, path }) {
  const found = problemsFor(fields, path);
  if (!found.length) return null;
  return (
    <span className="field-error" role="alert" data-field={path}>
      {found.map(([key, problem]) => (key === path ? problem : `${key}: ${problem}`)).join("; ")}
    </span>
  );
}

export function Field({ label, path, fields, children, hint }) {
  return (
    <label className={problemsFor(fields, path).length ? "field invalid" : "field"}>
      <span className="label">{label}</span>
      {children}
      {hint && <span className="hint">{hint}</span>}
      <FieldError fields={fields} path={path} />
    </label>
  );
}

// Problems no field on the form shows.
export function OtherProblems({ error, shown }) {
  if (!error) return null;
  const rest = Object.entries(error.fields || {}).filter(([key]) => !shown.some((p) => key === p || key.startsWith(`${p}.`) || key.startsWith(`${p}[`)));
  return (
    <div role="alert" className="error">
      {Object.keys(error.fields || {}).length ? t("Not saved: fix the fields marked below.") : error.message}
      {rest.length > 0 && <ul>{rest.map(([key, problem]) => <li key={key}><code>{key}</code> {problem}</li>)}</ul>}
    </div>
  ); // prettier-ignore
}

export const csv = (list) => (list || []).join(", ");
export const fromCsv = (text) => text.split(",").map((x) => x.trim()).filter(Boolean);

// The team a lead of several teams (or an admin: all of them, or one) reads figures for.
export function TeamSelect({ admin, teams, team, setTeam }) {
  if (!admin && teams.length <= 1) return null;
  return (
    <label className="inline"><span>{t("Team")}</span>
      <select name="team" value={team} onChange={(e) => setTeam(e.target.value)}>
        {admin && <option value="">{t("all teams")}</option>}
        {teams.map((x) => <option key={x} value={x}>{x}</option>)}
      </select></label>
  );
}
