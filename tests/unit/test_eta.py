"""What the customer is promised in the acknowledgement."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from shared.domain.model import Priority
from shared.domain.eta import QueueState, estimate, forecast_first_answer, slipped

pytestmark = pytest.mark.unit


def test_an_assigned_ticket_is_answered_within_the_pickup_time():
    e = estimate(Priority.MEDIUM, QueueState(tickets_ahead=0, online_capacity=10, free_slots=3, assigned=True))
    assert e.first_response_seconds == 900 and e.queue_position == 0


def test_a_waiting_ticket_is_told_its_place_and_the_queue_wait_within_its_target():
    e = estimate(Priority.LOW, QueueState(tickets_ahead=9, online_capacity=10, free_slots=0, assigned=False))
    assert e.queue_position == 10
    assert e.first_response_seconds == 900 + 1 * 1800  # one round of handling before a slot is ours


def test_a_promise_never_exceeds_the_tickets_own_sla_targets():
    """A 40 s policy once promised "about 35 minutes": the targets are what the team committed to; a queue that
    says later is the forecast's business, which tells the customer in time."""
    long_queue = QueueState(tickets_ahead=39, online_capacity=10, free_slots=0, assigned=False)
    e = estimate(Priority.URGENT, long_queue)
    assert e.queue_position == 40 and e.first_response_seconds == 3600 and e.resolution_seconds == 4 * 3600
    assigned = QueueState(tickets_ahead=0, online_capacity=3, free_slots=2, assigned=True)
    fast = estimate(Priority.URGENT, assigned, targets={Priority.URGENT: (40, 300)})
    assert fast.first_response_seconds == 40 and fast.resolution_seconds == 300
    odd = estimate(Priority.HIGH, long_queue, targets={Priority.HIGH: (3600, 1800)})  # resolution before response
    assert odd.first_response_seconds <= 1800 and odd.resolution_seconds == 1800


def test_nobody_online_falls_back_to_the_target():
    e = estimate(Priority.HIGH, QueueState(tickets_ahead=5, online_capacity=0, free_slots=0, assigned=False))
    assert e.first_response_seconds == 4 * 3600
    assert e.resolution_seconds == 24 * 3600


def test_resolution_is_never_promised_before_first_response_plus_handling():
    e = estimate(Priority.URGENT, QueueState(tickets_ahead=100, online_capacity=2, free_slots=0, assigned=False))
    assert e.resolution_seconds >= e.first_response_seconds + 1800


def test_the_tickets_own_sla_targets_replace_the_defaults():
    e = estimate(
        Priority.URGENT,
        QueueState(tickets_ahead=0, online_capacity=3, free_slots=3, assigned=True),
        targets={Priority.URGENT: (300, 3600)},
    )
    assert e.first_response_seconds == 300 and e.resolution_seconds == 3600


# --- the promise, forecast again later -----------------------------------------------------------------------

T = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)


def test_an_assigned_ticket_is_forecast_one_pickup_after_it_was_assigned():
    queue = QueueState(tickets_ahead=0, online_capacity=3, free_slots=1, assigned=True)
    assert forecast_first_answer(T, queue, first_target=3600, assigned_at=T - timedelta(minutes=5)) == T + timedelta(minutes=10)
    assert forecast_first_answer(T, queue, first_target=300, assigned_at=T) == T + timedelta(minutes=5)  # never past the target's pace
    assert forecast_first_answer(T, queue, first_target=3600, assigned_at=T - timedelta(hours=1)) == T  # overdue: now


def test_a_waiting_ticket_is_forecast_from_the_queue_and_not_at_all_with_nobody_online():
    busy = QueueState(tickets_ahead=3, online_capacity=2, free_slots=0, assigned=False)
    assert forecast_first_answer(T, busy, first_target=3600, assigned_at=None) == T + timedelta(seconds=900 + 2 * 1800)
    nobody = QueueState(tickets_ahead=0, online_capacity=0, free_slots=0, assigned=False)
    assert forecast_first_answer(T, nobody, first_target=3600, assigned_at=None) is None


def test_a_promise_slips_when_its_time_comes_or_the_forecast_lands_clearly_past_it():
    promised_at, wait = T + timedelta(minutes=30), timedelta(minutes=30)
    assert slipped(promised_at, promised_at, wait, None)  # the time came unmet
    assert not slipped(T, promised_at, wait, None)  # no forecast: only the promised time tells
    assert not slipped(T, promised_at, wait, promised_at + timedelta(minutes=2))  # within 10 % of the wait: noise
    assert slipped(T, promised_at, wait, promised_at + timedelta(minutes=4))
    assert not slipped(T, T + timedelta(seconds=40), timedelta(seconds=40), T + timedelta(seconds=90))  # a minute at least
