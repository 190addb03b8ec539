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

Duplicates are cheap no-ops: each ticket announcement is handled once (Powertools' idempotency utility on its
business key), each customer message is answered at most once (send-once markers), and draining is driven by
state, not by the message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from shared.contracts.events import (
    MessageAdded,
    ReplySent,
    TeamDrain,
    TeamEvent,
    TicketChanged,
    TicketCreated,
    parse_route_event,
)
from shared.services.customer_messages import AutoReplyRule, CustomerMessenger
from shared.domain.errors import NotFound
from shared.domain.ports import Idempotency, Tickets
from shared.domain.model import Status
from shared.domain.ticket import Ticket
from shared.observability import Metric, bind_ticket, count, logger
from shared.services.routing import DrainResult, RoutingService
from shared.services.sla import SlaService
from shared.representation import plain
from shared.domain.timefmt import iso, utcnow
from shared.services.ticket_changes import TicketChange, TicketChanges

EARLY_TOLERANCE = timedelta(seconds=1)  # SQS delays are whole seconds
ROUTE_LEASE_SECONDS = 120  # how long a crashed handling holds its announcement outside Lambda (there: its timeout)


class DrainScheduler(Protocol):
    def drain_at(self, team: str, due_at: datetime, now: datetime, why: str) -> None: ...


@dataclass
class Router:
    tickets: Tickets
    idempotency: Idempotency  # each ticket announcement handled once (a raise lets the queue's retry run it again)
    routing: RoutingService
    messenger: CustomerMessenger
    changes: TicketChanges
    sla: SlaService
    announcer: DrainScheduler

    def handle(self, body: Any) -> dict[str, Any]:
        event = parse_route_event(body)  # MalformedEvent if it is no route event: the record fails (then the DLQ)
        if isinstance(event, TeamEvent):
            now = utcnow()
            if isinstance(event, TeamDrain) and event.due_at > now + EARLY_TOLERANCE:
                self.announcer.drain_at(event.team, event.due_at, now, event.why)  # another hop
                return {"hop": True}
            return self._drained(event.team, self.routing.drain(event.team))
        message_id = None if isinstance(event, TicketChanged) else event.message_id
        key = f"route#{event.event}#{event.ticket_id}#{message_id or iso(event.at)}"  # the business key
        handled = self.idempotency.once(key, lambda: self._handle_ticket_event(event), lease_seconds=ROUTE_LEASE_SECONDS)
        if handled.replayed:
            count(Metric.DUPLICATES_DROPPED, stage="route")
            return {"duplicate": True}
        return handled.result

    def _handle_ticket_event(self, event: TicketCreated | MessageAdded | TicketChanged | ReplySent) -> dict[str, Any]:
        ticket = self.tickets.get(event.ticket_id)
        if ticket is None:
            raise NotFound(f"no ticket {event.ticket_id} (announced before it was written?)")
        bind_ticket(ticket.id)
        if isinstance(event, TicketChanged):
            return self._status_changed(ticket, event)
        if isinstance(event, ReplySent):
            self.sla.on_agent_reply(ticket, event.at)
            return {}
        return self._customer_wrote(ticket, event)

    def _status_changed(self, ticket: Ticket, event: TicketChanged) -> dict[str, Any]:
        """The clock follows the status; a resolution is announced and the customer told (once)."""
        ticket = self.sla.on_status(ticket, event.from_.value, event.to.value, event.at)
        if event.to == Status.OPEN and event.from_ == Status.IN_PROGRESS:
            self.sla.check_promise(ticket.id, "back in the queue")  # the agent let go: does the promise hold?
        if event.from_ == Status.RESOLVED and event.to in (Status.OPEN, Status.IN_PROGRESS):
            ticket = self.sla.criteria_escalation(ticket, reopened=True)  # an agent reopened it
        if event.to == Status.RESOLVED:
            self.sla.bus.publish(
                "ticket.resolved",
                {"ticket_id": ticket.id, "ref": ticket.ref, "priority": ticket.priority, "at": iso(event.at),
                 "escalation_level": int(ticket.escalation_level or 0), "sla": plain(ticket.sla)},
            )  # fmt: skip
            if not (event.reason or "").startswith("auto-reply"):
                self.messenger.notify_once(ticket, "resolved")  # an auto-reply that resolved already said it all
        return {"sla": (plain(ticket.sla) or {}).get("state")}

    def _customer_wrote(self, ticket: Ticket, event: TicketCreated | MessageAdded) -> dict[str, Any]:
        """A new ticket or a customer's message: triage, clocks, escalation criteria, an auto-reply if one
        matches, the queue drained, and for a new ticket the acknowledgement with its promise."""
        ticket = self.routing.prioritise(ticket)
        if isinstance(event, TicketCreated):
            ticket = self.routing.admit(self.sla.keyword_escalation(self.sla.apply(ticket)))
        elif not event.automated:
            ticket = self.sla.on_customer_message(ticket, event.at)
            ticket = self.sla.criteria_escalation(ticket, reopened=event.reopened)
        replied = self._auto_reply(ticket, event)
        if replied is not None and replied.resolve and ticket.status in ("open", "in_progress"):
            change = TicketChange(status="resolved", reason=f"auto-reply {replied.name}")
            ticket = self.changes.apply(ticket.id, change, "system:auto-reply").ticket
        drained = self.routing.drain(ticket.team, include=ticket) if ticket.status == "open" else DrainResult()
        self._schedule_retry(ticket.team, drained)
        if isinstance(event, TicketCreated) and replied is None:
            promised = self.messenger.acknowledge(self.tickets.get(ticket.id) or ticket, suppress=event.suppress_auto_response)
            if promised is not None:
                self.sla.promise(ticket.id, promised.first_response_seconds, promised.resolution_seconds)
        return self._report(drained, auto_reply=replied.name if replied else None)

    def _auto_reply(self, ticket: Ticket, event: TicketCreated | MessageAdded) -> AutoReplyRule | None:
        if event.suppress_auto_response or event.message_id is None:
            return None
        message = self.tickets.message(ticket.id, event.message_id)
        return self.messenger.auto_reply(ticket, message) if message is not None else None

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
