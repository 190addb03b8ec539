"""Changes agents (and automations) make to a ticket (decided in shared/domain/changes.py): status through the state machine, assignee, priority, tags.

Load moves with the ticket in the same transaction: leaving `in_progress` gives the agent's slot back, a
reassignment moves the slot under the new agent's capacity condition, unassigning puts the ticket back in the
queue. Whenever a slot frees, the team's queue is announced for draining.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from shared.contracts.events import CapacityFreed, TicketChanged, wire
from shared.domain.changes import ChangeDecision, TicketChange, decide
from shared.domain.errors import AgentUnavailable, Conflict, NotFound, ValidationFailed
from shared.domain.ids import derived_ulid
from shared.domain.model import AuditEvent, Status
from shared.observability import logger
from shared.domain.ticket import LoadChange, Ticket
from shared.domain.ports import Agents, Tickets
from shared.domain.timefmt import Clock, iso, parse_iso, utcnow
from shared.services.ops_metrics import record_events

__all__ = ["Outcome", "TicketChange", "TicketChanges"]

MAX_RETRIES = 3


class Announcer(Protocol):
    def announce(self, event: dict[str, Any]) -> None: ...


@dataclass
class Outcome:
    ticket: Ticket
    events: list[str] = field(default_factory=list)
    freed_teams: tuple[str, ...] = ()  # whose queues may move now: the ticket's team, the releasing agent's team
    status_change: tuple[str, str] | None = None
    at: str | None = None


@dataclass
class TicketChanges:
    tickets: Tickets
    agents: Agents
    announcer: Announcer
    clock: Clock = utcnow

    def apply(self, ticket_id: str, change: TicketChange, actor: str) -> Outcome:
        for attempt in range(MAX_RETRIES):
            ticket = self.tickets.get(ticket_id)
            if ticket is None:
                raise NotFound(f"no ticket {ticket_id}")
            try:
                outcome = self._apply(ticket, change, actor)
            except AgentUnavailable:
                raise  # the target agent is full or offline: retrying will not change that
            except Conflict:
                if attempt == MAX_RETRIES - 1:
                    raise
                logger.info("ticket changed meanwhile; applying again", extra={"ticket_id": ticket_id})
                continue
            if outcome.status_change:
                before, after = outcome.status_change
                assert outcome.at is not None  # _apply stamps every change it makes
                changed = TicketChanged(
                    ticket_id=ticket_id, from_=Status(before), to=Status(after), at=parse_iso(outcome.at),
                    reason=change.reason,
                )  # fmt: skip
                self.announcer.announce(wire(changed))
            for team in outcome.freed_teams:
                self.announcer.announce(wire(CapacityFreed(team=team, ticket_id=ticket_id)))
            return outcome
        raise Conflict(f"ticket {ticket_id} kept changing")

    def _apply(self, ticket: Ticket, change: TicketChange, actor: str) -> Outcome:
        now = self.clock()
        at = iso(now)
        current = Status(ticket.status)
        holder = ticket.assignee if current.holds_load else None
        holder_view = self.agents.candidate(holder) if holder and change.may_shift_escalation else None
        decision = decide(ticket, change, actor, at, holder_view.tier if holder_view is not None else None)
        if not decision.events:
            return Outcome(ticket=ticket)
        new_holder = decision.new_holder()
        release_from = holder if holder and holder != new_holder else None
        take_for = new_holder if new_holder and new_holder != holder else None
        if take_for and self.agents.get(take_for) is None:
            raise ValidationFailed(f"no agent {take_for}")
        audit = [
            AuditEvent(
                type=type_,
                at=now,
                actor=actor,
                data={k: v for k, v in data.items() if v is not None},
                id=derived_ulid(now, f"{ticket.id}#{type_}#{ticket.version}"),
                seq=seq,
            )
            for seq, (type_, data) in enumerate(decision.events)
        ]
        for name, value in decision.values.items():
            setattr(ticket, name, value)
        self.tickets.save(ticket, audit, load=LoadChange(release_from=release_from, take_for=take_for, at=at))
        record_events(ticket, decision.events, now)
        return Outcome(
            ticket=ticket,
            events=[e[0] for e in decision.events],
            freed_teams=self._freed(ticket, decision, release_from),
            status_change=(current.value, decision.status.value) if decision.status != current else None,
            at=at,
        )

    def _freed(self, ticket: Ticket, decision: ChangeDecision, release_from: str | None) -> tuple[str, ...]:
        """Whose queues may move now: the ticket's team, and the team of an agent who held another team's ticket."""
        requeued = decision.status == Status.OPEN and decision.before != Status.OPEN
        lowered = decision.shift is not None and decision.shift.kind == "ticket.deescalated" and decision.status == Status.OPEN
        moved = "team" in decision.values  # the new team's queue has one more ticket to hand out
        freed: list[str] = [ticket.team] if (release_from or requeued or lowered or moved) else []
        releasing = self.agents.candidate(release_from) if release_from else None
        if releasing is not None and releasing.team not in freed:
            freed.append(releasing.team)
        return tuple(freed)
