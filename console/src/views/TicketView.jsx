import { useEffect, useMemo, useState } from "react";
import { ApiError, get, patch, post } from "../api.js";
import { atLeast, go } from "../App.jsx";
import { feed, useFeed } from "../feed.js";
import { PRIORITIES, STATUSES, age, channelLabel, duration, nextStep, priorityLabel, slaLabel, statusLabel, when } from "../format.js";
import { t } from "../i18n.js";
import { Body } from "../parts/Body.jsx";
import { useGet, useNow } from "../parts/hooks.js";

const KIND_LABEL = { customer: "Customer", agent: "Agent", note: "Internal note", automatic: "Automatic" };

function Message({ message }) {
  const who = message.author?.name || message.author?.agent || message.author?.contact || message.author?.template || "";
  const delivery = message.delivery?.status;
  return (
    <article className={`msg ${message.kind}`} data-kind={message.kind} aria-label={t(KIND_LABEL[message.kind] || message.kind)}>
      <header>
        <span className="kind">{t(KIND_LABEL[message.kind] || message.kind)}</span>
        <strong>{who}</strong>
        <span className="muted small">{channelLabel(message.channel)} · {when(message.at)}</span>
        {delivery && <span className={`delivery ${delivery}`}>{t(delivery)}</span>}
        {message.merged_from && <span className="muted small">{t("from a merged ticket")}</span>}
      </header>
      {message.subject && message.kind === "customer" && <div className="muted small">{message.subject}</div>}
      <Body text={message.body_full || message.body} html={message.html} />
      {message.attachments?.length > 0 && (
        <ul className="attachments" aria-label={t("Attachments")}>
          {message.attachments.map((a, i) => (
            <li key={i}>📎 {a.filename || a.name} <span className="muted small">{a.content_type}{a.size ? ` · ${Math.ceil(a.size / 1024)} KB` : ""}</span></li>
          ))}
        </ul>
      )}
    </article>
  ); // prettier-ignore
}

