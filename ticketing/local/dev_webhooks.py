"""Try the channel webhooks without crafting signatures: each platform's real payload shape, signed with the running
stack's own channel secret the way that platform signs, POSTed to the local API (`ticketing webhook ...`, and the
fake WhatsApp's status callbacks)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

from ticketing.local.channel_fakes import CHANNELS

WEBHOOKS = (*CHANNELS, "widget", "phone")


def signed_headers(webhook: str, raw: bytes) -> dict[str, str]:
    """The header that platform would send, from the channel secret the stack provisioned."""
    from shared.adapters.secrets import channel_secret
    from shared.channels import signatures
    from shared.services.channel_intake import SECRET_FIELD
    from shared.settings import get_settings

    secret = channel_secret(get_settings(), webhook).get(SECRET_FIELD[webhook], "").encode()
    if webhook in ("whatsapp", "messenger", "instagram"):
        return {"X-Hub-Signature-256": signatures.meta_signature(secret, raw)}
    if webhook == "telegram":
        return {"X-Telegram-Bot-Api-Secret-Token": secret.decode()}
    return {"X-Ticketing-Signature": signatures.own_signature(secret, raw, int(time.time()))}


def post_signed(api_url: str, webhook: str, payload: dict[str, Any], forge: bool = False) -> tuple[int, Any]:
    raw = json.dumps(payload, ensure_ascii=False).encode()
    signature = signed_headers(webhook, raw)
    if forge:
        signature = {name: value[:-4] + ("0000" if not value.endswith("0000") else "1111") for name, value in signature.items()}
    headers = {"Content-Type": "application/json", **signature}
    request = urllib.request.Request(f"{api_url}/webhooks/{webhook}", data=raw, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our own local API
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def sample_payload(webhook: str, sender: str, name: str | None, text: str, message_id: str | None = None) -> dict[str, Any]:
    """One customer message in the platform's own format (as in events_samples/channels/)."""
    now = int(time.time())
    mid = message_id or uuid.uuid4().hex
    if webhook == "whatsapp":
        wa_id = sender.lstrip("+")
        value = {"messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
                 "contacts": [{"profile": {"name": name or wa_id}, "wa_id": wa_id}],
                 "messages": [{"from": wa_id, "id": f"wamid.{mid}", "timestamp": str(now), "type": "text", "text": {"body": text}}]}  # fmt: skip
        return {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}]}
    if webhook in ("messenger", "instagram"):
        event = {"sender": {"id": sender}, "recipient": {"id": "109876543210987"}, "timestamp": now * 1000,
                 "message": {"mid": f"m_{mid}", "text": text}}  # fmt: skip
        return {"object": "page" if webhook == "messenger" else "instagram", "entry": [{"id": "109876543210987", "time": now * 1000, "messaging": [event]}]}
    if webhook == "telegram":
        first, _, last = (name or "").partition(" ")
        person = {"id": int(sender), "is_bot": False, "first_name": first or sender, **({"last_name": last} if last else {})}
        number = int(message_id) if message_id and message_id.isdigit() else now % 1_000_000
        return {"update_id": now, "message": {"message_id": number, "from": person, "chat": {**person, "type": "private"}, "date": now, "text": text}}
    if webhook == "widget":
        return {"messages": [{"id": f"wgt_{mid}", "visitor": {"id": sender, "name": name}, "text": text, "sent_at": now, "source": "chat"}]}
    return {"calls": [{"call_id": f"call_{mid}", "from": sender, "caller_name": name, "kind": "voicemail", "text": text, "at": now}]}
