"""What the customer is promised in the acknowledgement."""

from __future__ import annotations

import pytest

from shared.domain.model import Priority
from shared.eta import QueueState, estimate

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
