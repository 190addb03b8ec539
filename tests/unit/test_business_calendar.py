"""Business time as a support lead reads an SLA: office hours, lunch, weekends, holidays, night shifts and DST."""

from __future__ import annotations

import random
import time as stopwatch
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shared.domain.business_calendar import (
    ALWAYS_OPEN,
    END_OF_DAY,
    BusinessCalendar,
    calendar_from_document,
    calendar_to_document,
    validate_calendar_document,
)
from shared.domain.errors import ValidationFailed

pytestmark = pytest.mark.unit

UTC = timezone.utc
WIB = ZoneInfo("Asia/Jakarta")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
ALL_DAYS = WEEKDAYS + ("sat", "sun")
HOUR = 3600


def office(
    *, split: bool = False, country: str | None = None, extra: tuple[str, ...] = (), tz: str = "Asia/Jakarta"
) -> BusinessCalendar:
    spans = [["08:00", "12:00"], ["13:00", "17:00"]] if split else [["08:00", "17:00"]]
    doc = {
        "timezone": tz,
        "hours": {day: spans for day in WEEKDAYS},
        "holidays": {"country": country, "subdivision": None, "extra": list(extra)},
    }
    return calendar_from_document("office", doc, years=[2026])


def round_the_clock(tz: str, *, extra: tuple[str, ...] = ()) -> BusinessCalendar:
    """24x7 hours in a real zone; an extra holiday far away keeps it off the always-open shortcut."""
    doc = {"timezone": tz, "hours": {day: [["00:00", "24:00"]] for day in ALL_DAYS}, "holidays": {"extra": list(extra)}}
    return calendar_from_document(f"24x7-{tz}", doc, years=[2026])


def local(
    zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0, *, fold: int = 0
) -> datetime:
    """A local wall time as the UTC instant the calendar works in (fold=1: the second of a repeated hour)."""
    return datetime(year, month, day, hour, minute, tzinfo=zone, fold=fold).astimezone(UTC)


# --- office hours --------------------------------------------------------------------------------------------


def test_two_hours_asked_late_on_friday_are_due_monday_morning():
    due = office().add(local(WIB, 2026, 6, 5, 16), 2 * HOUR)  # Friday 16:00
    assert due == local(WIB, 2026, 6, 8, 9)  # Monday 09:00
    assert due.tzinfo == UTC


def test_lunch_break_does_not_count():
    calendar = office(split=True)
    assert calendar.add(local(WIB, 2026, 6, 3, 11), 2 * HOUR) == local(WIB, 2026, 6, 3, 14)
    assert calendar.between(local(WIB, 2026, 6, 3, 11), local(WIB, 2026, 6, 3, 14)) == 2 * HOUR
    assert not calendar.is_open(local(WIB, 2026, 6, 3, 12, 30))
    assert calendar.next_open(local(WIB, 2026, 6, 3, 12, 30)) == local(WIB, 2026, 6, 3, 13)


def test_indonesian_independence_day_is_skipped():
    calendar = office(country="ID")
    assert date(2026, 8, 17) in calendar.holidays  # from the holidays library, a Monday
    due = calendar.add(local(WIB, 2026, 8, 14, 16), 2 * HOUR)  # Friday before the long weekend
    assert due == local(WIB, 2026, 8, 18, 9)  # Tuesday 09:00
    assert not calendar.is_open(local(WIB, 2026, 8, 17, 10))


def test_a_custom_closing_day_is_skipped():
    calendar = office(extra=("2026-12-24",))
    due = calendar.add(local(WIB, 2026, 12, 23, 16), 2 * HOUR)  # Wednesday 16:00, Thursday closed
    assert due == local(WIB, 2026, 12, 25, 9)
    assert calendar.between(local(WIB, 2026, 12, 24), local(WIB, 2026, 12, 25)) == 0


def test_a_target_ending_exactly_at_closing_time_is_due_at_closing_time():
    assert office().add(local(WIB, 2026, 6, 5, 8), 9 * HOUR) == local(WIB, 2026, 6, 5, 17)


