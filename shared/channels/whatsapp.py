"""WhatsApp Business Cloud API webhooks: `entry[].changes[].value` with `messages[]` (and `contacts[]` for the
profile name) from customers, `statuses[]` for what we sent."""

from __future__ import annotations

from typing import Any

from shared.channels.inbound import (
    ChannelMessage,
    DeliveryReceipt,
    MalformedWebhook,
    MediaRef,
    WebhookBatch,
    epoch,
    field_of,
    json_payload,
    list_of,
)

CHANNEL = "whatsapp"
MEDIA_TYPES = ("image", "document", "audio", "video", "sticker", "voice")
RECEIPT_STATUSES = ("sent", "delivered", "read", "failed")


def parse_whatsapp(raw: bytes) -> WebhookBatch:
    payload = json_payload(raw)
    if payload.get("object") != "whatsapp_business_account":
        raise MalformedWebhook("object must be 'whatsapp_business_account'")
    batch = WebhookBatch()
    for e, entry in enumerate(list_of(payload, "entry", "payload")):
        for c, change in enumerate(list_of(entry, "changes", f"entry[{e}]")):
            where = f"entry[{e}].changes[{c}].value"
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict):
                raise MalformedWebhook(f"{where} is missing or not an object")
            names = _profile_names(value, where)
            batch.messages += [_message(m, names, f"{where}.messages[{n}]") for n, m in enumerate(list_of(value, "messages", where, required=False))]
            batch.receipts += [_receipt(s, f"{where}.statuses[{n}]") for n, s in enumerate(list_of(value, "statuses", where, required=False))]
    return batch


def _profile_names(value: dict[str, Any], where: str) -> dict[str, str]:
    names = {}
    for n, contact in enumerate(list_of(value, "contacts", where, required=False)):
        wa_id = field_of(contact, "wa_id", str, f"{where}.contacts[{n}]")
        profile = contact.get("profile")
        if isinstance(profile, dict) and isinstance(profile.get("name"), str):
            names[wa_id] = profile["name"]
    return names


def phone_handle(wa_id: str) -> str:
    """WhatsApp ids are the number in international form without '+'; handles carry it, as people write them."""
    return "+" + wa_id.strip().lstrip("+")


def _message(message: Any, names: dict[str, str], where: str) -> ChannelMessage:
    sender = field_of(message, "from", str, where)
    kind = field_of(message, "type", str, where)
    text, media = _content(message, kind, where)
    return ChannelMessage(
        channel=CHANNEL,
        platform_message_id=field_of(message, "id", str, where),
        sender=phone_handle(sender),
        name=names.get(sender) or names.get(sender.lstrip("+")),
        text=text,
        sent_at=epoch(message.get("timestamp"), f"{where}.timestamp"),
        media=media,
        kind="media" if media else ("interactive" if kind in ("interactive", "button") else "text"),
    )


def _content(message: dict[str, Any], kind: str, where: str) -> tuple[str, tuple[MediaRef, ...]]:
    """The text to show and the media listed; a type we do not model is still taken in, described."""
    if kind == "text":
        return str(field_of(field_of(message, "text", dict, where), "body", str, f"{where}.text")), ()
    if kind in MEDIA_TYPES:
        part = field_of(message, kind, dict, where)
        ref = MediaRef(
            kind=kind,
            media_id=field_of(part, "id", str, f"{where}.{kind}"),
            content_type=part.get("mime_type") if isinstance(part.get("mime_type"), str) else None,
            name=part.get("filename") if isinstance(part.get("filename"), str) else None,
            caption=part.get("caption") if isinstance(part.get("caption"), str) else None,
        )
        return ref.caption or f"({kind}{': ' + ref.name if ref.name else ''})", (ref,)
    if kind == "interactive":
        part = field_of(message, "interactive", dict, where)
        reply = part.get("button_reply") or part.get("list_reply")
        return str(field_of(reply, "title", str, f"{where}.interactive")), ()
    if kind == "button":
        return str(field_of(field_of(message, "button", dict, where), "text", str, f"{where}.button")), ()
    if kind == "location" and isinstance(message.get("location"), dict):
        place = message["location"]
        label = " ".join(str(place[k]) for k in ("name", "address") if place.get(k))
        return f"(location {place.get('latitude')},{place.get('longitude')}{' ' + label if label else ''})", ()
    return f"(a WhatsApp {kind} message)", ()


def _receipt(status: Any, where: str) -> DeliveryReceipt:
    state = field_of(status, "status", str, where)
    if state not in RECEIPT_STATUSES:
        raise MalformedWebhook(f"{where}.status must be one of {', '.join(RECEIPT_STATUSES)}")
    errors = status.get("errors") if isinstance(status.get("errors"), list) else []
    error = "; ".join(f"{e.get('code')}: {e.get('title') or e.get('message')}" for e in errors if isinstance(e, dict))
    return DeliveryReceipt(
        channel=CHANNEL,
        platform_message_id=field_of(status, "id", str, where),
        status=state,
        at=epoch(status.get("timestamp"), f"{where}.timestamp"),
        error=error or None,
    )
