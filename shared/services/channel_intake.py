"""Channel webhooks in: verify the platform's signature on the raw body, parse its own format, and hand every
customer message to the same IntakeService as email; delivery receipts update the outbound message they name.

The order keeps the promises: a forged or stale signature is refused before anything is written (401); a signed
payload is kept raw in the bucket first, so a malformed one (400) is quarantined with its copy and nothing
accepted is lost; each message's idempotency key is the channel and the platform's own message id, so a platform's
retry or a replayed capture is a duplicate, never a second ticket.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Mapping, Protocol

from shared.channels import signatures
from shared.channels.inbound import ChannelMessage, DeliveryReceipt, MalformedWebhook, WebhookBatch, field_of, json_payload
from shared.channels.meta import parse_meta_messaging
from shared.channels.own import parse_phone, parse_widget
from shared.channels.telegram import parse_telegram
from shared.channels.whatsapp import parse_whatsapp
from shared.domain.access import Forbidden, Unauthorized
from shared.domain.delivery import next_delivery
from shared.domain.ids import customer_id_for, derived_ulid
from shared.domain.model import Channel, Contact, QuarantineEntry
from shared.domain.ports import Quarantine, Tickets
from shared.domain.timefmt import iso
from shared.observability import Metric, count, logger
from shared.services.intake import BodyStore, InboundMessage, IntakeResult

CLOCK_SKEW = timedelta(minutes=5)
META_WEBHOOKS = ("whatsapp", "messenger", "instagram")
OWN_WEBHOOKS = ("widget", "phone")
WEBHOOKS = (*META_WEBHOOKS, "telegram", *OWN_WEBHOOKS)
PARSERS: dict[str, Callable[[bytes], WebhookBatch]] = {
    "whatsapp": parse_whatsapp,
    "messenger": lambda raw: parse_meta_messaging(raw, "facebook"),
    "instagram": lambda raw: parse_meta_messaging(raw, "instagram"),
    "telegram": parse_telegram,
    "widget": parse_widget,
    "phone": parse_phone,
}
SECRET_FIELD = {"whatsapp": "app_secret", "messenger": "app_secret", "instagram": "app_secret",
                "telegram": "secret_token", "widget": "signing_secret", "phone": "signing_secret"}  # fmt: skip


class Intake(Protocol):
    def accept(self, message: InboundMessage) -> IntakeResult: ...


@dataclass(frozen=True)
class WebhookCall:
    """A webhook as it arrived: which route, the raw body bytes, the headers (names lower-cased)."""

    webhook: str
    raw: bytes
    headers: Mapping[str, str]


@dataclass
class WebhookOutcome:
    messages: list[dict[str, Any]] = field(default_factory=list)
    receipts: int = 0
    ignored: list[str] = field(default_factory=list)


def verify_token(secret: Mapping[str, str]) -> str:
    """What Meta's verification GET must present: the configured `verify_token`, else one derived from the app
    secret (`ticketing webhook` and the docs show how) so a fresh stack needs no extra setting."""
    given = secret.get("verify_token")
    if given:
        return given
    return hmac.new(secret.get("app_secret", "").encode(), b"verify-token", hashlib.sha256).hexdigest()[:32]


@dataclass
class ChannelIntake:
    intake: Callable[[], Intake]
    tickets: Tickets
    quarantine: Quarantine
    bodies: BodyStore
    bucket: str
    secrets: Callable[[str], Mapping[str, str]]  # webhook name -> its secret's fields
    now: Callable[[], datetime]

    def verify_subscription(self, webhook: str, mode: str | None, token: str | None, challenge: str | None) -> str:
        """Meta's `hub.mode=subscribe` GET: the challenge back when the verify token is ours."""
        expected = verify_token(self.secrets(webhook))
        if mode != "subscribe" or not token or not hmac.compare_digest(expected.encode(), token.encode()):
            raise Forbidden("hub.verify_token does not match this webhook's verify token")
        if not challenge:
            raise MalformedWebhook("hub.challenge is missing")
        return challenge

    def receive(self, call: WebhookCall) -> WebhookOutcome:
        now = self.now()
        self._verify(call, now)
        raw_key = self._keep_raw(call, now)
        try:
            batch = PARSERS[call.webhook](call.raw)
        except MalformedWebhook as error:
            self._quarantine(call, raw_key, error.message, now)
            raise
        outcome = WebhookOutcome(ignored=batch.ignored)
        for message in batch.messages:
            result = self.intake().accept(inbound_message(message, raw_key, now))
            outcome.messages.append({"platform_message_id": message.platform_message_id, **result.as_dict()})
        outcome.receipts = sum(self._apply_receipt(receipt) for receipt in batch.receipts)
        return outcome

    def widget_replies(self, call: WebhookCall) -> list[dict[str, Any]]:
        """What the widget shows its visitor: our replies on their latest chat ticket (after `since`), polled with
        a body signed like the widget's own webhooks (`{"visitor": id, "since": ISO time?}`); each one handed over
        is marked delivered."""
        now = self.now()
        self._verify(call, now)
        request = json_payload(call.raw)
        visitor = field_of(request, "visitor", str, "body")
        since = str(request.get("since") or "")
        ticket = self.tickets.latest_for_customer(customer_id_for(Contact(Channel.CHAT, visitor)), Channel.CHAT.value)
        messages = self.tickets.thread(ticket.id)[0] if ticket is not None else []
        out = []
        for message in messages:
            delivery = message.delivery or {}
            if message.direction != "outbound" or message.at <= since or delivery.get("status") in (None, "queued", "failed"):
                continue
            updated = next_delivery(delivery, "delivered", iso(now))
            if updated is not None:
                self.tickets.set_delivery(message, updated)
            out.append({"id": message.message_id, "at": message.at, "text": message.body or "",
                        "from": message.author.get("name") or "Support"})  # fmt: skip
        return out

    def _verify(self, call: WebhookCall, now: datetime) -> None:
        secret = self.secrets(call.webhook).get(SECRET_FIELD[call.webhook], "").encode()
        if not secret:
            raise Unauthorized(f"the {call.webhook} webhook has no secret configured")
        if call.webhook in META_WEBHOOKS:
            signatures.verify_meta(secret, call.raw, call.headers.get(signatures.META_HEADER))
        elif call.webhook == "telegram":
            signatures.verify_telegram(secret, call.headers.get(signatures.TELEGRAM_HEADER))
        else:
            signatures.verify_own(secret, call.raw, call.headers.get(signatures.OWN_HEADER), now)

    def _keep_raw(self, call: WebhookCall, now: datetime) -> str:
        """The signed payload as it came (named by its digest: a platform's retry rewrites the same object)."""
        digest = hashlib.sha256(call.raw).hexdigest()
        return self.bodies.put(f"webhooks/{call.webhook}/{iso(now)[:10]}/{digest}.json", call.raw, "application/json")

    def _quarantine(self, call: WebhookCall, raw_key: str, reason: str, now: datetime) -> None:
        count(Metric.MAILS_QUARANTINED, reason="malformed_webhook")
        logger.warning("malformed webhook quarantined", extra={"webhook": call.webhook, "detail": reason})
        entry = QuarantineEntry(
            id=derived_ulid(now, f"quarantine#{raw_key}"), reason="malformed_webhook", detail=reason,
            raw_bucket=self.bucket, raw_key=raw_key, sender=None, subject=f"{call.webhook} webhook",
            source=call.webhook,
        )  # fmt: skip
        self.quarantine.keep(entry, now)

    def _apply_receipt(self, receipt: DeliveryReceipt) -> int:
        """1 when the receipt moved one of our messages on; an unknown id (not ours, or sent elsewhere) is noted."""
        message = self.tickets.message_for_platform_id(receipt.channel, receipt.platform_message_id)
        if message is None:
            logger.info("delivery receipt for a message we do not know", extra={"platform_message_id": receipt.platform_message_id})
            return 0
        updated = next_delivery(message.delivery or {}, receipt.status, iso(receipt.at), receipt.error)
        if updated is None:
            return 0
        self.tickets.set_delivery(message, updated)
        return 1


def inbound_message(message: ChannelMessage, raw_key: str, now: datetime) -> InboundMessage:
    """A platform message in the intake's terms: keyed by channel and the platform's id (a replay is a duplicate),
    continuing the contact's conversation; media are listed by id (the platform holds them; none downloaded)."""
    channel = Channel(message.channel)
    first_line = message.text.strip().splitlines()[0] if message.text.strip() else ""
    return InboundMessage(
        channel=channel,
        key=f"{channel.value}#{message.platform_message_id}",
        received_at=message.sent_at if message.sent_at <= now + CLOCK_SKEW else now,  # stable across retries
        contact=Contact(channel, message.sender, message.name),
        subject=message.subject or first_line[:120] or f"{channel.value} message",
        body=message.text,
        body_full=message.text,
        raw_key=raw_key,
        continues_conversation=True,
        platform_message_id=message.platform_message_id,
        media=tuple({"media_id": m.media_id, "content_type": m.content_type or m.kind, "name": m.name or m.kind,
                     "note": f"held by {channel.value}; not downloaded"} for m in message.media),  # fmt: skip
    )
