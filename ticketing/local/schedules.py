"""EventBridge schedules, played by a thread per schedule.

Every `Type: Schedule` (an EventBridge rule) or `Type: ScheduleV2` (EventBridge Scheduler) event of a serverless
function in the template becomes a `ScheduledFunction`: a thread that waits, with `Event.wait`, for the next fire
time and then invokes the handler in-process with the event AWS would send, shaped like
events_samples/aws/scheduledEvent.json (or the event's `Input` JSON, if it has one).

What the local stack plays: `rate(N minute|minutes|hour|hours|day|days)` and the six-field AWS `cron(...)` whose
minutes and hours fields are `*`, `*/N`, `A/N`, `A-B`, `A-B/N`, single values or comma lists of those, with
day-of-month, month, day-of-week and year left `*`/`?`. Any other expression is refused with a start-up warning
that names the function and the expression, and the rest of the stack runs on.

Differences from AWS, on purpose: a schedule never overlaps itself (a tick whose predecessor is still running is
skipped and logged, where EventBridge would invoke again), a failing handler is logged and not retried, and
`TICKETING_SCHEDULE_SECONDS` (e.g. "5") makes every schedule fire every that many seconds, so a once-a-minute
sweep can be watched in a local trial.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ticketing.local.runtime import FunctionTarget, Handler
from ticketing.local.template import ScheduleEventSource, functions

# Not under "ticketing": Powertools' Logger(service="ticketing") owns that name and would reformat these lines.
log = logging.getLogger(__name__.replace("ticketing.local", "local_stack"))

SCHEDULE_SECONDS_ENV = "TICKETING_SCHEDULE_SECONDS"

_MAX_WAIT_SECONDS = 30.0  # re-check the wall clock at least this often (laptop sleep, clock changes)
_CRON_HORIZON_MINUTES = 2 * 24 * 60  # minutes and hours only: a match always comes within 25 hours, DST included


class ScheduleError(ValueError):
    """A schedule expression (or override) the local stack cannot play."""


class Schedule(Protocol):
    """When a schedule fires: `next_fire(after, origin=...)` is the first fire time strictly after `after`."""

    @property
    def expression(self) -> str: ...

    def next_fire(self, after: datetime, *, origin: datetime) -> datetime: ...


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} has no time zone; schedules work in aware datetimes (UTC)")
    return moment.astimezone(UTC)


def _ceil_minute(moment: datetime) -> datetime:
    floor = moment.replace(second=0, microsecond=0)
    return floor if floor == moment else floor + timedelta(minutes=1)


def _periodic_fire(after: datetime, anchor: datetime, period: timedelta) -> datetime:
    """The first `anchor + k * period` (k >= 1) strictly after `after`."""
    if after < anchor + period:
        return anchor + period
    return anchor + ((after - anchor) // period + 1) * period


# ------------------------------------------------------------------------------------------------ rate(...)

_RATE = re.compile(r"rate\(\s*(\d+)\s+([A-Za-z]+)\s*\)")
_RATE_UNITS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}


@dataclass(frozen=True)
class RateSchedule:
    """`rate(N unit)`: every period, on whole minutes (EventBridge's precision), the first a period after start."""

    expression: str
    period: timedelta

    def next_fire(self, after: datetime, *, origin: datetime) -> datetime:
        return _periodic_fire(_aware(after), _ceil_minute(_aware(origin)), self.period)


def parse_rate(expression: str) -> RateSchedule:
    """`rate(1 minute)`, `rate(5 minutes)`, `rate(2 hours)`, `rate(1 day)`...; AWS's singular/plural rule applies."""
    text = expression.strip()
    match = _RATE.fullmatch(text)
    if match is None:
        raise ScheduleError(f"{expression!r} is not rate(<N> minute(s)|hour(s)|day(s))")
    value, unit = int(match.group(1)), match.group(2).lower()
    singular = unit[:-1] if unit.endswith("s") else unit
    if singular not in _RATE_UNITS:
        raise ScheduleError(f"{expression!r}: unit {unit!r} is not minute(s), hour(s) or day(s)")
    if value < 1:
        raise ScheduleError(f"{expression!r}: the rate must be a positive whole number")
    # EventBridge rejects "rate(1 minutes)" and "rate(5 minute)" at deploy time; so do we, so it shows locally.
    if (value == 1) != (unit == singular):
        wanted = singular if value == 1 else f"{singular}s"
        raise ScheduleError(f"{expression!r}: AWS requires rate({value} {wanted})")
    return RateSchedule(expression=text, period=value * _RATE_UNITS[singular])


@dataclass(frozen=True)
class EverySeconds:
    """The `TICKETING_SCHEDULE_SECONDS` override: every `seconds`, the first `seconds` after start."""

    seconds: float

    @property
    def expression(self) -> str:
        return f"every {self.seconds:g} s"

    def next_fire(self, after: datetime, *, origin: datetime) -> datetime:
        return _periodic_fire(_aware(after), _aware(origin), timedelta(seconds=self.seconds))


# ------------------------------------------------------------------------------------------------ cron(...)

_CRON = re.compile(r"cron\((.*)\)", re.DOTALL)
_CRON_FIELDS = ("minutes", "hours", "day-of-month", "month", "day-of-week", "year")


@dataclass(frozen=True)
class CronSchedule:
    """A six-field AWS cron restricted to its minutes and hours, evaluated in `timezone` (UTC unless ScheduleV2
    names one)."""

    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    timezone: str = "UTC"

    def next_fire(self, after: datetime, *, origin: datetime | None = None) -> datetime:
        zone = ZoneInfo(self.timezone)
        candidate = _aware(after).replace(second=0, microsecond=0) + timedelta(minutes=1)
        for _ in range(_CRON_HORIZON_MINUTES):
            local = candidate.astimezone(zone)
            if local.minute in self.minutes and local.hour in self.hours:
                return candidate
            candidate += timedelta(minutes=1)
        raise ScheduleError(f"{self.expression} never fires")  # unreachable with non-empty minutes and hours


def _cron_number(text: str, low: int, high: int, label: str) -> int:
    if not text.isdigit():
        raise ScheduleError(f"{label} field: {text!r} is not a number")
    number = int(text)
    if not low <= number <= high:
        raise ScheduleError(f"{label} field: {number} is outside {low}-{high}")
    return number


def _cron_field(text: str, low: int, high: int, label: str) -> frozenset[int]:
    """`*`, `*/N`, `A`, `A/N`, `A-B`, `A-B/N` and comma lists of them."""
    values: set[int] = set()
    for item in text.split(","):
        base, slash, step_text = item.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) < 1:
                raise ScheduleError(f"{label} field: {item!r} needs a positive step after '/'")
            step = _cron_number(step_text, 1, high - low + 1, label)
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = _cron_number(first, low, high, label), _cron_number(last, low, high, label)
            if start > end:
                raise ScheduleError(f"{label} field: range {base!r} runs backwards")
        else:
            start = _cron_number(base, low, high, label)
            end = high if slash else start
        values.update(range(start, end + 1, step))
    return frozenset(values)


