"""Every HTTP request body, query and response of the agent API, as pydantic models: `/openapi.json` is generated
from them, routes validate with them, and the response models are what the representation functions must produce
(checked by tests and by the schemathesis run).

Request models refuse unknown fields naming the known ones; a refusal reads `customer.email: must be an email
address; got 'x'`. Limits are the ones storage and delivery impose: a message body is at most MESSAGE_BYTES of
UTF-8 (a thread item must stay well under DynamoDB's 400 KB), names one line of at most NAME_CHARS.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator

from shared.contracts.config import (
    AutoReplyDocument,
    CalendarDocument,
    ClosedDocument,
    OneOf,
    SlaPolicyDocument,
    TeamDocument,
    TemplateDocument,
    known_time_zone,
)
from shared.contracts.refusals import described_pattern, refused, refused_at
from shared.domain.errors import ValidationFailed
from shared.domain.ids import PLAIN_ID
from shared.domain.model import Channel, Presence, Priority, Status, Tier

MESSAGE_BYTES = 100_000
NAME_CHARS = 200
MAX_LIST = 50  # tags, skills, channels
LABEL_CHARS = 100  # one tag or skill
EMAIL_CHARS = 320
MAX_ESCALATION_LEVEL = 2

API_CHANNELS = tuple(c.value for c in Channel if c != Channel.EMAIL)
"""Channels a ticket may be opened on through the API: email arrives through SES."""

ID_PATTERN = described_pattern(PLAIN_ID, "must be 1-64 letters, digits, '-', '_' or '.' (starting with a letter or digit)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_EMAIL = described_pattern(r"^[^@\s]+@[^@\s]+$", "must be an email address")

Item = TypeVar("Item")


def _utf8_at_most(limit: int) -> AfterValidator:
    def check(value: str) -> str:
        size = len(value.encode("utf-8", "surrogatepass"))
        if size > limit:
            raise refused(f"is {size} bytes of UTF-8; at most {limit}")
        return value

    return AfterValidator(check)


def _stripped(value: str) -> str:
    if not value.strip():
        raise refused("must be a non-empty string")
    return value.strip()


def _one_line(value: str) -> str:
    cleaned = " ".join(_CONTROL.sub(" ", value).split())
    if len(cleaned) > NAME_CHARS:
        raise refused(f"is longer than {NAME_CHARS} characters")
    if not cleaned:
        raise refused("must be a non-empty string")
    return cleaned


def _label(value: str) -> str:
    if _CONTROL.search(value) or not value.strip():
        raise refused("must be a one-line, non-empty label")
    return value.strip()


MessageText = Annotated[str, _utf8_at_most(MESSAGE_BYTES), AfterValidator(_stripped)]
Name = Annotated[str, Field(max_length=NAME_CHARS * 4), AfterValidator(_one_line)]
Email = Annotated[str, Field(max_length=EMAIL_CHARS, pattern=_EMAIL)]
Label = Annotated[str, Field(min_length=1, max_length=LABEL_CHARS), AfterValidator(_label)]
Labels = Annotated[list[Label], Field(max_length=MAX_LIST)]
Id = Annotated[str, Field(pattern=ID_PATTERN)]


class Refusal(BaseModel):
    code: str = Field(description="validation_failed, unauthorized, forbidden, not_found, conflict, ...")
    message: str = Field(description="What is wrong, in words a person can act on")
    fields: dict[str, str] | None = Field(
        default=None, description='validation_failed: each refused field\'s path ("ladder[0].at") and its problem'
    )


class ErrorBody(BaseModel):
    """Every 4xx and 5xx, whoever produced it."""

    error: Refusal


# --- requests -------------------------------------------------------------------------------------------------


def left_out(description: str | None = None) -> Any:
    """The default of a field a change may leave out (the value is kept) but may not send as null; the schema
    shows no default, since null is not a value it accepts."""
    return Field(default=None, validate_default=False, description=description, json_schema_extra=_no_default)


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


class CustomerContact(ClosedDocument):
    email: Email | None = None
    handle: Annotated[str, Field(max_length=EMAIL_CHARS), AfterValidator(_stripped)] | None = Field(
        default=None, description="The customer's id on the channel (chat visitor, phone number, social handle)"
    )
    name: Name | None = None

    @model_validator(mode="after")
    def _reachable(self) -> CustomerContact:
        if not self.email and not self.handle:
            raise refused("needs an email or a handle")
        return self


class TicketIntake(ClosedDocument):
    """A web form, chat start, phone note or social message, through the same intake as email."""

    channel: Annotated[str, OneOf(API_CHANNELS, "a channel tickets may be opened on here (email arrives through SES)")]
    customer: CustomerContact
    body: MessageText
    subject: Name | None = Field(default=None, description="Defaults to the body's first line")


class Reply(ClosedDocument):
    """A public reply goes out on the ticket's channel (email: threaded, signed Reply-To); internal: a note."""

    body: MessageText
    internal: StrictBool = False


