import { useEffect, useState } from "react";
import { ApiError, put } from "../api.js";
import { CHANNELS, PRIORITIES, TIERS } from "../format.js";
import { t } from "../i18n.js";
import { Field, FieldError, OtherProblems, csv, fromCsv } from "../parts/forms.jsx";
import { useGet } from "../parts/hooks.js";

const SECTIONS = [
  ["sla", "SLA policies"], ["calendars", "Calendars"], ["priority", "Priority rules"], ["templates", "Templates"],
  ["auto-replies", "Auto-replies"], ["macros", "Macros"], ["teams", "Teams"], ["agents", "Agents"],
]; // prettier-ignore

function useSave() {
  const [state, setState] = useState({ error: null, saved: null });
  const save = async (path, body, done) => {
    setState({ error: null, saved: null });
    try {
      const result = await put(path, body);
      setState({ error: null, saved: done });
      return result;
    } catch (problem) {
      setState({ error: problem instanceof ApiError ? problem : { message: String(problem), fields: {} }, saved: null });
      return null;
    }
  };
  const fail = (message) => setState({ error: { message, fields: {} }, saved: null });
  return [state, save, fail];
}

function Saved({ state }) {
  return state.saved ? <p role="status" className="notice">{state.saved}</p> : null;
}

const EMPTY_POLICY = {
  id: "", name: "", position: 1, calendar: "24x7",
  conditions: { priority: [], tier: [], channel: [], tags: [], team: [] },
  targets: { first_response: 3600, next_response: 14400, resolution: 86400 },
  ladder: [{ metric: "first_response", at: 0.75, action: "warn", notify: ["assignee"] },
           { metric: "first_response", at: 1.0, action: "escalate", tier: 2, notify: ["supervisor"] }],
}; // prettier-ignore

function SlaPolicies() {
  const policies = useGet("/v1/sla-policies");
  const calendars = useGet("/v1/calendars").data;
  const [draft, setDraft] = useState(null);
  const [ladder, setLadder] = useState("");
  const [state, save] = useSave();
  const fields = state.error?.fields || {};
  const edit = (policy) => {
    setDraft(structuredClone(policy));
    setLadder(JSON.stringify(policy.ladder, null, 2));
  };
  const set = (path, value) => {
    const next = structuredClone(draft);
    const parts = path.split(".");
    parts.slice(0, -1).reduce((at, key) => at[key], next)[parts.at(-1)] = value;
    setDraft(next);
  };
  const number = (text) => (text === "" ? null : Number(text));
  const submit = async (event) => {
    event.preventDefault();
    let parsedLadder;
    try {
      parsedLadder = JSON.parse(ladder);
    } catch {
      parsedLadder = ladder; // not JSON: sent as text, the API names the field (ladder) and what it expects
    }
    const { id, ...body } = { ...draft, ladder: parsedLadder };
    if (await save(`/v1/sla-policies/${encodeURIComponent(id || "new-policy")}`, body, t("Policy saved"))) policies.reload();
  };
  const calendarIds = ["24x7", ...(calendars?.items || []).map((c) => c.id)];
  return (
    <div className="split">
      <ul className="items">
        {(policies.data?.items || []).map((p) => (
          <li key={p.id}><button type="button" className={draft?.id === p.id ? "active" : ""} onClick={() => edit(p)}>
            <span>{p.name}</span><span className="muted small">#{p.position} · {p.id}</span></button></li>
        ))}
        <li><button type="button" onClick={() => edit(EMPTY_POLICY)}>+ {t("New policy")}</button></li>
      </ul>
      {draft && (
        <form className="editor" onSubmit={submit} aria-label={t("SLA policy")}>
          <OtherProblems error={state.error} shown={["name", "position", "calendar", "conditions", "targets", "ladder"]} />
          <div className="cols">
            <Field label={t("Id")} path="id" fields={fields}>
              <input name="id" value={draft.id} onChange={(e) => set("id", e.target.value)} required pattern={"[A-Za-z0-9_.:\\-]+"} />
            </Field>
            <Field label={t("Name")} path="name" fields={fields}>
              <input name="name" value={draft.name} onChange={(e) => set("name", e.target.value)} />
            </Field>
            <Field label={t("Position (first match wins)")} path="position" fields={fields}>
              <input name="position" type="number" value={draft.position ?? ""} onChange={(e) => set("position", number(e.target.value))} />
            </Field>
            <Field label={t("Calendar")} path="calendar" fields={fields}>
              <select name="calendar" value={draft.calendar} onChange={(e) => set("calendar", e.target.value)}>
                {[...new Set([...calendarIds, draft.calendar])].map((c) => <option key={c} value={c}>{c}</option>)}
              </select>
            </Field>
          </div>
          <fieldset>
            <legend>{t("Targets (seconds of business time)")}</legend>
            <div className="cols">
              {["first_response", "next_response", "resolution"].map((metric) => (
                <Field key={metric} label={t(metric.replace("_", " "))} path={`targets.${metric}`} fields={fields}>
                  <input name={`targets.${metric}`} type="number" value={draft.targets?.[metric] ?? ""}
                         onChange={(e) => set(`targets.${metric}`, number(e.target.value))} />
                </Field>
              ))}
            </div>
          </fieldset>
          <fieldset>
            <legend>{t("Conditions (empty: matches anything)")}</legend>
            <div className="cols">
              {[["priority", PRIORITIES], ["tier", TIERS], ["channel", CHANNELS], ["tags", null], ["team", null]].map(([name, hint]) => (
                <Field key={name} label={t(name)} path={`conditions.${name}`} fields={fields} hint={hint ? hint.join(", ") : t("comma separated")}>
                  <input name={`conditions.${name}`} value={csv(draft.conditions?.[name])} onChange={(e) => set(`conditions.${name}`, fromCsv(e.target.value))} />
                </Field>
              ))}
            </div>
          </fieldset>
          <Field label={t("Escalation ladder (JSON: metric, at, action, tier, notify)")} path="ladder" fields={fields}>
            <textarea name="ladder" rows={8} value={ladder} onChange={(e) => setLadder(e.target.value)} spellCheck={false} className="code" />
          </Field>
          <div className="row"><button type="submit" className="primary">{t("Save policy")}</button><Saved state={state} /></div>
        </form>
      )}
    </div>
  ); // prettier-ignore
}

