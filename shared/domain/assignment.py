"""Who may take a ticket, and who should: pure rules over plain data.

Eligible = online, inside working hours (none set: whenever online), serves the ticket's channel (none listed:
every channel), tier high enough, and load below capacity. A skill is a preference, never a wall: among the
eligible, the ticket's previous agent comes first (a customer reply goes back to the person who knows the case),
then agents who have the ticket's skill, then the least loaded, and on a tie whoever waited longest since their
last assignment. Only while a team's skill wait runs (`skill_required`) are agents without the skill passed over.
The capacity check here only picks candidates — the guarantee that nobody is overfilled is the conditional write
in storage, so a stale read can never break it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

from shared.domain.errors import ValidationFailed

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_SPANS_A_DAY = 12


@dataclass(frozen=True)
class Candidate:
    agent_id: str
    load: int
    capacity: int
    presence: str = "online"
    skills: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()
    tier: int = 1
    timezone: str = "UTC"
    working_hours: Mapping[str, Sequence[Sequence[str]]] | None = None
    last_assigned_at: str | None = None
    team: str = "support"

    @property
    def free_slots(self) -> int:
        return max(0, self.capacity - self.load)

    def has_skill(self, skill: str | None) -> bool:
        return not skill or skill in self.skills


@dataclass(frozen=True)
class Need:
    """What a ticket asks of its agent."""

    channel: str
    skill: str | None = None
    tier: int = 1
    preferred_agent: str | None = None


@dataclass(frozen=True)
class WorkingHours:
    """Working hours: a day -> [[start, end], ...] in the agent's time zone; split shifts allowed."""

    hours: Mapping[str, tuple[tuple[time, time], ...]] = field(default_factory=dict)


def parse_hours(hours: Mapping[str, Sequence[Sequence[str]]]) -> WorkingHours:
    """Validate `{"mon": [["08:00", "12:00"], ["13:00", "17:00"]], ...}` with messages that name the culprit."""
    parsed: dict[str, tuple[tuple[time, time], ...]] = {}
    for day, spans in hours.items():
        if day not in DAYS:
            raise ValidationFailed(f"working_hours: unknown day {day!r}; use {', '.join(DAYS)}")
        if not isinstance(spans, (list, tuple)) or len(spans) > MAX_SPANS_A_DAY:
            raise ValidationFailed(f"working_hours.{day}: a list of at most {MAX_SPANS_A_DAY} [\"HH:MM\", \"HH:MM\"] spans")
        out = []
        for span in spans:
            if not isinstance(span, (list, tuple)) or len(span) != 2:
                raise ValidationFailed(f"working_hours.{day}: each span is [\"HH:MM\", \"HH:MM\"]; got {span!r}")
            try:
                start = time.fromisoformat(str(span[0]))
                # "24:00" closes the day; Python's time has no 24:00, so it becomes the last instant of the day
                end = time.max if str(span[1]) == "24:00" else time.fromisoformat(str(span[1]))
            except ValueError as exc:
                raise ValidationFailed(f"working_hours.{day}: times are HH:MM; got {span!r}") from exc
            if end <= start:
                raise ValidationFailed(f"working_hours.{day}: a span must end after it starts; got {span!r}")
            out.append((start, end))
        parsed[day] = tuple(out)
    return WorkingHours(parsed)


def zone(name: str) -> ZoneInfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # 2-6 ms (it reads sysconfig): only working hours need it

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed(f"unknown time zone {name!r}; use an IANA name like Asia/Jakarta") from exc


def within_hours(candidate: Candidate, now: datetime) -> bool:
    if not candidate.working_hours:
        return True
    local = now.astimezone(zone(candidate.timezone))
    spans = parse_hours(candidate.working_hours).hours.get(DAYS[local.weekday()], ())
    clock = local.time().replace(tzinfo=None)
    return any(start <= clock < end for start, end in spans)


def why_not(candidate: Candidate, need: Need, now: datetime) -> str | None:
    """The first reason this agent cannot take the ticket now, or None if they can."""
    if candidate.presence != "online":
        return f"presence is {candidate.presence}"
    if candidate.load >= candidate.capacity:
        return f"at capacity ({candidate.load}/{candidate.capacity})"
    if candidate.tier < need.tier:
        return f"tier {candidate.tier} below the required {need.tier}"
    if candidate.channels and need.channel not in candidate.channels:
        return f"does not serve channel {need.channel!r}"
    if not within_hours(candidate, now):
        return "outside working hours"
    return None


def rank_candidates(
    candidates: Iterable[Candidate], need: Need, now: datetime, *, skill_required: bool = False
) -> list[Candidate]:
    """Eligible agents, best first; with `skill_required`, only those with the ticket's skill."""
    eligible = [c for c in candidates if why_not(c, need, now) is None]
    if skill_required:
        eligible = [c for c in eligible if c.has_skill(need.skill)]
    return sorted(
        eligible,
        key=lambda c: (
            0 if c.agent_id == need.preferred_agent else 1,
            0 if c.has_skill(need.skill) else 1,
            c.load,
            c.last_assigned_at or "",
            c.agent_id,
        ),
    )


def assignment_reason(chosen: Candidate, need: Need) -> str:
    """Why this agent, in words a support lead reads on the ticket."""
    parts = []
    if chosen.agent_id == need.preferred_agent:
        parts.append("had the ticket before")
    if need.skill:
        parts.append(
            f"has skill {need.skill!r}"
            if chosen.has_skill(need.skill)
            else f"no free agent with skill {need.skill!r}: best agent without it"
        )
    parts.append(f"load {chosen.load}/{chosen.capacity} before")
    return "; ".join(parts)


def next_shift_start(candidate: Candidate, now: datetime, within: timedelta) -> datetime | None:
    """When the agent's next working span starts, if it starts after `now` and no later than `now + within`; None
    for agents without working hours (always available while online) or with nothing starting that soon."""
    if not candidate.working_hours:
        return None
    tz = zone(candidate.timezone)
    shift = parse_hours(candidate.working_hours)
    local_now = now.astimezone(tz)
    horizon = now + within
    for offset in range(0, 2 + within.days):
        day = (local_now + timedelta(days=offset)).date()
        for start, _end in sorted(shift.hours.get(DAYS[day.weekday()], ())):
            begins = datetime.combine(day, start, tzinfo=tz)
            if now < begins <= horizon:
                return begins
    return None
