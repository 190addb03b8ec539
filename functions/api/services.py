"""What the API's routes call: services built once per process, and request bodies turned into domain values."""

from __future__ import annotations

import re
import uuid
from functools import lru_cache
from typing import Any

from typing import TYPE_CHECKING

from shared.adapters.route_queue import RouteAnnouncer
from shared.auth import Principal
from shared.domain.errors import ValidationFailed
from shared.domain.ids import derived_ulid
from shared.domain.model import AgentProfile, AuditEvent, Channel, Contact, Presence
from shared.domain.ticket import Message, Ticket
from shared.settings import get_settings
from shared.storage.agents import AgentRepository
from shared.storage.tickets import TicketRepository
from shared.domain.timefmt import iso, utcnow

if TYPE_CHECKING:  # built on the first request that needs them: most requests read tickets or agents
    from shared.services.intake import InboundMessage, IntakeResult, IntakeService
    from shared.services.route_stage import Router
    from shared.services.ticket_changes import TicketChanges

AGENT_FIELDS = {"name", "email", "team", "presence", "capacity", "skills", "channels", "tier", "timezone", "working_hours"}
API_CHANNELS = tuple(c.value for c in Channel if c != Channel.EMAIL)


class Services:
    @lru_cache(maxsize=1)
    def announcer(self) -> RouteAnnouncer:
        return RouteAnnouncer(get_settings())

    @lru_cache(maxsize=1)
    def intake(self) -> IntakeService:
        from shared.adapters.blobs import BlobStore
        from shared.services.intake import IntakeService
        from shared.storage.customers import CustomerRepository
        from shared.storage.markers import MarkerRepository

        settings = get_settings()
        return IntakeService(
            settings=settings,
            tickets=TicketRepository(),
            customers=CustomerRepository(),
            markers=MarkerRepository(),
            announcer=self.announcer(),
            bodies=BlobStore(settings),
        )

    @lru_cache(maxsize=1)
    def router(self) -> Router:
        from shared.services.wiring import build_router

        return build_router()

    def reply(self, ticket: Ticket, caller: Principal, text: str, internal: bool) -> str:
        """An agent's public reply (sent on the ticket's channel) or internal note; a public reply is the first
        response the SLA measures, and clears the customer's unanswered count."""
        now = utcnow()
        agent_id = caller.agent_id or caller.subject
        view = AgentRepository().get(agent_id)
        name = view.profile.name if view is not None else None
        repo = TicketRepository()
        if internal:
            message_id = derived_ulid(now, f"{ticket.id}#note#{agent_id}#{uuid.uuid4()}")
            note = Message(
                ticket_id=ticket.id, message_id=message_id, at=iso(now), direction="outbound", kind="note",
                channel=ticket.channel, author={"agent": agent_id, "name": name}, body=text,
            )  # fmt: skip
            event = AuditEvent(
                "note.added", now, f"agent:{agent_id}", {"message_id": message_id}, id=derived_ulid(now, f"{message_id}#event")
            )
            repo.add_messages([note], [(ticket.id, event)])
            return message_id
        message_id = self.router().messenger.agent_reply(ticket, agent_id, name, text, now)
        ticket.updated_at, ticket.customer_waiting_count = iso(now), 0
        ticket.first_responded_at = ticket.first_responded_at or iso(now)
        repo.save_unguarded(ticket)
        self.announcer().announce({"event": "reply.sent", "ticket_id": ticket.id, "message_id": message_id, "at": iso(now)})
        return message_id

    def changes(self) -> TicketChanges:
        from shared.services.ticket_changes import TicketChanges

        return TicketChanges(tickets=TicketRepository(), agents=AgentRepository(), announcer=self.announcer())

    def intake_api(self, body: dict[str, Any], idempotency_key: str | None, caller: Principal) -> IntakeResult:
        return self.intake().accept(inbound_from_api(body, idempotency_key, caller))


@lru_cache(maxsize=1)
def services() -> Services:
    return Services()


MESSAGE_BYTES = 100_000  # a message body, in UTF-8 (a thread item must stay well under DynamoDB's 400 KB)
NAME_CHARS = 200
MAX_LIST = 50  # tags, skills, channels
LABEL_CHARS = 100  # one tag or skill
IDEMPOTENCY_KEY_CHARS = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def text_field(body: dict[str, Any], name: str, required: bool = True, limit: int = MESSAGE_BYTES) -> str | None:
    """A string field, stripped; `limit` counts UTF-8 bytes, which is what storage counts."""
    value = body.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationFailed(f"{name} is required")
        return None
    if not isinstance(value, str):
        raise ValidationFailed(f"{name} must be a string")
    if len(value.encode("utf-8")) > limit:
        raise ValidationFailed(f"{name} is longer than {limit} bytes of UTF-8")
    return value.strip()


def name_field(body: dict[str, Any], name: str, required: bool = False) -> str | None:
    """A person's or team's name: one line, no control characters."""
    value = text_field(body, name, required=required, limit=NAME_CHARS * 4)
    if value is None:
        return None
    cleaned = " ".join(_CONTROL.sub(" ", value).split())
    if len(cleaned) > NAME_CHARS:
        raise ValidationFailed(f"{name} is longer than {NAME_CHARS} characters")
    return cleaned or None