// A configuration document edited as JSON, with the API's field errors listed under it by path.
function Documents({ listPath, pathOf, blank, title, idFields = ["id"], readOnly = [], describe }) {
  const listing = useGet(listPath);
  const [selected, setSelected] = useState(null);
  const [text, setText] = useState("");
  const [keys, setKeys] = useState({});
  const [state, save, fail] = useSave();
  const items = Array.isArray(listing.data?.items) ? listing.data.items : listing.data ? [listing.data] : [];
  const edit = (item) => {
    const body = { ...item };
    const found = {};
    for (const name of idFields) {
      found[name] = item[name] ?? "";
      delete body[name];
    }
    for (const name of readOnly) delete body[name];
    setSelected(item);
    setKeys(found);
    setText(JSON.stringify(body, null, 2));
  };
  const submit = async (event) => {
    event.preventDefault();
    let body;
    try {
      body = JSON.parse(text);
    } catch (problem) {
      fail(t("Not valid JSON: {e}", { e: problem.message }));
      return;
    }
    if (await save(pathOf(keys), body, t("Saved"))) listing.reload();
  };
  return (
    <div className="split">
      <ul className="items">
        {items.map((item, i) => (
          <li key={i}><button type="button" className={selected === item ? "active" : ""} onClick={() => edit(item)}>
            <span>{describe(item)}</span></button></li>
        ))}
        {blank && <li><button type="button" onClick={() => edit(blank)}>+ {t("New")}</button></li>}
      </ul>
      {selected && (
        <form className="editor" onSubmit={submit} aria-label={title}>
          <div className="cols">
            {idFields.map((name) => (
              <label key={name} className="field"><span className="label">{t(name)}</span>
                <input name={name} value={keys[name]} onChange={(e) => setKeys({ ...keys, [name]: e.target.value })} required /></label>
            ))}
          </div>
          <label className="field"><span className="label">{title} (JSON)</span>
            <textarea name="document" rows={18} className="code" spellCheck={false} value={text} onChange={(e) => setText(e.target.value)} /></label>
          {state.error && (
            <div role="alert" className="error">{state.error.message}
              {Object.keys(state.error.fields || {}).length > 0 && (
                <ul>{Object.entries(state.error.fields).map(([key, problem]) => <li key={key}><code>{key}</code> {problem}</li>)}</ul>)}
            </div>
          )}
          <div className="row"><button type="submit" className="primary">{t("Save")}</button><Saved state={state} /></div>
        </form>
      )}
    </div>
  ); // prettier-ignore
}

