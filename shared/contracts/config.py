"""The configuration documents a support lead edits through the API, as pydantic models: the one place that says
what a document may hold. The rule modules parse through them (`rules_from_document`, `policy_from_document`,
...) and build their own domain objects from the result, so a document that gets past a model is one the rules
can use, and a refusal names the field: `keyword_rules[2].priority: 'p1' is not a priority; ...`.

The models reuse the rule modules' vocabulary (metric names, placeholders, days) and checks (time zones, the
template sandbox); the rule modules import this module only when they parse, so pydantic stays off the cold start.
Unknown fields are refused everywhere, as the hand-written checks these models replace refused them.
"""

from __future__ import annotations

import functools
import math
import re
from datetime import date, time
from decimal import Decimal
from types import MappingProxyType
from typing import Annotated, Any, Mapping, Sequence, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StrictBool,
    StrictFloat,
    StrictInt,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from shared.domain.assignment import DAYS, MAX_SPANS_A_DAY, zone
from shared.domain.business_calendar import END_OF_DAY
from shared.contracts.refusals import NON_BLANK, described_pattern, refused, refused_at
from shared.domain.errors import ValidationFailed
from shared.domain.model import Channel, Priority, Tier
from shared.domain.priority import IMPORTANCE_LEVELS, PriorityRules
from shared.domain.sla_clock import ACTIONS, ESCALATION_TIERS, MAX_FRACTION, MAX_TARGET_SECONDS, METRICS, NOTIFY_ROLES
from shared.domain.teams import (
    ALWAYS_OPEN_CALENDAR,
    MAX_IDLE_MINUTES,
    MAX_PEOPLE,
    MAX_SKILL_WAIT_SECONDS,
    STRATEGIES,
    TeamSettings,
)
from shared.domain.templates import ANY_CHANNEL, PLACEHOLDERS, compiled_source
from shared.domain.textmatch import normalize

Item = TypeVar("Item")

# --- building blocks ----------------------------------------------------------------------------------------


class OneOf:
    """Annotation for a text that must be one of `values`: refused as "'x' is not a priority; expected one of
    low, ...", listed as an `enum` in the JSON schema."""

    def __init__(self, values: Sequence[str], what: str) -> None:
        self.values = tuple(values)
        self.what = what

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_before_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["enum"] = list(self.values)
        return json_schema

    def _check(self, value: Any) -> Any:
        if not isinstance(value, str) or value not in self.values:
            raise refused(f"{value!r} is not {self.what}; expected one of {', '.join(self.values)}")
        return value


def _whole(value: Any) -> Any:
    """DynamoDB reads numbers back as Decimal and JSON may say 900.0: a whole value of either is that int."""
    if isinstance(value, (float, Decimal)) and math.isfinite(value) and value == int(value):
        return int(value)
    return value


Whole = BeforeValidator(_whole)
WholeNumber = Annotated[StrictInt, Whole]
"""An int (booleans and numeric strings are not numbers here); bounds go before `Whole`, as in `Levels`."""
Number = Annotated[StrictFloat, Field(allow_inf_nan=False)]
"""An int, float or Decimal as a finite float (booleans and numeric strings are not numbers here)."""
NonBlank = Annotated[str, Field(pattern=NON_BLANK)]


def _without_repeats(items: list[Any]) -> list[Any]:
    for index, item in enumerate(items):
        if item in items[:index]:
            raise refused_at((index,), f"{item!r} is listed twice", item)
    return items


