"""Business time: which real seconds count towards an SLA target, and when a target runs out.

A calendar is weekly opening hours in one IANA time zone, minus whole local days that are holidays. Time is
counted in real (UTC) seconds, so a Berlin night that loses an hour to daylight saving counts 23 hours, not 24,
and the repeated autumn hour is counted once per real second. Each opening span is turned into real instants
with zoneinfo: a span runs from the first moment the local clock shows its start until the last moment it
shows its end; a wall time skipped by a spring-forward jump maps to the jump itself. Spans are walked a local
day at a time, so a target weeks away costs a few dozen conversions, never a loop per minute.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping
from zoneinfo import ZoneInfo

from shared.domain.assignment import DAYS, zone
from shared.domain.errors import ValidationFailed
from shared.domain.teams import ALWAYS_OPEN_CALENDAR

if TYPE_CHECKING:
    from shared.contracts.config import CalendarDocument

UTC = timezone.utc
END_OF_DAY = time(0)
"""As a span's end, 00:00 means midnight at the end of the day (written "24:00" in documents): a span must
otherwise end after it starts, so the two can never be confused."""

ALWAYS_OPEN_ID = ALWAYS_OPEN_CALENDAR
MAX_CLOSED_DAYS = 800
"""A calendar closed this many days in a row is a configuration mistake (a huge `extra` list), not a deadline."""

Spans = tuple[tuple[time, time], ...]


@dataclass(frozen=True)
class BusinessCalendar:
    """Weekly hours in `timezone` (split shifts allowed; an END_OF_DAY end means "24:00") minus `holidays`.

    `holidays` are resolved concrete local dates; `country`, `subdivision` and `extra` record where they came
    from so the calendar can be written back as the document it was built from.
    """

    id: str
    timezone: str
    hours: Mapping[str, Spans]
    holidays: frozenset[date] = frozenset()
    country: str | None = None
    subdivision: str | None = None
    extra: frozenset[date] = frozenset()
    years: tuple[int, ...] = field(default=(), compare=False)

    @cached_property
    def _zone(self) -> ZoneInfo:
        return zone(self.timezone)

    @cached_property
    def _always_open(self) -> bool:
        """Every second counts: no day walking needed, whatever the time zone does."""
        full: Spans = ((time(0), END_OF_DAY),)
        return not self.holidays and all(tuple(self.hours.get(day, ())) == full for day in DAYS)

    def add(self, start: datetime, seconds: float) -> datetime:
        """The instant when `seconds` of business time have elapsed after `start`.

        Zero seconds returns `start` unchanged, open or not: nothing has to elapse, so nothing is waited for.
        A positive amount starting outside hours begins counting at the next opening; a result that lands
        exactly on a closing time stays there (a 9-hour target from Friday 08:00 is due Friday 17:00).
        """
        if seconds < 0:
            raise ValueError(f"business seconds cannot be negative: {seconds}")
        start = _utc(start)
        if seconds == 0:
            return start
        if self._always_open:
            return start + timedelta(seconds=seconds)
        remaining = timedelta(seconds=seconds)
        for opens, closes in self._open_spans(start):
            if remaining <= closes - opens:
                return opens + remaining
            remaining -= closes - opens
        raise AssertionError("unreachable: _open_spans never ends")  # pragma: no cover

    def between(self, start: datetime, end: datetime) -> float:
        """Business seconds in [start, end); 0 when end is not after start."""
        start, end = _utc(start), _utc(end)
        if end <= start:
            return 0.0
        if self._always_open:
            return (end - start).total_seconds()
        total = timedelta(0)
        for opens, closes in self._open_spans(start):
            if opens >= end:
                break
            total += min(closes, end) - opens
        return total.total_seconds()

    def is_open(self, at: datetime) -> bool:
        return self.next_open(at) == _utc(at)

    def next_open(self, at: datetime) -> datetime:
        """`at` itself when open, else the next opening."""
        at = _utc(at)
        if self._always_open:
            return at
        for opens, _closes in self._open_spans(at):
            return opens
        raise AssertionError("unreachable: _open_spans never ends")  # pragma: no cover

    def _open_spans(self, since: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals of real time from `since` on, in order, disjoint, the first clipped to `since`.

        Starts a day early because yesterday's last span can reach past local midnight after a fall-back.
        """
        tz = self._zone
        day = since.astimezone(tz).date() - timedelta(days=1)
        last_end = since
        closed_days = 0
        while True:
            opened = False
            for opens, closes in self._day_spans(day, tz):
                opens = max(opens, last_end)
                if closes > opens:
                    yield opens, closes
                    last_end = closes
                    opened = True
            closed_days = 0 if opened else closed_days + 1
            if closed_days > MAX_CLOSED_DAYS:
                raise ValidationFailed(f"calendar {self.id!r} has no business hours for {MAX_CLOSED_DAYS} days")
            day += timedelta(days=1)

    def _day_spans(self, day: date, tz: ZoneInfo) -> list[tuple[datetime, datetime]]:
        if day in self.holidays:
            return []
        out = []
        for start, end in self.hours.get(DAYS[day.weekday()], ()):
            opens = _real_instant(day, start, tz, last=False)
            if end == END_OF_DAY:
                closes = _real_instant(day + timedelta(days=1), time(0), tz, last=True)
            else:
                closes = _real_instant(day, end, tz, last=True)
            out.append((opens, closes))
        return out


