"""Our own chat widget, web form and telephony integration: one documented format (docs/channels.md), signed with
the timestamped scheme of shared/channels/signatures.py.

Widget and form: `{"messages": [{"id", "visitor": {"id", "name"?, "email"?}, "text", "sent_at", "source":
"chat"|"web", "subject"?}]}`. Phone: `{"calls": [{"call_id", "from", "caller_name"?, "kind":
"call_note"|"voicemail", "text", "at", "duration_seconds"?}]}`. `sent_at`/`at` are ISO-8601 or Unix seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.channels.inbound import ChannelMessage, MalformedWebhook, WebhookBatch, epoch, field_of, json_payload, list_of

WIDGET_SOURCES = ("chat", "web")
CALL_KINDS = ("call_note", "voicemail")


def parse_widget(raw: bytes) -> WebhookBatch:
    payload = json_payload(raw)
    batch = WebhookBatch()
    for n, item in enumerate(list_of(payload, "messages", "payload")):
        where = f"messages[{n}]"
        visitor = field_of(item, "visitor", dict, where)
        source = item.get("source", "chat")
        if source not in WIDGET_SOURCES:
            raise MalformedWebhook(f"{where}.source must be one of {', '.join(WIDGET_SOURCES)}")
        subject = item.get("subject")
        batch.messages.append(ChannelMessage(
            channel=source,
            platform_message_id=field_of(item, "id", str, where),
            sender=field_of(visitor, "id", str, f"{where}.visitor"),
            name=_optional_text(visitor, "name", f"{where}.visitor"),
            text=field_of(item, "text", str, where),
            sent_at=moment(item.get("sent_at"), f"{where}.sent_at"),
            subject=subject if isinstance(subject, str) and subject.strip() else None,
        ))  # fmt: skip
    return batch


def parse_phone(raw: bytes) -> WebhookBatch:
    payload = json_payload(raw)
    batch = WebhookBatch()
    for n, call in enumerate(list_of(payload, "calls", "payload")):
        where = f"calls[{n}]"
        kind = call.get("kind", "call_note") if isinstance(call, dict) else None
        if kind not in CALL_KINDS:
            raise MalformedWebhook(f"{where}.kind must be one of {', '.join(CALL_KINDS)}")
        duration = call.get("duration_seconds")
        label = "Voicemail" if kind == "voicemail" else "Call"
        subject = f"{label} from {field_of(call, 'from', str, where)}" + (f" ({int(duration)} s)" if isinstance(duration, (int, float)) else "")
        batch.messages.append(ChannelMessage(
            channel="phone",
            platform_message_id=field_of(call, "call_id", str, where),
            sender=field_of(call, "from", str, where),
            name=_optional_text(call, "caller_name", where),
            text=field_of(call, "text", str, where),
            sent_at=moment(call.get("at"), f"{where}.at"),
            kind="voicemail" if kind == "voicemail" else "note",
            subject=subject,
        ))  # fmt: skip
    return batch


def moment(value: Any, where: str) -> datetime:
    """ISO-8601 (with an offset, or UTC when it has none) or Unix seconds."""
    if isinstance(value, str) and not value.replace(".", "", 1).isdigit():
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise MalformedWebhook(f"{where} is not an ISO-8601 time or Unix seconds") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return epoch(value, where)


def _optional_text(data: dict[str, Any], name: str, where: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedWebhook(f"{where}.{name} must be a string")
    return value.strip() or None
