"""The ports the services speak through: what they need of storage, in domain terms.

`shared/storage` implements them on DynamoDB; `tests/fakes.py` implements them in memory for the services' unit
tests. A service never sees how a ticket is stored, only these calls and the errors they raise
(`Conflict` when the ticket changed since it was read, `AgentUnavailable`/`TicketTaken` when an assignment's
conditions failed).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Iterable, Protocol

from shared.domain.model import (
    AgentProfile,
    AgentView,
    AuditEvent,
    Claim,
    Contact,
    Customer,
    LoadCounter,
    Once,
    QuarantineEntry,
)
from shared.domain.ticket import LoadChange, Message, Ticket

if TYPE_CHECKING:
    from shared.domain.assignment import Candidate


@dataclass
class TicketFilters:
    """What a ticket list may be narrowed by (every filter optional; storage picks the index)."""

    status: str | None = None
    priority: str | None = None
    channel: str | None = None
    assignee: str | None = None
    tag: str | None = None
    tier: str | None = None
    escalation_level: int | None = None
    customer_id: str | None = None
    q: str | None = None
    teams: tuple[str, ...] | None = None  # only tickets of these teams (the caller's, unless an admin) ...
    or_assignee: str | None = None  # ... or assigned to this agent (work lent from another team)
    updated_since: str | None = None  # ISO: only tickets changed at or after it, oldest change first (polling)


@dataclass
class Page:
    """One page of a ticket list, newest first, and the cursor of the next."""

    items: list[Ticket] = field(default_factory=list)
    next_cursor: str | None = None


class Tickets(Protocol):
    def get(self, ticket_id: str) -> Ticket | None: ...

    def by_ref(self, ref: str) -> Ticket | None: ...

    def message_for_email_message_id(self, message_id: str) -> Message | None: ...

    def latest_for_customer(self, customer_id: str, channel: str) -> Ticket | None:
        """The customer's newest ticket on that channel (the conversation a platform message continues)."""
        ...

    def message_for_platform_id(self, channel: str, platform_message_id: str) -> Message | None:
        """The message we sent that the platform calls `platform_message_id` (see remember_platform_id)."""
        ...

    def remember_platform_id(self, channel: str, platform_message_id: str, message: Message) -> None: ...

    def set_delivery(self, message: Message, delivery: dict[str, Any]) -> None:
        """Replace the message's delivery status (what the channel's platform last said of it)."""
        ...

    def create(self, ticket: Ticket, message: Message, events: Iterable[AuditEvent], ref_candidates: list[str]) -> bool: ...

    def add_message(self, ticket: Ticket, message: Message, events: Iterable[AuditEvent]) -> bool: ...

    def save(
        self,
        ticket: Ticket,
        events: Iterable[AuditEvent] = (),
        load: LoadChange | None = None,
        unless_step_done: int | None = None,
    ) -> None: ...

    def save_unguarded(self, ticket: Ticket, events: Iterable[AuditEvent] = ()) -> None: ...

    def assign(self, ticket: Ticket, agent_id: str, events: Iterable[AuditEvent], at: str) -> None: ...

    def message(self, ticket_id: str, message_id: str) -> Message | None: ...

    def first_message(self, ticket_id: str) -> Message | None: ...

    def last_inbound(self, ticket_id: str) -> Message | None: ...

    def waiting(self, team: str, strategy: str, limit: int = 50) -> list[Ticket]: ...

    def oldest_waiting(self, team: str) -> Ticket | None: ...

    def untriaged(self, team: str, created_before: str, limit: int = 100) -> list[Ticket]: ...

    def waiting_ahead(self, ticket: Ticket, strategy: str, limit: int = 500) -> list[Ticket]: ...

    def due(self, minute: datetime, now: datetime) -> list[str]: ...

    def count_held(self, agent_id: str) -> int: ...

    def add_messages(self, messages: Iterable[Message], events: Iterable[tuple[str, AuditEvent]] = ()) -> None: ...

    def add_events(self, ticket_id: str, events: Iterable[AuditEvent]) -> None: ...

    def thread(self, ticket_id: str) -> tuple[list[Message], list[AuditEvent]]: ...


class TicketSearch(Protocol):
    def list(self, filters: TicketFilters, limit: int = 25, cursor: str | None = None) -> Page: ...


@dataclass
class Escalated:
    """An escalated ticket and when its level last rose from 0 (None when storage did not see it happen)."""

    ticket: Ticket
    escalated_at: str | None