class ClosedDocument(BaseModel):
    """Refuses unknown fields naming the known ones (and says `additionalProperties: false` in the schema)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _known_fields_only(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        unknown = sorted(str(key) for key in data if key not in cls.model_fields)
        if unknown:
            raise refused(f"unknown field(s) {', '.join(unknown)}; expected {', '.join(cls.model_fields)}")
        return dict(data)


# --- priority rules (shared/domain/priority.py) --------------------------------------------------------------------

PRIORITIES = tuple(priority.value for priority in Priority)
CHANNELS = tuple(channel.value for channel in Channel)
TIERS = tuple(tier.value for tier in Tier)
PriorityName = Annotated[str, OneOf(PRIORITIES, "a priority")]
ChannelName = Annotated[str, OneOf(CHANNELS, "a valid channel")]
TierName = Annotated[str, OneOf(TIERS, "a valid tier")]
ImportanceName = Annotated[str, OneOf(IMPORTANCE_LEVELS, "a valid importance")]
_NEUTRAL_RULES = PriorityRules()
_TOP_LEVEL = len(PRIORITIES) - 1


def _matchable(phrase: str) -> str:
    if not normalize(phrase):
        raise refused(f"{phrase!r} has no letters or digits to match")
    return phrase


def _distinct_phrases(phrases: list[str]) -> list[str]:
    """Phrases are matched normalised, so "URGENT" repeats "urgent"."""
    seen: dict[str, str] = {}
    for index, phrase in enumerate(phrases):
        key = normalize(phrase)
        if key in seen:
            raise refused_at((index,), f"{phrase!r} repeats {seen[key]!r}", phrase)
        seen[key] = phrase
    return phrases


Phrases = Annotated[list[Annotated[str, AfterValidator(_matchable)]], AfterValidator(_distinct_phrases)]
Levels = Annotated[StrictInt, Field(ge=0, le=_TOP_LEVEL), Whole]


class KeywordRuleDocument(ClosedDocument):
    """Phrases that, when a customer writes them, set the ticket's priority (and category and skill)."""

    name: str = ""
    phrases: Annotated[Phrases, Field(min_length=1)]
    priority: PriorityName
    category: NonBlank | None = None
    skill: NonBlank | None = None
    channels: Annotated[list[ChannelName], AfterValidator(_without_repeats)] = Field(
        default=[], description="The channels the rule applies to; none: every channel."
    )


class PriorityRulesDocument(ClosedDocument):
    """The whole rule set; a field left out takes the neutral default (no keywords, no boosts)."""

    default_priority: PriorityName = _NEUTRAL_RULES.default_priority.value
    default_category: NonBlank = _NEUTRAL_RULES.default_category
    keyword_rules: list[KeywordRuleDocument] = []
    impact_phrases: Phrases = []
    tier_boost: dict[TierName, Levels] = {}
    tier_boost_ceiling: PriorityName = _NEUTRAL_RULES.tier_boost_ceiling.value
    channel_floor: dict[ChannelName, PriorityName] = {}
    importance_floor: dict[ImportanceName, PriorityName] = {}


# --- SLA policies (shared/domain/sla_clock.py) ---------------------------------------------------------------------------

MetricName = Annotated[str, OneOf(METRICS, "a metric")]
ActionName = Annotated[str, OneOf(ACTIONS, "an action")]
NotifyRole = Annotated[str, OneOf(NOTIFY_ROLES, "a role to notify")]


def _trimmed_lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _trimmed(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _first_of_each(values: list[str] | None) -> list[str]:
    """Conditions and notify lists may repeat a value; it counts once, in its first place."""
    return list(dict.fromkeys(values or ()))


Listed = Annotated[list[Item] | None, AfterValidator(_first_of_each)]
Lowered = BeforeValidator(_trimmed_lower)


class ConditionsDocument(ClosedDocument):
    """Which tickets a policy covers: each condition listed must contain the ticket's value (tags: any one)."""

    priority: Listed[Annotated[PriorityName, Lowered]] = None
    tier: Listed[Annotated[TierName, Lowered]] = None
    channel: Listed[Annotated[ChannelName, Lowered]] = None
    tags: Listed[Annotated[NonBlank, Lowered]] = None
    team: Listed[Annotated[NonBlank, BeforeValidator(_trimmed)]] = None


TargetSeconds = Annotated[StrictInt, Field(ge=1, le=MAX_TARGET_SECONDS, description="Seconds of business time"), Whole]
EscalationTier = Annotated[StrictInt, Field(ge=min(ESCALATION_TIERS), le=max(ESCALATION_TIERS)), Whole]


class LadderStepDocument(ClosedDocument):
    """When `metric` has used `at` x its target, `action` fires; an escalation moves the ticket to `tier`."""

    metric: MetricName
    at: Annotated[Number, Field(gt=0, le=MAX_FRACTION, description="A fraction of the target: 0.75, 1, 1.5")]
    action: ActionName
    tier: EscalationTier | None = None
    notify: Listed[NotifyRole] = None

    @model_validator(mode="after")
    def _tier_only_when_escalating(self) -> LadderStepDocument:
        if self.tier is not None and self.action != "escalate":
            raise refused_at(("tier",), "only an escalate step moves the ticket to a tier", self.tier)
        return self


class SlaPolicyDocument(ClosedDocument):
    """Which tickets (conditions), how many seconds of business time each metric may take (targets), on which
    calendar, and the ladder of warnings and escalations. Validate with `context={"stored_as": policy_id}`."""

    id: str | None = Field(default=None, description="Where the policy is stored; may be left out")
    position: Annotated[WholeNumber, Field(description="Lower positions are tried first")]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    conditions: ConditionsDocument | None = None
    targets: Annotated[dict[MetricName, TargetSeconds], Field(min_length=1)]
    calendar: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] = ALWAYS_OPEN_CALENDAR
    ladder: list[LadderStepDocument] | None = None

    @model_validator(mode="after")
    def _stored_where_it_says(self, info: ValidationInfo) -> SlaPolicyDocument:
        stored_as = (info.context or {}).get("stored_as")
        if stored_as is not None and not str(stored_as).strip():
            raise refused_at(("id",), "a policy needs a non-empty id", stored_as)
        if stored_as is not None and self.id not in (None, stored_as):
            raise refused_at(("id",), f"the document says {self.id!r} but it is stored as {stored_as!r}", self.id)
        return self

    @model_validator(mode="after")
    def _ladder_fits_the_targets(self) -> SlaPolicyDocument:
        """A step needs its metric's target, and each (metric, at, action) fires once."""
        first_seen: dict[tuple[str, float, str], int] = {}
        for index, step in enumerate(self.ladder or ()):
            if step.metric not in self.targets:
                missing = f"{step.metric} has no target in this policy"
                raise refused_at(("ladder", index, "metric"), missing, step.metric)
            key = (step.metric, step.at, step.action)
            if key in first_seen:
                listed = f"{step.action} at {step.at:g} of {step.metric} is listed twice (ladder[{first_seen[key]}])"
                raise refused_at(("ladder", index), listed, step.model_dump())
            first_seen[key] = index
        return self