class TicketPatch(ClosedDocument):
    """Fields left out stay as they are; `assignee: null` puts the ticket back in the queue."""

    status: Status | None = Field(default=None, description="Through the state machine")
    assignee: Id | None = Field(default=None, description="An agent id (another agent's: supervisors only), or null")
    priority: Priority | None = None
    tags: Labels | None = Field(
        default=None, description='Tagging an escalation keyword ("system down") escalates to tier 2'
    )
    escalation_level: Annotated[StrictInt, Field(ge=0, le=MAX_ESCALATION_LEVEL)] | None = Field(
        default=None, description="0 (tier 1), 1 (tier 2), 2 (tier 3): supervisors only; overrules the causes"
    )
    reason: Annotated[str, Field(max_length=1000)] | None = None

    @property
    def unassigns(self) -> bool:
        return "assignee" in self.model_fields_set and self.assignee is None


def _working_hours(hours: dict[str, list[list[str]]]) -> dict[str, list[list[str]]]:
    from shared.domain.assignment import parse_hours

    try:
        parse_hours(hours)
    except ValidationFailed as exc:  # "working_hours.mon: a span must end ..." names the day: keep it in the path
        where, _, problem = exc.message.partition(": ")
        day = where.removeprefix("working_hours").lstrip(".")
        raise (refused_at((day,), problem, hours) if day else refused(problem or exc.message)) from None
    return hours


class AgentChange(ClosedDocument):
    """Create or update an agent; fields left out keep their value (null clears name, email and working hours
    only). Agents may set their own presence."""

    name: Name | None = None
    email: Email | None = None
    team: Id = left_out()
    presence: Presence = left_out()
    capacity: Annotated[StrictInt, Field(ge=0, le=100)] = left_out("Tickets at once")
    skills: Labels = left_out()
    channels: Annotated[list[Channel], Field(max_length=MAX_LIST)] = left_out()
    tier: Literal[1, 2, 3] = left_out()
    timezone: Annotated[str, Field(max_length=64), AfterValidator(known_time_zone)] = left_out("IANA name: Asia/Jakarta")
    working_hours: Annotated[dict[str, list[list[str]]], AfterValidator(_working_hours)] | None = Field(
        default=None, description='{"mon": [["08:00", "17:00"]], ...}; null: always within hours'
    )

    @model_validator(mode="before")
    @classmethod
    def _load_is_derived(cls, data: Any) -> Any:
        if isinstance(data, dict) and "load" in data:
            raise refused("load is read-only: it follows the tickets assigned to the agent")
        return data

    def given(self) -> dict[str, Any]:
        """The fields the request set, as plain values (enums as their strings)."""
        return self.model_dump(mode="json", include=self.model_fields_set)


class CustomerChange(ClosedDocument):
    tier: Tier = left_out()
    name: Name = left_out()


class TeamChange(TeamDocument):
    """The team's settings; fields left out keep their value."""


# --- queries ---------------------------------------------------------------------------------------------------


class Query(BaseModel):
    """Query strings: unknown parameters are ignored (caches and tracking add their own)."""

    model_config = ConfigDict(extra="ignore")