def test_counting_starts_at_the_next_opening_when_the_ticket_arrives_at_night():
    calendar = office()
    sunday_night = local(WIB, 2026, 6, 7, 23)
    assert calendar.next_open(sunday_night) == local(WIB, 2026, 6, 8, 8)
    assert calendar.add(sunday_night, 30 * 60) == local(WIB, 2026, 6, 8, 8, 30)


def test_zero_seconds_is_the_start_itself_open_or_closed():
    calendar = office()
    inside, outside = local(WIB, 2026, 6, 3, 10), local(WIB, 2026, 6, 6, 10)
    assert calendar.add(inside, 0) == inside
    assert calendar.add(outside, 0) == outside


def test_between_is_zero_for_an_empty_or_backwards_span():
    at = local(WIB, 2026, 6, 3, 10)
    assert office().between(at, at) == 0
    assert office().between(at, at - timedelta(hours=1)) == 0


def test_naive_datetimes_are_read_as_utc():
    calendar = office()
    aware = local(WIB, 2026, 6, 5, 16)
    assert calendar.add(aware.replace(tzinfo=None), HOUR) == calendar.add(aware, HOUR)


# --- night shift across midnight ----------------------------------------------------------------------------


def test_a_night_shift_counts_across_midnight():
    doc = {"timezone": "Asia/Jakarta", "hours": {"mon": [["22:00", "24:00"]], "tue": [["00:00", "06:00"]]}}
    calendar = calendar_from_document("night", doc, years=[2026])
    monday_night = local(WIB, 2026, 6, 1, 23)
    assert calendar.add(monday_night, 3 * HOUR) == local(WIB, 2026, 6, 2, 2)
    assert calendar.is_open(local(WIB, 2026, 6, 2, 0))  # midnight itself is inside the shift
    assert calendar.between(local(WIB, 2026, 6, 1), local(WIB, 2026, 6, 3)) == 8 * HOUR
    # after Tuesday 06:00 the next shift is next Monday 22:00
    assert calendar.add(local(WIB, 2026, 6, 2, 5), 2 * HOUR) == local(WIB, 2026, 6, 8, 23)


# --- daylight saving ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "zone, start, expected_wall",
    [
        # Berlin springs forward on 2026-03-29 at 02:00 -> 03:00
        (BERLIN, (2026, 3, 29, 0, 30), (2026, 3, 29, 4, 30)),
        # Berlin falls back on 2026-10-25 at 03:00 -> 02:00
        (BERLIN, (2026, 10, 25, 0, 30), (2026, 10, 25, 2, 30)),
        # New York springs forward on 2026-03-08 at 02:00 -> 03:00
        (NEW_YORK, (2026, 3, 8, 0, 30), (2026, 3, 8, 4, 30)),
        # New York falls back on 2026-11-01 at 02:00 -> 01:00
        (NEW_YORK, (2026, 11, 1, 0, 30), (2026, 11, 1, 2, 30)),
    ],
)
def test_three_business_hours_across_a_dst_change_are_three_real_hours(zone, start, expected_wall):
    begin = local(zone, *start)
    for calendar in (round_the_clock(zone.key), round_the_clock(zone.key, extra=("2030-01-01",))):
        due = calendar.add(begin, 3 * HOUR)
        assert due - begin == timedelta(hours=3)
        assert due == local(zone, *expected_wall, fold=1)
        assert calendar.between(begin, due) == 3 * HOUR


@pytest.mark.parametrize(
    "zone, sunday, spring, real_hours",
    [
        (BERLIN, date(2026, 3, 29), True, 23),
        (BERLIN, date(2026, 10, 25), False, 25),
        (NEW_YORK, date(2026, 3, 8), True, 23),
        (NEW_YORK, date(2026, 11, 1), False, 25),
    ],
)
def test_a_whole_dst_sunday_is_its_real_length(zone, sunday, spring, real_hours):
    calendar = calendar_from_document("sun", {"timezone": zone.key, "hours": {"sun": [["00:00", "24:00"]]}})
    friday, tuesday = sunday - timedelta(days=2), sunday + timedelta(days=2)
    week = (local(zone, friday.year, friday.month, friday.day), local(zone, tuesday.year, tuesday.month, tuesday.day))
    assert calendar.between(*week) == real_hours * HOUR
    assert calendar.add(week[0], real_hours * HOUR) == local(zone, sunday.year, sunday.month, sunday.day + 1)