# --- business calendars (shared/domain/business_calendar.py) -------------------------------------------------------

DayName = Annotated[str, OneOf(DAYS, "a day")]


def known_time_zone(name: str) -> str:
    """The IANA name, refused in a contract's words when Python's zoneinfo does not know it."""
    try:
        zone(name)
    except ValidationFailed as exc:
        raise refused(exc.message) from None
    return name


def _local_span(value: Any) -> Any:
    """["08:00", "17:00"] as local times; a "24:00" end is midnight at the end of the day (END_OF_DAY)."""
    if not isinstance(value, (list, tuple)) or len(value) != 2 or not all(isinstance(t, str) for t in value):
        raise refused(f'each span is ["HH:MM", "HH:MM"]; got {value!r}')
    try:
        start = time.fromisoformat(value[0])
        end = END_OF_DAY if value[1] == "24:00" else time.fromisoformat(value[1])
    except ValueError:
        raise refused(f"times are HH:MM; got {value!r}") from None
    if start.tzinfo is not None or end.tzinfo is not None:
        raise refused(f"times are local HH:MM without an offset; got {value!r}")
    end = END_OF_DAY if end == time.max else end
    if end != END_OF_DAY and end <= start:
        raise refused(f"a span must end after it starts; got {value!r}")
    return (start, end)


def _without_overlap(spans: list[tuple[time, time]]) -> list[tuple[time, time]]:
    """Split shifts are fine; two spans covering the same minutes are a mistake. Returned in order."""
    ordered = sorted(spans)
    for (_, earlier_end), (later_start, _) in zip(ordered, ordered[1:]):
        if earlier_end == END_OF_DAY or later_start < earlier_end:
            raise refused("spans overlap; list each stretch of time once")
    return ordered


_SPAN_SCHEMA = {
    "type": "array",
    "items": {"type": "string"},
    "minItems": 2,
    "maxItems": 2,
    "description": 'Local ["HH:MM", "HH:MM"]; "24:00" as the end is midnight',
    "examples": [["08:00", "17:00"]],
}
Span = Annotated[tuple[time, time], BeforeValidator(_local_span), WithJsonSchema(_SPAN_SCHEMA)]
DaySpans = Annotated[list[Span], Field(max_length=MAX_SPANS_A_DAY), AfterValidator(_without_overlap)]


@functools.lru_cache(maxsize=1)
def _supported_countries() -> Mapping[str, tuple[str, ...]]:
    import holidays  # 25 ms of import: only calendars that name a country need it

    supported = holidays.list_supported_countries()
    return {country: tuple(map(str, subdivisions)) for country, subdivisions in supported.items()}


def _known_country(code: str) -> str:
    if code.strip().upper() not in _supported_countries():
        raise refused(f"unknown country {code!r}; use an ISO 3166 code such as ID, DE or US")
    return code.strip().upper()