function Teams() {
  const folders = useGet("/v1/folders").data?.items || [];
  const [team, setTeam] = useState("");
  const current = useGet(team ? `/v1/teams/${encodeURIComponent(team)}` : null);
  const [draft, setDraft] = useState(null);
  const [state, save] = useSave();
  const fields = state.error?.fields || {};
  useEffect(() => {
    if (current.data) setDraft(current.data);
  }, [current.data]);
  const set = (name, value) => setDraft({ ...draft, [name]: value });
  const submit = async (event) => {
    event.preventDefault();
    const { id, ...body } = draft;
    await save(`/v1/teams/${encodeURIComponent(team)}`, body, t("Team saved"));
  };
  return (
    <div className="split">
      <ul className="items">
        {[...new Set(folders.map((f) => f.team))].map((name) => (
          <li key={name}><button type="button" className={team === name ? "active" : ""} onClick={() => setTeam(name)}>{name}</button></li>))}
        <li><form onSubmit={(e) => { e.preventDefault(); setTeam(e.target.elements.newteam.value.trim()); }}>
          <input name="newteam" placeholder={t("new team id")} aria-label={t("New team id")} size={10} /></form></li>
      </ul>
      {draft && (
        <form className="editor" onSubmit={submit} aria-label={t("Team")}>
          <OtherProblems error={state.error} shown={["strategy", "language", "calendar", "idle_minutes", "vip_idle_minutes", "skill_wait_seconds", "supervisors", "managers"]} />
          <div className="cols">
            <Field label={t("Queue order")} path="strategy" fields={fields}>
              <select name="strategy" value={draft.strategy} onChange={(e) => set("strategy", e.target.value)}>
                <option value="urgency">{t("urgency: priority, then age")}</option><option value="fifo">{t("fifo: age, VIP first")}</option>
              </select></Field>
            <Field label={t("Language")} path="language" fields={fields}>
              <select name="language" value={draft.language} onChange={(e) => set("language", e.target.value)}>
                <option value="id">Bahasa Indonesia</option><option value="en">English</option></select></Field>
            <Field label={t("Calendar")} path="calendar" fields={fields}>
              <input name="calendar" value={draft.calendar} onChange={(e) => set("calendar", e.target.value)} /></Field>
            {["idle_minutes", "vip_idle_minutes", "skill_wait_seconds"].map((name) => (
              <Field key={name} label={t(name.replaceAll("_", " "))} path={name} fields={fields}>
                <input name={name} type="number" value={draft[name] ?? ""} onChange={(e) => set(name, e.target.value === "" ? null : Number(e.target.value))} /></Field>))}
            {["supervisors", "managers"].map((name) => (
              <Field key={name} label={t(name)} path={name} fields={fields} hint={t("e-mail addresses, comma separated")}>
                <input name={name} value={csv(draft[name])} onChange={(e) => set(name, fromCsv(e.target.value))} /></Field>))}
          </div>
          <div className="row"><button type="submit" className="primary">{t("Save team")}</button><Saved state={state} /></div>
        </form>
      )}
    </div>
  ); // prettier-ignore
}

