"""Honest waiting-time estimates for the customer's acknowledgement (R11).

First response: an agent who already holds the ticket answers within the pick-up time; a waiting ticket waits
for the tickets ahead of it to be worked through by the agents online, each slot freeing after an average
handling time. Nobody online: the SLA target is the only honest promise. A promise never exceeds the ticket's
own SLA targets: the targets are what the team committed to, and the escalation ladder acts before they break.
When the live queue says it will be later than that, the forecast below sees it and the customer is told.

What the acknowledgement said is kept as the ticket's promise. Later, whenever the queue changes under a ticket
that is still unanswered (it went back to the queue, a ladder step fired), `forecast_first_answer` asks the live
queue again; when the forecast lands clearly past the promise, the customer is told before the promise breaks
(`slipped`). With nobody online there is no basis for a forecast: only reaching the promised time tells.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.domain.model import Priority

PICKUP_SECONDS = 900  # an agent who holds a ticket answers within this
HANDLE_SECONDS = 1800  # a ticket takes this long to work through, on average

# (first response, resolution) targets in seconds until SLA policies (issue 4) supply them per ticket
DEFAULT_TARGETS: dict[Priority, tuple[int, int]] = {
    Priority.URGENT: (3600, 4 * 3600),
    Priority.HIGH: (4 * 3600, 24 * 3600),
    Priority.MEDIUM: (8 * 3600, 48 * 3600),
    Priority.LOW: (24 * 3600, 72 * 3600),
}


@dataclass(frozen=True)
class QueueState:
    tickets_ahead: int  # waiting tickets that will be served before this one
    online_capacity: int  # total slots of online agents in the team
    free_slots: int  # slots free right now
    assigned: bool  # an agent already holds this ticket


@dataclass(frozen=True)
class Estimate:
    first_response_seconds: int
    resolution_seconds: int
    queue_position: int  # 0 when an agent already has it


def estimate(
    priority: Priority,
    queue: QueueState,
    *,
    pickup_seconds: int = PICKUP_SECONDS,
    handle_seconds: int = HANDLE_SECONDS,
    targets: dict[Priority, tuple[int, int]] | None = None,
) -> Estimate:
    first_target, resolution_target = (targets or DEFAULT_TARGETS)[priority]
    if queue.assigned:
        first = pickup_seconds
        position = 0
    else:
        position = queue.tickets_ahead + 1
        waited = _queue_wait(queue, pickup_seconds, handle_seconds)
        first = first_target if waited is None else waited
    first = min(first, first_target, resolution_target)
    return Estimate(first_response_seconds=int(first), resolution_seconds=int(resolution_target), queue_position=position)


SLIP_GRACE_MIN = timedelta(minutes=1)
SLIP_GRACE_SHARE = 0.1  # a forecast within 10 % of the promised wait past the promise is noise, not a slip


def forecast_first_answer(
    now: datetime,
    queue: QueueState,
    *,
    first_target: int,
    assigned_at: datetime | None,
    pickup_seconds: int = PICKUP_SECONDS,
    handle_seconds: int = HANDLE_SECONDS,
) -> datetime | None:
    """When the first answer now looks likely, by the same model as `estimate`; None with nobody online."""
    if queue.assigned:
        return max(now, (assigned_at or now) + timedelta(seconds=min(pickup_seconds, first_target)))
    waited = _queue_wait(queue, pickup_seconds, handle_seconds)
    return None if waited is None else now + timedelta(seconds=waited)


def _queue_wait(queue: QueueState, pickup_seconds: int, handle_seconds: int) -> int | None:
    """Seconds until a waiting ticket's first answer: the tickets ahead are worked through by the agents online,
    each slot freeing after a handling time, then a pickup. None with nobody online."""
    if queue.online_capacity <= 0:
        return None
    waiting_for_free_slot = max(0, queue.tickets_ahead + 1 - queue.free_slots)
    rounds = math.ceil(waiting_for_free_slot / queue.online_capacity)
    return pickup_seconds + rounds * handle_seconds


def slipped(now: datetime, promised_at: datetime, promised_wait: timedelta, forecast: datetime | None) -> bool:
    """The promise is broken (its time came) or the forecast lands clearly past it."""
    if now >= promised_at:
        return True
    grace = max(SLIP_GRACE_MIN, promised_wait * SLIP_GRACE_SHARE)
    return forecast is not None and forecast > promised_at + grace