def _iso_date(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise refused(f"{value!r} is not a date like 2026-12-24")


def _in_order(dates: list[date] | None) -> list[date]:
    return sorted(set(dates or ()))


class HolidaysDocument(ClosedDocument):
    """Public holidays of a country (and subdivision) from the `holidays` library, plus the team's own dates."""

    country: Annotated[str, AfterValidator(_known_country)] | None = None
    subdivision: str | None = None
    extra: Annotated[list[Annotated[date, BeforeValidator(_iso_date)]] | None, AfterValidator(_in_order)] = None

    @model_validator(mode="after")
    def _subdivision_of_the_country(self) -> HolidaysDocument:
        if self.subdivision is None:
            return self
        if self.country is None:
            raise refused_at(("subdivision",), "needs holidays.country", self.subdivision)
        known = {code.lower(): code for code in _supported_countries()[self.country]}
        if self.subdivision.strip().lower() not in known:
            choices = f"; use one of {', '.join(sorted(known.values()))}" if known else "; it has none"
            message = f"unknown subdivision {self.subdivision!r} of {self.country}{choices}"
            raise refused_at(("subdivision",), message, self.subdivision)
        return self.model_copy(update={"subdivision": known[self.subdivision.strip().lower()]})


class CalendarDocument(ClosedDocument):
    """Weekly opening hours in one IANA time zone, minus holidays: the business time SLA targets count."""

    timezone: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1), AfterValidator(known_time_zone)
    ] = Field(description="An IANA name such as Asia/Jakarta")
    hours: dict[DayName, DaySpans] = Field(examples=[{"mon": [["08:00", "12:00"], ["13:00", "17:00"]]}])
    holidays: HolidaysDocument | None = None

    @model_validator(mode="after")
    def _open_at_some_time(self) -> CalendarDocument:
        if not any(self.hours.values()):
            raise refused_at(("hours",), "at least one day needs opening hours, or no deadline could ever fall", {})
        return self


# --- team settings (shared/domain/teams.py) ------------------------------------------------------------------------

LANGUAGE_CODE = described_pattern(r"^[A-Za-z]{2,3}$", "must be a language code such as id or en")
EMAIL_ADDRESS = described_pattern(r"@", "must be an email address")


def _whole_if_possible(minutes: float) -> float:
    return int(minutes) if minutes == int(minutes) else minutes


def _people(addresses: Sequence[str]) -> tuple[str, ...]:
    """Addresses compare without case or surrounding space; each is alerted once."""
    return tuple(sorted({address.strip().lower() for address in addresses}))


Minutes = Annotated[Number, Field(ge=1, le=MAX_IDLE_MINUTES), AfterValidator(_whole_if_possible)]
People = Annotated[
    tuple[Annotated[str, Field(max_length=320, pattern=EMAIL_ADDRESS)], ...],
    Field(max_length=MAX_PEOPLE),
    AfterValidator(_people),
]
_TEAM_DEFAULTS = TeamSettings()


class TeamDocument(ClosedDocument):
    """Every knob the product reads for a team; a field left out keeps its default (or, in a change, its value)."""

    strategy: Annotated[str, OneOf(STRATEGIES, "a strategy")] = Field(
        default=_TEAM_DEFAULTS.strategy, description="urgency: priority then age; fifo: age, VIP first"
    )
    language: Annotated[str, Field(pattern=LANGUAGE_CODE), AfterValidator(str.lower)] = Field(
        default=_TEAM_DEFAULTS.language, description="Customers' language when their mail does not tell"
    )
    calendar: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] = Field(
        default=_TEAM_DEFAULTS.calendar, description="The business hours non-urgent alerts keep to"
    )
    supervisors: People = Field(default=_TEAM_DEFAULTS.supervisors, description="Alerted on escalations to tier 2")
    managers: People = Field(default=_TEAM_DEFAULTS.managers, description="Alerted on escalations to tier 3")
    idle_minutes: Minutes = Field(
        default=_TEAM_DEFAULTS.idle_minutes, description="Untouched this long (business time): flagged idle"
    )
    vip_idle_minutes: Minutes = Field(
        default=_TEAM_DEFAULTS.vip_idle_minutes, description="A VIP's ticket untouched this long goes to tier 2"
    )
    skill_wait_seconds: Annotated[StrictInt, Field(ge=0, le=MAX_SKILL_WAIT_SECONDS), Whole] = Field(
        default=_TEAM_DEFAULTS.skill_wait_seconds,
        description="How long a ticket waits for an agent with its skill before anyone may take it",
    )

    @classmethod
    def salvaged(cls, data: Mapping[str, Any]) -> TeamDocument:
        """What a stored document still means: a field that no longer validates (or is no longer known) falls
        back to its default, so one stale setting never stops the product reading the rest."""
        known = {name: value for name, value in data.items() if name in cls.model_fields}
        try:
            return cls.model_validate(known)
        except ValidationError as error:
            broken = {detail["loc"][0] for detail in error.errors() if detail["loc"]}
            return cls.model_validate({name: value for name, value in known.items() if name not in broken})