function Composer({ ticket, onDone, insert }) {
  const [internal, setInternal] = useState(false);
  const [text, setText] = useState("");
  useEffect(() => {
    if (insert) setText((before) => (before.trim() ? `${before.replace(/\s+$/, "")}\n${insert.text}` : insert.text));
  }, [insert]);
  const [preview, setPreview] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const templates = useGet("/v1/templates").data?.items || [];
  const macros = useGet("/v1/macros").data?.items || [];
  const [macro, setMacro] = useState("");
  const [macroPreview, setMacroPreview] = useState(null);
  const ids = [...new Set(templates.map((x) => x.id))].sort();

  const run = async (work) => {
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (problem) {
      setError(problem.message);
    } finally {
      setBusy(false);
    }
  };
  const insertTemplate = (id) => id && run(async () => setText((await post(`/v1/tickets/${ticket.id}/preview`, { template: id })).text));
  const showPreview = () => run(async () => setPreview((await post(`/v1/tickets/${ticket.id}/preview`, { text })).text));
  const send = () => run(async () => {
    onDone(await post(`/v1/tickets/${ticket.id}/replies`, { body: text, internal }), internal ? t("Note added") : t("Reply sent"));
    setText("");
    setPreview(null);
  }); // prettier-ignore
  const previewMacro = () => run(async () => setMacroPreview(await post(`/v1/tickets/${ticket.id}/macros/${macro}`, { preview: true })));
  const applyMacro = () => run(async () => {
    const result = await post(`/v1/tickets/${ticket.id}/macros/${macro}`, {});
    setMacroPreview(null);
    onDone(result.ticket, t("Macro applied"));
  }); // prettier-ignore

  return (
    <section className={internal ? "composer note" : "composer"} aria-label={t("Reply")}>
      <div className="tabs" role="tablist">
        <button type="button" role="tab" aria-selected={!internal} onClick={() => setInternal(false)}>
          {t("Reply on {channel}", { channel: channelLabel(ticket.channel) })}</button>
        <button type="button" role="tab" aria-selected={internal} onClick={() => setInternal(true)}>{t("Internal note")}</button>
        <span className="spacer" />
        <label className="inline"><span>{t("Template")}</span>
          <select name="template" value="" onChange={(e) => insertTemplate(e.target.value)} disabled={busy}>
            <option value="">{t("— insert —")}</option>
            {ids.map((id) => <option key={id} value={id}>{id}</option>)}
          </select></label>
      </div>
      <label className="sr-only" htmlFor="composer">{internal ? t("Internal note") : t("Reply")}</label>
      <textarea id="composer" rows={5} value={text} onChange={(e) => setText(e.target.value)}
                placeholder={internal ? t("Only agents see notes") : t("Write to the customer; {{ customer_name }} and other placeholders work")}
                onKeyDown={(e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && text.trim()) send(); }} />
      {preview !== null && <div className="preview" aria-label={t("Preview")}><div className="muted small">{t("The customer reads:")}</div><Body text={preview} /></div>}
      <div className="row">
        <button type="button" onClick={showPreview} disabled={busy || !text.trim()}>{t("Preview")}</button>
        <button type="button" className="primary" onClick={send} disabled={busy || !text.trim()}>
          {internal ? t("Add note") : t("Send reply")} <kbd>Ctrl+Enter</kbd></button>
        <span className="spacer" />
        <label className="inline"><span>{t("Macro")}</span>
          <select name="macro" value={macro} onChange={(e) => { setMacro(e.target.value); setMacroPreview(null); }}>
            <option value="">{t("— choose —")}</option>
            {macros.map((m) => <option key={m.id} value={m.id}>{m.title}</option>)}
          </select></label>
        <button type="button" onClick={previewMacro} disabled={busy || !macro}>{t("Preview macro")}</button>
        <button type="button" onClick={applyMacro} disabled={busy || !macro}>{t("Apply macro")}</button>
      </div>
      {macroPreview && (
        <div className="preview" aria-label={t("Macro preview")}>
          {macroPreview.reply && <Body text={macroPreview.reply.text} />}
          <div className="muted small">{t("Changes")}: {JSON.stringify(macroPreview.changes)}</div>
        </div>
      )}
      {error && <p role="alert" className="error">{error}</p>}
    </section>
  ); // prettier-ignore
}

