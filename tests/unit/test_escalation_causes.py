"""Why a ticket is escalated and when it comes down: the pure rules."""

from __future__ import annotations

import pytest

from shared.domain.escalation_causes import (
    ANSWER_ENDS,
    LEGACY,
    OVERRULED,
    CauseShift,
    causes_of,
    ended,
    escalation_keyword,
    keyword_cause,
    live,
    raised,
    retagged,
    set_by_hand,
    sla_cause,
    tier_of,
)

pytestmark = pytest.mark.unit


def test_the_tier_is_the_highest_any_live_cause_asks_for():
    assert tier_of({}) == 1
    assert tier_of({"unanswered": 2, sla_cause("first_response"): 3}) == 3


def test_a_cause_raised_again_keeps_the_higher_tier():
    causes = raised({}, sla_cause("first_response"), 3)
    assert raised(causes, sla_cause("first_response"), 2) == {"sla:first_response": 3}


def test_an_answer_ends_the_waiting_causes_but_not_a_keyword_or_a_reopen():
    causes = {"sla:first_response": 3, "unanswered": 2, "idle": 2, keyword_cause("System Down"): 2, "reopened": 2}
    left = ended(causes, ANSWER_ENDS)
    assert left == {"keyword:system down": 2, "reopened": 2}
    shift = CauseShift(causes, left)
    assert shift.kind == "ticket.deescalated" and shift.tier_before == 3 and shift.tier == 2
    assert shift.event("an agent answered")["to_level"] == 1
    assert shift.values() == {"escalation_causes": left, "required_tier": 2, "escalation_level": 1}


def test_when_the_last_cause_ends_the_ticket_is_back_at_tier_one():
    shift = CauseShift({"unanswered": 2}, ended({"unanswered": 2}, ANSWER_ENDS))
    assert shift.kind == "ticket.deescalated"
    assert shift.values() == {"escalation_causes": None, "required_tier": 1, "escalation_level": 0}


def test_a_cause_ending_under_a_higher_one_shifts_nothing():
    shift = CauseShift({"unanswered": 2, "manual": 3}, {"manual": 3})
    assert shift.kind is None


def test_a_supervisor_overrules_higher_causes_and_their_level_sticks():
    causes = {"sla:first_response": 3, "unanswered": 2}
    assert set_by_hand(causes, 1) == {"sla:first_response": OVERRULED, "unanswered": 2}  # tier 2 still asked for
    lowered = set_by_hand(causes, 0)
    assert lowered == {"sla:first_response": OVERRULED, "unanswered": OVERRULED} and tier_of(lowered) == 1
    assert set_by_hand({"unanswered": 2}, 2) == {"unanswered": 2, "manual": 3}
    assert set_by_hand({"manual": 3}, 1) == {"manual": 2}  # lowering their own escalation


def test_an_overruled_cause_is_not_raised_again_until_it_ends():
    lowered = set_by_hand({"unanswered": 2}, 0)
    assert raised(lowered, "unanswered", 2) == lowered  # the customer's next message does not undo the lead
    assert live(lowered) == []
    answered = ended(lowered, ANSWER_ENDS)
    assert raised(answered, "unanswered", 2) == {"unanswered": 2}  # unanswered again after an answer: it counts


def test_keyword_tags_raise_and_end_their_cause_only_when_they_change():
    added = retagged({}, ["billing"], ["billing", "Sistem Macet"])
    assert added == {"keyword:sistem macet": 2}
    assert retagged(added, ["billing", "sistem macet"], ["sistem macet", "vip"]) == added  # untouched tag: no change
    assert retagged(added, ["sistem macet"], []) == {}
    assert retagged({}, [], ["printer", "slow"]) == {}  # ordinary tags are not causes


def test_escalation_keywords_match_case_and_accents_aside():
    assert escalation_keyword("SYSTEM  down") == "system down"
    assert escalation_keyword("Sístem Macet") == "sistem macet"
    assert escalation_keyword("sistema macet") is None
    assert escalation_keyword("Outage") == "outage"


def test_a_ticket_escalated_before_causes_were_kept_comes_down_only_by_hand():
    causes = causes_of(None, 2)
    assert causes == {LEGACY: 2}
    assert ended(causes, ANSWER_ENDS) == causes
    assert causes_of({"unanswered": 2.0}, 2) == {"unanswered": 2}  # numbers read back from DynamoDB