def label_list(body: dict[str, Any], name: str) -> list[str]:
    """Tags, skills, channels: at most MAX_LIST non-empty one-line labels of at most LABEL_CHARS."""
    values = body.get(name)
    if (
        not isinstance(values, list)
        or len(values) > MAX_LIST
        or not all(isinstance(v, str) and v.strip() and len(v) <= LABEL_CHARS and not _CONTROL.search(v) for v in values)
    ):
        raise ValidationFailed(f"{name} must be a list of at most {MAX_LIST} non-empty labels of at most {LABEL_CHARS} characters")
    return [v.strip() for v in values]


def idempotency_key(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if len(value) > IDEMPOTENCY_KEY_CHARS or not value.isascii() or not value.isprintable():
        raise ValidationFailed(f"Idempotency-Key must be at most {IDEMPOTENCY_KEY_CHARS} printable ASCII characters")
    return value


def inbound_from_api(body: dict[str, Any], idempotency: str | None, caller: Principal) -> InboundMessage:
    """A web form, chat start, phone note or social message as an inbound message for the common intake."""
    from shared.services.intake import InboundMessage

    unknown = set(body) - {"channel", "subject", "body", "customer"}
    if unknown:
        raise ValidationFailed(f"unknown fields {sorted(unknown)}; use channel, subject, body, customer")
    channel = body.get("channel")
    if channel not in API_CHANNELS:
        raise ValidationFailed(f"channel must be one of {', '.join(API_CHANNELS)} (email arrives through SES)")
    customer = body.get("customer")
    if not isinstance(customer, dict):
        raise ValidationFailed("customer must be an object with email or handle, and optionally name")
    email = text_field(customer, "email", required=False, limit=320)
    handle = text_field(customer, "handle", required=False, limit=320)
    if not email and not handle:
        raise ValidationFailed("customer needs an email or a handle")
    if email and "@" not in email:
        raise ValidationFailed("customer.email is not an email address")
    text = text_field(body, "body") or ""
    subject = name_field(body, "subject") or text.splitlines()[0][:120]
    contact = Contact(Channel.EMAIL, email, name_field(customer, "name")) if email else Contact(
        Channel(channel), handle or "", name_field(customer, "name")
    )
    given_key = idempotency_key(idempotency)
    key = f"api#{caller.subject}#{given_key}" if given_key else f"api#{uuid.uuid4()}"
    return InboundMessage(
        channel=Channel(channel),
        key=key,
        received_at=utcnow(),
        contact=contact,
        subject=subject,
        body=text,
        body_full=text,
    )


_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def checked_id(value: str, what: str) -> str:
    """An id given in a path: 1-64 ASCII letters, digits, '-', '_' or '.', starting with a letter or digit."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise ValidationFailed(f"{what} ids are 1-64 letters, digits, '-', '_' or '.' (starting with a letter or digit)")
    return value


def agent_profile(agent_id: str, body: dict[str, Any], existing: AgentProfile | None) -> AgentProfile:
    """Validate a PUT /v1/agents/{id} body over the existing profile (a PUT with only presence keeps the rest)."""
    from shared.domain.assignment import parse_hours, zone  # time zones: only for this route

    if "load" in body:
        raise ValidationFailed("load is read-only: it follows the tickets assigned to the agent")
    unknown = set(body) - AGENT_FIELDS
    if unknown:
        raise ValidationFailed(f"unknown fields {sorted(unknown)}; use {', '.join(sorted(AGENT_FIELDS))}")
    checked_id(agent_id, "agent")
    profile = existing or AgentProfile(id=agent_id)
    if "presence" in body:
        if body["presence"] not in [p.value for p in Presence]:
            raise ValidationFailed("presence must be online, away or offline")
        profile.presence = body["presence"]
    if "capacity" in body:
        capacity = body["capacity"]
        if not isinstance(capacity, int) or isinstance(capacity, bool) or not 0 <= capacity <= 100:
            raise ValidationFailed("capacity must be a whole number from 0 to 100")
        profile.capacity = capacity
    if "tier" in body:
        if body["tier"] not in (1, 2, 3) or isinstance(body["tier"], bool):
            raise ValidationFailed("tier must be 1, 2 or 3")
        profile.tier = body["tier"]
    for name in ("skills", "channels"):
        if name in body:
            values = label_list(body, name)
            if name == "channels" and not set(values) <= {c.value for c in Channel}:
                raise ValidationFailed(f"channels must be among {', '.join(c.value for c in Channel)}")
            setattr(profile, name, set(values))
    if "timezone" in body:
        if not isinstance(body["timezone"], str):
            raise ValidationFailed("timezone must be an IANA name such as Asia/Jakarta")
        zone(body["timezone"])
        profile.timezone = body["timezone"]
    if "working_hours" in body:
        hours = body["working_hours"]
        if hours is not None:
            if not isinstance(hours, dict):
                raise ValidationFailed('working_hours is {"mon": [["08:00", "17:00"]], ...} or null')
            parse_hours(hours)
        profile.working_hours = hours
    if "name" in body:
        profile.name = name_field(body, "name")
    if "email" in body:
        email = text_field(body, "email", required=False, limit=320)
        if email is not None and "@" not in email:
            raise ValidationFailed("email is not an email address")
        profile.email = email
    if "team" in body:
        profile.team = checked_id(str(body["team"]) if isinstance(body["team"], str) else "", "team")
    return profile
