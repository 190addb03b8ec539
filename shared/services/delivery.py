"""Platform deliveries: a queued outbound message goes out through its channel's sender, once.

Each job is a hint ({ticket_id, message_id, at}, and the portal line a notice ends with, kept off the thread):
the message is re-read and sent only while still `queued`, so a
redelivered job is a no-op. A permanent refusal (4xx) marks the message `failed` with the platform's error and is
not retried; a temporary one (5xx, 429, timeout) is noted on the message and raised, so the queue retries the job
with backoff and, after its last attempt, keeps it in the delivery DLQ. A send that went through records the
platform's message id, which its delivery receipts name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from shared.domain.delivery import ORDER
from shared.domain.errors import SendDeferred, SendRefused
from shared.domain.ports import ChannelDelivery, ChannelSender, Tickets
from shared.domain.ticket import Message
from shared.domain.timefmt import Clock, iso, utcnow
from shared.observability import Metric, count, logger


@dataclass
class DeliveryService:
    tickets: Tickets
    senders: Mapping[str, Callable[[], ChannelSender]]  # channel -> its sender, built on first use
    max_attempts: int = 5
    clock: Clock = utcnow

    def deliver(self, job: Mapping[str, Any], attempt: int = 1) -> str:
        """What became of the job: sent, failed, or skipped (not queued any more, or gone)."""
        message = self.tickets.message(str(job["ticket_id"]), str(job["message_id"]))
        if message is None or (message.delivery or {}).get("status") != "queued":
            logger.info("delivery job skipped", extra={"message_id": job.get("message_id")})
            return "skipped"
        delivery = dict(message.delivery or {})
        now = iso(self.clock())
        try:
            platform_id = self._send(message, job.get("footer"))
        except SendRefused as refused:
            self.tickets.set_delivery(message, {**delivery, "status": "failed", "error": refused.message, "updated_at": now, "attempts": attempt})
            count(Metric.PLATFORM_SENDS_REFUSED, channel=message.channel)
            logger.warning("platform refused the message", extra={"message_id": message.message_id, "error": refused.message})
            return "failed"
        except SendDeferred as deferred:
            last = f"; attempt {attempt} of {self.max_attempts}" + ("; the job is kept in the delivery DLQ" if attempt >= self.max_attempts else "")
            self.tickets.set_delivery(message, {**delivery, "error": deferred.message + last, "updated_at": now, "attempts": attempt})
            count(Metric.PLATFORM_SENDS_DEFERRED, channel=message.channel)
            raise
        self.tickets.remember_platform_id(message.channel, platform_id, message)  # before a receipt can name it
        sent = {k: v for k, v in delivery.items() if k != "error"}
        sent |= {"status": "sent", "platform_message_id": platform_id, "sent_at": now, "updated_at": now, "attempts": attempt}
        latest = self.tickets.message(message.ticket_id, message.message_id)
        if latest is not None and ORDER.get(str((latest.delivery or {}).get("status")), 0) > ORDER["sent"]:
            sent |= {k: v for k, v in (latest.delivery or {}).items() if k not in ("error",)}  # a receipt overtook us
        self.tickets.set_delivery(message, sent)
        count(Metric.PLATFORM_MESSAGES_SENT, channel=message.channel)
        return "sent"

    def _send(self, message: Message, footer: str | None = None) -> str:
        ticket = self.tickets.get(message.ticket_id)
        to = ticket.customer.handle if ticket is not None else None
        if not to:
            raise SendRefused(f"the customer has no {message.channel} handle to send to")
        sender = self.senders.get(message.channel)
        if sender is None:
            raise SendRefused(f"no sender for channel {message.channel}")
        delivery = message.delivery or {}
        return sender().send(ChannelDelivery(
            channel=message.channel, to=to, ticket_id=message.ticket_id,
            text=f"{message.body or ''}\n\n{footer}" if footer else message.body or "",
            message_id=message.message_id, template=delivery.get("template"), language=delivery.get("language"),
        ))  # fmt: skip