class TicketQuery(Query):
    status: Status | None = None
    priority: Priority | None = None
    channel: Channel | None = None
    assignee: Annotated[str, Field(max_length=64)] | None = None
    tag: Annotated[str, Field(max_length=LABEL_CHARS)] | None = None
    tier: Tier | None = None
    escalation_level: Annotated[int, Field(ge=0, le=10)] | None = None
    customer: Annotated[str, Field(max_length=EMAIL_CHARS)] | None = Field(default=None, description="A customer id")
    q: Annotated[str, Field(max_length=200)] | None = Field(default=None, description="Words in the subject")
    limit: Annotated[int, Field(ge=1, le=100)] = 25
    cursor: Annotated[str, Field(max_length=2000)] | None = Field(default=None, description="From next_cursor")
    updated_since: datetime | None = Field(
        default=None, description="Only tickets changed at or after this ISO-8601 time, oldest change first (polling)"
    )
    view: Annotated[str, Field(max_length=64, pattern=ID_PATTERN)] | None = Field(
        default=None, description="A saved view's name: its filters, overridden by any given here"
    )


class AgentQuery(Query):
    team: Annotated[str, Field(max_length=64)] | None = None


class WebhookVerification(Query):
    """Meta's subscription check (`GET /webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=..&hub.challenge=..`)."""

    hub_mode: Annotated[str | None, Field(alias="hub.mode", max_length=32)] = None
    hub_verify_token: Annotated[str | None, Field(alias="hub.verify_token", max_length=200)] = None
    hub_challenge: Annotated[str | None, Field(alias="hub.challenge", max_length=200)] = None


class QuarantineQuery(Query):
    limit: Annotated[int, Field(ge=1, le=200)] = 50
    cursor: Annotated[str, Field(max_length=2000)] | None = None


# --- responses --------------------------------------------------------------------------------------------------


class Resource(BaseModel):
    """Responses may grow fields; clients ignore the ones they do not know."""

    model_config = ConfigDict(extra="allow")


class CustomerSummary(Resource):
    id: str | None
    email: str | None
    handle: str | None
    name: str | None
    tier: str | None


class Promise(Resource):
    made_at: str | None
    first_response_seconds: int | float | None
    resolution_seconds: int | float | None
    slipped_at: str | None


class TicketLinkView(Resource):
    """A related ticket as this ticket's readers see it: the link, and the other ticket's progress now."""

    ticket_id: str
    ref: str | None
    team: str | None
    note: str | None
    by: str | None
    at: str | None
    status: Status | None = Field(description="null: the linked ticket no longer exists")
    subject: str | None = None
    priority: Priority | None = None
    assignee: str | None = None
    escalation_level: int | None = None
    updated_at: str | None = None
    resolved_at: str | None = None


class TicketResource(Resource):
    id: str
    ref: str
    subject: str
    channel: str
    status: Status
    priority: Priority
    priority_reasons: list[str]
    category: str | None
    team: str
    customer: CustomerSummary
    assignee: str | None
    assignment_reason: str | None
    skill: str | None
    escalation_level: int
    escalation_causes: dict[str, Any]
    tags: list[str]
    automated: bool
    automation_reasons: list[str]
    follow_up_of: str | None
    related_to: str | None
    merged_into: str | None = Field(description="Closed by a merge: the ticket its thread continues on")
    merged_from: list[str] = Field(description="Tickets merged into this one")
    links: list[TicketLinkView] = Field(description="Related tickets (often of other teams) and how they stand now")
    reopen_count: int
    message_count: int
    created_at: str
    updated_at: str
    changed_at: str | None = Field(default=None, description="When anything about it last changed (SLA clock included): what updated_since compares")
    first_responded_at: str | None
    resolved_at: str | None
    sla: dict[str, Any] | None
    promise: Promise | None


class DeliveryResource(Resource):
    status: Literal["queued", "sent", "delivered", "read", "failed"] | None = None
    platform_message_id: str | None = None
    error: str | None = None
    updated_at: str | None = None


