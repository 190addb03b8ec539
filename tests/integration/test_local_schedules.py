"""The local stack's EventBridge schedules: expression parsing, fire times, and a template function played on one."""

from __future__ import annotations

import json
import sys
import threading
import time
import types
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support import SAMPLES
from ticketing.local.emulator import AwsEmulator
from ticketing.local.schedules import (
    SCHEDULE_SECONDS_ENV,
    CronSchedule,
    EverySeconds,
    ScheduledFunction,
    ScheduleError,
    Scheduler,
    parse_cron,
    parse_rate,
    parse_schedule,
    schedule_seconds_override,
)
from ticketing.local.template import functions, load_template

pytestmark = pytest.mark.integration

REFERENCE_SCHEDULED_EVENT = SAMPLES / "aws" / "scheduledEvent.json"  # AWS's own sample (events_samples/aws)
T0 = datetime(2026, 3, 2, 10, 17, 25, tzinfo=UTC)  # a fixed clock


# ------------------------------------------------------------------------------------------------ rate(...)


@pytest.mark.parametrize(
    ("expression", "period"),
    [
        ("rate(1 minute)", timedelta(minutes=1)),
        ("rate(5 minutes)", timedelta(minutes=5)),
        ("rate(1 hour)", timedelta(hours=1)),
        ("rate(12 hours)", timedelta(hours=12)),
        ("rate(1 day)", timedelta(days=1)),
        ("rate(7 days)", timedelta(days=7)),
        ("  rate( 2 minutes )  ", timedelta(minutes=2)),
    ],
)
def test_valid_rates_parse_to_their_period(expression: str, period: timedelta) -> None:
    assert parse_rate(expression).period == period
    assert parse_schedule(expression).period == period  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "expression",
    [
        "rate(0 minutes)",
        "rate(-1 minute)",
        "rate(1.5 hours)",
        "rate(5 seconds)",
        "rate(1 week)",
        "rate(1 minutes)",  # AWS: singular for 1 ...
        "rate(5 minute)",  # ... plural otherwise
        "rate(minutes)",
        "rate 5 minutes",
        "",
    ],
)
def test_invalid_rates_are_refused(expression: str) -> None:
    with pytest.raises(ScheduleError):
        parse_rate(expression)


def test_a_rate_fires_on_whole_minutes_a_period_after_start() -> None:
    rate = parse_rate("rate(5 minutes)")
    first = rate.next_fire(T0, origin=T0)
    assert first == datetime(2026, 3, 2, 10, 23, tzinfo=UTC)  # the minute after 10:17:25, plus 5 minutes
    assert rate.next_fire(first, origin=T0) == datetime(2026, 3, 2, 10, 28, tzinfo=UTC)
    assert rate.next_fire(first + timedelta(minutes=12), origin=T0) == datetime(2026, 3, 2, 10, 38, tzinfo=UTC)


def test_the_seconds_override_fires_every_n_seconds_from_start() -> None:
    every = EverySeconds(0.5)
    assert every.next_fire(T0, origin=T0) == T0 + timedelta(seconds=0.5)
    assert every.next_fire(T0 + timedelta(seconds=1.2), origin=T0) == T0 + timedelta(seconds=1.5)
    assert schedule_seconds_override({SCHEDULE_SECONDS_ENV: "5"}) == 5.0
    assert schedule_seconds_override({SCHEDULE_SECONDS_ENV: " 0.2 "}) == 0.2
    assert schedule_seconds_override({}) is None
    for bad in ("0", "-1", "5s", "nan", "inf"):
        with pytest.raises(ScheduleError):
            schedule_seconds_override({SCHEDULE_SECONDS_ENV: bad})


# ------------------------------------------------------------------------------------------------ cron(...)


