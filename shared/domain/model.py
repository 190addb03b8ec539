"""The vocabulary of the product: plain data, no AWS.

Values are small enums whose string values are what the API and the tables carry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shared.domain.assignment import Candidate


class Channel(str, Enum):
    EMAIL = "email"
    CHAT = "chat"
    WEB = "web"
    PHONE = "phone"
    WHATSAPP = "whatsapp"
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    TWITTER = "twitter"
    TELEGRAM = "telegram"
    API = "api"


class Priority(str, Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        """1 is the most urgent; used as the leading part of queue sort keys."""
        return {"urgent": 1, "high": 2, "medium": 3, "low": 4}[self.value]


class Tier(str, Enum):
    STANDARD = "standard"
    PREMIUM = "premium"
    VIP = "vip"


class Status(str, Enum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def holds_load(self) -> bool:
        """Only tickets an agent is working on count against that agent's capacity."""
        return self == Status.IN_PROGRESS


class Presence(str, Enum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class Direction(str, Enum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class MessageKind(str, Enum):
    CUSTOMER = "customer"
    AGENT = "agent"
    NOTE = "note"
    AUTOMATIC = "automatic"


class Role(str, Enum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    def at_least(self, other: "Role") -> bool:
        order = [Role.AGENT, Role.SUPERVISOR, Role.ADMIN]
        return order.index(self) >= order.index(other)


@dataclass(frozen=True)
class AttachmentRef:
    """An attachment as listed on a message; the bytes live in S3 under `key` (None when not stored)."""

    name: str
    content_type: str
    size: int
    key: str | None
    inline: bool = False
    note: str | None = None


@dataclass(frozen=True)
class AuditEvent:
    """Something that happened to a ticket, kept on its thread. `id` is derived from what caused it (so a retry
    writes the same event again, not a second one); `seq` orders the events one change writes in the same instant."""

    type: str
    at: datetime
    actor: str
    data: dict[str, Any] = field(default_factory=dict)
    id: str = ""
    seq: int = 0


@dataclass(frozen=True)
class Contact:
    """Who wrote: an email address or a channel handle, with the display name the channel gave."""

    channel: Channel
    address: str
    name: str | None = None

    @property
    def key(self) -> str:
        return f"{self.channel.value}:{self.address.strip().lower()}"


@dataclass
class Customer:
    """Someone who wrote to support, created on first contact; `tier` is what a support lead set."""

    id: str
    contact_key: str
    channel: str
    created_at: str
    updated_at: str
    email: str | None = None
    handle: str | None = None
    name: str | None = None
    tier: str = Tier.STANDARD.value
    bouncing: bool = False  # mail to this address bounces: no automatic message goes there
    bounced_at: str | None = None


@dataclass
class AgentProfile:
    """An agent as a supervisor sets them up: team, capacity, skills, channels, tier and working hours. Their
    load is not here: only assignment and release move it (shared/storage/assignments.py)."""

    id: str
    created_at: str = ""
    updated_at: str = ""
    name: str | None = None
    email: str | None = None
    team: str = "support"
    presence: str = Presence.OFFLINE.value
    capacity: int = 5
    skills: set[str] = field(default_factory=set)
    channels: set[str] = field(default_factory=set)
    tier: int = 1
    timezone: str = "UTC"
    working_hours: dict[str, Any] | None = None


@dataclass(frozen=True)
class LoadCounter:
    """An agent's load counter as read, with when it last moved (the condition a repair is written under)."""

    agent_id: str
    load: int
    load_changed_at: str | None


@dataclass(frozen=True)
class AgentView:
    profile: AgentProfile
    load: Candidate | None  # the routing facts and load counter (None before the first save)

    def resource(self) -> dict[str, Any]:
        p = self.profile
        return {
            "id": p.id,
            "name": p.name,
            "email": p.email,
            "team": p.team,
            "presence": p.presence,
            "capacity": int(p.capacity),
            "load": int(self.load.load) if self.load is not None else 0,
            "skills": sorted(p.skills or []),
            "channels": sorted(p.channels or []),
            "tier": int(p.tier),
            "timezone": p.timezone,
            "working_hours": p.working_hours,
            "last_assigned_at": self.load.last_assigned_at if self.load is not None else None,
            "created_at": p.created_at,
            "updated_at": p.updated_at,
        }


@dataclass(frozen=True)
class Claim:
    state: str  # "claimed" (go ahead), "done" (duplicate), "in_flight" (someone else is on it)
    result: dict[str, Any] | None = None


@dataclass(frozen=True)
class Once:
    """What work done once per key gave: its result, and whether that was replayed (this call was a duplicate)."""

    result: dict[str, Any]
    replayed: bool = False


@dataclass(frozen=True)
class QuarantineEntry:
    """An inbound item that did not become a ticket: why, and where its raw copy is kept for a human."""

    id: str
    reason: str
    detail: str | None
    raw_bucket: str | None
    raw_key: str | None
    sender: str | None
    subject: str | None
    source: str = "email"