def test_an_early_morning_span_on_dst_days_holds_only_real_seconds():
    calendar = calendar_from_document("early", {"timezone": "America/New_York", "hours": {"sun": [["01:00", "03:00"]]}})
    spring = calendar.between(local(NEW_YORK, 2026, 3, 7), local(NEW_YORK, 2026, 3, 9))
    autumn = calendar.between(local(NEW_YORK, 2026, 10, 31), local(NEW_YORK, 2026, 11, 2))
    assert spring == 1 * HOUR  # 02:00-03:00 never happened
    assert autumn == 3 * HOUR  # 01:00-02:00 happened twice, each real second counted once


def test_a_span_starting_inside_the_skipped_hour_opens_when_the_clock_jumps():
    calendar = calendar_from_document("gap", {"timezone": "America/New_York", "hours": {"sun": [["02:30", "04:00"]]}})
    saturday = local(NEW_YORK, 2026, 3, 7, 12)
    assert calendar.next_open(saturday) == local(NEW_YORK, 2026, 3, 8, 3)
    assert calendar.between(saturday, local(NEW_YORK, 2026, 3, 9)) == 1 * HOUR


def test_office_hours_in_berlin_keep_their_wall_clock_after_the_change():
    calendar = office(tz="Europe/Berlin")
    friday = local(BERLIN, 2026, 3, 27, 16)  # CET; Monday is CEST
    assert calendar.add(friday, 2 * HOUR) == local(BERLIN, 2026, 3, 30, 9)


# --- consistency and speed ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["office-split-ID", "night", "berlin-24x7", "new-york-sundays"])
def test_between_undoes_add_on_random_samples(name):
    calendars = {
        "office-split-ID": office(split=True, country="ID", extra=("2026-12-24",)),
        "night": calendar_from_document(
            "night",
            {"timezone": "Europe/Berlin", "hours": {d: [["00:00", "06:00"], ["22:00", "24:00"]] for d in ALL_DAYS}},
        ),
        "berlin-24x7": round_the_clock("Europe/Berlin", extra=("2026-05-01",)),
        "new-york-sundays": calendar_from_document(
            "ny", {"timezone": "America/New_York", "hours": {"sun": [["01:00", "03:00"], ["09:00", "24:00"]]}}
        ),
    }
    calendar = calendars[name]
    rng = random.Random(20260329)
    year_start = datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(150):
        start = year_start + timedelta(seconds=rng.randrange(0, 350 * 24 * HOUR))
        seconds = rng.choice(
            [rng.uniform(0, 4 * HOUR), rng.uniform(0, 20 * 24 * HOUR), float(rng.randrange(0, 50 * HOUR))]
        )
        due = calendar.add(start, seconds)
        assert due >= start
        assert calendar.between(start, due) == pytest.approx(seconds, abs=1e-5)
        if seconds > 0:
            assert calendar.is_open(due - timedelta(microseconds=1))  # the last counted instant was open


def test_is_open_agrees_with_between():
    calendar = office(split=True, country="ID")
    rng = random.Random(7)
    for _ in range(200):
        at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(0, 360 * 24 * HOUR))
        assert calendar.is_open(at) == (calendar.between(at, at + timedelta(seconds=1)) == 1)


def test_a_four_week_target_is_computed_fast():
    calendar = office(split=True, country="ID")
    started = stopwatch.perf_counter()
    monday = local(WIB, 2026, 8, 3, 8)
    due = calendar.add(monday, 20 * 8 * HOUR)  # four working weeks of 8-hour days
    elapsed = stopwatch.perf_counter() - started
    # Independence Day (17th) and the Prophet's Birthday (25th) push it two working days past Friday the 28th
    assert due == local(WIB, 2026, 9, 1, 17)
    assert calendar.between(monday, due) == 20 * 8 * HOUR
    assert elapsed < 0.05


def test_twenty_four_seven_adds_plain_seconds():
    start = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert ALWAYS_OPEN.id == "24x7"
    assert ALWAYS_OPEN.add(start, 90_000.5) == start + timedelta(seconds=90_000.5)
    assert ALWAYS_OPEN.between(start, start + timedelta(days=30)) == 30 * 24 * HOUR
    assert ALWAYS_OPEN.is_open(start) and ALWAYS_OPEN.next_open(start) == start