@pytest.mark.parametrize(
    ("expression", "minutes", "hours"),
    [
        ("cron(* * * * ? *)", set(range(60)), set(range(24))),
        ("cron(*/15 * * * ? *)", {0, 15, 30, 45}, set(range(24))),
        ("cron(0 */6 ? * * *)", {0}, {0, 6, 12, 18}),
        ("cron(5,35 8,12,17 * * ? *)", {5, 35}, {8, 12, 17}),
        ("cron(10/20 9-11 * * ? *)", {10, 30, 50}, {9, 10, 11}),
        ("cron(0 0-12/4 * * ? *)", {0}, {0, 4, 8, 12}),
    ],
)
def test_cron_minutes_and_hours_parse(expression: str, minutes: set[int], hours: set[int]) -> None:
    cron = parse_cron(expression)
    assert (set(cron.minutes), set(cron.hours)) == (minutes, hours)


@pytest.mark.parametrize(
    ("expression", "complaint"),
    [
        ("cron(0 12 * * *)", "6 fields"),
        ("cron(60 * * * ? *)", "outside 0-59"),
        ("cron(0 24 * * ? *)", "outside 0-23"),
        ("cron(*/0 * * * ? *)", "positive step"),
        ("cron(a * * * ? *)", "not a number"),
        ("cron(0 12 * * * *)", "exactly one of"),  # AWS: one of day-of-month / day-of-week must be '?'
        ("cron(0 12 ? * ? *)", "exactly one of"),
        ("cron(0 12 1 * ? *)", "day-of-month"),
        ("cron(0 12 ? * MON-FRI *)", "day-of-week"),
        ("cron(0 12 * 1 ? *)", "month"),
        ("cron(0 12 * * ? 2030)", "year"),
    ],
)
def test_unsupported_or_invalid_crons_are_refused_with_the_reason(expression: str, complaint: str) -> None:
    with pytest.raises(ScheduleError, match=complaint) as raised:
        parse_schedule(expression)
    assert expression in str(raised.value)


def test_other_expressions_are_refused() -> None:
    for expression in ("at(2026-03-02T10:00:00)", "every 5 minutes", ""):
        with pytest.raises(ScheduleError):
            parse_schedule(expression)
    with pytest.raises(ScheduleError, match="time zone"):
        parse_schedule("cron(0 9 * * ? *)", "Mars/Olympus_Mons")


def test_cron_next_fire_with_a_fixed_clock() -> None:
    every_quarter = parse_cron("cron(*/15 * * * ? *)")
    assert every_quarter.next_fire(T0) == datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
    assert every_quarter.next_fire(datetime(2026, 3, 2, 10, 30, tzinfo=UTC)) == datetime(2026, 3, 2, 10, 45,
                                                                                           tzinfo=UTC)  # fmt: skip
    assert every_quarter.next_fire(datetime(2026, 3, 2, 23, 59, 59, tzinfo=UTC)) == datetime(2026, 3, 3, 0, 0,
                                                                                               tzinfo=UTC)  # fmt: skip

    twice_a_day = parse_cron("cron(5 8,17 * * ? *)")
    assert twice_a_day.next_fire(T0) == datetime(2026, 3, 2, 17, 5, tzinfo=UTC)
    assert twice_a_day.next_fire(datetime(2026, 3, 2, 17, 5, tzinfo=UTC)) == datetime(2026, 3, 3, 8, 5, tzinfo=UTC)

    every_minute = parse_cron("cron(* * * * ? *)")
    assert every_minute.next_fire(T0) == datetime(2026, 3, 2, 10, 18, tzinfo=UTC)

    # ScheduleV2's ScheduleExpressionTimezone: 09:00 in Jakarta (UTC+7) is 02:00 UTC.
    jakarta = parse_cron("cron(0 9 * * ? *)", "Asia/Jakarta")
    assert jakarta == CronSchedule("cron(0 9 * * ? *)", frozenset({0}), frozenset({9}), "Asia/Jakarta")
    assert jakarta.next_fire(T0) == datetime(2026, 3, 3, 2, 0, tzinfo=UTC)


# ------------------------------------------------------------------------------------------------ template


