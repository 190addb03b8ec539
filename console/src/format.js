// Small, pure helpers the screens share: the SLA's next step, durations, times, queue order.
import { locale, t } from "./i18n.js";

export const STATUSES = ["open", "in_progress", "pending", "resolved", "closed"];
export const PRIORITIES = ["urgent", "high", "medium", "low"];
export const TIERS = ["vip", "premium", "standard"];
export const CHANNELS = ["email", "chat", "web", "phone", "whatsapp", "facebook", "instagram", "telegram", "twitter", "api"];
export const SLA_STATES = ["ok", "warning", "breached", "paused", "met"];
const PRIORITY_RANK = { urgent: 0, high: 1, medium: 2, low: 3 };
const CLOSED = new Set(["resolved", "closed"]);

export const statusLabel = (status) =>
  ({ triage: t("Triage"), open: t("Open"), in_progress: t("In progress"), pending: t("Pending"),
     resolved: t("Resolved"), closed: t("Closed") })[status] || status; // prettier-ignore
export const priorityLabel = (priority) =>
  ({ urgent: t("Urgent"), high: t("High"), medium: t("Medium"), low: t("Low") })[priority] || priority;
export const slaLabel = (state) =>
  ({ ok: t("On time"), warning: t("Warning"), breached: t("Breached"), paused: t("Paused"), met: t("Met") })[state] || state;
export const channelLabel = (channel) =>
  ({ email: t("Email"), chat: t("Chat"), web: t("Web form"), phone: t("Phone"), whatsapp: "WhatsApp",
     facebook: "Messenger", instagram: "Instagram", telegram: "Telegram", twitter: "X", api: "API" })[channel] || channel; // prettier-ignore
export const isOpen = (ticket) => !CLOSED.has(ticket.status);

export function duration(seconds) {
  const s = Math.abs(Math.round(seconds));
  if (s < 60) return `${s}${t("s")}`;
  if (s < 3600) return `${Math.floor(s / 60)}${t("m")} ${String(s % 60).padStart(2, "0")}${t("s")}`;
  if (s < 86400) return `${Math.floor(s / 3600)}${t("h")} ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}${t("m")}`;
  return `${Math.floor(s / 86400)}${t("d")} ${Math.floor((s % 86400) / 3600)}${t("h")}`;
}

export const when = (iso) =>
  iso ? new Date(iso).toLocaleString(locale(), { dateStyle: "medium", timeStyle: "short" }) : "—";

export function age(iso, now = Date.now()) {
  return iso ? duration((now - Date.parse(iso)) / 1000) : "—";
}

// The next SLA step still ahead of the ticket: first response until someone answered, then the next response
// (when the customer wrote again), then resolution. Negative seconds: overdue.
export function nextStep(ticket, now = Date.now()) {
  const sla = ticket.sla;
  if (!sla || !isOpen(ticket)) return null;
  if (sla.state === "paused") return { label: t("Paused"), seconds: null, breached: false, paused: true };
  const steps = [];
  if (!ticket.first_responded_at && sla.first_response_due) steps.push([t("First response"), sla.first_response_due]);
  if (sla.next_response_due) steps.push([t("Next response"), sla.next_response_due]);
  if (sla.resolution_due) steps.push([t("Resolution"), sla.resolution_due]);
  if (!steps.length) return null;
  steps.sort((a, b) => Date.parse(a[1]) - Date.parse(b[1]));
  const [label, due] = steps[0];
  const seconds = (Date.parse(due) - now) / 1000;
  return { label, due, seconds, breached: seconds < 0 || sla.state === "breached", warning: sla.state === "warning" };
}

// The team's queue order (what assignment follows): `urgency` is priority, then age; `fifo` is age with VIP first.
export function queueOrder(strategy) {
  return (a, b) => {
    if (strategy === "fifo") {
      const vip = (a.customer?.tier === "vip" ? 0 : 1) - (b.customer?.tier === "vip" ? 0 : 1);
      return vip || a.created_at.localeCompare(b.created_at);
    }
    const rank = (PRIORITY_RANK[a.priority] ?? 9) - (PRIORITY_RANK[b.priority] ?? 9);
    return rank || a.created_at.localeCompare(b.created_at);
  };
}

export const SORTS = {
  queue: (strategy) => queueOrder(strategy),
  newest: () => (a, b) => b.created_at.localeCompare(a.created_at),
  updated: () => (a, b) => (b.changed_at || b.updated_at).localeCompare(a.changed_at || a.updated_at),
  due: () => (a, b) => (nextStep(a)?.seconds ?? Infinity) - (nextStep(b)?.seconds ?? Infinity),
};
