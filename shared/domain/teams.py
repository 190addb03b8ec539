"""A team's settings: every knob the product reads for a team, with its default, validated in one place.

Stored as the `team/<id>` config document (edited through `PUT`/`PATCH /v1/teams/{team}`). Readers get a
`TeamSettings` with every field filled, so a team nobody configured behaves exactly like the defaults say. A
change names only what it changes: the fields it leaves out keep their value.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import TYPE_CHECKING, Any, Mapping, Protocol

if TYPE_CHECKING:
    from shared.contracts.config import TeamDocument

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
    if not doc:
        return TeamSettings()  # nobody configured the team: no parsing, and no pydantic to import for it
    from shared.contracts.config import TeamDocument  # pydantic on the first read, not at the API's cold start

    return _settings(TeamDocument.salvaged(dict(doc)))


def changed_team(current: TeamSettings, change: Mapping[str, Any]) -> TeamSettings:
    """`current` with the fields `change` names set (validated); the rest keep their value."""
    from shared.contracts.config import TeamDocument
    from shared.contracts.refusals import validated

    given = validated(TeamDocument, change, "team settings")
    return replace(current, **{name: getattr(given, name) for name in given.model_fields_set})


def _settings(checked: TeamDocument) -> TeamSettings:
    return TeamSettings(**{name: getattr(checked, name) for name in FIELDS})
