import { useEffect, useMemo, useRef, useState } from "react";
import { patch } from "../api.js";
import { go } from "../App.jsx";
import { feed, useFeed } from "../feed.js";
import {
  CHANNELS, PRIORITIES, SLA_STATES, SORTS, STATUSES, TIERS, age, channelLabel, duration, isOpen, nextStep, priorityLabel,
  slaLabel, statusLabel,
} from "../format.js";
import { t } from "../i18n.js";
import { useGet, useNow } from "../parts/hooks.js";
import { TicketView } from "./TicketView.jsx";

const NO_FILTERS = { status: "", priority: "", assignee: "", team: "", tag: "", tier: "", sla: "", escalated: false,
                     channel: "", q: "", open: true }; // prettier-ignore

function matches(ticket, f, me) {
  if (f.open && !isOpen(ticket)) return false;
  if (f.status && ticket.status !== f.status) return false;
  if (f.priority && ticket.priority !== f.priority) return false;
  if (f.channel && ticket.channel !== f.channel) return false;
  if (f.team && ticket.team !== f.team) return false;
  if (f.tier && ticket.customer?.tier !== f.tier) return false;
  if (f.escalated && !(ticket.escalation_level > 0)) return false;
  if (f.sla && ticket.sla?.state !== f.sla) return false;
  if (f.tag && !(ticket.tags || []).includes(f.tag)) return false;
  if (f.assignee === "@me" && ticket.assignee !== me) return false;
  if (f.assignee === "@none" && ticket.assignee) return false;
  if (f.assignee && !f.assignee.startsWith("@") && ticket.assignee !== f.assignee) return false;
  if (f.q) {
    const text = `${ticket.ref} ${ticket.subject} ${ticket.customer?.name || ""} ${ticket.customer?.email || ""}`;
    if (!text.toLowerCase().includes(f.q.toLowerCase())) return false;
  }
  return true;
}

function sum(folders, group, name) {
  return folders.reduce((total, team) => total + ((team[group] || {})[name] || 0), 0);
}

function Folders({ folders, filters, setFilters, me }) {
  const channels = [...new Set(folders.flatMap((team) => Object.keys(team.channel || {})))].sort();
  const choose = (changes) => setFilters({ ...NO_FILTERS, ...changes });
  const entry = (label, count, changes, active, id) => (
    <li key={id}>
      <button type="button" className={active ? "folder active" : "folder"} onClick={() => choose(changes)}
              data-folder={id} aria-pressed={active}>
        <span>{label}</span>
        <span className="count" data-testid={`count-${id}`}>{count}</span>
      </button>
    </li>
  ); // prettier-ignore
  const f = filters;
  return (
    <nav className="folders" aria-label={t("Folders")}>
      <h2>{t("Work")}</h2>
      <ul>
        {entry(t("Unassigned"), sum(folders, "work", "unassigned"), { assignee: "@none" }, f.assignee === "@none", "unassigned")}
        {entry(t("Mine"), sum(folders, "work", "mine"), { assignee: "@me" }, f.assignee === "@me", "mine")}
        {entry(t("Escalated"), sum(folders, "work", "escalated"), { escalated: true }, f.escalated, "escalated")}
        {entry(t("SLA breached"), sum(folders, "work", "sla_breached"), { sla: "breached" }, f.sla === "breached", "sla_breached")}
      </ul>
      <h2>{t("Status")}</h2>
      <ul>
        {STATUSES.map((s) => entry(statusLabel(s), sum(folders, "status", s), { status: s, open: false },
                                   f.status === s, `status-${s}`))}
      </ul>
      <h2>{t("Channels")}</h2>
      <ul>
        {channels.map((c) => entry(channelLabel(c), sum(folders, "channel", c), { channel: c }, f.channel === c, `channel-${c}`))}
      </ul>
      <p className="hint">{t("Signed in as {me}", { me: me || "—" })}</p>
    </nav>
  ); // prettier-ignore
}

