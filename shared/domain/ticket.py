"""The ticket as the services see it: plain data with the decisions that belong to it, no storage.

A `Ticket` is what a repository loads and saves. It carries the version it was read at (`version`), so a save can
be conditional on nothing having changed since, and the repository remembers what it read (`loaded`) so it
writes only what a service changed. Messages and audit events of its thread are `Message` and `AuditEvent`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Mapping

from shared.domain.model import Priority, Status

STORAGE_FACTS = ("loaded", "version", "changed_at")  # what storage tells about a ticket, not part of its state
TRIAGE = "triage"  # the pseudo-status of a new ticket routing has not admitted to its team's queue yet


@dataclass
class CustomerSnapshot:
    """Who the ticket is for, as it was when the ticket was written (tier is kept current by routing)."""

    id: str
    email: str | None = None
    handle: str | None = None
    name: str | None = None
    tier: str = "standard"


@dataclass
class Ticket:
    id: str
    channel: str
    customer_id: str
    customer: CustomerSnapshot
    created_at: str
    updated_at: str
    ref: str = ""
    subject: str = ""
    status: str = Status.OPEN.value
    priority: str = Priority.MEDIUM.value
    priority_reasons: list[str] = field(default_factory=list)
    priority_source: str | None = None  # "rules" once the engine decided, "agent" after a manual change
    category: str | None = None
    keywords: list[str] = field(default_factory=list)
    team: str = "support"
    # True until routing has decided priority, SLA and tier and admitted the ticket to its team's queue: only
    # then may a drain (triggered by any other ticket) hand it to an agent
    in_triage: bool = True
    assignee: str | None = None
    assigned_at: str | None = None
    assignment_reason: str | None = None  # why the current assignee (shared/domain/assignment.py)
    preferred_agent: str | None = None  # who had it before it went back to the queue
    required_skill: str | None = None
    required_tier: int = 1
    escalation_level: int = 0
    escalation_causes: dict[str, int] | None = None  # cause -> tier it asks for (shared/domain/escalation_causes.py)
    tags: set[str] = field(default_factory=set)
    mailbox: str | None = None
    automated: bool = False
    automation_reasons: list[str] = field(default_factory=list)
    follow_up_of: str | None = None
    related_to: str | None = None  # a ticket whose mail this one referenced but may not join
    merged_into: str | None = None  # closed by a merge: its thread and later messages continue there
    merged_from: list[str] = field(default_factory=list)  # the tickets merged into this one
    links: list[dict[str, Any]] = field(default_factory=list)  # related tickets (other teams'), shared/domain/links.py
    reopen_count: int = 0
    message_count: int = 0
    customer_waiting_count: int = 0  # customer messages since the last agent reply
    first_responded_at: str | None = None
    resolved_at: str | None = None
    closed_at: str | None = None
    last_customer_message_at: str | None = None
    idle_flagged_at: str | None = None  # the `updated_at` of the quiet spell already flagged idle
    sla: dict[str, Any] | None = None  # the clock's summary for readers
    sla_clock: dict[str, Any] | None = None  # the clock's own state (shared/domain/sla_clock.py)
    ladder_done: list[int] = field(default_factory=list)
    due_at: str | None = None  # when the next SLA step (ladder, idle, promise) falls due ...
    due_step: int | None = None  # ... and which step that is
    eta_promise: dict[str, Any] | None = None  # what the acknowledgement promised, in business seconds per metric
    csat: dict[str, Any] | None = None  # the customer's rating after resolution: {score 1-5, comment, at}, once
    resolved_by_article: str | None = None  # the customer closed it from the portal: this article answered them
    escalation_log: list[dict[str, Any]] = field(default_factory=list)  # each rise in level: {at, from, level, causes}
    version: int | None = None  # as read from storage; None for a ticket never saved
    changed_at: str | None = field(default=None, compare=False)  # when storage last wrote it (any change; polling)
    loaded: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)  # what storage held when read

    # ------------------------------------------------------------------ derived facts

    @property
    def waiting(self) -> bool:
        """In its team's queue, waiting for an agent."""
        return self.status == Status.OPEN.value and not self.in_triage and not self.assignee

    @property
    def queue_status(self) -> str:
        """The part of the queue the ticket is in: its status, or triage before routing admitted it."""
        return TRIAGE if self.in_triage and self.status == Status.OPEN.value else self.status

    @property
    def due_sort(self) -> str | None:
        """`<due_at>#<step>`: the order of the due index (and a readable summary of what is next)."""
        return f"{self.due_at}#{self.due_step}" if self.due_at is not None and self.due_step is not None else None

    def queue_order(self, strategy: str) -> str:
        """Where the ticket stands in its team's queue: `fifo` serves by age with VIP customers first inside it
        (R8); `urgency` by priority, then age."""
        if strategy == "fifo":
            vip_first = 0 if self.customer.tier == "vip" else 1
            return f"{vip_first}#{self.created_at}#{self.id}"
        return f"{Priority(self.priority).rank}#{self.created_at}#{self.id}"

    # ------------------------------------------------------------------ decisions

    def touch(self, at: str) -> None:
        """Someone worked on the ticket at `at` (never moves `updated_at` back)."""
        self.updated_at = max(self.updated_at, at)

    def hand_to(self, agent_id: str, reason: str, at: str) -> None:
        """Routing gives the waiting ticket to `agent_id`: work starts."""
        self.assignee, self.assignment_reason, self.assigned_at = agent_id, reason, at
        self.status = Status.IN_PROGRESS.value
        self.preferred_agent = None
        self.touch(at)

    def admit(self) -> None:
        """Triage is over (priority, SLA, tier decided): the ticket joins its team's queue."""
        self.in_triage = False

    # ------------------------------------------------------------------ storage bookkeeping

    def state(self) -> dict[str, Any]:
        """The ticket's persistent facts, for a repository to compare with what it read."""
        return {f.name: _copy(getattr(self, f.name)) for f in fields(self) if f.name not in STORAGE_FACTS}

    def changed(self) -> dict[str, Any]:
        """The facts that differ from what was read (all of them for a ticket never read)."""
        now = self.state()
        if self.loaded is None:
            return now
        return {name: value for name, value in now.items() if self.loaded.get(name) != value}

    def mark_stored(self, version: int) -> None:
        """What a repository calls after a save went through: this is now what storage holds."""
        self.version = version
        self.loaded = self.state()


