"""KPIs from per-ticket facts, checked against a week computed by hand (tests/unit/test_kpi.py's docstrings show
the arithmetic), and the "worth acting on" rule."""

from __future__ import annotations

from datetime import date

import pytest

from shared.domain.kpi import (
    WATCHES,
    Period,
    backlog,
    by_item,
    compare,
    difference,
    duration_bucket,
    figures,
    flag,
    percentile,
    summed,
    ticket_fact,
    total,
)
from shared.domain.ticket import CustomerSnapshot, Ticket

WEEK = Period(date(2026, 11, 2), date(2026, 11, 9))  # Monday to Monday


def clock(first: tuple[int, int, str] | None = None, resolution: tuple[int, int, str] | None = None) -> dict:
    """An SLA clock with met metrics: (business seconds used, target, met at)."""
    metrics = {}
    for name, given in (("first_response", first), ("resolution", resolution)):
        if given:
            used, target, at = given
            metrics[name] = {"target": target, "elapsed": used, "met_at": at, "started": True, "running_since": None}
    return {"policy": "p", "calendar": "24x7", "metrics": metrics}


def ticket(tid: str, created: str, *, channel: str = "email", priority: str = "medium", agent: str | None = None,
           status: str = "open", first: str | None = None, resolved: str | None = None, sla: dict | None = None,
           csat: dict | None = None, article: str | None = None, escalations: list | None = None,
           merged_into: str | None = None, tier: str = "standard") -> Ticket:  # fmt: skip
    return Ticket(
        id=tid, channel=channel, customer_id="c-" + tid, customer=CustomerSnapshot(id="c-" + tid, tier=tier),
        created_at=created, updated_at=resolved or first or created, status=status, priority=priority,
        team="support", assignee=agent, first_responded_at=first, resolved_at=resolved, sla_clock=sla, csat=csat,
        resolved_by_article=article, escalation_log=escalations or [], merged_into=merged_into, version=3,
    )  # fmt: skip


def hand_computed_week() -> list[Ticket]:
    return [
        # T1: answered in 10 min (SLA 15 min: met), resolved in 2 h (SLA 8 h: met), rated 5
        ticket("T1", "2026-11-02T09:00:00Z", priority="high", agent="ani", status="resolved",
               first="2026-11-02T09:10:00Z", resolved="2026-11-02T11:00:00Z",
               sla=clock((600, 900, "2026-11-02T09:10:00Z"), (7200, 28800, "2026-11-02T11:00:00Z")),
               csat={"score": 5, "at": "2026-11-02T12:00:00Z"}),
        # T2: answered in 30 min (SLA 15 min: missed), resolved in 4 business hours (met), rated 3
        ticket("T2", "2026-11-03T10:00:00Z", channel="chat", agent="ani", status="closed",
               first="2026-11-03T10:30:00Z", resolved="2026-11-04T10:00:00Z",
               sla=clock((1800, 900, "2026-11-03T10:30:00Z"), (14400, 28800, "2026-11-04T10:00:00Z")),
               csat={"score": 3, "at": "2026-11-04T11:00:00Z"}),
        # T3: answered in 1 h, no SLA (wall time), still open
        ticket("T3", "2026-11-04T08:00:00Z", priority="low", agent="budi", status="in_progress", first="2026-11-04T09:00:00Z"),
        # T4: unanswered, open, nobody on it
        ticket("T4", "2026-11-05T14:00:00Z"),
        # T5: escalated (keyword), answered in 5 min, closed by the customer with an article
        ticket("T5", "2026-11-06T07:00:00Z", channel="whatsapp", priority="urgent", agent="budi", status="resolved",
               first="2026-11-06T07:05:00Z", resolved="2026-11-06T08:00:00Z", article="refund-status",
               sla=clock((300, 600, "2026-11-06T07:05:00Z"), (3600, 14400, "2026-11-06T08:00:00Z")),
               escalations=[{"at": "2026-11-06T07:02:00Z", "from": 0, "level": 1, "causes": ["keyword:down"]}]),
        # T6: merged into T2: counts nowhere
        ticket("T6", "2026-11-03T10:05:00Z", status="closed", merged_into="T2", resolved="2026-11-03T11:00:00Z"),
        # T7: escalated twice by its SLA, answered in 2 h, resolved after a day (wall time), not rated
        ticket("T7", "2026-11-07T10:00:00Z", agent="ani", status="resolved", first="2026-11-07T12:00:00Z",
               resolved="2026-11-08T10:00:00Z",
               escalations=[{"at": "2026-11-07T11:00:00Z", "from": 0, "level": 1, "causes": ["sla:first_response"]},
                            {"at": "2026-11-07T11:30:00Z", "from": 1, "level": 2, "causes": ["sla:first_response"]}]),
        # the week before: B1 answered late (20 min of 15), resolved exactly on its 8 h target, rated 4 ...
        ticket("B1", "2026-10-27T09:00:00Z", agent="ani", status="resolved", first="2026-10-27T09:20:00Z",
               resolved="2026-10-27T17:00:00Z",
               sla=clock((1200, 900, "2026-10-27T09:20:00Z"), (28800, 28800, "2026-10-27T17:00:00Z")),
               csat={"score": 4, "at": "2026-10-28T08:00:00Z"}),
        # ... and B2, open ever since
        ticket("B2", "2026-10-29T10:00:00Z", priority="low"),
    ]  # fmt: skip