ALWAYS_OPEN = BusinessCalendar(
    id=ALWAYS_OPEN_ID,
    timezone="UTC",
    hours={day: ((time(0), END_OF_DAY),) for day in DAYS},
)


def calendar_from_document(
    calendar_id: str, doc: Mapping[str, Any], years: Iterable[int] | None = None
) -> BusinessCalendar:
    """Build a calendar from its stored/API document, resolving public holidays for `years`.

    The default years (last year to two years ahead) cover every deadline a ticket opened now can have;
    a clock that runs past them simply stops seeing library holidays (extra dates always apply).
    """
    checked = _checked(doc)
    spec = checked.holidays
    country, subdivision = (spec.country, spec.subdivision) if spec else (None, None)
    extra = frozenset(spec.extra or ()) if spec else frozenset()
    span = tuple(sorted(set(years))) if years is not None else _default_years()
    resolved: set[date] = set(extra)
    if country:
        import holidays as holiday_library  # 25 ms of import: only calendars that name a country need it

        resolved.update(holiday_library.country_holidays(country, subdiv=subdivision, years=span).keys())
    return BusinessCalendar(
        id=calendar_id,
        timezone=checked.timezone,
        hours={day: tuple(spans) for day, spans in checked.hours.items() if spans},
        holidays=frozenset(resolved),
        country=country,
        subdivision=subdivision,
        extra=extra,
        years=span,
    )


def calendar_to_document(calendar: BusinessCalendar) -> dict[str, Any]:
    """The normalised document a calendar was built from (what `GET /v1/calendars` shows)."""
    return {
        "timezone": calendar.timezone,
        "hours": _hours_document(calendar.hours),
        "holidays": {
            "country": calendar.country,
            "subdivision": calendar.subdivision,
            "extra": sorted(d.isoformat() for d in calendar.extra),
        },
    }


def validate_calendar_document(doc: Any) -> dict[str, Any]:
    """Check a calendar document and return it normalised (days in week order, spans sorted, dates sorted)."""
    return calendar_to_document(calendar_from_document("", doc, years=()))


def _checked(doc: Any) -> CalendarDocument:
    from shared.contracts.config import CalendarDocument  # pydantic on the first parse, not at cold start
    from shared.contracts.refusals import validated

    return validated(CalendarDocument, doc, "calendar")


def _real_instant(day: date, clock: time, tz: ZoneInfo, *, last: bool) -> datetime:
    """The UTC instant the local clock shows `clock` on `day`.

    A wall time shown twice (autumn) gives the first showing for a span's start and the last for its end, so
    the repeated hour is inside the span and counted once per real second. A wall time never shown (spring)
    gives the moment the clock jumped.
    """
    wall = datetime.combine(day, clock)
    first = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    if first == second:
        return first
    if first < second:
        return second if last else first
    return _jump(second, first, tz)


def _jump(before: datetime, after: datetime, tz: ZoneInfo) -> datetime:
    """The first whole second in (before, after] that already carries the new UTC offset."""
    new_offset = after.astimezone(tz).utcoffset()
    low, high = math.floor(before.timestamp()), math.ceil(after.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, tz).utcoffset() == new_offset:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def _hours_document(hours: Mapping[str, Spans]) -> dict[str, list[list[str]]]:
    return {
        day: [[_clock_text(start), _clock_text(end, end=True)] for start, end in hours[day]]
        for day in DAYS
        if hours.get(day)
    }


def _clock_text(value: time, *, end: bool = False) -> str:
    if end and value == END_OF_DAY:
        return "24:00"
    if value.second or value.microsecond:
        return value.isoformat()
    return value.strftime("%H:%M")


def _utc(at: datetime) -> datetime:
    """Aware UTC; a naive datetime is taken as UTC, as everywhere else in the product."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _default_years() -> tuple[int, ...]:
    this_year = datetime.now(UTC).year
    return tuple(range(this_year - 1, this_year + 3))