function Filters({ filters, setFilters, agents, teams, sort, setSort, searchRef }) {
  const set = (name) => (e) => setFilters({ ...filters, [name]: e.target.type === "checkbox" ? e.target.checked : e.target.value });
  const select = (name, label, options) => (
    <label className="inline">
      <select name={`filter-${name}`} value={filters[name]} onChange={set(name)} aria-label={label} className={filters[name] ? "set" : ""}>
        <option value="">{label}: {t("any")}</option>
        {options.map(([value, text]) => <option key={value} value={value}>{text}</option>)}
      </select>
    </label>
  ); // prettier-ignore
  return (
    <div className="filters" role="search">
      <input ref={searchRef} type="search" name="filter-q" placeholder={t("Search ref, subject, customer (/)")} value={filters.q}
             onChange={set("q")} aria-label={t("Search")} />
      {select("status", t("Status"), STATUSES.map((s) => [s, statusLabel(s)]))}
      {select("priority", t("Priority"), PRIORITIES.map((p) => [p, priorityLabel(p)]))}
      {select("assignee", t("Assignee"), [["@me", t("me")], ["@none", t("unassigned")], ...agents.map((a) => [a, a])])}
      {select("team", t("Team"), teams.map((x) => [x, x]))}
      {select("tier", t("Tier"), TIERS.map((x) => [x, x]))}
      {select("sla", t("SLA"), SLA_STATES.map((s) => [s, slaLabel(s)]))}
      {select("channel", t("Channel"), CHANNELS.map((c) => [c, channelLabel(c)]))}
      <label className="inline"><span>{t("Tag")}</span>
        <input name="filter-tag" value={filters.tag} onChange={set("tag")} size={10} /></label>
      <label className="check"><input type="checkbox" checked={filters.escalated} onChange={set("escalated")} />{t("Escalated")}</label>
      <label className="check"><input type="checkbox" checked={filters.open} onChange={set("open")} />{t("Open only")}</label>
      <label className="inline"><span>{t("Order")}</span>
        <select value={sort} onChange={(e) => setSort(e.target.value)} name="filter-sort">
          <option value="queue">{t("Queue order")}</option>
          <option value="due">{t("SLA due first")}</option>
          <option value="newest">{t("Newest")}</option>
          <option value="updated">{t("Recently changed")}</option>
        </select></label>
      <button type="button" onClick={() => setFilters(NO_FILTERS)}>{t("Clear")}</button>
    </div>
  ); // prettier-ignore
}

export function Countdown({ ticket, now }) {
  const step = nextStep(ticket, now);
  if (!step) return <span className="sla muted">{ticket.sla ? slaLabel(ticket.sla.state) : "—"}</span>;
  if (step.paused) return <span className="sla paused">{t("Paused")}</span>;
  const cls = step.breached ? "sla breached" : step.warning || step.seconds < 900 ? "sla warning" : "sla ok";
  return (
    <span className={cls} title={`${step.label}: ${new Date(step.due).toLocaleString()}`} data-testid="countdown">
      {step.breached ? t("{step} late {d}", { step: step.label, d: duration(-step.seconds) })
        : t("{step} in {d}", { step: step.label, d: duration(step.seconds) })}
    </span>
  );
}

function Row({ ticket, now, active, onOpen }) {
  return (
    <tr className={active ? "active" : ""} onClick={() => onOpen(ticket.id)} data-ticket={ticket.id} aria-selected={active}>
      <td><span className={`pri ${ticket.priority}`}>{priorityLabel(ticket.priority)}</span></td>
      <td className="ref opt2">{ticket.ref}</td>
      <td className="subject">
        <a href={`#/tickets/${ticket.id}`} onClick={(e) => e.preventDefault()}>{ticket.subject || t("(no subject)")}</a>
        <div className="muted small">
          <span className="compact-only">{ticket.ref} · {ticket.assignee || t("unassigned")} · </span>
          {ticket.customer?.name || ticket.customer?.email || ticket.customer?.handle}
          {ticket.customer?.tier !== "standard" && <span className="tier">{ticket.customer?.tier}</span>}
          {ticket.escalation_level > 0 && <span className="esc">{t("tier {n}", { n: ticket.escalation_level + 1 })}</span>}
        </div>
      </td>
      <td className="opt">{channelLabel(ticket.channel)}</td>
      <td><span className={`status ${ticket.status}`}>{statusLabel(ticket.status)}</span></td>
      <td className="opt2">{ticket.assignee || <span className="muted">{t("unassigned")}</span>}</td>
      <td className="opt">{ticket.team}</td>
      <td><Countdown ticket={ticket} now={now} /></td>
      <td className="muted small opt">{age(ticket.created_at, now)}</td>
    </tr>
  ); // prettier-ignore
}

