"""Who may take a ticket and who should: the pure eligibility and ranking rules."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from shared.domain.assignment import Candidate, Need, assignment_reason, next_shift_start, parse_hours, rank_candidates, why_not
from shared.domain.errors import ValidationFailed

pytestmark = pytest.mark.unit

MONDAY_10_JAKARTA = datetime(2026, 11, 2, 3, 0, tzinfo=timezone.utc)  # 10:00 WIB
NEED = Need(channel="email")


def agent(agent_id: str = "a", **kw) -> Candidate:
    return Candidate(**{"agent_id": agent_id, "load": 0, "capacity": 3, **kw})


@pytest.mark.parametrize(
    ("candidate", "need", "reason"),
    [
        (agent(presence="away"), NEED, "presence is away"),
        (agent(load=3), NEED, "at capacity (3/3)"),
        (agent(tier=1), Need(channel="email", tier=2), "tier 1 below the required 2"),
        (agent(channels=frozenset({"chat"})), NEED, "does not serve channel 'email'"),
        (agent(timezone="Asia/Jakarta", working_hours={"mon": [["13:00", "17:00"]]}), NEED, "outside working hours"),
    ],
)
def test_each_reason_an_agent_cannot_take_a_ticket_is_named(candidate, need, reason):
    assert why_not(candidate, need, MONDAY_10_JAKARTA) == reason


def test_an_agent_inside_a_split_shift_or_without_hours_is_eligible():
    shifted = agent(timezone="Asia/Jakarta", working_hours={"mon": [["08:00", "12:00"], ["13:00", "17:00"]]})
    assert why_not(shifted, NEED, MONDAY_10_JAKARTA) is None
    assert why_not(agent(), NEED, MONDAY_10_JAKARTA) is None


def test_a_shift_may_run_to_midnight():
    night = agent(timezone="UTC", working_hours={"mon": [["20:00", "24:00"]]})
    assert why_not(night, NEED, datetime(2026, 11, 2, 23, 59, tzinfo=timezone.utc)) is None


def test_ranking_prefers_the_previous_agent_then_least_loaded_then_longest_idle():
    candidates = [
        agent("busy", load=2),
        agent("idle-recent", load=1, last_assigned_at="2026-11-02T02:00:00.000Z"),
        agent("idle-long", load=1, last_assigned_at="2026-11-02T01:00:00.000Z"),
        agent("previous", load=2),
        agent("full", load=3),
    ]
    ranked = rank_candidates(candidates, Need(channel="email", preferred_agent="previous"), MONDAY_10_JAKARTA)
    assert [c.agent_id for c in ranked] == ["previous", "idle-long", "idle-recent", "busy"]


def test_a_skill_is_a_preference_never_a_wall():
    """Tickets that need a skill nobody free has go to the best agent without it (issue: billing tickets starved
    while skill-less agents sat idle)."""
    billing = Need(channel="email", skill="billing")
    plain = agent("plain", load=0)
    skilled_busier = agent("skilled", load=2, skills=frozenset({"billing"}))
    assert why_not(plain, billing, MONDAY_10_JAKARTA) is None
    assert [c.agent_id for c in rank_candidates([plain], billing, MONDAY_10_JAKARTA)] == ["plain"]
    assert [c.agent_id for c in rank_candidates([plain, skilled_busier], billing, MONDAY_10_JAKARTA)] == ["skilled", "plain"]
    assert rank_candidates([plain], billing, MONDAY_10_JAKARTA, skill_required=True) == []  # the team's skill wait
    assert "best agent without it" in assignment_reason(plain, billing)
    assert "has skill 'billing'" in assignment_reason(skilled_busier, billing)


def test_the_next_shift_start_is_found_across_midnight_and_in_the_agents_zone():
    jakarta = agent(timezone="Asia/Jakarta", working_hours={"mon": [["08:00", "12:00"], ["13:00", "17:00"]], "tue": [["08:00", "17:00"]]})
    # Monday 10:00 WIB: the afternoon span starts at 13:00 WIB = 06:00 UTC
    assert next_shift_start(jakarta, MONDAY_10_JAKARTA, timedelta(hours=4)) == datetime(2026, 11, 2, 6, 0, tzinfo=timezone.utc)
    assert next_shift_start(jakarta, MONDAY_10_JAKARTA, timedelta(hours=2)) is None
    evening = datetime(2026, 11, 2, 12, 0, tzinfo=timezone.utc)  # Monday 19:00 WIB: next is Tuesday 08:00 WIB
    assert next_shift_start(jakarta, evening, timedelta(hours=14)) == datetime(2026, 11, 3, 1, 0, tzinfo=timezone.utc)
    assert next_shift_start(agent(), MONDAY_10_JAKARTA, timedelta(days=1)) is None  # no hours: always available


@pytest.mark.parametrize(
    "hours",
    [{"someday": [["08:00", "17:00"]]}, {"mon": [["17:00", "08:00"]]}, {"mon": [["8am", "5pm"]]}, {"mon": [["08:00"]]}],
)
def test_bad_working_hours_are_refused(hours):
    with pytest.raises(ValidationFailed, match="working_hours"):
        parse_hours(hours)