function Agents() {
  const agents = useGet("/v1/agents");
  const [draft, setDraft] = useState(null);
  const [state, save] = useSave();
  const fields = state.error?.fields || {};
  const set = (name, value) => setDraft({ ...draft, [name]: value });
  const submit = async (event) => {
    event.preventDefault();
    const { id, load, created_at, updated_at, last_assigned_at, ...body } = draft;
    if (await save(`/v1/agents/${encodeURIComponent(id)}`, body, t("Agent saved"))) agents.reload();
  };
  const blank = { id: "", name: "", email: null, team: "support", presence: "offline", capacity: 5, skills: [], channels: [], tier: 1, timezone: "Asia/Jakarta" };
  return (
    <div className="split">
      <ul className="items">
        {(agents.data?.items || []).map((a) => (
          <li key={a.id}><button type="button" className={draft?.id === a.id ? "active" : ""} onClick={() => setDraft(a)}>
            <span>{a.name || a.id}</span><span className="muted small">{a.team} · {a.load}/{a.capacity}</span></button></li>))}
        <li><button type="button" onClick={() => setDraft(blank)}>+ {t("New agent")}</button></li>
      </ul>
      {draft && (
        <form className="editor" onSubmit={submit} aria-label={t("Agent")}>
          <OtherProblems error={state.error} shown={["name", "email", "team", "presence", "capacity", "skills", "channels", "tier", "timezone", "working_hours"]} />
          <div className="cols">
            <Field label={t("Id")} path="id" fields={fields}><input name="id" value={draft.id} onChange={(e) => set("id", e.target.value)} required /></Field>
            <Field label={t("Name")} path="name" fields={fields}><input name="name" value={draft.name || ""} onChange={(e) => set("name", e.target.value || null)} /></Field>
            <Field label={t("E-mail")} path="email" fields={fields}><input name="email" value={draft.email || ""} onChange={(e) => set("email", e.target.value || null)} /></Field>
            <Field label={t("Team")} path="team" fields={fields}><input name="team" value={draft.team} onChange={(e) => set("team", e.target.value)} /></Field>
            <Field label={t("Capacity")} path="capacity" fields={fields}><input name="capacity" type="number" value={draft.capacity} onChange={(e) => set("capacity", Number(e.target.value))} /></Field>
            <Field label={t("Tier")} path="tier" fields={fields}>
              <select name="tier" value={draft.tier} onChange={(e) => set("tier", Number(e.target.value))}>{[1, 2, 3].map((n) => <option key={n} value={n}>{n}</option>)}</select></Field>
            <Field label={t("Presence")} path="presence" fields={fields}>
              <select name="presence" value={draft.presence} onChange={(e) => set("presence", e.target.value)}>
                {["online", "away", "offline"].map((p) => <option key={p} value={p}>{t(p)}</option>)}</select></Field>
            <Field label={t("Time zone")} path="timezone" fields={fields}><input name="timezone" value={draft.timezone} onChange={(e) => set("timezone", e.target.value)} /></Field>
            <Field label={t("Skills")} path="skills" fields={fields} hint={t("comma separated")}><input name="skills" value={csv(draft.skills)} onChange={(e) => set("skills", fromCsv(e.target.value))} /></Field>
            <Field label={t("Channels")} path="channels" fields={fields} hint={t("empty: every channel")}><input name="channels" value={csv(draft.channels)} onChange={(e) => set("channels", fromCsv(e.target.value))} /></Field>
          </div>
          <div className="row"><button type="submit" className="primary">{t("Save agent")}</button><Saved state={state} /></div>
        </form>
      )}
    </div>
  ); // prettier-ignore
}

export function Admin({ section }) {
  return (
    <section className="page admin">
      <nav className="subnav" aria-label={t("Admin sections")}>
        {SECTIONS.map(([id, label]) => <a key={id} href={`#/admin/${id}`} className={section === id ? "active" : ""}>{t(label)}</a>)}
      </nav>
      {section === "sla" && <SlaPolicies />}
      {section === "calendars" && (
        <Documents listPath="/v1/calendars" title={t("Calendar")} describe={(c) => `${c.id} · ${c.timezone}`}
          pathOf={(k) => `/v1/calendars/${encodeURIComponent(k.id)}`}
          blank={{ id: "", timezone: "Asia/Jakarta", hours: { mon: [["08:00", "17:00"]], tue: [["08:00", "17:00"]], wed: [["08:00", "17:00"]], thu: [["08:00", "17:00"]], fri: [["08:00", "17:00"]] }, holidays: { country: "ID", subdivision: null, extra: [] } }} />
      )}
      {section === "priority" && (
        <Documents listPath="/v1/priority-rules" title={t("Priority rules")} idFields={[]} describe={() => t("Priority rules")}
          pathOf={() => "/v1/priority-rules"} />
      )}
      {section === "templates" && (
        <Documents listPath="/v1/templates" title={t("Template")} idFields={["id", "language", "channel"]} readOnly={["source"]}
          describe={(x) => `${x.id} · ${x.language} · ${x.channel}`}
          pathOf={(k) => `/v1/templates/${encodeURIComponent(k.id)}/${encodeURIComponent(k.language)}/${encodeURIComponent(k.channel)}`}
          blank={{ id: "", language: "id", channel: "email", subject: "[{{ ref }}] {{ subject }}", text: "Halo {{ customer_name }},\n\n" }} />
      )}
      {section === "auto-replies" && (
        <Documents listPath="/v1/auto-replies" title={t("Auto-reply")} describe={(x) => x.id}
          pathOf={(k) => `/v1/auto-replies/${encodeURIComponent(k.id)}`} blank={{ id: "" }} />
      )}
      {section === "macros" && (
        <Documents listPath="/v1/macros" title={t("Macro")} describe={(x) => `${x.title} · ${x.id}`}
          pathOf={(k) => `/v1/macros/${encodeURIComponent(k.id)}`} blank={{ id: "", title: "", reply: "Halo {{ customer_name }},\n\n", status: "resolved" }} />
      )}
      {section === "teams" && <Teams />}
      {section === "agents" && <Agents />}
    </section>
  ); // prettier-ignore
}
