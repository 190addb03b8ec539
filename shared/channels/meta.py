"""Facebook Messenger (`object: page`) and Instagram messaging (`object: instagram`) webhooks: `entry[].messaging[]`
events — a customer's `message` or `postback`, and `delivery` / `read` receipts of what we sent. Echoes of our own
messages are ignored."""

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

OBJECT_OF = {"facebook": "page", "instagram": "instagram"}


def parse_meta_messaging(raw: bytes, channel: str) -> WebhookBatch:
    payload = json_payload(raw)
    if payload.get("object") != OBJECT_OF[channel]:
        raise MalformedWebhook(f"object must be '{OBJECT_OF[channel]}'")
    batch = WebhookBatch()
    for e, entry in enumerate(list_of(payload, "entry", "payload")):
        for n, event in enumerate(list_of(entry, "messaging", f"entry[{e}]", required=False)):
            _event(batch, event, channel, f"entry[{e}].messaging[{n}]")
    return batch


def _event(batch: WebhookBatch, event: Any, channel: str, where: str) -> None:
    sender = field_of(field_of(event, "sender", dict, where), "id", str, f"{where}.sender")
    at = epoch(event.get("timestamp"), f"{where}.timestamp", millis=True)
    if isinstance(event.get("message"), dict):
        message = event["message"]
        if message.get("is_echo"):
            batch.ignored.append(f"{where}: an echo of a message the page sent")
            return
        batch.messages.append(_message(message, sender, at, channel, where))
    elif isinstance(event.get("postback"), dict):
        postback = event["postback"]
        mid = postback.get("mid") or f"postback:{sender}:{event.get('timestamp')}"
        text = postback.get("title") or postback.get("payload") or "(a button)"
        batch.messages.append(ChannelMessage(channel, str(mid), sender, str(text), at, kind="interactive"))
    elif isinstance(event.get("delivery"), dict) or isinstance(event.get("read"), dict):
        status = "delivered" if isinstance(event.get("delivery"), dict) else "read"
        receipt = event.get("delivery") or event.get("read")
        mids = receipt.get("mids") or ([receipt["mid"]] if receipt.get("mid") else [])
        if not mids:
            batch.ignored.append(f"{where}: a {status} watermark without message ids")
        batch.receipts += [DeliveryReceipt(channel, str(mid), status, at) for mid in mids if isinstance(mid, str)]
    else:
        batch.ignored.append(f"{where}: an event of a kind not taken in ({', '.join(sorted(event)) or 'empty'})")


def _message(message: dict[str, Any], sender: str, at: Any, channel: str, where: str) -> ChannelMessage:
    media = tuple(_attachment(a, f"{where}.message.attachments[{n}]") for n, a in enumerate(list_of(message, "attachments", f"{where}.message", required=False)))
    text = message.get("text")
    if not isinstance(text, str) or not text.strip():
        text = ", ".join(f"({m.kind})" for m in media) or "(an empty message)"
    return ChannelMessage(
        channel=channel,
        platform_message_id=field_of(message, "mid", str, f"{where}.message"),
        sender=sender,
        text=text,
        sent_at=at,
        media=media,
        kind="media" if media else ("interactive" if "quick_reply" in message else "text"),
    )


def _attachment(attachment: Any, where: str) -> MediaRef:
    kind = field_of(attachment, "type", str, where)
    payload = attachment.get("payload") if isinstance(attachment.get("payload"), dict) else {}
    reference = payload.get("attachment_id") or payload.get("url") or payload.get("sticker_id")
    if reference is None:
        raise MalformedWebhook(f"{where}.payload has neither url nor attachment_id")
    return MediaRef(kind=kind, media_id=str(reference), name=payload.get("title") if isinstance(payload.get("title"), str) else None)