def test_schedule_events_are_read_from_the_template() -> None:
    template = {
        "Resources": {
            "Sweeper": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "Handler": "x.handler",
                    "Events": {
                        "EveryMinute": {"Type": "Schedule", "Properties": {"Schedule": "rate(1 minute)"}},
                        "Off": {"Type": "Schedule", "Properties": {"Schedule": "rate(1 day)", "Enabled": False}},
                        "Nightly": {
                            "Type": "ScheduleV2",
                            "Properties": {
                                "ScheduleExpression": "cron(0 2 * * ? *)",
                                "ScheduleExpressionTimezone": "Asia/Jakarta",
                                "Input": '{"mode": "full"}',
                                "State": "DISABLED",
                            },
                        },
                    },
                },
            }
        }
    }
    spec = functions(template)["Sweeper"]
    assert spec.sqs_events == ()
    every, off, nightly = spec.schedule_events
    assert (every.name, every.kind, every.expression, every.enabled, every.input) == (
        "EveryMinute", "Schedule", "rate(1 minute)", True, None
    )  # fmt: skip
    assert not off.enabled
    assert (nightly.kind, nightly.expression, nightly.timezone, nightly.input, nightly.enabled) == (
        "ScheduleV2", "cron(0 2 * * ? *)", "Asia/Jakarta", '{"mode": "full"}', False
    )  # fmt: skip


def test_every_schedule_in_the_real_template_is_playable_locally() -> None:
    for spec in functions(load_template()).values():
        for source in spec.schedule_events:
            parse_schedule(source.expression, source.timezone)  # ScheduleError names what the stack would refuse


# ------------------------------------------------------------------------------------------------ playing