function Properties({ ticket, who, onDone }) {
  const supervisor = atLeast(who, "supervisor");
  const agents = useGet(supervisor ? `/v1/agents?team=${encodeURIComponent(ticket.team)}` : null).data?.items || [];
  const [tags, setTags] = useState((ticket.tags || []).join(", "));
  const [into, setInto] = useState("");
  const [team, setTeam] = useState("");
  const [error, setError] = useState(null);
  useEffect(() => {
    setTags((ticket.tags || []).join(", "));
  }, [ticket.tags?.join(",")]);

  const change = async (work, done) => {
    setError(null);
    try {
      onDone(await work(), done);
    } catch (problem) {
      setError(problem instanceof ApiError ? problem.message : String(problem));
    }
  };
  const set = (body, done) => change(() => patch(`/v1/tickets/${ticket.id}`, body), done);

  return (
    <aside className="props" aria-label={t("Ticket properties")}>
      <label>{t("Status")}
        <select name="status" value={ticket.status} onChange={(e) => set({ status: e.target.value }, t("Status changed"))}>
          {STATUSES.map((s) => <option key={s} value={s}>{statusLabel(s)}</option>)}
        </select></label>
      <label>{t("Priority")}
        <select name="priority" value={ticket.priority} onChange={(e) => set({ priority: e.target.value }, t("Priority changed"))}>
          {PRIORITIES.map((p) => <option key={p} value={p}>{priorityLabel(p)}</option>)}
        </select></label>
      <div className="muted small">{(ticket.priority_reasons || []).map((r, i) => <div key={i}>· {r}</div>)}</div>
      <label>{t("Assignee")}
        {supervisor ? (
          <select name="assignee" value={ticket.assignee || ""} onChange={(e) => set({ assignee: e.target.value || null }, t("Assignee changed"))}>
            <option value="">{t("unassigned")}</option>
            {[...new Set([...agents.map((a) => a.id), ticket.assignee].filter(Boolean))].map((id) => <option key={id} value={id}>{id}</option>)}
          </select>
        ) : <output>{ticket.assignee || t("unassigned")}</output>}
      </label>
      {who.agent && ticket.assignee !== who.agent && (
        <button type="button" onClick={() => set({ assignee: who.agent }, t("Assigned to you"))}>{t("Assign to me")} <kbd>a</kbd></button>
      )}
      <label>{t("Tags")}
        <input name="tags" value={tags} onChange={(e) => setTags(e.target.value)}
               onBlur={() => tags !== (ticket.tags || []).join(", ") && set({ tags: tags.split(",").map((x) => x.trim()).filter(Boolean) }, t("Tags saved"))} />
      </label>
      <div><span className="label">{t("Team")}</span> {ticket.team}</div>
      {supervisor && (
        <>
          <div className="row">
            <input aria-label={t("Move to team")} placeholder={t("team")} value={team} onChange={(e) => setTeam(e.target.value)} size={8} />
            <button type="button" disabled={!team} onClick={() => change(() => post(`/v1/tickets/${ticket.id}/move`, { team }), t("Moved"))}>{t("Move")}</button>
          </div>
          <label>{t("Escalation")}
            <select name="escalation" value={ticket.escalation_level}
                    onChange={(e) => set({ escalation_level: Number(e.target.value), reason: "console" }, t("Escalation changed"))}>
              {[0, 1, 2].map((n) => <option key={n} value={n}>{t("tier {n}", { n: n + 1 })}</option>)}
            </select></label>
          <div className="row">
            <input aria-label={t("Merge into ticket")} placeholder={t("merge into T-…")} value={into} onChange={(e) => setInto(e.target.value)} size={10} />
            <button type="button" disabled={!into} onClick={() => change(() => post(`/v1/tickets/${ticket.id}/merge`, { into: into.trim() }), t("Merged"))}>{t("Merge")}</button>
          </div>
        </>
      )}
      {error && <p role="alert" className="error">{error}</p>}
    </aside>
  ); // prettier-ignore
}

function Clock({ ticket }) {
  const now = useNow(1000);
  const step = nextStep(ticket, now);
  const sla = ticket.sla;
  const causes = Object.entries(ticket.escalation_causes || {});
  return (
    <section className="clock" aria-label={t("SLA")}>
      <h3>{t("SLA")} {sla && <span className={`sla ${sla.state}`}>{slaLabel(sla.state)}</span>}</h3>
      {!sla ? <p className="muted">{t("No SLA policy applies")}</p> : (
        <dl>
          <dt>{t("Policy")}</dt><dd>{sla.policy}</dd>
          <dt>{t("First response due")}</dt><dd>{ticket.first_responded_at ? `${t("answered")} ${when(ticket.first_responded_at)}` : when(sla.first_response_due)}</dd>
          {sla.next_response_due && <><dt>{t("Next response due")}</dt><dd>{when(sla.next_response_due)}</dd></>}
          <dt>{t("Resolution due")}</dt><dd>{when(sla.resolution_due)}</dd>
          {step && !step.paused && <><dt>{step.label}</dt>
            <dd className={step.breached ? "breached" : ""} data-testid="clock">{step.breached ? t("late {d}", { d: duration(-step.seconds) }) : t("in {d}", { d: duration(step.seconds) })}</dd></>}
        </dl>
      )}
      <h3>{t("Escalation")}: {t("tier {n}", { n: (ticket.escalation_level || 0) + 1 })}</h3>
      {causes.length ? <ul className="causes">{causes.map(([cause, tier]) => <li key={cause}>{cause} → {t("tier {n}", { n: tier })}</li>)}</ul>
        : <p className="muted small">{t("Not escalated")}</p>}
      {ticket.links?.length > 0 && (<><h3>{t("Linked tickets")}</h3>
        <ul>{ticket.links.map((l) => <li key={l.ticket || l.id}>{l.ref || l.ticket} · {l.team} · {l.status && statusLabel(l.status)}</li>)}</ul></>)}
    </section>
  ); // prettier-ignore
}

