"""What an agent's (or an automation's) change does to a ticket: status through the state machine, assignee,
priority, tags and escalation level — decided here, without storage, then saved by shared/services/ticket_changes.py.

The rules: unassigning an in-progress ticket puts it back in the queue; assigning an open one starts work; a
ticket in progress needs an assignee; reopening into the queue lets routing pick the agent again; a resolved
ticket coming back counts a reopen. A supervisor's escalation level overrules the causes; escalation-keyword tags
added or removed raise or end theirs; a holder whose tier is now too low gives the ticket back to the queue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.domain.errors import InvalidTransition, ValidationFailed
from shared.domain.model import Priority, Status
from shared.domain.status import transition
from shared.domain.ticket import Ticket
from shared.domain.escalation_causes import CauseShift, causes_of, retagged, set_by_hand

Events = list[tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class TicketChange:
    status: str | None = None
    assignee: str | None = None
    unassign: bool = False
    priority: str | None = None
    tags: tuple[str, ...] | None = None
    escalation_level: int | None = None
    team: str | None = None  # move to this team's queue (the SLA clock goes with it)
    reason: str | None = None

    def moves(self, ticket: Ticket) -> bool:
        return self.team is not None and self.team != ticket.team

    @property
    def may_shift_escalation(self) -> bool:
        return self.tags is not None or self.escalation_level is not None


@dataclass
class ChangeDecision:
    """The ticket's new values and the events saying why; `status`/`assignee` are where the ticket ends up."""

    before: Status
    status: Status
    assignee: str | None
    values: dict[str, Any] = field(default_factory=dict)
    events: Events = field(default_factory=list)
    shift: CauseShift | None = None

    def new_holder(self) -> str | None:
        return self.assignee if self.status.holds_load else None


def decide(ticket: Ticket, change: TicketChange, actor: str, at: str, holder_tier: int | None) -> ChangeDecision:
    """The whole decision. `holder_tier`: the tier of the agent holding the ticket now (None: nobody, unknown)."""
    current = Status(ticket.status)
    status, assignee = _target(ticket, change, current)
    transition(current, status)
    decision = ChangeDecision(before=current, status=status, assignee=assignee, values={"updated_at": max(ticket.updated_at, at)})
    _status(decision, ticket, change, at)
    _assignee(decision, ticket, actor, at)
    _team(decision, ticket, change)
    _priority(decision, ticket, change, actor)
    _tags(decision, ticket, change)
    _escalation(decision, ticket, change, actor, holder_tier)
    return decision


def _target(ticket: Ticket, change: TicketChange, current: Status) -> tuple[Status, str | None]:
    if change.assignee and change.unassign:
        raise ValidationFailed("give either an assignee or null, not both")
    status = Status(change.status) if change.status else current
    assignee = None if change.unassign else (change.assignee or ticket.assignee)
    if change.moves(ticket):
        status, assignee = _moved(ticket, change, status, assignee)
    if change.unassign and status == Status.IN_PROGRESS and not change.status:
        status = Status.OPEN  # back to the queue
    if change.assignee and status == Status.OPEN:
        status = Status.IN_PROGRESS  # work starts
    if status == Status.IN_PROGRESS and not assignee:
        raise InvalidTransition("a ticket in progress needs an assignee: set assignee as well")
    if status == Status.OPEN and assignee and change.status:
        assignee = None  # reopening into the queue: routing picks the agent again
    return status, assignee


def _moved(ticket: Ticket, change: TicketChange, status: Status, assignee: str | None) -> tuple[Status, str | None]:
    """Work moved to another team joins that team's queue: whoever held it here lets go, unless the lead names
    the new team's agent in the same change. A resolved ticket keeps its state (it only changes hands); a closed
    one is final."""
    if ticket.status == Status.CLOSED.value:
        raise InvalidTransition("the ticket is closed: it stays with the team that closed it")
    if change.assignee or status in (Status.RESOLVED, Status.CLOSED):
        return status, assignee
    if change.status and status != Status.OPEN:
        raise InvalidTransition(f"a ticket moved to another team joins its queue (open), not {status.value}; "
                                "name an assignee of the new team to start work at once")  # fmt: skip
    return Status.OPEN, None


