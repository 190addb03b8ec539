"""Changes agents (and automations) make to a ticket: status through the state machine, assignee, priority, tags.

Load moves with the ticket in the same transaction: leaving `in_progress` gives the agent's slot back, a
reassignment moves the slot under the new agent's capacity condition, unassigning puts the ticket back in the
queue. Whenever a slot frees, the team's queue is announced for draining.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from pynamodb.expressions.update import Action

from shared.contracts.events import CapacityFreed, TicketChanged, wire
from shared.domain.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from shared.domain.ids import derived_ulid
from shared.domain.model import AuditEvent, Priority, Status
from shared.domain.status import transition
from shared.escalation_causes import Shift, causes_of, retagged, set_by_hand
from shared.observability import logger
from shared.storage.agents import AgentRepository
from shared.storage.assignments import AgentUnavailable, change_holding_ticket, ticket_set
from shared.storage.models import TicketModel
from shared.storage.tickets import TicketRepository, event_item, index_keys
from shared.timefmt import Clock, iso, parse_iso, utcnow

MAX_RETRIES = 3


class Announcer(Protocol):
    def announce(self, event: dict[str, Any]) -> None: ...


def _shift_reason(change: TicketChange, actor: str) -> str:
    if change.escalation_level is not None:
        return f"level set by {actor}"
    return f"escalation keyword tags changed by {actor}"


@dataclass(frozen=True)
class TicketChange:
    status: str | None = None
    assignee: str | None = None
    unassign: bool = False
    priority: str | None = None
    tags: tuple[str, ...] | None = None
    escalation_level: int | None = None
    reason: str | None = None


@dataclass
class Outcome:
    ticket: TicketModel
    events: list[str] = field(default_factory=list)
    freed_teams: tuple[str, ...] = ()  # whose queues may move now: the ticket's team, the releasing agent's team
    status_change: tuple[str, str] | None = None
    at: str | None = None


@dataclass
class TicketChanges:
    tickets: TicketRepository
    agents: AgentRepository
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

    @staticmethod
    def _escalation_shift(ticket: TicketModel, change: TicketChange) -> Shift | None:
        """A supervisor's level overrules the causes; escalation-keyword tags added or removed raise or end theirs."""
        before = causes_of(ticket.escalation_causes, int(ticket.required_tier or 1))
        after = dict(before)
        if change.tags is not None:
            after = retagged(after, ticket.tags or (), change.tags)
        if change.escalation_level is not None and change.escalation_level != int(ticket.escalation_level or 0):
            if not 0 <= change.escalation_level <= 2:
                raise ValidationFailed("escalation_level is 0 (tier 1), 1 (tier 2) or 2 (tier 3)")
            after = set_by_hand(after, change.escalation_level)
        return Shift(before, after) if after != before else None

    def _apply(self, ticket: TicketModel, change: TicketChange, actor: str) -> Outcome:
        now = self.clock()
        at = iso(now)
        current = Status(ticket.status)
        holder = ticket.assignee if current.holds_load else None
        target_status = Status(change.status) if change.status else current
        target_assignee = None if change.unassign else (change.assignee or ticket.assignee)
        if change.assignee and change.unassign:
            raise ValidationFailed("give either an assignee or null, not both")

        # unassigning an in-progress ticket puts it back in the queue; assigning an open one starts work
        if change.unassign and target_status == Status.IN_PROGRESS:
            target_status = Status.OPEN if not change.status else target_status
        if change.assignee and target_status == Status.OPEN:
            target_status = Status.IN_PROGRESS
        if target_status == Status.IN_PROGRESS and not target_assignee:
            raise InvalidTransition("a ticket in progress needs an assignee: set assignee as well")
        if target_status == Status.OPEN and target_assignee and change.status:
            target_assignee = None  # reopening into the queue: routing picks the agent again
        transition(current, target_status)

        events: list[tuple[str, dict[str, Any]]] = []
        values: dict[str, Any] = {"updated_at": max(ticket.updated_at, at)}
        if target_status != current:
            values["status"] = target_status.value
            values["queue_key"] = f"{ticket.team}#{target_status.value}"
            events.append(("ticket.status_changed", {"from": current.value, "to": target_status.value, "reason": change.reason}))
            if target_status == Status.RESOLVED:
                values["resolved_at"] = at
            if target_status == Status.CLOSED:
                values["closed_at"] = at
            if current == Status.RESOLVED and target_status != Status.CLOSED:
                values["resolved_at"] = None
                values["reopen_count"] = int(ticket.reopen_count or 0) + 1
                events.append(("ticket.reopened", {"reopen_count": values["reopen_count"]}))
        if target_assignee != ticket.assignee:
            values["assignee"] = target_assignee
            if target_assignee:
                values["assigned_at"] = at
                values["assignment_reason"] = f"assigned by {actor}"
            if target_status == Status.OPEN and ticket.assignee:
                values["preferred_agent"] = ticket.assignee
            events.append(("ticket.assigned" if target_assignee else "ticket.unassigned", {"from": ticket.assignee, "to": target_assignee}))
        if change.priority and change.priority != ticket.priority:
            try:
                priority = Priority(change.priority)
            except ValueError as exc:
                raise ValidationFailed(f"priority must be one of {', '.join(p.value for p in Priority)}") from exc
            values["priority"] = priority.value
            values["priority_source"] = "agent"
            values["priority_reasons"] = [*(ticket.priority_reasons or []), f"set to {priority.value} by {actor}"]
            events.append(("ticket.priority_changed", {"from": ticket.priority, "to": priority.value, "by": actor}))
        if change.tags is not None and set(change.tags) != set(ticket.tags or ()):
            values["tags"] = set(change.tags) or None
            events.append(("ticket.tags_changed", {"from": sorted(ticket.tags or ()), "to": sorted(change.tags)}))
        shift = self._escalation_shift(ticket, change)
        if shift is not None:
            values.update(shift.values())
            if shift.kind is not None:
                events.append((shift.kind, {**shift.event(change.reason or _shift_reason(change, actor)), "by": actor}))
            holder_view = self.agents.candidate(ticket.assignee) if ticket.assignee and current.holds_load else None
            if holder_view is not None and holder_view.tier < shift.tier and not change.assignee:
                # the holder's tier is too low now: back to the queue for a more experienced agent
                target_status, target_assignee = Status.OPEN, None
                values.update(status=Status.OPEN.value, queue_key=f"{ticket.team}#open", assignee=None, preferred_agent=None)
        if not events:
            return Outcome(ticket=ticket)

        new_holder = target_assignee if target_status.holds_load else None
        release_from = holder if holder and holder != new_holder else None
        take_for = (new_holder, at) if new_holder and new_holder != holder else None
        if take_for and self.agents.get(new_holder) is None:  # type: ignore[arg-type]
            raise ValidationFailed(f"no agent {new_holder}")

        actions: list[Action] = ticket_set(ticket, **values)
        index_keys(ticket)
        actions += ticket_set(ticket, queue_priority_sort=ticket.queue_priority_sort, search_text=ticket.search_text)
        event_items = [
            event_item(
                ticket.id,
                AuditEvent(type=type_, at=now, actor=actor, data={k: v for k, v in data.items() if v is not None}),
                derived_ulid(now, f"{ticket.id}#{type_}#{ticket.version}"),
                seq,
            )
            for seq, (type_, data) in enumerate(events)
        ]
        change_holding_ticket(ticket, actions, event_items, release_from=release_from, take_for=take_for)
        requeued = target_status == Status.OPEN and current != Status.OPEN
        lowered = shift is not None and shift.kind == "ticket.deescalated" and target_status == Status.OPEN
        freed: list[str] = [ticket.team] if (release_from or requeued or lowered) else []
        releasing = self.agents.candidate(release_from) if release_from else None
        if releasing is not None and releasing.team not in freed:
            freed.append(releasing.team)  # an agent who held another team's ticket has a slot for their own queue
        return Outcome(
            ticket=ticket,
            events=[e[0] for e in events],
            freed_teams=tuple(freed),
            status_change=(current.value, target_status.value) if target_status != current else None,
            at=at,
        )