# --- documents ----------------------------------------------------------------------------------------------


def test_a_document_is_normalised_and_round_trips():
    doc = {
        "timezone": "Asia/Jakarta",
        "hours": {"tue": [["13:00", "17:00"], ["08:00", "12:00"]], "mon": [["22:00", "24:00"]], "sun": []},
        "holidays": {"country": "id", "subdivision": None, "extra": ["2026-12-31", "2026-12-24"]},
    }
    normal = validate_calendar_document(doc)
    assert normal == {
        "timezone": "Asia/Jakarta",
        "hours": {"mon": [["22:00", "24:00"]], "tue": [["08:00", "12:00"], ["13:00", "17:00"]]},
        "holidays": {"country": "ID", "subdivision": None, "extra": ["2026-12-24", "2026-12-31"]},
    }
    calendar = calendar_from_document("jkt", doc, years=[2026])
    assert calendar.hours["mon"] == ((time(22), END_OF_DAY),)
    assert calendar_to_document(calendar) == normal
    assert calendar_from_document("jkt", normal, years=[2026]) == calendar


def test_a_subdivision_is_matched_to_the_library_spelling():
    calendar = calendar_from_document(
        "munich",
        {
            "timezone": "Europe/Berlin",
            "hours": {"mon": [["09:00", "17:00"]]},
            "holidays": {"country": "DE", "subdivision": "by"},
        },
        years=[2026],
    )
    assert calendar.subdivision == "BY"
    assert date(2026, 1, 6) in calendar.holidays  # Epiphany is a holiday in Bavaria only


def test_holidays_default_to_years_around_now():
    calendar = calendar_from_document(
        "jkt", {"timezone": "Asia/Jakarta", "hours": {"mon": [["09:00", "17:00"]]}, "holidays": {"country": "ID"}}
    )
    this_year = datetime.now(UTC).year
    assert {d.year for d in calendar.holidays} == set(range(this_year - 1, this_year + 3))


def base_doc(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"timezone": "Asia/Jakarta", "hours": {"mon": [["08:00", "17:00"]]}, "holidays": None}
    doc.update(changes)
    return doc


@pytest.mark.parametrize(
    "doc, words",
    [
        ("not a calendar", ["timezone", "hours"]),
        (base_doc(timezone="Mars/Olympus"), ["timezone", "Mars/Olympus"]),
        (base_doc(timezone=None), ["timezone"]),
        (base_doc(hours=None), ["hours"]),
        (base_doc(hours={"monday": [["08:00", "17:00"]]}), ["hours", "monday"]),
        (base_doc(hours={"mon": [["8am", "5pm"]]}), ["hours.mon", "HH:MM"]),
        (base_doc(hours={"mon": [["17:00", "08:00"]]}), ["hours.mon", "end after"]),
        (base_doc(hours={"mon": [["08:00", "12:00"], ["11:00", "17:00"]]}), ["hours.mon", "overlap"]),
        (base_doc(hours={"mon": "08:00-17:00"}), ["hours.mon"]),
        (base_doc(hours={"mon": []}), ["hours", "at least one day"]),
        (base_doc(holidays={"country": "XX"}), ["holidays.country", "XX"]),
        (base_doc(holidays={"country": "ID", "subdivision": "ZZ"}), ["holidays.subdivision", "ZZ"]),
        (base_doc(holidays={"subdivision": "BY"}), ["holidays.subdivision", "country"]),
        (base_doc(holidays={"extra": ["24/12/2026"]}), ["holidays.extra", "24/12/2026"]),
        (base_doc(holidays={"extra": "2026-12-24"}), ["holidays.extra"]),
        (base_doc(holidays={"region": "ID"}), ["holidays", "region"]),
        (base_doc(name="Jakarta"), ["unknown", "name"]),
    ],
)
def test_bad_documents_are_refused_naming_the_field(doc, words):
    with pytest.raises(ValidationFailed) as refused:
        calendar_from_document("bad", doc, years=[2026])
    for word in words:
        assert word in refused.value.message
