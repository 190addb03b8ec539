"""A team's settings: every knob the product reads for a team, with its default, validated in one place.

Stored as the `team/<id>` config document (edited through `PUT`/`PATCH /v1/teams/{team}`). Readers get a
`TeamSettings` with every field filled, so a team nobody configured behaves exactly like the defaults say. A
change names only what it changes: the fields it leaves out keep their value.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Mapping, Protocol

from shared.domain.errors import ValidationFailed

STRATEGIES = ("urgency", "fifo")
ALWAYS_OPEN_CALENDAR = "24x7"  # the built-in calendar (shared/domain/business_calendar.py), open every hour of the year
MAX_PEOPLE = 50
MAX_IDLE_MINUTES = 60 * 24 * 30  # a month
MAX_SKILL_WAIT_SECONDS = 24 * 3600


@dataclass(frozen=True)
class TeamSettings:
    strategy: str = "urgency"  # urgency: priority then age; fifo: age, VIP first
    language: str = "id"  # customers' language when their mail does not tell
    calendar: str = ALWAYS_OPEN_CALENDAR  # business hours non-urgent alerts keep to
    supervisors: tuple[str, ...] = ()  # alerted on escalations to tier 2
    managers: tuple[str, ...] = ()  # alerted on escalations to tier 3
    idle_minutes: float = 240  # a ticket untouched this long (business time) is flagged idle
    vip_idle_minutes: float = 30  # a VIP's ticket untouched this long goes to tier 2
    skill_wait_seconds: int = 0  # how long a ticket waits for an agent with its skill before anyone may take it

    def document(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["supervisors"], doc["managers"] = list(self.supervisors), list(self.managers)
        return doc


FIELDS = tuple(f.name for f in fields(TeamSettings))


class ConfigReader(Protocol):
    def get(self, kind: str, name: str) -> dict[str, Any] | None: ...


def team_settings(config: ConfigReader, team: str) -> TeamSettings:
    return team_from_document(config.get("team", team))


def team_from_document(doc: Mapping[str, Any] | None) -> TeamSettings:
    """What a stored document means; anything unreadable in it falls back to the default for that field."""
    doc = dict(doc or {})
    values: dict[str, Any] = {}
    for name in FIELDS:
        if name not in doc:
            continue
        try:
            values[name] = _validated(name, doc[name])
        except ValidationFailed:
            continue
    return TeamSettings(**values)


def changed_team(current: TeamSettings, change: Mapping[str, Any]) -> TeamSettings:
    """`current` with the fields `change` names set (validated); the rest keep their value."""
    if not isinstance(change, Mapping):
        raise ValidationFailed("the body must be a JSON object of team settings")
    unknown = sorted(set(change) - set(FIELDS))
    if unknown:
        raise ValidationFailed(f"unknown fields {unknown}; use {', '.join(FIELDS)}")
    values = {name: _validated(name, value) for name, value in change.items()}
    return replace(current, **values)


def _validated(name: str, value: Any) -> Any:
    if name == "strategy":
        if value not in STRATEGIES:
            raise ValidationFailed(f"strategy must be one of {', '.join(STRATEGIES)}")
        return value
    if name == "language":
        if not isinstance(value, str) or not value.isascii() or not value.isalpha() or not 2 <= len(value) <= 3:
            raise ValidationFailed("language must be a language code such as id or en")
        return value.lower()
    if name == "calendar":
        if not isinstance(value, str) or not value.strip() or len(value) > 64:
            raise ValidationFailed(f"calendar must be a calendar id such as {ALWAYS_OPEN_CALENDAR}")
        return value.strip()
    if name in ("supervisors", "managers"):
        if (
            not isinstance(value, list)
            or len(value) > MAX_PEOPLE
            or not all(isinstance(p, str) and "@" in p and len(p) <= 320 for p in value)
        ):
            raise ValidationFailed(f"{name} must be a list of at most {MAX_PEOPLE} email addresses")
        return tuple(sorted({p.strip().lower() for p in value}))
    if name in ("idle_minutes", "vip_idle_minutes"):
        if not _is_number(value) or not 1 <= value <= MAX_IDLE_MINUTES:
            raise ValidationFailed(f"{name} must be a number of minutes from 1 to {MAX_IDLE_MINUTES}")
        return int(value) if int(value) == value else float(value)
    if name == "skill_wait_seconds":
        if not _is_number(value) or not 0 <= value <= MAX_SKILL_WAIT_SECONDS or int(value) != value:
            raise ValidationFailed(f"skill_wait_seconds must be a whole number of seconds from 0 to {MAX_SKILL_WAIT_SECONDS}")
        return int(value)
    raise ValidationFailed(f"unknown field {name}")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value  # not NaN
