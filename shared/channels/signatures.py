"""How each platform proves a webhook is its own, checked on the raw body bytes in constant time.

- Meta (WhatsApp Cloud API, Messenger, Instagram): `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw
  body)>`.
- Telegram: the `secret_token` given to setWebhook comes back verbatim in `X-Telegram-Bot-Api-Secret-Token`.
- Our own widget, web form and telephony webhook: `X-Ticketing-Signature: t=<unix seconds>,v1=<hex
  HMAC-SHA256(secret, "<t>.<raw body>")>`, accepted within `TOLERANCE_SECONDS` of now either way (a replay of
  an old capture is stale; several `v1=` values are allowed while a secret is rotated).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from shared.domain.access import Unauthorized

TOLERANCE_SECONDS = 300
META_HEADER = "x-hub-signature-256"
TELEGRAM_HEADER = "x-telegram-bot-api-secret-token"
OWN_HEADER = "x-ticketing-signature"


def meta_signature(secret: bytes, raw: bytes) -> str:
    return "sha256=" + hmac.new(secret, raw, hashlib.sha256).hexdigest()


def verify_meta(secret: bytes, raw: bytes, header: str | None) -> None:
    if not header:
        raise Unauthorized("missing X-Hub-Signature-256")
    if not hmac.compare_digest(meta_signature(secret, raw).encode(), header.strip().lower().encode()):
        raise Unauthorized("X-Hub-Signature-256 does not match the body")


def verify_telegram(secret: bytes, header: str | None) -> None:
    if not header:
        raise Unauthorized("missing X-Telegram-Bot-Api-Secret-Token")
    if not hmac.compare_digest(secret, header.encode()):
        raise Unauthorized("X-Telegram-Bot-Api-Secret-Token is wrong")


def own_signature(secret: bytes, raw: bytes, timestamp: int) -> str:
    """The header value our widget, web form and telephony integration send."""
    digest = hmac.new(secret, f"{timestamp}.".encode() + raw, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_own(secret: bytes, raw: bytes, header: str | None, now: datetime, tolerance: int = TOLERANCE_SECONDS) -> None:
    if not header:
        raise Unauthorized("missing X-Ticketing-Signature (t=<unix>,v1=<hex HMAC-SHA256 of '<t>.<body>'>)")
    parts = [part.strip().partition("=") for part in header.split(",")]
    stamps = [value for name, _, value in parts if name == "t"]
    given = [value.lower() for name, _, value in parts if name == "v1"]
    if len(stamps) != 1 or not stamps[0].isdigit() or not given:
        raise Unauthorized("X-Ticketing-Signature must be t=<unix seconds>,v1=<hex>")
    timestamp = int(stamps[0])
    if abs(now.timestamp() - timestamp) > tolerance:
        raise Unauthorized(f"X-Ticketing-Signature is stale: more than {tolerance} s from now")
    expected = own_signature(secret, raw, timestamp).rpartition("v1=")[2].encode()
    if not any(hmac.compare_digest(expected, value.encode()) for value in given):
        raise Unauthorized("X-Ticketing-Signature does not match the body")