def _copy(value: Any) -> Any:
    if isinstance(value, CustomerSnapshot):
        return dict(value.__dict__)
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_copy(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return set(value)
    return value


@dataclass(frozen=True)
class LoadChange:
    """How a ticket change moves agents' load with it, in the same write: `release_from` gives that agent's slot
    back; `take_for` takes one of that agent's slots (refused when they are offline or full)."""

    release_from: str | None = None
    take_for: str | None = None
    at: str | None = None


@dataclass
class Message:
    """One message of a ticket's thread: what the customer wrote, what we sent, an internal note."""

    ticket_id: str
    message_id: str
    at: str
    direction: str
    kind: str
    channel: str
    author: dict[str, Any] = field(default_factory=dict)
    subject: str | None = None
    body: str | None = None
    body_full: str | None = None  # the whole text when `body` (what lists show) was cut
    body_truncated: bool = False
    body_key: str | None = None  # the whole text in the mail bucket, when too large for the thread
    raw_key: str | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    email_message_id: str | None = None
    in_reply_to: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    automated: bool = False
    automation_reasons: list[str] = field(default_factory=list)
    suppressed: bool = False
    defects: list[str] = field(default_factory=list)
    importance: str | None = None  # "high" / "low" from the mail's Importance or X-Priority
    merged_from: str | None = None  # copied from this ticket's thread when it was merged into this one
    # an outbound message on a platform channel: {status: queued|sent|delivered|read|failed, platform_message_id,
    # error, updated_at}; an inbound one: {platform_message_id} (what the platform called it)
    delivery: dict[str, Any] | None = None

    @property
    def text(self) -> str:
        return self.body_full or self.body or ""