def _wait_for(condition: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()  # type: ignore[no-any-return]


def test_a_tick_is_skipped_while_the_previous_run_is_still_going() -> None:
    release = threading.Event()
    calls: list[dict[str, Any]] = []

    def slow(event: dict[str, Any], context: Any) -> None:
        calls.append(event)
        release.wait(5)

    scheduled = ScheduledFunction("Fn.Slow", EverySeconds(0.05), slow, resource_arn="arn:aws:events:::rule/slow")
    scheduled.start()
    try:
        assert _wait_for(lambda: len(calls) == 1, timeout=2)
        assert scheduled.fire(T0) is False  # an extra tick while the run is going: skipped, not overlapped
        time.sleep(0.3)
        release.set()
        assert _wait_for(lambda: len(calls) >= 2, timeout=2)
    finally:
        scheduled.stop(timeout=2)
    assert scheduled.skipped_ticks >= 2  # the manual tick plus the ones that came due during the slow run


def test_a_failing_handler_is_logged_and_the_schedule_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []

    def flaky(event: dict[str, Any], context: Any) -> None:
        calls.append(1)
        raise RuntimeError("sweep failed")

    scheduled = ScheduledFunction("Fn.Flaky", EverySeconds(0.05), flaky, resource_arn="arn:aws:events:::rule/flaky")
    scheduled.start()
    try:
        assert _wait_for(lambda: len(calls) >= 3, timeout=2)
    finally:
        scheduled.stop(timeout=2)
    assert scheduled.failures >= 3
    assert "sweep failed" in caplog.text


def test_a_template_schedule_invokes_its_handler_with_a_scheduled_event(
    emulator: AwsEmulator, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from ticketing.local.provision import provision

    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator.endpoint_url)
    monkeypatch.setenv(SCHEDULE_SECONDS_ENV, "0.2")

    active = 0
    overlapped = False
    guard = threading.Lock()
    calls: list[dict[str, Any]] = []

    def sweep_handler(event: dict[str, Any], context: Any) -> None:
        nonlocal active, overlapped
        with guard:
            active += 1
            overlapped |= active > 1
        time.sleep(0.05)
        calls.append({"event": event, "context": context, "at": time.monotonic()})
        with guard:
            active -= 1

    fake_module = types.ModuleType("fake_sweep_handler")
    fake_module.sweep_handler = sweep_handler  # type: ignore[attr-defined]
    fake_module.configured_handler = (  # type: ignore[attr-defined]
        lambda event, context: calls.append({"event": event, "configured": True})
    )
    monkeypatch.setitem(sys.modules, "fake_sweep_handler", fake_module)

    # A tiny template: one queue so there is a data plane to deploy, and the functions under test.
    template: dict[str, Any] = {"Resources": {"WorkQueue": {"Type": "AWS::SQS::Queue"}}}
    template["Resources"]["SweepFunction"] = {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "CodeUri": "../",
            "Handler": "fake_sweep_handler.sweep_handler",
            "Events": {
                "EscalateSweep": {"Type": "Schedule", "Properties": {"Schedule": "rate(1 minute)", "Enabled": True}},
                "Monthly": {"Type": "Schedule", "Properties": {"Schedule": "cron(0 12 1 * ? *)"}},
            },
        },
    }
    template["Resources"]["ConfiguredFunction"] = {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "CodeUri": "../",
            "Handler": "fake_sweep_handler.configured_handler",
            "Events": {
                "Nightly": {
                    "Type": "ScheduleV2",
                    "Properties": {"ScheduleExpression": "cron(0 2 * * ? *)", "Input": '{"mode": "full"}'},
                },
            },
        },
    }
    stack = provision(template, stack_name="schedules-test")
    scheduler = Scheduler.from_template(stack)

    # The unsupported monthly cron is refused with a warning naming the function and the expression; the rest plays.
    assert "SweepFunction" in caplog.text and "cron(0 12 1 * ? *)" in caplog.text
    assert [u.event_name for u in scheduler.unplayed] == ["Monthly"]
    names = sorted(s.name for s in scheduler.schedules)
    assert "SweepFunction.EscalateSweep" in names and "ConfiguredFunction.Nightly" in names
    banner = "\n".join(scheduler.banner_lines())
    assert "SweepFunction.EscalateSweep rate(1 minute) → fake_sweep_handler.sweep_handler" in banner
    assert "SweepFunction.Monthly cron(0 12 1 * ? *) → fake_sweep_handler.sweep_handler   NOT PLAYED" in banner
    assert f"{SCHEDULE_SECONDS_ENV}=0.2" in banner

    scheduler.start()
    try:
        assert _wait_for(lambda: sum("context" in c for c in calls) >= 3, timeout=3)
    finally:
        started = time.monotonic()
        scheduler.stop()
        stopped_in = time.monotonic() - started
    assert stopped_in < 1.0
    assert not any(s.running for s in scheduler.schedules)
    settled = len(calls)
    time.sleep(0.3)
    assert len(calls) == settled  # nothing fires after stop()

    swept = [c for c in calls if "context" in c]
    assert not overlapped
    reference = json.loads(REFERENCE_SCHEDULED_EVENT.read_text())
    for call in swept:
        event = call["event"]
        assert set(event) == set(reference)
        assert {k: event[k] for k in ("version", "detail-type", "source", "detail")} == {
            k: reference[k] for k in ("version", "detail-type", "source", "detail")
        }
        assert event["region"] == stack.region and event["account"] == stack.account_id
        assert event["resources"] == [
            f"arn:aws:events:{stack.region}:{stack.account_id}:rule/schedules-test-SweepFunctionEscalateSweep"
        ]
        assert datetime.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ")  # UTC, ISO, 'Z'
        assert call["context"].function_name == "schedules-test-SweepFunction"
    assert len({c["event"]["id"] for c in swept}) == len(swept)
    gaps = [later["at"] - earlier["at"] for earlier, later in zip(swept, swept[1:], strict=False)]
    assert all(gap > 0.1 for gap in gaps), gaps  # every 0.2 s, not back to back

    configured = [c for c in calls if c.get("configured")]
    assert configured and all(c["event"] == {"mode": "full"} for c in configured)

    try:
        from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
    except ImportError:
        return
    EventBridgeModel.model_validate(swept[0]["event"])