class DeskIndexes(Protocol):
    """What the agent's overview reads: the folder counters and the escalated work, each from its own index."""

    def folder_counts(self, teams: Iterable[str] | None) -> dict[str, dict[str, int]]: ...

    def escalated(self, team: str, level: int, limit: int = 200) -> list[Escalated]: ...


class Agents(Protocol):
    def get(self, agent_id: str) -> AgentView | None: ...

    def candidate(self, agent_id: str) -> Candidate | None: ...

    def candidates(self, team: str) -> list[Candidate]: ...

    def load_items(self, team: str) -> list[LoadCounter]: ...

    def set_load(self, item: LoadCounter, load: int) -> bool: ...


class AgentDirectory(Protocol):
    """Agents as supervisors set them up (the roster the API shows and edits)."""

    def get(self, agent_id: str) -> AgentView | None: ...

    def roster(self, team: str | None = None) -> list[AgentView]: ...

    def save(self, profile: AgentProfile, now: datetime) -> AgentView: ...


class Customers(Protocol):
    def get(self, customer_id: str) -> Customer | None: ...

    def get_or_create(self, contact: Contact, now: datetime) -> Customer: ...

    def mark_bouncing(self, contact: Contact, now: datetime) -> bool: ...


class CustomerAccounts(Customers, Protocol):
    def update(self, customer_id: str, now: datetime, tier: str | None = None, name: str | None = None) -> Customer: ...


class Config(Protocol):
    def get(self, kind: str, name: str) -> dict[str, Any] | None: ...

    def list(self, kind: str) -> dict[str, dict[str, Any]]: ...

    def read_once(self) -> AbstractContextManager[None]:
        """Within the block, repeated reads may be served from what was read first (a sweep reads each policy,
        calendar and team once, not once per ticket)."""
        ...


class ConfigStore(Config, Protocol):
    """Config the API edits: documents saved with who saved them, and removed."""

    def put(self, kind: str, name: str, body: dict[str, Any], actor: str, now: datetime) -> None: ...

    def delete(self, kind: str, name: str) -> bool: ...


class Quarantine(Protocol):
    """Where what cannot be a ticket is kept, with its reason and raw copy (idempotent per entry id)."""

    def keep(self, entry: QuarantineEntry, received_at: datetime) -> None: ...


class Announcer(Protocol):
    """The route queue, as services see it: announce that something happened for the route stage to handle."""

    def announce(self, event: dict[str, Any]) -> None: ...


class Idempotency(Protocol):
    """Work done once per key however often its message is delivered (shared/adapters/idempotency.py).

    `work` runs unless the key's work completed before — then its stored result comes back, replayed — or is in
    progress elsewhere within its lease (InFlight). Work that raises is forgotten, so a retry runs it again; a
    holder that died is taken over when its lease ends. The result is stored, so it must be JSON-serialisable."""

    def once(self, key: str, work: Callable[[], dict[str, Any]], lease_seconds: int) -> Once: ...


class Markers(Protocol):
    def claim(self, key: str, now: datetime, lease_seconds: int) -> Claim: ...

    def complete(self, key: str, result: dict[str, Any]) -> None: ...

    def hit(self, key: str, now: datetime, window_seconds: int, member: str) -> int: ...

    def held(self, key: str) -> tuple[list[dict[str, Any]], int]: ...

    def take(self, key: str, hits: int) -> bool: ...

    def hold(self, key: str, entry: dict[str, Any], expires_at: int, max_entries: int) -> bool: ...


@dataclass(frozen=True)
class ChannelDelivery:
    """One outbound message for a platform: to whom (the channel's handle), the text, or the approved WhatsApp
    template that stands in for it outside the 24-hour window."""

    channel: str
    to: str
    text: str
    ticket_id: str
    message_id: str
    template: str | None = None
    language: str | None = None


class ChannelSender(Protocol):
    """One platform's send API (shared/adapters/channel_senders.py). Returns the platform's id of the message;
    raises SendRefused for a permanent refusal (4xx) and SendDeferred when a retry may succeed (5xx, 429, timeout)."""

    def send(self, delivery: ChannelDelivery) -> str: ...


class DeliveryJobs(Protocol):
    """The delivery queue: a platform message recorded as queued is sent by the deliver function from here."""

    def enqueue(self, job: dict[str, Any]) -> None: ...