# --- message templates (shared/domain/templates.py) ----------------------------------------------------------------

TEMPLATE_ID = described_pattern(
    r"^[a-z0-9][a-z0-9_.-]{0,63}$", "must be 1-64 lowercase letters, digits, '-', '_' or '.'"
)
LANGUAGE_TAG = described_pattern(
    r"^[a-z]{2,3}$", "must be a lowercase 2-3 letter language code such as 'id' or 'en'"
)
TEMPLATE_CHANNEL = described_pattern(
    rf"^([a-z][a-z0-9_-]{{0,31}}|{re.escape(ANY_CHANNEL)})$",
    f"must be a lowercase channel name such as 'email' or 'chat', or {ANY_CHANNEL!r} for any channel",
)
ONE_LINE = described_pattern(
    r"^[^\r\n]*\S[^\r\n]*$", "must be a single line with some text (leave it out for no subject)"
)
_PLACEHOLDER_NOTE = f"Jinja2 in a sandbox; placeholders: {', '.join(PLACEHOLDERS)}"


def _sendable(*, html: bool) -> AfterValidator:
    """The part parses, uses only the placeholders, and does not reach into Python (the sandbox's own check)."""

    def check(source: str) -> str:
        compiled_source(source, html=html)  # its ValueError is the refusal: "line 3: unexpected '}'"
        return source

    return AfterValidator(check)


class TemplateDocument(ClosedDocument):
    """One wording of one message, for one language and one channel; checked when saved so nothing goes out
    broken or half-rendered."""

    id: Annotated[str, Field(pattern=TEMPLATE_ID)]
    language: Annotated[str, Field(pattern=LANGUAGE_TAG)]
    channel: Annotated[str, Field(pattern=TEMPLATE_CHANNEL)]
    subject: Annotated[str, Field(pattern=ONE_LINE), _sendable(html=False)] | None = Field(
        default=None, description=f"The email subject; {_PLACEHOLDER_NOTE}"
    )
    text: Annotated[NonBlank, _sendable(html=False)] = Field(description=f"The plain-text body; {_PLACEHOLDER_NOTE}")
    html: Annotated[NonBlank, _sendable(html=True)] | None = Field(
        default=None, description=f"An HTML body (values are escaped); {_PLACEHOLDER_NOTE}"
    )
    whatsapp_template: Annotated[str, Field(pattern=r"^[a-z0-9_]{1,512}$")] | None = Field(
        default=None,
        description="The approved WhatsApp message template sent instead of this text outside WhatsApp's 24-hour "
        "customer-service window (its language is this template's); none: the notice is not sent there, and says why",
    )


# --- keyword auto-replies (shared/services/customer_messages.py) -----------------------------------------------------

MAX_AUTO_REPLY_PHRASES = 200
MAX_AUTO_REPLY_PHRASE_CHARS = 200
MAX_AUTO_REPLY_CHANNELS = 20
MAX_CHANNEL_CHARS = 32


class AutoReplyDocument(ClosedDocument):
    """R5: a customer message on one of `channels` containing one of `phrases` is answered with `template`
    (a stored template id, checked by the API when saved), and the ticket resolved if `resolve`."""

    channels: Annotated[
        list[Annotated[str, Field(max_length=MAX_CHANNEL_CHARS)]], Field(max_length=MAX_AUTO_REPLY_CHANNELS)
    ] = Field(default=[], description="Channel names; none: every channel")
    phrases: Annotated[
        list[Annotated[NonBlank, Field(max_length=MAX_AUTO_REPLY_PHRASE_CHARS)]],
        Field(min_length=1, max_length=MAX_AUTO_REPLY_PHRASES),
    ]
    template: Annotated[str, Field(min_length=1)]
    resolve: StrictBool = False


# --- every kind, for /openapi.json --------------------------------------------------------------------------

CONFIG_DOCUMENTS: Mapping[str, type[BaseModel]] = MappingProxyType(
    {
        "priority-rules": PriorityRulesDocument,
        "sla-policy": SlaPolicyDocument,
        "calendar": CalendarDocument,
        "team": TeamDocument,
        "template": TemplateDocument,
        "auto-reply": AutoReplyDocument,
    }
)
"""The kind a document is stored under in the config table (and edited at /v1/...) -> its model."""
