"""What the customer is promised in the acknowledgement."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from shared.domain.model import Priority
from shared.eta import QueueState, estimate, forecast_first_answer, slipped

pytestmark = pytest.mark.unit


def test_an_assigned_ticket_is_answered_within_the_pickup_time():
    e = estimate(Priority.MEDIUM, QueueState(tickets_ahead=0, online_capacity=10, free_slots=3, assigned=True))
    assert e.first_response_seconds == 900 and e.queue_position == 0


def test_a_waiting_ticket_behind_a_long_queue_is_told_the_longer_truth():
    e = estimate(Priority.URGENT, QueueState(tickets_ahead=39, online_capacity=10, free_slots=0, assigned=False))
    assert e.queue_position == 40
    assert e.first_response_seconds == 900 + 4 * 1800  # four rounds of handling before a slot is ours
    assert e.first_response_seconds > 3600  # longer than the urgent target: said honestly, not trimmed


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
