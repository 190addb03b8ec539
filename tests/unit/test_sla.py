"""SLA policies and clocks as a support lead sees them: which promise applies, when it falls due, when it slips."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shared.domain.business_calendar import ALWAYS_OPEN, BusinessCalendar, calendar_from_document
from shared.domain.errors import ValidationFailed
from shared.domain.model import Priority
from shared.domain.sla_clock import (
    DEFAULT_POLICIES,
    METRICS,
    LadderStep,
    SlaClock,
    SlaPolicy,
    due_steps,
    policy_from_document,
    policy_to_document,
    promise_due,
    select_policy,
    start_clock,
)

pytestmark = pytest.mark.unit

UTC = timezone.utc
WIB = ZoneInfo("Asia/Jakarta")
MINUTE, HOUR = 60, 3600
T0 = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)  # Monday 09:00 in Jakarta


def at(minutes: float = 0, hours: float = 0, days: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, hours=hours, days=days)


def wib(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=WIB).astimezone(UTC)


def jakarta_office() -> BusinessCalendar:
    doc = {"timezone": "Asia/Jakarta", "hours": {d: [["08:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}}
    return calendar_from_document("jakarta-office", doc, years=[2026])


VIP_URGENT_DOC: dict[str, Any] = {
    "position": 1,
    "name": "VIP urgent",
    "conditions": {"priority": ["urgent"], "tier": ["vip"], "channel": [], "tags": [], "team": []},
    "targets": {"first_response": 900, "next_response": 3600, "resolution": 14400},
    "calendar": "jakarta-office",
    "ladder": [
        {"metric": "first_response", "at": 0.75, "action": "warn"},
        {"metric": "first_response", "at": 1.0, "action": "escalate", "tier": 2, "notify": ["supervisor"]},
        {"metric": "resolution", "at": 1.5, "action": "escalate", "tier": 3, "notify": ["manager"]},
    ],
}


def policy(policy_id: str, position: int, **conditions: list[str]) -> SlaPolicy:
    return policy_from_document(
        policy_id,
        {"position": position, "name": policy_id, "conditions": conditions, "targets": {"first_response": 600}},
    )


def ticket(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"priority": "high", "tier": "standard", "channel": "email", "tags": [], "team": "support"}
    values.update(changes)
    return values


def default(priority: Priority) -> SlaPolicy:
    return next(p for p in DEFAULT_POLICIES if p.conditions["priority"] == (priority.value,))


# --- which policy applies -----------------------------------------------------------------------------------


def test_the_first_matching_policy_by_position_wins():
    policies = [
        policy("catch-all", 9),
        policy("vip", 1, tier=["vip"]),
        policy("vip-urgent", 0, tier=["vip"], priority=["urgent"]),
    ]
    assert select_policy(policies, **ticket(tier="vip", priority="urgent")).id == "vip-urgent"
    assert select_policy(policies, **ticket(tier="vip", priority="low")).id == "vip"
    assert select_policy(policies, **ticket(tier="premium")).id == "catch-all"


def test_an_empty_condition_matches_anything_and_every_filled_one_must_hold():
    whatsapp_billing = policy("wa-billing", 1, channel=["whatsapp"], team=["billing"])
    assert select_policy([whatsapp_billing], **ticket(channel="whatsapp", team="billing")) == whatsapp_billing
    assert select_policy([whatsapp_billing], **ticket(channel="whatsapp", team="support")) is None
    assert select_policy([whatsapp_billing], **ticket(channel="email", team="billing")) is None


def test_tags_match_on_any_overlap():
    outage = policy("outage", 1, tags=["system down", "sistem macet"])
    assert select_policy([outage], **ticket(tags=["invoice", "Sistem Macet"])) == outage
    assert select_policy([outage], **ticket(tags=["invoice"])) is None
    assert select_policy([outage], **ticket(tags=[])) is None


def test_equal_positions_are_decided_by_id_not_storage_order():
    a, b = policy("a", 1), policy("b", 1)
    assert select_policy([b, a], **ticket()) == a


def test_the_defaults_cover_every_priority_with_the_promised_targets():
    expected = {
        Priority.URGENT: (15 * MINUTE, HOUR, 4 * HOUR),
        Priority.HIGH: (HOUR, 4 * HOUR, 24 * HOUR),
        Priority.MEDIUM: (4 * HOUR, 8 * HOUR, 48 * HOUR),
        Priority.LOW: (8 * HOUR, 24 * HOUR, 72 * HOUR),
    }
    for priority, targets in expected.items():
        chosen = select_policy(DEFAULT_POLICIES, **ticket(priority=priority.value, tier="vip", channel="facebook"))
        assert chosen is not None and chosen == default(priority)
        assert tuple(chosen.targets[m] for m in METRICS) == targets
        assert chosen.calendar == "24x7"


def test_the_default_ladder_warns_then_escalates_to_tier_two_then_three():
    ladder = default(Priority.URGENT).ladder
    assert ladder == (
        LadderStep("first_response", 0.75, "warn", notify=("assignee",)),
        LadderStep("resolution", 0.75, "warn", notify=("assignee",)),
        LadderStep("first_response", 1.0, "escalate", tier=2, notify=("supervisor",)),
        LadderStep("resolution", 1.5, "escalate", tier=3, notify=("manager",)),
    )


def test_default_policies_are_valid_documents():
    for shipped in DEFAULT_POLICIES:
        assert policy_from_document(shipped.id, policy_to_document(shipped)) == shipped


# --- policy documents ---------------------------------------------------------------------------------------


def test_the_api_example_round_trips():
    vip = policy_from_document("vip-urgent", VIP_URGENT_DOC)
    assert vip.calendar == "jakarta-office"
    assert [(s.metric, s.at, s.action, s.tier) for s in vip.ladder] == [
        ("first_response", 0.75, "warn", None),
        ("first_response", 1.0, "escalate", 2),
        ("resolution", 1.5, "escalate", 3),
    ]
    doc = policy_to_document(vip)
    assert doc["id"] == "vip-urgent" and doc["conditions"]["priority"] == ["urgent"]
    assert policy_from_document("vip-urgent", doc) == vip


def test_the_ladder_is_stored_in_firing_order():
    doc = dict(VIP_URGENT_DOC, ladder=list(reversed(VIP_URGENT_DOC["ladder"])))
    assert policy_from_document("vip", doc) == policy_from_document("vip", VIP_URGENT_DOC)


def test_numbers_read_back_from_dynamodb_are_accepted():
    doc = dict(VIP_URGENT_DOC, position=Decimal(1), targets={"first_response": Decimal(900)})
    doc["ladder"] = [{"metric": "first_response", "at": Decimal("0.75"), "action": "escalate", "tier": Decimal(2)}]
    parsed = policy_from_document("vip", doc)
    assert parsed.position == 1 and parsed.targets == {"first_response": 900}
    assert parsed.ladder == (LadderStep("first_response", 0.75, "escalate", tier=2),)


def bad(**changes: Any) -> dict[str, Any]:
    doc = dict(VIP_URGENT_DOC)
    doc.update(changes)
    return doc


def step(**fields: Any) -> dict[str, Any]:
    return {"ladder": [dict({"metric": "first_response", "at": 1.0, "action": "warn"}, **fields)]}


@pytest.mark.parametrize(
    "doc, words",
    [
        ("nope", ["position", "targets"]),
        (bad(position="first"), ["position"]),
        (bad(position=True), ["position"]),
        (bad(name=""), ["name"]),
        (bad(calendar=""), ["calendar"]),
        (bad(colour="red"), ["unknown", "colour"]),
        (bad(id="someone-else"), ["id", "someone-else"]),
        (bad(conditions={"priority": ["critical"]}), ["conditions.priority", "critical"]),
        (bad(conditions={"tier": ["gold"]}), ["conditions.tier", "gold"]),
        (bad(conditions={"channel": ["fax"]}), ["conditions.channel", "fax"]),
        (bad(conditions={"tags": "vip"}), ["conditions.tags"]),
        (bad(conditions={"tags": [""]}), ["conditions.tags"]),
        (bad(conditions={"region": ["id"]}), ["conditions", "region"]),
        (bad(targets={}), ["targets"]),
        (bad(targets={"first_reply": 900}), ["targets", "first_reply"]),
        (bad(targets={"first_response": 0}), ["targets.first_response"]),
        (bad(targets={"first_response": "15m"}), ["targets.first_response", "15m"]),
        (bad(ladder="warn"), ["ladder"]),
        (bad(**step(metric="first_reply")), ["ladder[0].metric", "first_reply"]),
        (bad(**step(metric="next_response"), targets={"first_response": 900}), ["ladder[0].metric", "no target"]),
        (bad(**step(at=0)), ["ladder[0].at"]),
        (bad(**step(at="75%")), ["ladder[0].at"]),
        (bad(**step(action="page")), ["ladder[0].action", "page"]),
        (bad(**step(tier=2)), ["ladder[0].tier", "escalate"]),
        (bad(**step(action="escalate", tier=4)), ["ladder[0].tier", "4"]),
        (bad(**step(notify=["ceo"])), ["ladder[0].notify", "ceo"]),
        (bad(**step(when="later")), ["ladder[0]", "when"]),
        (bad(ladder=[VIP_URGENT_DOC["ladder"][0], VIP_URGENT_DOC["ladder"][0]]), ["ladder", "twice"]),
    ],
)
def test_bad_policy_documents_are_refused_naming_the_field(doc, words):
    with pytest.raises(ValidationFailed) as refused:
        policy_from_document("vip-urgent", doc)
    for word in words:
        assert word in refused.value.message


# --- the clock ----------------------------------------------------------------------------------------------


def test_a_new_clock_runs_first_response_and_resolution_and_holds_next_response():
    clock = start_clock(default(Priority.URGENT), at())
    assert clock.due("first_response", ALWAYS_OPEN) == at(minutes=15)
    assert clock.due("resolution", ALWAYS_OPEN) == at(hours=4)
    assert clock.due("next_response", ALWAYS_OPEN) is None
    assert clock.state(at(), ALWAYS_OPEN) == "ok"


def test_state_goes_ok_then_warning_then_breached():
    clock = start_clock(default(Priority.URGENT), at())
    assert clock.state(at(minutes=11), ALWAYS_OPEN) == "ok"
    assert clock.state(at(minutes=11.25), ALWAYS_OPEN) == "warning"  # 75% of 15 minutes
    assert clock.state(at(minutes=14.9), ALWAYS_OPEN) == "warning"
    assert clock.state(at(minutes=15), ALWAYS_OPEN) == "breached"


def test_a_first_reply_in_time_leaves_only_resolution_to_watch():
    clock = start_clock(default(Priority.URGENT), at()).meet("first_response", at(minutes=10), ALWAYS_OPEN)
    assert clock.state(at(minutes=20), ALWAYS_OPEN) == "ok"
    assert clock.metrics["first_response"].met_at == at(minutes=10)
    assert clock.metrics["first_response"].elapsed == 10 * MINUTE


def test_pending_stops_the_clock_and_resuming_shifts_deadlines_by_the_paused_business_time():
    calendar = jakarta_office()
    monday_9 = wib(2026, 6, 1, 9)
    targets = {"first_response": 4 * HOUR, "resolution": 8 * HOUR}
    clock = start_clock(policy_from_document("vip", dict(VIP_URGENT_DOC, targets=targets, ladder=[])), monday_9)
    before = clock.due("first_response", calendar)
    assert before == wib(2026, 6, 1, 13)

    paused = clock.pause(wib(2026, 6, 1, 10), calendar)
    assert paused.paused and paused.due("first_response", calendar) is None
    assert paused.metrics["first_response"].elapsed == HOUR
    assert paused.state(wib(2026, 6, 1, 23), calendar) == "paused"
    assert paused.pause(wib(2026, 6, 1, 11), calendar) == paused  # pausing twice changes nothing

    resumed = paused.resume(wib(2026, 6, 1, 15), calendar)
    after = resumed.due("first_response", calendar)
    assert after == wib(2026, 6, 2, 9)  # 15:00-17:00 Monday, then 08:00-09:00 Tuesday
    paused_business_time = calendar.between(wib(2026, 6, 1, 10), wib(2026, 6, 1, 15))
    assert calendar.between(before, after) == paused_business_time == 5 * HOUR
    assert resumed.resume(wib(2026, 6, 1, 16), calendar) == resumed


def test_a_pause_over_the_weekend_on_the_24x7_calendar_shifts_by_real_time():
    clock = start_clock(default(Priority.LOW), at()).pause(at(hours=2), ALWAYS_OPEN)
    clock = clock.resume(at(days=2, hours=2), ALWAYS_OPEN)
    assert clock.due("resolution", ALWAYS_OPEN) == at(hours=72, days=2)


def test_a_deadline_across_the_weekend_on_an_office_calendar():
    calendar = jakarta_office()
    office_policy = policy_from_document("vip", dict(VIP_URGENT_DOC, targets={"first_response": 4 * HOUR}, ladder=[]))
    clock = start_clock(office_policy, wib(2026, 6, 5, 15))  # Friday 15:00
    assert clock.due("first_response", calendar) == wib(2026, 6, 8, 10)  # Monday 10:00
    assert clock.state(wib(2026, 6, 7, 12), calendar) == "ok"  # Sunday: nothing has been used since Friday 17:00
    assert clock.state(wib(2026, 6, 8, 9), calendar) == "warning"
    assert clock.state(wib(2026, 6, 8, 10), calendar) == "breached"


def test_a_breach_stays_visible_while_waiting_on_the_customer():
    clock = start_clock(default(Priority.URGENT), at()).pause(at(minutes=20), ALWAYS_OPEN)
    assert clock.state(at(minutes=30), ALWAYS_OPEN) == "breached"


def test_next_response_waits_for_a_customer_message_after_the_first_reply():
    urgent = default(Priority.URGENT)
    clock = start_clock(urgent, at()).restart("next_response", at(minutes=2))
    assert clock.due("next_response", ALWAYS_OPEN) is None  # first_response already covers this wait

    clock = clock.meet("first_response", at(minutes=10), ALWAYS_OPEN).restart("next_response", at(minutes=30))
    assert clock.due("next_response", ALWAYS_OPEN) == at(minutes=90)
    again = clock.restart("next_response", at(minutes=45))
    assert again == clock  # the customer has been waiting since the earlier message

    answered = clock.meet("next_response", at(minutes=50), ALWAYS_OPEN)
    assert answered.due("next_response", ALWAYS_OPEN) is None
    later = answered.restart("next_response", at(hours=2))
    assert later.due("next_response", ALWAYS_OPEN) == at(hours=3)
    assert later.metrics["next_response"].elapsed == 0


def test_a_customer_message_while_pending_starts_next_response_on_resume_in_either_order():
    clock = start_clock(default(Priority.URGENT), at()).meet("first_response", at(minutes=5), ALWAYS_OPEN)
    clock = clock.pause(at(minutes=10), ALWAYS_OPEN)
    one = clock.restart("next_response", at(minutes=40)).resume(at(minutes=40), ALWAYS_OPEN)
    other = clock.resume(at(minutes=40), ALWAYS_OPEN).restart("next_response", at(minutes=40))
    assert one == other
    assert one.due("next_response", ALWAYS_OPEN) == at(minutes=100)


def test_resolving_meets_the_clock_and_stops_everything_else():
    clock = start_clock(default(Priority.HIGH), at()).meet("resolution", at(minutes=30), ALWAYS_OPEN)
    assert clock.state(at(days=30), ALWAYS_OPEN) == "met"
    assert clock.finished
    assert all(m.running_since is None for m in clock.metrics.values())
    assert due_steps(default(Priority.HIGH), clock, ALWAYS_OPEN, done=[]) == []
    assert clock.resume(at(hours=1), ALWAYS_OPEN) == clock


def test_reopening_restarts_resolution_and_the_unanswered_first_response():
    high = default(Priority.HIGH)
    resolved = start_clock(high, at()).meet("resolution", at(minutes=30), ALWAYS_OPEN)
    reopened = resolved.restart("resolution", at(hours=5))
    assert reopened.state(at(hours=5), ALWAYS_OPEN) == "ok"
    assert reopened.state(at(hours=5, minutes=30), ALWAYS_OPEN) == "breached"  # 30 minutes before, 30 after: no reply
    assert reopened.due("resolution", ALWAYS_OPEN) == at(hours=29)
    assert reopened.due("first_response", ALWAYS_OPEN) == at(hours=5, minutes=30)


def test_meeting_something_not_running_changes_nothing():
    clock = start_clock(default(Priority.URGENT), at())
    assert clock.meet("next_response", at(minutes=1), ALWAYS_OPEN) == clock
    met = clock.meet("first_response", at(minutes=1), ALWAYS_OPEN)
    assert met.meet("first_response", at(minutes=2), ALWAYS_OPEN) == met


# --- the ladder ---------------------------------------------------------------------------------------------


def test_due_steps_come_soonest_first_and_skip_what_fired():
    urgent = default(Priority.URGENT)
    clock = start_clock(urgent, at())
    steps = due_steps(urgent, clock, ALWAYS_OPEN, done=[])
    assert [(s.metric, s.action, when) for _, s, when in steps] == [
        ("first_response", "warn", at(minutes=11.25)),
        ("first_response", "escalate", at(minutes=15)),
        ("resolution", "warn", at(hours=3)),
        ("resolution", "escalate", at(hours=6)),
    ]
    fired = [index for index, s, _ in steps if s.metric == "first_response"]
    assert [s.metric for _, s, _ in due_steps(urgent, clock, ALWAYS_OPEN, done=fired)] == ["resolution", "resolution"]


def test_met_metrics_produce_no_steps():
    urgent = default(Priority.URGENT)
    clock = start_clock(urgent, at()).meet("first_response", at(minutes=5), ALWAYS_OPEN)
    assert {s.metric for _, s, _ in due_steps(urgent, clock, ALWAYS_OPEN, done=[])} == {"resolution"}


def test_a_paused_clock_has_no_steps_due_and_a_step_passed_before_the_pause_falls_due_on_resume():
    urgent = default(Priority.URGENT)
    paused = start_clock(urgent, at()).pause(at(minutes=12), ALWAYS_OPEN)
    assert due_steps(urgent, paused, ALWAYS_OPEN, done=[]) == []
    resumed = paused.resume(at(hours=1), ALWAYS_OPEN)
    steps = {(s.metric, s.action): when for _, s, when in due_steps(urgent, resumed, ALWAYS_OPEN, done=[])}
    assert steps[("first_response", "warn")] == at(hours=1)  # 75% was used before the pause and never fired
    assert steps[("first_response", "escalate")] == at(hours=1, minutes=3)


def test_due_steps_follow_the_office_calendar():
    calendar = jakarta_office()
    vip = policy_from_document("vip", VIP_URGENT_DOC)
    clock = start_clock(vip, wib(2026, 6, 5, 16, 50))  # Friday, ten minutes before closing
    steps = due_steps(vip, clock, calendar, done=[])
    assert steps[0][2] == wib(2026, 6, 8, 8, 1, 15)  # 11:15 of business time: 10 on Friday, 1:15 on Monday
    assert steps[1][2] == wib(2026, 6, 8, 8, 5)


# --- stored form --------------------------------------------------------------------------------------------


def test_the_clock_document_carries_the_api_fields_and_reads_back():
    calendar = jakarta_office()
    vip = policy_from_document("vip-urgent", VIP_URGENT_DOC)
    clock = start_clock(vip, wib(2026, 6, 1, 9)).meet("first_response", wib(2026, 6, 1, 9, 5), calendar)
    clock = clock.restart("next_response", wib(2026, 6, 1, 16, 30))
    doc = clock.to_document(calendar, now=wib(2026, 6, 1, 16, 40))
    assert doc["policy"] == "vip-urgent" and doc["calendar"] == "jakarta-office"
    assert doc["first_response_due"] is None
    assert doc["next_response_due"] == "2026-06-02T01:30:00.000Z"  # Tuesday 08:30 Jakarta
    assert doc["resolution_due"] == "2026-06-01T06:00:00.000Z"  # Monday 13:00 Jakarta
    assert doc["state"] == "breached"  # resolution ran out at 13:00
    assert SlaClock.from_document(doc) == clock


def test_a_clock_document_with_dynamodb_numbers_reads_back():
    clock = start_clock(default(Priority.URGENT), at()).pause(at(minutes=3), ALWAYS_OPEN)
    doc = clock.to_document(ALWAYS_OPEN, now=at(minutes=3))
    doc["metrics"]["first_response"]["elapsed"] = Decimal("180")
    doc["metrics"]["first_response"]["target"] = Decimal(900)
    assert SlaClock.from_document(doc) == clock


def test_a_broken_clock_document_is_refused():
    with pytest.raises(ValidationFailed, match="sla"):
        SlaClock.from_document({"metrics": {}})


# --- the customer's promise -----------------------------------------------------------------------------------


def test_the_promise_falls_due_on_the_soonest_outstanding_metric_and_follows_pauses():
    urgent = default(Priority.URGENT)
    clock = start_clock(urgent, at())
    promised = {"first_response": 45 * 60, "resolution": 3 * 3600}
    assert promise_due(clock, ALWAYS_OPEN, promised) == ("first_response", at(minutes=45))
    paused = clock.pause(at(minutes=10), ALWAYS_OPEN)
    assert promise_due(paused, ALWAYS_OPEN, promised) is None  # waiting on the customer does not count
    resumed = paused.resume(at(hours=2), ALWAYS_OPEN)
    assert promise_due(resumed, ALWAYS_OPEN, promised) == ("first_response", at(hours=2, minutes=35))
    answered = resumed.meet("first_response", at(hours=2, minutes=5), ALWAYS_OPEN)
    assert promise_due(answered, ALWAYS_OPEN, promised) == ("resolution", at(hours=4, minutes=50))
    assert promise_due(answered.meet("resolution", at(hours=3), ALWAYS_OPEN), ALWAYS_OPEN, promised) is None


def test_a_promise_in_business_seconds_waits_for_office_hours():
    calendar = jakarta_office()
    office = policy_from_document("vip", dict(VIP_URGENT_DOC, targets={"first_response": 4 * HOUR}, ladder=[]))
    clock = start_clock(office, wib(2026, 6, 5, 16, 30))  # Friday, half an hour before closing
    assert promise_due(clock, calendar, {"first_response": HOUR}) == ("first_response", wib(2026, 6, 8, 8, 30))
