"""The messages between stages: announcements on the route queue and escalation timers on the escalate queue.

A producer builds the model and sends `wire(model)`; the consumer parses once (`parse_route_event`,
`parse_escalation_timer`) and reads typed attributes. The wire shape is the JSON the producers wrote before these
models existed — times as ISO-8601 UTC with milliseconds and a Z (`shared.domain.timefmt.iso`), absent values left out —
so messages already on a queue parse. Fields a newer producer adds are ignored rather than refused: during a
deploy an older reader meets them.

What a message cannot be read as raises `MalformedEvent` (a `ValidationFailed`): the record fails, SQS retries it
and after maxReceiveCount the queue's DLQ keeps it, with the kind and the fields at fault in the error.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any, Literal, TypeAlias, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    RootModel,
    ValidationError,
)

from shared.domain.errors import ValidationFailed
from shared.domain.model import Channel, Status
from shared.domain.timefmt import iso


def _in_utc(at: datetime) -> datetime:
    """A moment without an offset is UTC, as `iso` writes it."""
    return at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at.astimezone(timezone.utc)


UtcTime = Annotated[datetime, AfterValidator(_in_utc), PlainSerializer(iso, return_type=str, when_used="json")]
"""A moment, held in UTC and written as the tables carry time (`2026-11-02T03:15:00.000Z`)."""

Name = Annotated[str, Field(min_length=1)]


class MalformedEvent(ValidationFailed):
    """A message that is not one of the contracts below: retried, then kept by the queue's DLQ."""

    code = "malformed_event"


class StageMessage(BaseModel):
    """Immutable; read by wire name (`from`) or field name (`from_`), written by wire name."""

    model_config = ConfigDict(frozen=True, extra="ignore", validate_by_name=True, serialize_by_alias=True)


# -- the route queue ---------------------------------------------------------------------------------------------


class TicketEvent(StageMessage):
    """Something happened to one ticket; the route stage handles each (ticket, message or moment) once."""

    ticket_id: Name
    at: UtcTime


class TicketCreated(TicketEvent):
    """A new ticket with its first message (announced again by the sweep when routing never saw it)."""

    event: Literal["ticket.created"] = "ticket.created"
    message_id: Name | None = None
    channel: Channel
    automated: bool
    suppress_auto_response: bool  # automated mail is never answered


class MessageAdded(TicketEvent):
    """The customer (or their mailer) wrote again on an existing ticket."""

    event: Literal["message.added"] = "message.added"
    message_id: Name | None = None
    channel: Channel
    automated: bool
    suppress_auto_response: bool  # automated, or over the sender's rate
    reopened: bool


class TicketChanged(TicketEvent):
    """A status change an agent or an automation made."""

    event: Literal["ticket.changed"] = "ticket.changed"
    from_: Status = Field(validation_alias="from", serialization_alias="from")
    to: Status
    reason: str | None = None


class ReplySent(TicketEvent):
    """An agent answered the customer."""

    event: Literal["reply.sent"] = "reply.sent"
    message_id: Name


class TeamEvent(StageMessage):
    """The team's queue may move: the route stage drains it."""

    team: Name


class CapacityFreed(TeamEvent):
    """A slot freed (a ticket left an agent) or a shorter skill wait may let work through."""

    event: Literal["capacity.freed"] = "capacity.freed"
    ticket_id: Name | None = None  # the ticket whose change freed the slot, when there is one


class AgentAvailable(TeamEvent):
    """An agent came online or got more capacity."""

    event: Literal["agent.available"] = "agent.available"
    agent_id: Name


class TeamDrain(TeamEvent):
    """Drain at `due_at` (a shift starts, a skill wait ends); SQS holds a message at most 900 s, so it hops."""

    event: Literal["team.drain"] = "team.drain"
    due_at: UtcTime
    why: str


RouteEvent: TypeAlias = Annotated[
    TicketCreated | MessageAdded | TicketChanged | ReplySent | CapacityFreed | AgentAvailable | TeamDrain,
    Field(discriminator="event"),
]
ROUTE_EVENT_KINDS: tuple[str, ...] = tuple(
    model.model_fields["event"].default for model in get_args(get_args(RouteEvent)[0])
)


class _RouteMessage(RootModel[RouteEvent]):
    """The union as a model of its own: mypy reads it as a type (a TypeAdapter of it needs PEP 747's TypeForm)."""


# -- the escalate queue ------------------------------------------------------------------------------------------


class EscalationTimer(StageMessage):
    """Ladder step `step` of a ticket is due at `due_at` — a hint: the escalate stage re-reads the ticket.

    Steps from 0 are the escalation ladder's; below 0 are the SLA service's pseudo-steps (idle, the promise)."""

    ticket_id: Name
    step: int
    due_at: UtcTime


# -- reading and writing -----------------------------------------------------------------------------------------


def wire(message: StageMessage) -> dict[str, Any]:
    """The JSON object a producer sends: the wire names, times as text, absent values left out."""
    return message.model_dump(mode="json", exclude_none=True)


def parse_route_event(data: Any) -> RouteEvent:
    """One route-queue message (the decoded JSON body), or `MalformedEvent` naming what is wrong."""
    if not isinstance(data, dict):
        raise MalformedEvent(f"a route event is a JSON object, not {type(data).__name__}")
    kind = data.get("event")
    if kind is None:
        raise MalformedEvent("route event without an 'event' kind")
    if kind not in ROUTE_EVENT_KINDS:
        raise MalformedEvent(f"unknown route event {kind!r}; known: {', '.join(ROUTE_EVENT_KINDS)}")
    try:
        return _RouteMessage.model_validate(data).root
    except ValidationError as error:
        raise MalformedEvent(f"malformed {kind} route event: {_problems(error, skip=1)}") from error


def parse_escalation_timer(body: str) -> EscalationTimer:
    """One escalate-queue message body, or `MalformedEvent` naming what is wrong."""
    try:
        return EscalationTimer.model_validate_json(body)
    except ValidationError as error:
        raise MalformedEvent(f"malformed escalation timer: {_problems(error)}") from error


def _problems(error: ValidationError, skip: int = 0) -> str:
    """`field: what is wrong` for each error; `skip` drops the union's tag from the location."""
    return "; ".join(
        f"{'.'.join(str(part) for part in e['loc'][skip:]) or 'message'}: {e['msg']}" for e in error.errors()
    )