class MessageResource(Resource):
    id: str
    at: str
    direction: Literal["inbound", "outbound"]
    kind: str
    channel: str | None
    author: dict[str, Any]
    subject: str | None
    body: str | None
    body_full: str | None
    body_truncated: bool
    body_key: str | None
    raw_key: str | None
    attachments: list[dict[str, Any]]
    email_message_id: str | None
    automated: bool
    automation_reasons: list[str]
    suppressed: bool
    defects: list[str]
    merged_from: str | None = Field(default=None, description="Copied from this ticket when it was merged here")
    delivery: DeliveryResource | None = Field(
        default=None, description="Platform channels: where an outbound message stands, and the platform's id"
    )


class EventResource(Resource):
    type: str
    at: str
    actor: str
    data: dict[str, Any]


class TicketWithThread(TicketResource):
    messages: list[MessageResource] = Field(description="Oldest first")
    events: list[EventResource] = Field(description="The audit trail, oldest first")


class Page(Resource, Generic[Item]):
    items: list[Item]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null on the last")


class TicketPage(Page[TicketResource]):
    pass


class AgentResource(Resource):
    id: str
    name: str | None
    email: str | None
    team: str
    presence: Presence
    capacity: int
    load: int = Field(description="Tickets in progress: read-only")
    skills: list[str]
    channels: list[str]
    tier: int
    timezone: str | None
    working_hours: dict[str, Any] | None
    last_assigned_at: str | None
    created_at: str | None
    updated_at: str | None


class AgentList(Resource):
    items: list[AgentResource]


class CustomerResource(Resource):
    id: str
    email: str | None
    handle: str | None
    channel: str | None
    name: str | None
    tier: Tier
    bouncing: bool
    created_at: str | None
    updated_at: str | None


class TeamResource(Resource):
    id: str
    strategy: str
    language: str
    calendar: str
    supervisors: list[str]
    managers: list[str]
    idle_minutes: int | float
    vip_idle_minutes: int | float
    skill_wait_seconds: int


class QuarantineItem(Resource):
    id: str
    reason: str
    detail: str | None
    source: str | None
    received_at: str | None
    raw_bucket: str | None
    raw_key: str | None
    sender: str | None
    subject: str | None


class QuarantinePage(Page[QuarantineItem]):
    pass


class WebhookPayload(BaseModel):
    """A platform's webhook body in its own format (docs/channels.md), verified on its raw bytes before parsing."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"description": "The platform's own JSON"})


class WebhookAccepted(Resource):
    messages: list[dict[str, Any]] = Field(description="Per customer message: outcome, ticket_id, platform_message_id")
    receipts: int = Field(description="Delivery receipts that moved one of our messages on")
    ignored: list[str] = Field(description="What the payload held that is deliberately not taken in, and why")


class WidgetPoll(BaseModel):
    """The widget asks for our replies to its visitor (`since`: the `at` of the last one it has)."""

    model_config = ConfigDict(extra="forbid")
    visitor: Annotated[str, Field(min_length=1, max_length=200)]
    since: Annotated[str, Field(max_length=40)] | None = None


class WidgetReplies(Resource):
    messages: list[dict[str, Any]] = Field(description="Our replies, oldest first: id, at, text, from")


class Health(Resource):
    status: Literal["ok"]


# --- configuration documents as the API returns them: the document, its name, and room to grow --------------------


class CalendarResource(CalendarDocument):
    model_config = ConfigDict(extra="allow")
    id: str


class SlaPolicyResource(SlaPolicyDocument):
    model_config = ConfigDict(extra="allow")


class TemplateResource(TemplateDocument):
    model_config = ConfigDict(extra="allow")
    source: Literal["saved", "default"] | None = Field(default=None, description="In lists: saved or shipped")


class AutoReplyResource(AutoReplyDocument):
    model_config = ConfigDict(extra="allow")
    name: str


class SlaPolicyList(Resource):
    items: list[SlaPolicyResource] = Field(description="First match wins; the shipped defaults come last")


class CalendarList(Resource):
    items: list[CalendarResource]
    built_in: list[str] = Field(description="Calendars that exist without being saved (24x7)")


class TemplateList(Resource):
    items: list[TemplateResource]
    placeholders: dict[str, str] = Field(description="Every placeholder a template may use, with its meaning")


class AutoReplyList(Resource):
    items: list[AutoReplyResource]
