"""The ticket lifecycle a support lead expects: open -> in_progress <-> pending -> resolved -> closed."""

from __future__ import annotations

import pytest

from shared.domain.errors import InvalidTransition
from shared.domain.model import Status
from shared.domain.status import allowed_transitions, on_customer_reply, transition

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("open", "in_progress"),
        ("in_progress", "pending"),
        ("pending", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "closed"),
        ("resolved", "open"),
    ],
)
def test_the_normal_lifecycle_moves_are_allowed(current, target):
    assert transition(Status(current), Status(target)) == Status(target)


@pytest.mark.parametrize(("current", "target"), [("closed", "open"), ("open", "closed"), ("pending", "closed")])
def test_invalid_moves_are_refused_with_the_allowed_ones_named(current, target):
    with pytest.raises(InvalidTransition) as error:
        transition(Status(current), Status(target))
    assert f"from {current} to {target}" in error.value.message
    assert error.value.code == "invalid_transition"


def test_closed_is_final():
    assert allowed_transitions(Status.CLOSED) == frozenset()
    with pytest.raises(InvalidTransition, match="closed is final"):
        transition(Status.CLOSED, Status.OPEN)


def test_customer_reply_reopens_a_resolved_ticket_into_the_queue():
    outcome = on_customer_reply(Status.RESOLVED)
    assert outcome.status == Status.OPEN and outcome.reopened and not outcome.follow_up


def test_customer_reply_to_pending_requeues_without_counting_a_reopen():
    outcome = on_customer_reply(Status.PENDING)
    assert outcome.status == Status.OPEN and not outcome.reopened


def test_customer_reply_to_closed_starts_a_follow_up():
    outcome = on_customer_reply(Status.CLOSED)
    assert outcome.follow_up and outcome.status == Status.CLOSED


@pytest.mark.parametrize("status", [Status.OPEN, Status.IN_PROGRESS])
def test_customer_reply_to_active_ticket_changes_nothing(status):
    assert on_customer_reply(status).status == status
