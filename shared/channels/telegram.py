"""Telegram Bot API updates: a `message` from a customer becomes intake; an `edited_message` is noted and not
taken in again (the original is on the ticket); other update kinds are ignored with a note."""

from __future__ import annotations

from typing import Any

from shared.channels.inbound import ChannelMessage, MalformedWebhook, MediaRef, WebhookBatch, epoch, field_of, json_payload

CHANNEL = "telegram"
MEDIA_TYPES = ("document", "audio", "voice", "video", "video_note", "sticker", "animation")


def parse_telegram(raw: bytes) -> WebhookBatch:
    update = json_payload(raw)
    update_id = field_of(update, "update_id", str, "update")
    batch = WebhookBatch()
    if "message" in update:
        message = _message(update["message"], "update.message")
        if message is None:
            batch.ignored.append(f"update {update_id}: a service message with no text or media")
        else:
            batch.messages.append(message)
    elif "edited_message" in update:
        batch.ignored.append(f"update {update_id}: an edit of a message already taken in")
    else:
        kinds = ", ".join(sorted(k for k in update if k != "update_id")) or "empty"
        batch.ignored.append(f"update {update_id}: an update of a kind not taken in ({kinds})")
    return batch


def _message(message: Any, where: str) -> ChannelMessage | None:
    chat = field_of(message, "chat", dict, where)
    chat_id = field_of(chat, "id", str, f"{where}.chat")
    message_id = field_of(message, "message_id", str, where)
    sender = message.get("from") if isinstance(message.get("from"), dict) else {}
    media = _media(message, where)
    text = message.get("text") or message.get("caption")
    if not isinstance(text, str) or not text.strip():
        if not media:
            return None
        text = ", ".join(f"({m.kind}{': ' + m.name if m.name else ''})" for m in media)
    name = " ".join(str(sender[k]) for k in ("first_name", "last_name") if sender.get(k)) or sender.get("username")
    return ChannelMessage(
        channel=CHANNEL,
        platform_message_id=f"{chat_id}:{message_id}",  # message ids count per chat
        sender=chat_id,  # where a reply goes (sendMessage chat_id)
        name=name if isinstance(name, str) else None,
        text=text,
        sent_at=epoch(message.get("date"), f"{where}.date"),
        media=media,
        kind="media" if media else "text",
    )


def _media(message: dict[str, Any], where: str) -> tuple[MediaRef, ...]:
    found = []
    photos = message.get("photo")
    if isinstance(photos, list) and photos:
        largest = photos[-1]  # Telegram lists the sizes smallest first
        found.append(MediaRef("image", str(field_of(largest, "file_id", str, f"{where}.photo[-1]"))))
    for kind in MEDIA_TYPES:
        part = message.get(kind)
        if isinstance(part, dict):
            found.append(MediaRef(
                kind=kind,
                media_id=str(field_of(part, "file_id", str, f"{where}.{kind}")),
                content_type=part.get("mime_type") if isinstance(part.get("mime_type"), str) else None,
                name=part.get("file_name") if isinstance(part.get("file_name"), str) else None,
            ))  # fmt: skip
    if isinstance(message.get("location"), dict):
        raise_unless_numbers(message["location"], f"{where}.location")
        place = message["location"]
        found.append(MediaRef("location", f"{place['latitude']},{place['longitude']}"))
    return tuple(found)


def raise_unless_numbers(place: dict[str, Any], where: str) -> None:
    for key in ("latitude", "longitude"):
        if not isinstance(place.get(key), (int, float)):
            raise MalformedWebhook(f"{where}.{key} is missing or not a number")