def _team(decision: ChangeDecision, ticket: Ticket, change: TicketChange) -> None:
    """The move itself: the new team's queue, its own routing of skills; priority, escalation and the SLA clock
    stay as they are (the customer's wait does not start again)."""
    if not change.moves(ticket):
        return
    decision.values.update(team=change.team, required_skill=None, preferred_agent=None)
    decision.events.append(("ticket.moved", {"from": ticket.team, "to": change.team, "reason": change.reason}))


def _status(decision: ChangeDecision, ticket: Ticket, change: TicketChange, at: str) -> None:
    current, target, values = decision.before, decision.status, decision.values
    if target == current:
        return
    values["status"] = target.value
    decision.events.append(("ticket.status_changed", {"from": current.value, "to": target.value, "reason": change.reason}))
    if target == Status.RESOLVED:
        values["resolved_at"] = at
    if target == Status.CLOSED:
        values["closed_at"] = at
    if current == Status.RESOLVED and target != Status.CLOSED:
        values["resolved_at"] = None
        values["reopen_count"] = int(ticket.reopen_count or 0) + 1
        decision.events.append(("ticket.reopened", {"reopen_count": values["reopen_count"]}))


def _assignee(decision: ChangeDecision, ticket: Ticket, actor: str, at: str) -> None:
    target = decision.assignee
    if target == ticket.assignee:
        return
    decision.values["assignee"] = target
    if target:
        decision.values["assigned_at"] = at
        decision.values["assignment_reason"] = f"assigned by {actor}"
    if decision.status == Status.OPEN and ticket.assignee:
        decision.values["preferred_agent"] = ticket.assignee
    decision.events.append(("ticket.assigned" if target else "ticket.unassigned", {"from": ticket.assignee, "to": target}))


def _priority(decision: ChangeDecision, ticket: Ticket, change: TicketChange, actor: str) -> None:
    if not change.priority or change.priority == ticket.priority:
        return
    try:
        priority = Priority(change.priority)
    except ValueError as exc:
        raise ValidationFailed(f"priority must be one of {', '.join(p.value for p in Priority)}") from exc
    decision.values.update(
        priority=priority.value,
        priority_source="agent",
        priority_reasons=[*(ticket.priority_reasons or []), f"set to {priority.value} by {actor}"],
    )
    decision.events.append(("ticket.priority_changed", {"from": ticket.priority, "to": priority.value, "by": actor}))


def _tags(decision: ChangeDecision, ticket: Ticket, change: TicketChange) -> None:
    if change.tags is not None and set(change.tags) != set(ticket.tags or ()):
        decision.values["tags"] = set(change.tags)
        decision.events.append(("ticket.tags_changed", {"from": sorted(ticket.tags or ()), "to": sorted(change.tags)}))


def escalation_shift(ticket: Ticket, change: TicketChange) -> CauseShift | None:
    """A supervisor's level overrules the causes; escalation-keyword tags added or removed raise or end theirs."""
    before = causes_of(ticket.escalation_causes, int(ticket.required_tier or 1))
    after = dict(before)
    if change.tags is not None:
        after = retagged(after, ticket.tags or (), change.tags)
    if change.escalation_level is not None and change.escalation_level != int(ticket.escalation_level or 0):
        if not 0 <= change.escalation_level <= 2:
            raise ValidationFailed("escalation_level is 0 (tier 1), 1 (tier 2) or 2 (tier 3)")
        after = set_by_hand(after, change.escalation_level)
    return CauseShift(before, after) if after != before else None


def _escalation(decision: ChangeDecision, ticket: Ticket, change: TicketChange, actor: str, holder_tier: int | None) -> None:
    shift = escalation_shift(ticket, change)
    if shift is None:
        return
    decision.shift = shift
    decision.values.update(shift.values())
    if shift.kind is not None:
        reason = change.reason or (
            f"level set by {actor}" if change.escalation_level is not None else f"escalation keyword tags changed by {actor}"
        )
        decision.events.append((shift.kind, {**shift.event(reason), "by": actor}))
    if holder_tier is not None and holder_tier < shift.tier and not change.assignee:
        # the holder's tier is too low now: back to the queue for a more experienced agent
        decision.status, decision.assignee = Status.OPEN, None
        decision.values.update(status=Status.OPEN.value, assignee=None, preferred_agent=None)