def counters_of(facts, pk: str, value: str, period: Period) -> dict[str, int]:
    rows = []
    for (item_pk, sk), counters in by_item(total(facts)).items():
        day, _, v = sk.partition("#")
        if item_pk == pk and v == value and period.start.isoformat() <= day < period.end.isoformat():
            rows.append((v, counters))
    return summed(rows).get(value, {})


def running(facts, pk: str, value: str, end: date) -> dict[str, int]:
    rows = []
    for (item_pk, sk), counters in by_item(total(facts)).items():
        day, _, v = sk.partition("#")
        if item_pk == pk and v == value and day < end.isoformat():
            rows.append((v, counters))
    return summed(rows).get(value, {})


def test_the_weeks_figures_are_the_ones_computed_by_hand():
    facts = [ticket_fact(t) for t in hand_computed_week()]
    week = figures(counters_of(facts, "all", "-", WEEK))
    assert week == {
        "volume": 6,  # T1-T5, T7 (T6 merged)
        "resolved": 4,  # T1, T2, T5, T7
        "response_rate": 83.3,  # 5 of 6 answered
        "first_response_median": 1800,  # 300, 600, 1800, 3600, 7200: the 3rd
        "first_response_p90": 7200,  # rank ceil(0.9 x 5) = 5
        "first_response_count": 5,
        "resolution_median": 7200,  # 3600, 7200, 14400, 86400: rank 2
        "resolution_p90": 86400,  # rank 4
        "resolution_count": 4,
        "sla_compliance": 83.3,  # first response: T1 met, T2 missed, T5 met; resolution: T1, T2, T5 met → 5 of 6
        "sla_measured": 6,
        "csat_average": 4.0,  # (5 + 3) / 2
        "csat_responses": 2,
        "csat_distribution": {"1": 0, "2": 0, "3": 1, "4": 0, "5": 1},
        "csat_response_rate": 50.0,  # surveyed T1, T2, T5, T7; rated T1, T2
        "deflected": 1,
        "deflection_rate": 25.0,  # 1 of 4 resolved
        "escalations": 3,  # T5 once, T7 twice
    }
    before = figures(counters_of(facts, "all", "-", WEEK.baseline()))
    assert (before["volume"], before["first_response_median"], before["resolution_median"]) == (2, 1200, 28800)
    assert (before["sla_compliance"], before["csat_average"], before["csat_response_rate"]) == (50.0, 4.0, 100.0)

    end = running(facts, "all", "-", WEEK.end)
    # open at the end: T3 (4 d 16 h old), T4 (3 d 10 h), B2 (10 d 14 h)
    assert backlog(end["open_delta"], end["open_age"], WEEK.end) == {"backlog": 3, "backlog_age_average": (403200 + 295200 + 914400) // 3}
    start = running(facts, "all", "-", WEEK.start)
    assert backlog(start["open_delta"], start["open_age"], WEEK.start) == {"backlog": 1, "backlog_age_average": 309600}
    # a period still running: the backlog's age now, not at its end (B2, T3, T4 on Friday 6 November, noon)
    from datetime import datetime, timezone

    friday = datetime(2026, 11, 6, 12, 0, tzinfo=timezone.utc)
    age = backlog(end["open_delta"], end["open_age"], WEEK.end, now=friday)["backlog_age_average"]
    assert age == ((friday - datetime(2026, 10, 29, 10, tzinfo=timezone.utc)).total_seconds()
                   + (friday - datetime(2026, 11, 4, 8, tzinfo=timezone.utc)).total_seconds()
                   + (friday - datetime(2026, 11, 5, 14, tzinfo=timezone.utc)).total_seconds()) // 3


def test_breakdowns_split_the_same_week_by_agent_channel_and_within_the_team():
    facts = [ticket_fact(t) for t in hand_computed_week()]
    ani = figures(counters_of(facts, "agent", "ani", WEEK))
    assert (ani["volume"], ani["resolved"], ani["csat_average"], ani["escalations"]) == (3, 3, 4.0, 2)
    assert figures(counters_of(facts, "agent", "-", WEEK))["volume"] == 1  # T4, nobody on it
    assert figures(counters_of(facts, "channel", "whatsapp", WEEK))["deflected"] == 1
    assert counters_of(facts, "channel@support", "chat", WEEK) == counters_of(facts, "channel", "chat", WEEK)
    assert figures(counters_of(facts, "team", "support", WEEK))["volume"] == 6
    level = {k: v for k, v in counters_of(facts, "all", "-", WEEK).items() if k.startswith("esc")}
    assert level == {"esc": 3, "esc_l1": 2, "esc_l2": 1, "esc_c:keyword:down": 1, "esc_c:sla:first_response": 2}


def test_a_ticket_that_changes_moves_its_contribution_and_a_repeat_adds_nothing():
    first = ticket("X", "2026-11-03T10:00:00Z", agent="ani")
    later = ticket("X", "2026-11-03T10:00:00Z", agent="budi", status="resolved", first="2026-11-03T10:20:00Z",
                   resolved="2026-11-04T09:00:00Z")  # fmt: skip
    change = difference(ticket_fact(first), ticket_fact(later))
    assert change["agent|2026-11-03#ani|created"] == -1 and change["agent|2026-11-03#budi|created"] == 1
    assert "all|2026-11-03#-|created" not in change  # the overall count stays
    assert difference(ticket_fact(later), ticket_fact(later)) == {}
    assert total([ticket_fact(first), change]) == ticket_fact(later)


def test_durations_fall_in_minute_five_minute_and_hour_buckets_and_percentiles_are_nearest_rank():
    assert [duration_bucket(s) for s in (59, 61, 3599, 3600, 3899, 86399, 86400, 89999)] == [0, 60, 3540, 3600, 3600, 86100, 86400, 86400]
    assert percentile({60: 1, 120: 1, 180: 1, 240: 1}, 50) == 120
    assert percentile({60: 9, 600: 1}, 90) == 60 and percentile({60: 9, 600: 1}, 91) == 600
    assert percentile({}, 50) is None


@pytest.mark.parametrize(
    ("kpi", "value", "base", "sample", "expected"),
    [
        ("first_response_median", 1500, 1200, 10, "act"),  # +25 %, +5 min: longer waits
        ("first_response_median", 1300, 1200, 10, None),  # +8 %: noise
        ("first_response_median", 900, 1200, 10, "improved"),
        ("first_response_median", 1500, 1200, 4, "too_few"),
        ("sla_compliance", 88.0, 95.0, 20, "act"),  # -7 points
        ("sla_compliance", 92.0, 95.0, 20, None),
        ("csat_average", 4.1, 4.5, 20, "act"),
        ("csat_average", 4.3, 4.5, 20, None),
        ("volume", 140, 100, 100, "act"),
        ("volume", 60, 100, 100, "improved"),
        ("escalations", 6, 2, 50, "act"),  # +200 %, +4
        ("escalations", 4, 2, 50, None),  # +100 % but only +2
    ],
)
def test_a_change_is_worth_acting_on_by_the_stated_rule(kpi, value, base, sample, expected):
    watch = next(w for w in WATCHES if w.kpi == kpi)
    assert flag(watch, value, base, sample, sample) == expected


def test_compare_puts_each_kpi_beside_its_baseline_with_the_flag():
    now = {"volume": 140, "first_response_median": 1500, "first_response_count": 30, "csat_average": None}
    before = {"volume": 100, "first_response_median": 1200, "first_response_count": 30, "csat_average": 4.5}
    out = compare(now, before)
    assert out["volume"] == {"value": 140, "baseline": 100, "change": 40, "change_percent": 40.0, "worse_when": "up", "flag": "act"}
    assert out["first_response_median"]["flag"] == "act" and out["csat_average"]["flag"] is None
