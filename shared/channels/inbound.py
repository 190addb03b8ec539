"""What a verified webhook says, channel-neutral: customer messages and delivery receipts of messages we sent."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared.domain.errors import ValidationFailed

MAX_MESSAGES_PER_PAYLOAD = 100


class MalformedWebhook(ValidationFailed):
    """A correctly signed payload that is not what the platform sends: refused (400), its raw copy quarantined."""

    code = "malformed_webhook"


@dataclass(frozen=True)
class MediaRef:
    """An image, document, audio or video the platform holds; listed by its media id, not downloaded."""

    kind: str
    media_id: str
    content_type: str | None = None
    name: str | None = None
    caption: str | None = None


@dataclass(frozen=True)
class ChannelMessage:
    """One customer message: who (the platform's handle for them), what, when, under the platform's own id."""

    channel: str
    platform_message_id: str
    sender: str
    text: str
    sent_at: datetime
    name: str | None = None
    media: tuple[MediaRef, ...] = ()
    kind: str = "text"  # text | media | interactive | note | voicemail
    subject: str | None = None


@dataclass(frozen=True)
class DeliveryReceipt:
    """The platform's word on a message we sent: sent, delivered, read or failed (with its error)."""

    channel: str
    platform_message_id: str
    status: str
    at: datetime
    error: str | None = None


@dataclass
class WebhookBatch:
    """Everything one payload carried (a platform batches several messages and receipts into one POST)."""

    messages: list[ChannelMessage] = field(default_factory=list)
    receipts: list[DeliveryReceipt] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # what was understood and deliberately not taken in, and why


def json_payload(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object, or MalformedWebhook saying why not."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MalformedWebhook(f"the body is not JSON: {error}") from None
    if not isinstance(data, dict):
        raise MalformedWebhook("the body must be a JSON object")
    return data


def field_of(data: Any, name: str, kind: type, where: str) -> Any:
    """data[name] of the expected JSON type, or MalformedWebhook naming the path."""
    if not isinstance(data, dict):
        raise MalformedWebhook(f"{where} must be an object")
    value = data.get(name)
    if kind is str and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # platforms send some ids as numbers
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise MalformedWebhook(f"{where}.{name} is missing or not a {kind.__name__}")
    if isinstance(value, str) and not value.strip():
        raise MalformedWebhook(f"{where}.{name} is empty")
    return value


def list_of(data: Any, name: str, where: str, required: bool = True) -> list[Any]:
    if not isinstance(data, dict):
        raise MalformedWebhook(f"{where} must be an object")
    value = data.get(name)
    if value is None and not required:
        return []
    if not isinstance(value, list):
        raise MalformedWebhook(f"{where}.{name} is missing or not a list")
    if len(value) > MAX_MESSAGES_PER_PAYLOAD:
        raise MalformedWebhook(f"{where}.{name} has more than {MAX_MESSAGES_PER_PAYLOAD} items")
    return value


def epoch(value: Any, where: str, millis: bool = False) -> datetime:
    """A Unix time (seconds, or milliseconds as Meta's Messenger sends them; numbers or numeric strings)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise MalformedWebhook(f"{where} is not a Unix timestamp") from None
    try:
        return datetime.fromtimestamp(number / 1000 if millis else number, UTC)
    except (OverflowError, OSError, ValueError):
        raise MalformedWebhook(f"{where} is out of range") from None
