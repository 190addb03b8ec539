"""What the route stage does with each announcement on the route queue.

ticket.created   decide priority; start the SLA clock; escalate at once on keyword criteria; answer a keyword
                 auto-reply or acknowledge with ref and ETA (kept as the promise); drain the queue
message.added    the customer wrote again: resume/restart the SLA clock; a chat keyword auto-reply; a ticket sent
                 back to the queue by the reply is drained
ticket.changed   a status change: the SLA clock pauses (pending), resumes, or is met (resolved/closed); the
                 customer is told when their ticket is resolved; a ticket back in the queue checks its promise
reply.sent       an agent answered: first/next response met; escalations caused by the wait come down
capacity.freed / agent.available
                 drain the team's queue
team.drain       drain the team's queue at `due_at` (a shift starts, a skill wait ends): early ones hop on

Duplicates are cheap no-ops: the priority is decided once, each customer message is answered at most once
(markers), and draining is driven by state, not by the message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from shared.services.customer_messages import CustomerMessenger
from shared.domain.errors import InFlight, NotFound, ValidationFailed
from shared.observability import Metric, bind_ticket, count, logger
from shared.services.routing import DrainResult, RoutingService
from shared.storage.markers import MarkerRepository
from shared.storage.tickets import TicketRepository
from shared.services.sla import SlaService
from shared.representation import plain
from shared.domain.timefmt import parse_iso, utcnow
from shared.services.ticket_changes import TicketChange, TicketChanges

EARLY_TOLERANCE = timedelta(seconds=1)  # SQS delays are whole seconds
TICKET_EVENTS = ("ticket.created", "message.added", "ticket.changed", "reply.sent")
TEAM_EVENTS = ("capacity.freed", "agent.available", "team.drain")


class DrainScheduler(Protocol):
    def drain_at(self, team: str, due_at: datetime, now: datetime, why: str) -> None: ...


@dataclass
class Router:
    tickets: TicketRepository
    markers: MarkerRepository
    routing: RoutingService
    messenger: CustomerMessenger
    changes: TicketChanges
    sla: SlaService
    announcer: DrainScheduler

    def handle(self, event: dict[str, Any]) -> dict[str, Any]:
        kind = event.get("event")
        if kind in TEAM_EVENTS:
            team = event.get("team")
            if not isinstance(team, str) or not team:
                raise ValidationFailed(f"{kind} needs a team")
            now = utcnow()
            due_at = parse_iso(str(event["due_at"])) if event.get("due_at") else None
            if due_at is not None and due_at > now + EARLY_TOLERANCE:
                self.announcer.drain_at(team, due_at, now, str(event.get("why") or ""))  # another hop
                return {"hop": True}
            return self._drained(team, self.routing.drain(team))
        if kind not in TICKET_EVENTS:
            raise ValidationFailed(f"unknown route event {kind!r}")
        key = f"route#{kind}#{event.get('ticket_id')}#{event.get('message_id') or event.get('at')}"  # the business key
        claim = self.markers.claim(key, utcnow(), lease_seconds=120)
        if claim.state == "done":
            count(Metric.DUPLICATES_DROPPED, stage="route")
            return {"duplicate": True}
        if claim.state == "in_flight":
            raise InFlight(f"{key} is being handled by another invocation")
        try:
            result = self._handle_ticket_event(kind, event)
        except Exception:
            self.markers.release(key)
            raise
        self.markers.complete(key, {"assigned": len(result.get("assigned", []))})
        return result

    def _handle_ticket_event(self, kind: str, event: dict[str, Any]) -> dict[str, Any]:
        ticket = self.tickets.get(str(event.get("ticket_id")))
        if ticket is None:
            raise NotFound(f"no ticket {event.get('ticket_id')} (announced before it was written?)")
        bind_ticket(ticket.id)
        at = parse_iso(str(event["at"])) if event.get("at") else utcnow()
        if kind == "ticket.changed":
            ticket = self.sla.on_status(ticket, str(event.get("from")), str(event.get("to")), at)
            if event.get("to") == "open" and event.get("from") == "in_progress":
                self.sla.check_promise(ticket.id, "back in the queue")  # the agent let go: does the promise hold?
            if event.get("from") == "resolved" and event.get("to") in ("open", "in_progress"):
                ticket = self.sla.criteria_escalation(ticket, reopened=True)  # an agent reopened it
            if event.get("to") == "resolved":
                self.sla.bus.publish(
                    "ticket.resolved",
                    {"ticket_id": ticket.id, "ref": ticket.ref, "priority": ticket.priority, "at": event.get("at"),
                     "escalation_level": int(ticket.escalation_level or 0), "sla": plain(ticket.sla)},
                )  # fmt: skip
                if not str(event.get("reason") or "").startswith("auto-reply"):
                    self.messenger.notify_once(ticket, "resolved")  # an auto-reply that resolved already said it all
            return {"sla": (plain(ticket.sla) or {}).get("state")}
        if kind == "reply.sent":
            self.sla.on_agent_reply(ticket, at)
            return {}
        suppress = bool(event.get("suppress_auto_response"))
        ticket = self.routing.prioritise(ticket)
        if kind == "ticket.created":
            ticket = self.sla.apply(ticket)
            ticket = self.sla.keyword_escalation(ticket)
            ticket = self.routing.admit(ticket)
        elif not event.get("automated"):
            ticket = self.sla.on_customer_message(ticket, at)
            ticket = self.sla.criteria_escalation(ticket, reopened=bool(event.get("reopened")))
        replied = None
        if not suppress:
            message = self.tickets.message(ticket.id, str(event.get("message_id")))
            if message is not None:
                replied = self.messenger.auto_reply(ticket, message)
                if replied is not None and replied.resolve and ticket.status in ("open", "in_progress"):
                    ticket = self.changes.apply(
                        ticket.id, TicketChange(status="resolved", reason=f"auto-reply {replied.name}"), "system:auto-reply"
                    ).ticket
        drained = self.routing.drain(ticket.team, include=ticket) if ticket.status == "open" else DrainResult()
        self._schedule_retry(ticket.team, drained)
        if kind == "ticket.created" and replied is None:
            fresh = self.tickets.get(ticket.id) or ticket
            promised = self.messenger.acknowledge(fresh, suppress=suppress)
            if promised is not None:
                self.sla.promise(ticket.id, promised.first_response_seconds, promised.resolution_seconds)
        return self._report(drained, auto_reply=replied.name if replied else None)

    def _drained(self, team: str, result: DrainResult) -> dict[str, Any]:
        self._schedule_retry(team, result)
        return self._report(result)

    def _schedule_retry(self, team: str, result: DrainResult) -> None:
        if result.retry_at is not None:
            self.announcer.drain_at(team, result.retry_at, utcnow(), "skill wait ends")

    @staticmethod
    def _report(result: DrainResult, **extra: Any) -> dict[str, Any]:
        if result.conflicts:
            count(Metric.ASSIGNMENT_CONFLICTS, result.conflicts)
        logger.info("route event handled", extra={"assigned": len(result.assigned), "conflicts": result.conflicts, **extra})
        return {"assigned": result.assigned, "conflicts": result.conflicts, **extra}