// The help-centre articles that best match the ticket (what the customer was offered): open one in a new tab,
// or put "title: url" into the reply.
function Suggestions({ ticket, onInsert }) {
  const { data, error } = useGet(`/v1/tickets/${ticket.id}/suggestions`);
  const items = data?.items || [];
  return (
    <section className="suggestions" aria-labelledby="suggestions-title">
      <h3 id="suggestions-title">{t("Suggested articles")}</h3>
      {error && <p className="error small">{error.message}</p>}
      {data && !items.length && <p className="muted small">{t("No article matches this ticket.")}</p>}
      <ul className="plain">
        {items.map((a) => (
          <li key={a.id} data-article={a.id}>
            <a href={a.url} target="_blank" rel="noopener noreferrer">{a.title}</a>
            <button type="button" className="small-button" onClick={() => onInsert(`${a.title}: ${a.url}`)}>{t("Insert link")}</button>
          </li>
        ))}
      </ul>
    </section>
  ); // prettier-ignore
}

export function TicketView({ id, who, onNotice }) {
  const state = useFeed();
  const [ticket, setTicket] = useState(null);
  const [error, setError] = useState(null);
  const [trail, setTrail] = useState(false);
  const [insert, setInsert] = useState(null);
  const seen = state.tickets.get(id)?.changed_at;

  useEffect(() => {
    let live = true;
    get(`/v1/tickets/${id}`).then((found) => live && setTicket(found)).catch((problem) => live && setError(problem.message));
    return () => { live = false; };
  }, [id, seen]); // prettier-ignore

  const done = (changed, message) => {
    setTicket(changed);
    feed.put(changed);
    onNotice(message);
  };
  const messages = useMemo(() => ticket?.messages || [], [ticket]);
  if (error) return <section className="ticket"><p role="alert" className="error">{error}</p></section>;
  if (!ticket) return <section className="ticket"><p className="muted">{t("loading…")}</p></section>;
  const customer = ticket.customer || {};
  return (
    <section className="ticket" aria-label={t("Ticket {ref}", { ref: ticket.ref })}>
      <header className="tickethead">
        <button type="button" onClick={() => go("inbox")} aria-label={t("Close ticket")}>✕</button>
        <h2><span className="ref">{ticket.ref}</span> {ticket.subject}</h2>
        <span className={`pri ${ticket.priority}`}>{priorityLabel(ticket.priority)}</span>
        <span className={`status ${ticket.status}`} data-testid="ticket-status">{statusLabel(ticket.status)}</span>
      </header>
      <div className="muted small customer">
        {customer.name} · {customer.email || customer.handle} · <span className="tier">{customer.tier}</span> · {channelLabel(ticket.channel)} ·
        {" "}{t("opened {age} ago", { age: age(ticket.created_at) })}
      </div>
      <div className="ticketbody">
        <div className="thread">
          {messages.map((m) => <Message key={m.id} message={m} />)}
          <Composer ticket={ticket} onDone={done} insert={insert} />
          <section className="trail">
            <button type="button" onClick={() => setTrail(!trail)} aria-expanded={trail}>{t("Audit trail")} ({ticket.events?.length || 0})</button>
            {trail && (
              <ol>{(ticket.events || []).map((e, i) => (
                <li key={i}><span className="muted small">{when(e.at)}</span> <code>{e.type}</code> <span className="muted">{e.actor}</span>
                  {e.data && Object.keys(e.data).length > 0 && <span className="small"> {JSON.stringify(e.data)}</span>}</li>))}
              </ol>
            )}
          </section>
        </div>
        <div className="side">
          <Properties ticket={ticket} who={who} onDone={done} />
          <Clock ticket={ticket} />
          <Suggestions ticket={ticket} onInsert={(text) => setInsert({ text })} />
        </div>
      </div>
    </section>
  ); // prettier-ignore
}