export function Inbox({ who, selected }) {
  const state = useFeed();
  const now = useNow(1000);
  const [filters, setFilters] = useState(NO_FILTERS);
  const [sort, setSort] = useState("queue");
  const [notice, setNotice] = useState(null);
  const searchRef = useRef(null);
  const team = (who.teams || [])[0] || "support";
  const strategy = useGet(`/v1/teams/${encodeURIComponent(team)}`).data?.strategy || "urgency";

  const tickets = useMemo(() => [...state.tickets.values()], [state.version]);
  const shown = useMemo(
    () => tickets.filter((x) => matches(x, filters, who.agent)).sort(SORTS[sort](strategy)),
    [tickets, filters, sort, strategy, who.agent],
  );
  const agents = useMemo(() => [...new Set(tickets.map((x) => x.assignee).filter(Boolean))].sort(), [tickets]);
  const teams = useMemo(() => [...new Set([...tickets.map((x) => x.team), ...(who.teams || [])])].sort(), [tickets]);
  const index = shown.findIndex((x) => x.id === selected);
  const open = (id) => go(`tickets/${id}`);

  const act = async (changes, done) => {
    if (!selected) return;
    try {
      feed.put(await patch(`/v1/tickets/${selected}`, changes));
      setNotice(done);
    } catch (error) {
      setNotice(error.message);
    }
  };

  useEffect(() => {
    const keys = (event) => {
      if (event.target.closest("input, textarea, select, [contenteditable]") || event.metaKey || event.ctrlKey || event.altKey) return;
      const step = (by) => {
        const next = shown[Math.min(Math.max(index + by, 0), shown.length - 1)];
        if (next) open(next.id);
      };
      const actions = {
        j: () => step(1), ArrowDown: () => step(1), k: () => step(-1), ArrowUp: () => step(-1),
        "/": () => searchRef.current?.focus(), Escape: () => go("inbox"),
        a: () => who.agent && act({ assignee: who.agent }, t("Assigned to you")),
        e: () => act({ status: "resolved" }, t("Resolved")),
        r: () => document.getElementById("composer")?.focus(),
        n: () => document.getElementById("composer")?.focus(),
      }; // prettier-ignore
      const action = actions[event.key];
      if (action) {
        event.preventDefault();
        action();
      }
    };
    window.addEventListener("keydown", keys);
    return () => window.removeEventListener("keydown", keys);
  });

  return (
    <div className={selected ? "inbox with-ticket" : "inbox"}>
      <Folders folders={state.folders} filters={filters} setFilters={setFilters} me={who.agent} />
      <section className="list" aria-label={t("Tickets")}>
        <Filters filters={filters} setFilters={setFilters} agents={agents} teams={teams} sort={sort} setSort={setSort}
                 searchRef={searchRef} />
        <div className="listhead">
          <span data-testid="shown">{shown.length === 1 ? t("1 ticket") : t("{n} tickets", { n: shown.length })}</span>
          <span className="muted small">
            {state.error ? <span className="error">{t("Connection problem: {e}", { e: state.error })}</span>
              : state.loading ? t("loading…")
              : t("live · updated {s}", { s: new Date(state.polledAt || Date.now()).toLocaleTimeString() })}
          </span>
          <span className="muted small keys">{t("j/k next · Enter open · a assign to me · r reply · e resolve · / search")}</span>
          {notice && <span role="status" className="notice">{notice}</span>}
        </div>
        <div className="scroll">
          <table className="tickets">
            <thead>
              <tr>
                <th scope="col">{t("Priority")}</th><th scope="col" className="opt2">{t("Ref")}</th><th scope="col">{t("Subject")}</th>
                <th scope="col" className="opt">{t("Channel")}</th><th scope="col">{t("Status")}</th><th scope="col" className="opt2">{t("Assignee")}</th>
                <th scope="col" className="opt">{t("Team")}</th><th scope="col">{t("Next SLA step")}</th>
                <th scope="col" className="opt">{t("Age")}</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((x) => <Row key={x.id} ticket={x} now={now} active={x.id === selected} onOpen={open} />)}
            </tbody>
          </table>
          {state.loaded && !shown.length && <p className="empty">{t("Nothing here. New tickets appear by themselves.")}</p>}
        </div>
      </section>
      {selected && <TicketView key={selected} id={selected} who={who} onNotice={setNotice} />}
    </div>
  ); // prettier-ignore
}
