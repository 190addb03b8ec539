"""An agent's work on tickets through the API: find and list them, open one from another channel, reply or add a
note, change status, assignee, priority, tags and escalation.

The rules that are the desk's own: a public reply to a closed ticket is refused (a customer who writes again gets
a follow-up ticket, and so does an agent's answer belong there); moving work to someone else and setting the
escalation level are a supervisor's; an API intake with the same Idempotency-Key from the same caller never opens
a second ticket. Everything else is decided by the intake, the ticket-change rules and the messenger it calls.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Protocol

from shared.domain.access import Principal, require_role, require_team
from shared.domain.errors import InvalidTransition, NotFound, ValidationFailed
from shared.domain.ids import derived_ulid
from shared.domain.model import AuditEvent, Channel, Contact, Role, Status
from shared.domain.ports import Agents, Announcer, Page, TicketFilters, Tickets, TicketSearch
from shared.domain.ticket import Message, Ticket
from shared.domain.timefmt import iso
from shared.services.ops_metrics import record_first_response

if TYPE_CHECKING:
    from shared.contracts.api import Reply, TicketIntake, TicketPatch, TicketQuery
    from shared.services.intake import InboundMessage, IntakeService
    from shared.services.ticket_changes import TicketChanges

MAX_TICKET_ID_CHARS = 64
IDEMPOTENCY_KEY_CHARS = 200


class TicketStore(Tickets, TicketSearch, Protocol):
    pass


class Replier(Protocol):
    def agent_reply(self, ticket: Ticket, agent_id: str, agent_name: str | None, text: str, now: datetime) -> str: ...


@dataclass
class TicketDesk:
    tickets: TicketStore
    agents: Agents
    announcer: Announcer
    intake: Callable[[], IntakeService]  # built on first use: most requests only read
    messenger: Callable[[], Replier]
    changes: Callable[[], TicketChanges]
    now: Callable[[], datetime]

    def search(self, query: TicketQuery, caller: Principal) -> Page:
        """The caller's teams' tickets and those lent to them (an admin's: every team's), narrowed by the query."""
        filters = TicketFilters(
            status=_value(query.status), priority=_value(query.priority), channel=_value(query.channel),
            assignee=query.assignee or None, tag=query.tag or None, tier=_value(query.tier),
            escalation_level=query.escalation_level, customer_id=query.customer or None, q=query.q or None,
            teams=None if caller.role == Role.ADMIN else caller.teams,
            or_assignee=None if caller.role == Role.ADMIN else caller.agent_id,
            updated_since=iso(query.updated_since) if query.updated_since else None,
        )  # fmt: skip
        return self.tickets.list(filters, limit=query.limit, cursor=query.cursor or None)

    def find(self, ticket_id: str, caller: Principal) -> Ticket:
        """By id, or by the ref customers see ("T-7K3M9Q"); a ticket of a team the caller does not work in is
        refused (403)."""
        if len(ticket_id) > MAX_TICKET_ID_CHARS:
            raise NotFound("no such ticket: ticket ids and refs are short")
        ticket = self.tickets.get(ticket_id) or self.tickets.by_ref(ticket_id.upper())
        if ticket is None:
            raise NotFound(f"no ticket {ticket_id}")
        require_team(caller, ticket.team, holder=ticket.assignee)
        return ticket

    def thread(self, ticket: Ticket) -> tuple[list[Message], list[AuditEvent]]:
        return self.tickets.thread(ticket.id)

    def open(self, request: TicketIntake, idempotency: str | None, caller: Principal) -> tuple[Ticket, bool]:
        """The ticket the message became (a new one, or the one an earlier call with the same key opened) and
        whether this call created it."""
        result = self.intake().accept(self._inbound(request, idempotency, caller))
        ticket = self.tickets.get(result.ticket_id or "")
        if ticket is None:
            raise ValidationFailed(f"the message was not turned into a ticket: {result.reason or result.outcome}")
        return ticket, result.outcome in ("created", "follow_up")

    def _inbound(self, request: TicketIntake, idempotency: str | None, caller: Principal) -> InboundMessage:
        from shared.services.intake import InboundMessage

        customer = request.customer
        contact = (
            Contact(Channel.EMAIL, customer.email, customer.name)
            if customer.email
            else Contact(Channel(request.channel), customer.handle or "", customer.name)
        )
        given = idempotency_key(idempotency)
        return InboundMessage(
            channel=Channel(request.channel),
            key=f"api#{caller.subject}#{given}" if given else f"api#{uuid.uuid4()}",
            received_at=self.now(),
            contact=contact,
            subject=request.subject or request.body.splitlines()[0][:120],
            body=request.body,
            body_full=request.body,
        )

    def reply(self, ticket_id: str, request: Reply, caller: Principal) -> Ticket:
        """A public reply (sent on the ticket's channel; the first response the SLA measures, and it clears the
        customer's unanswered count) or an internal note only agents see."""
        ticket = self.find(ticket_id, caller)
        if ticket.merged_into and not request.internal:
            raise InvalidTransition(f"the ticket was merged into {ticket.merged_into}: reply there")
        if ticket.status == Status.CLOSED.value and not request.internal:
            raise InvalidTransition("the ticket is closed: a customer who writes again gets a follow-up ticket")
        now = self.now()
        agent_id = caller.agent_id or caller.subject
        view = self.agents.get(agent_id)
        name = view.profile.name if view is not None else None
        if request.internal:
            self._note(ticket, agent_id, name, request.body, now)
            return self.tickets.get(ticket.id) or ticket
        message_id = self.messenger().agent_reply(ticket, agent_id, name, request.body, now)
        ticket.updated_at, ticket.customer_waiting_count = iso(now), 0
        record_first_response(ticket, now)
        ticket.first_responded_at = ticket.first_responded_at or iso(now)
        self.tickets.save_unguarded(ticket)
        from shared.contracts.events import ReplySent, wire

        self.announcer.announce(wire(ReplySent(ticket_id=ticket.id, message_id=message_id, at=now)))
        return self.tickets.get(ticket.id) or ticket

    def _note(self, ticket: Ticket, agent_id: str, name: str | None, text: str, now: datetime) -> None:
        message_id = derived_ulid(now, f"{ticket.id}#note#{agent_id}#{uuid.uuid4()}")
        note = Message(
            ticket_id=ticket.id, message_id=message_id, at=iso(now), direction="outbound", kind="note",
            channel=ticket.channel, author={"agent": agent_id, "name": name}, body=text,
        )  # fmt: skip
        event = AuditEvent("note.added", now, f"agent:{agent_id}", {"message_id": message_id},
                           id=derived_ulid(now, f"{message_id}#event"))  # fmt: skip
        self.tickets.add_messages([note], [(ticket.id, event)])

    def change(self, ticket_id: str, patch: TicketPatch, caller: Principal) -> Ticket:
        """Status through the state machine, assignee (null: back to the queue), priority, tags, escalation."""
        from shared.services.ticket_changes import TicketChange

        ticket = self.find(ticket_id, caller)
        self._may_move(ticket, patch, caller)
        change = TicketChange(
            status=_value(patch.status),
            assignee=patch.assignee,
            unassign=patch.unassigns,
            priority=_value(patch.priority),
            tags=tuple(patch.tags) if patch.tags is not None else None,
            escalation_level=patch.escalation_level,
            reason=patch.reason.strip() or None if patch.reason is not None else None,
        )
        return self.changes().apply(ticket.id, change, caller.actor).ticket


    def _may_move(self, ticket: Ticket, patch: TicketPatch, caller: Principal) -> None:
        """Agents take tickets themselves and give back their own; moving someone else's work (assigning it to
        another agent — of any team: a lead may lend work — unassigning another agent's ticket) and setting the
        escalation level are a lead's, on the tickets of the teams they lead."""
        if patch.assignee is not None and patch.assignee != caller.agent_id:
            require_role(caller, Role.SUPERVISOR)
        if patch.unassigns and ticket.assignee not in (None, caller.agent_id):
            require_role(caller, Role.SUPERVISOR)
        if patch.escalation_level is not None:
            require_role(caller, Role.SUPERVISOR)


def _value(member: Any) -> str | None:
    return None if member is None else str(member.value)


def idempotency_key(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if len(value) > IDEMPOTENCY_KEY_CHARS or not value.isascii() or not value.isprintable():
        raise ValidationFailed(f"Idempotency-Key must be at most {IDEMPOTENCY_KEY_CHARS} printable ASCII characters")
    return value
