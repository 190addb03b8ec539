"""The ticket status state machine.

open -> in_progress <-> pending -> resolved -> closed. `open` means waiting in the team's queue for an agent;
`in_progress` means an agent holds it and it counts against that agent's load. A customer writing again sends a
pending or resolved ticket back to the queue (its previous agent is preferred when routing picks it up again, but
only through the same capacity-checked assignment as any ticket); a closed ticket never reopens — the reply starts
a linked follow-up instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.domain.errors import InvalidTransition
from shared.domain.model import Status

_ALLOWED: dict[Status, frozenset[Status]] = {
    Status.OPEN: frozenset({Status.IN_PROGRESS, Status.PENDING, Status.RESOLVED}),
    Status.IN_PROGRESS: frozenset({Status.OPEN, Status.PENDING, Status.RESOLVED}),
    Status.PENDING: frozenset({Status.OPEN, Status.IN_PROGRESS, Status.RESOLVED}),
    Status.RESOLVED: frozenset({Status.OPEN, Status.IN_PROGRESS, Status.CLOSED}),
    Status.CLOSED: frozenset(),
}


def allowed_transitions(current: Status) -> frozenset[Status]:
    return _ALLOWED[current]


def transition(current: Status, target: Status) -> Status:
    """Return `target` if the move is allowed, else raise InvalidTransition naming the allowed moves."""
    if target == current:
        return current
    if target not in _ALLOWED[current]:
        allowed = ", ".join(sorted(s.value for s in _ALLOWED[current])) or "none (closed is final)"
        raise InvalidTransition(f"cannot move a ticket from {current.value} to {target.value}; allowed: {allowed}")
    return target


@dataclass(frozen=True)
class CustomerReplyOutcome:
    """What a new customer message does to its ticket."""

    status: Status
    reopened: bool = False
    follow_up: bool = False


def on_customer_reply(current: Status) -> CustomerReplyOutcome:
    """A customer reply resumes work: pending -> queue, resolved -> reopened into the queue, closed -> follow-up."""
    if current == Status.CLOSED:
        return CustomerReplyOutcome(status=Status.CLOSED, follow_up=True)
    if current == Status.RESOLVED:
        return CustomerReplyOutcome(status=transition(current, Status.OPEN), reopened=True)
    if current == Status.PENDING:
        return CustomerReplyOutcome(status=transition(current, Status.OPEN))
    return CustomerReplyOutcome(status=current)