def parse_cron(expression: str, timezone: str | None = None) -> CronSchedule:
    """`cron(minutes hours day-of-month month day-of-week year)`, e.g. `cron(*/5 8-18 * * ? *)`."""
    text = expression.strip()
    match = _CRON.fullmatch(text)
    if match is None:
        raise ScheduleError(f"{expression!r} is not cron(...)")
    fields = match.group(1).split()
    if len(fields) != 6:
        raise ScheduleError(f"{expression!r}: AWS cron has 6 fields ({' '.join(_CRON_FIELDS)}), got {len(fields)}")
    minute, hour, day_of_month, month, day_of_week, year = fields
    try:
        minutes = _cron_field(minute, 0, 59, "minutes")
        hours = _cron_field(hour, 0, 23, "hours")
    except ScheduleError as exc:
        raise ScheduleError(f"{expression!r}: {exc}") from None
    if (day_of_month == "?") == (day_of_week == "?"):
        raise ScheduleError(f"{expression!r}: exactly one of day-of-month and day-of-week must be '?' (AWS rule)")
    for label, value, allowed in (
        ("day-of-month", day_of_month, ("*", "?")),
        ("month", month, ("*",)),
        ("day-of-week", day_of_week, ("*", "?")),
        ("year", year, ("*",)),
    ):
        if value not in allowed:
            raise ScheduleError(
                f"{expression!r}: the local stack plays cron schedules by minutes and hours only; "
                f"{label} must be {' or '.join(repr(a) for a in allowed)}, not {value!r}"
            )
    zone = timezone or "UTC"
    _zone(zone)
    return CronSchedule(expression=text, minutes=minutes, hours=hours, timezone=zone)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(f"unknown time zone {name!r}") from exc


def parse_schedule(expression: str, timezone: str | None = None) -> RateSchedule | CronSchedule:
    """A template's schedule expression as something with `next_fire`; `ScheduleError` if it cannot be played."""
    text = (expression or "").strip()
    if text.startswith("rate("):
        return parse_rate(text)
    if text.startswith("cron("):
        return parse_cron(text, timezone)
    if text.startswith("at("):
        raise ScheduleError(f"{text!r}: one-time at(...) schedules are not played locally")
    raise ScheduleError(f"{text!r} is neither rate(...) nor cron(...)")


