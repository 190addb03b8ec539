"""The vocabulary of the product: plain data, no AWS.

Values are small enums whose string values are what the API and the tables carry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any


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
    type: str
    at: datetime
    actor: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Contact:
    """Who wrote: an email address or a channel handle, with the display name the channel gave."""

    channel: Channel
    address: str
    name: str | None = None

    @property
    def key(self) -> str:
        return f"{self.channel.value}:{self.address.strip().lower()}"