def schedule_seconds_override(environ: Mapping[str, str] | None = None) -> float | None:
    """`TICKETING_SCHEDULE_SECONDS` as a positive number of seconds, None when unset; `ScheduleError` if invalid."""
    raw = (os.environ if environ is None else environ).get(SCHEDULE_SECONDS_ENV, "").strip()
    if not raw:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        raise ScheduleError(f"{SCHEDULE_SECONDS_ENV} must be a positive number of seconds, got {raw!r}")
    return seconds


# ------------------------------------------------------------------------------------------------ the event


def format_event_time(moment: datetime) -> str:
    return _aware(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def scheduled_event(scheduled_at: datetime, *, region: str, account_id: str, resource_arn: str) -> dict[str, Any]:
    """The event EventBridge sends for a schedule (events_samples/aws/scheduledEvent.json)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account_id,
        "time": format_event_time(scheduled_at),
        "region": region,
        "resources": [resource_arn],
        "detail": {},
    }


# ------------------------------------------------------------------------------------------------ playing one


def _now() -> datetime:
    return datetime.now(UTC)


class ScheduledFunction:
    """One schedule of one function, fired by its own thread; runs never overlap and failures are only logged."""

    def __init__(
        self,
        name: str,
        schedule: Schedule,
        handler: Handler | FunctionTarget,
        *,
        resource_arn: str,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        input_json: str | None = None,
        expression: str | None = None,
        handler_name: str | None = None,
    ) -> None:
        self.name = name
        self.schedule = schedule
        self.expression = expression or schedule.expression
        self.resource_arn = resource_arn
        self.region = region
        self.account_id = account_id
        if input_json is not None:
            json.loads(input_json)  # fail at construction, not on every tick
        self._input_json = input_json
        self._target = (
            handler
            if isinstance(handler, FunctionTarget)
            else FunctionTarget(name=name, arn=f"arn:aws:lambda:{region}:{account_id}:function:{name}",
                                handler=handler)
        )  # fmt: skip
        self.handler_name = handler_name or getattr(self._target.handler, "__qualname__", self._target.name)
        self.invocations = 0
        self.failures = 0
        self.skipped_ticks = 0
        self._busy = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -------------------------------------------------------------------------------------- lifecycle

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=f"schedule-{self.name}", daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        """Ask the thread to stop without waiting (stop several schedules at once, then `stop()` each)."""
        self._stop.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop now if idle; if the handler is running, wait up to `timeout` for it to finish."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("%s: the handler is still running after %.0f s; leaving it behind", self.name, timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def describe(self) -> str:
        """One banner line: `SweepFunction.EveryMinute rate(1 minute) → functions.escalate.handler.sweep_handler`."""
        return f"{self.name} {self.expression} → {self.handler_name}"

    # -------------------------------------------------------------------------------------- one tick

    def event(self, scheduled_at: datetime) -> dict[str, Any]:
        if self._input_json is not None:
            return json.loads(self._input_json)  # type: ignore[no-any-return]  # a fresh copy every time
        return scheduled_event(
            scheduled_at, region=self.region, account_id=self.account_id, resource_arn=self.resource_arn
        )

    def fire(self, scheduled_at: datetime) -> bool:
        """Invoke the handler for the tick at `scheduled_at`; False if skipped because a run is still going."""
        if not self._busy.acquire(blocking=False):
            self.skipped_ticks += 1
            log.warning("%s: skipping the %s tick, the previous run is still going", self.name,
                        format_event_time(scheduled_at))  # fmt: skip
            return False
        try:
            self.invocations += 1
            log.debug("%s: invoking for %s", self.name, format_event_time(scheduled_at))
            self._target.invoke(self.event(scheduled_at))
        except Exception:  # noqa: BLE001 - a failing run is logged; the next tick runs as usual
            self.failures += 1
            log.exception("%s: handler raised for the %s tick", self.name, format_event_time(scheduled_at))
        finally:
            self._busy.release()
        return True

    def _loop(self) -> None:
        origin = _now()
        due = self.schedule.next_fire(origin, origin=origin)
        while not self._stop.is_set():
            remaining = (due - _now()).total_seconds()
            if remaining > 0:
                self._stop.wait(min(remaining, _MAX_WAIT_SECONDS))
                continue
            self.fire(due)
            finished = _now()
            following = self.schedule.next_fire(due, origin=origin)
            missed = 0
            while following <= finished:  # ticks that came due while the handler ran: skipped, not stacked up
                missed += 1
                following = self.schedule.next_fire(following, origin=origin)
            if missed:
                self.skipped_ticks += missed
                log.warning("%s: the %s run lasted until %s; skipped %d tick(s) rather than overlap it", self.name,
                            format_event_time(due), finished.isoformat(timespec="seconds"), missed)  # fmt: skip
            due = following


# ------------------------------------------------------------------------------------------------ from the template


@dataclass(frozen=True)
class UnplayedSchedule:
    """A schedule in the template that the local stack does not play (disabled, or an unsupported expression)."""

    function_logical_id: str
    event_name: str
    expression: str
    handler_name: str
    reason: str

    def describe(self) -> str:
        return (f"{self.function_logical_id}.{self.event_name} {self.expression or '<no expression>'} → "
                f"{self.handler_name}   NOT PLAYED: {self.reason}")  # fmt: skip


def _resource_arn(stack: Any, logical_id: str, source: ScheduleEventSource) -> str:
    name = source.rule_name or f"{stack.stack_name}-{logical_id}{source.name}"
    if source.kind == "ScheduleV2":
        return f"arn:aws:scheduler:{stack.region}:{stack.account_id}:schedule/default/{name}"
    return f"arn:aws:events:{stack.region}:{stack.account_id}:rule/{name}"


def _input_json(stack: Any, source: ScheduleEventSource) -> str | None:
    if source.input is None:
        return None
    value = stack.resolve(source.input) if isinstance(source.input, dict) else source.input
    if not isinstance(value, str):
        raise ScheduleError(f"Input must be a JSON string, got {type(value).__name__}")
    try:
        json.loads(value)
    except ValueError as exc:
        raise ScheduleError(f"Input is not valid JSON: {exc}") from None
    return value


class Scheduler:
    """Every schedule of the template, started and stopped together."""

    def __init__(
        self,
        schedules: Sequence[ScheduledFunction],
        unplayed: Iterable[UnplayedSchedule] = (),
        *,
        seconds_override: float | None = None,
    ) -> None:
        self.schedules = list(schedules)
        self.unplayed = list(unplayed)
        self.seconds_override = seconds_override

    @classmethod
    def from_template(cls, stack: Any, *, environ: Mapping[str, str] | None = None) -> Scheduler:
        """A schedule for every Schedule/ScheduleV2 event of every serverless function in the provisioned template.

        `stack` is a `ticketing.local.provision.ProvisionedStack`: handlers come from its `function_target`, as the
        queue pollers' do. Unsupported expressions are logged and listed in `unplayed`, never raised.
        """
        try:
            override = schedule_seconds_override(environ)
        except ScheduleError as exc:
            log.warning("%s; schedules keep their own timing", exc)
            override = None
        schedules: list[ScheduledFunction] = []
        unplayed: list[UnplayedSchedule] = []
        for spec in functions(stack.template).values():
            target: FunctionTarget | None = None
            for source in spec.schedule_events:
                if not source.enabled:
                    log.info("schedule %s of %s is disabled in the template; not played", source.name,
                             spec.logical_id)  # fmt: skip
                    unplayed.append(UnplayedSchedule(spec.logical_id, source.name, source.expression, spec.handler,
                                                     "disabled in the template"))  # fmt: skip
                    continue
                try:
                    schedule: Schedule = parse_schedule(source.expression, source.timezone)
                    input_json = _input_json(stack, source)
                except ValueError as exc:
                    log.warning("schedule %s of function %s (%s) is not played locally: %s", source.name,
                                spec.logical_id, source.expression or "<no expression>", exc)  # fmt: skip
                    unplayed.append(UnplayedSchedule(spec.logical_id, source.name, source.expression, spec.handler,
                                                     str(exc)))  # fmt: skip
                    continue
                if target is None:
                    target = stack.function_target(spec)
                schedules.append(
                    ScheduledFunction(
                        f"{spec.logical_id}.{source.name}",
                        EverySeconds(override) if override else schedule,
                        target,
                        resource_arn=_resource_arn(stack, spec.logical_id, source),
                        region=stack.region,
                        account_id=stack.account_id,
                        input_json=input_json,
                        expression=schedule.expression,
                        handler_name=spec.handler,
                    )
                )
        return cls(schedules, unplayed, seconds_override=override)

    def start(self) -> None:
        for schedule in self.schedules:
            schedule.start()

    def request_stop(self) -> None:
        for schedule in self.schedules:
            schedule.request_stop()

    def stop(self, timeout: float = 10.0) -> None:
        self.request_stop()  # all at once, then join: shutdown waits for the slowest run, not their sum
        for schedule in self.schedules:
            schedule.stop(timeout)

    def banner_lines(self) -> list[str]:
        lines = [s.describe() for s in self.schedules] + [u.describe() for u in self.unplayed]
        if not lines:
            lines.append("none (no function has a Schedule event yet)")
        if self.seconds_override:
            lines.append(f"({SCHEDULE_SECONDS_ENV}={self.seconds_override:g}: every schedule fires every "
                         f"{self.seconds_override:g} s instead, for a local trial)")  # fmt: skip
        else:
            lines.append(f"(set {SCHEDULE_SECONDS_ENV}=5 to fire every schedule every 5 s for a local trial)")
        return lines
