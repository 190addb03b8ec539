"""Intake: one normalised inbound message in, a new ticket or a message on an existing ticket out.

Channel-agnostic on purpose: email is one adapter (shared/services/email_intake.py); chat, web forms and social webhooks
will be others. The order of work is what makes it safe to retry at any point:
take the idempotency key (Powertools' idempotency utility) -> find the thread -> write ticket/message in one
transaction -> announce -> the key's record completes with what the message became (duplicates read it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Protocol

from shared.domain.errors import Conflict, InFlight
from shared.domain.ids import derived_ulid, ref_candidates
from shared.domain.model import AttachmentRef, AuditEvent, Channel, Contact, Customer, Direction, MessageKind, Once, QuarantineEntry, Status
from shared.domain.ticket import CustomerSnapshot, Message, Ticket
from shared.domain.status import on_customer_reply
from shared.domain.ports import Customers, Idempotency, Markers, Quarantine, Tickets
from shared.mail.threading import ThreadHints
from shared.observability import Metric, bind_ticket, count, logger
from shared.settings import Settings
from shared.domain.timefmt import iso

DISPLAY_BODY_CHARS = 20_000
MAX_STORED_BODY_BYTES = 150_000  # with the display copy (at most 80 KB), well under DynamoDB's 400 KB an item
IN_FLIGHT_PAUSES = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6)  # about 3 s for a concurrent copy to finish
HOUR = 3600


@dataclass(frozen=True)
class InboundAttachment:
    """An attachment as it arrived; the service stores it (after the idempotency claim) and lists it."""

    name: str
    content_type: str
    content: bytes
    inline: bool = False


@dataclass(frozen=True)
class InboundMessage:
    channel: Channel
    key: str  # idempotency key; ids of everything this message creates derive from it
    received_at: datetime
    contact: Contact
    subject: str
    body: str  # for display: quoted history and signature trimmed
    body_full: str  # the full original text
    mailbox: str | None = None
    attachments: tuple[InboundAttachment, ...] = ()
    email_message_id: str | None = None
    recipients: tuple[str, ...] = ()
    in_reply_to: tuple[str, ...] = ()
    hints: ThreadHints | None = None
    raw_bucket: str | None = None
    raw_key: str | None = None
    automated: bool = False
    automation_reasons: tuple[str, ...] = ()
    is_bounce: bool = False
    importance: str | None = None
    defects: tuple[str, ...] = ()
    # platform channels: a message continues the contact's latest ticket on its channel (a chat is one conversation)
    continues_conversation: bool = False
    platform_message_id: str | None = None
    media: tuple[dict[str, str], ...] = ()  # attachments the platform holds, listed by its media id

    @property
    def message_id(self) -> str:
        return derived_ulid(self.received_at, self.key + "#message")


@dataclass(frozen=True)
class IntakeResult:
    outcome: str  # created | threaded | follow_up | duplicate | quarantined
    ticket_id: str | None = None
    message_id: str | None = None
    ref: str | None = None
    suppressed: bool = False
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "IntakeResult":
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


class Announcer(Protocol):
    def announce(self, event: dict[str, Any]) -> None: ...


class BodyStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str = ...) -> str: ...


def ticket_created(ticket_id: str, message_id: str | None, channel: str, automated: bool, at: str) -> dict[str, Any]:
    """The route stage's announcement of a new ticket (automated mail is never answered)."""
    from shared.contracts.events import TicketCreated, wire  # pydantic on the first new ticket, not at cold start
    from shared.domain.timefmt import parse_iso

    announcement = TicketCreated(
        ticket_id=ticket_id,
        message_id=message_id,
        channel=Channel(channel),
        automated=automated,
        suppress_auto_response=automated,
        at=parse_iso(at),
    )
    return wire(announcement)


def quarantine_entry(message: InboundMessage, reason: str, detail: str) -> QuarantineEntry:
    """An inbound message intake decided not to turn into a ticket, with its raw copy's key (one entry per key)."""
    return QuarantineEntry(
        id=derived_ulid(message.received_at, f"quarantine#{message.key}"),
        reason=reason,
        detail=detail,
        raw_bucket=message.raw_bucket,
        raw_key=message.raw_key,
        sender=message.contact.address,
        subject=message.subject,
        source=message.channel.value,
    )


@dataclass
class IntakeService:
    settings: Settings
    tickets: Tickets
    customers: Customers
    markers: Markers  # rate windows
    idempotency: Idempotency  # each inbound message taken in once
    announcer: Announcer
    bodies: BodyStore
    quarantine: Quarantine
    max_conflict_retries: int = 3
    sleep: Callable[[float], None] = time.sleep

    def accept(self, message: InboundMessage) -> IntakeResult:
        taken = self._take_in_once(message)
        if taken.replayed:
            count(Metric.DUPLICATES_DROPPED, channel=message.channel.value)
            logger.info("duplicate inbound dropped", extra={"key": message.key})
            previous = taken.result
            self._record_duplicate(message, previous)
            return IntakeResult(outcome="duplicate", ticket_id=previous.get("ticket_id"), message_id=previous.get("message_id"))
        return IntakeResult.from_dict(taken.result)

    def _take_in_once(self, message: InboundMessage) -> Once:
        """Take the message in under its idempotency key; what it became is kept (with its raw copy's key) for
        the duplicates that follow."""

        def take_in() -> dict[str, Any]:
            return {**self._accept_claimed(message).as_dict(), "raw_key": message.raw_key}

        lease = self.settings.processing_lease_seconds
        for pause in IN_FLIGHT_PAUSES:
            try:
                return self.idempotency.once(message.key, take_in, lease_seconds=lease)
            except InFlight:
                # a concurrent copy of this mail (a second route, a resend) is being taken in right now: it usually
                # finishes within milliseconds, and then this copy is a plain duplicate, not an error to retry
                self.sleep(pause)
        return self.idempotency.once(message.key, take_in, lease_seconds=lease)  # still InFlight: retried later

    def _record_duplicate(self, message: InboundMessage, previous: dict[str, Any]) -> None:
        """A second delivery of a mail already taken in (another route, a resend) leaves a trace with its raw copy's
        key — an event on the ticket, or a quarantine entry when the first copy was quarantined — so no accepted
        delivery vanishes. A redelivery of the very same stored object says nothing new and is only counted."""
        if not message.raw_key or previous.get("raw_key") == message.raw_key:
            return
        ticket_id = previous.get("ticket_id")
        if ticket_id:
            event = AuditEvent(
                type="message.duplicate",
                at=message.received_at,
                actor=f"customer:{message.contact.address}",
                data={"message_id": previous.get("message_id"), "raw_key": message.raw_key},
                id=derived_ulid(message.received_at, f"duplicate#{message.raw_key}"),
            )
            self.tickets.add_events(str(ticket_id), [event])
            return
        detail = (
            f"the same mail as {previous.get('raw_key') or 'an earlier delivery'}, which was "
            f"{previous.get('outcome', 'taken in')}" + (f" ({previous['reason']})" if previous.get("reason") else "")
        )
        self.quarantine.keep(quarantine_entry(message, "duplicate", detail), message.received_at)

    def _accept_claimed(self, message: InboundMessage) -> IntakeResult:
        for _ in range(self.max_conflict_retries):
            try:
                return self._route_to_thread(message)
            except Conflict:
                logger.info("ticket changed underneath; deciding again", extra={"key": message.key})
        raise Conflict(f"ticket kept changing while adding inbound {message.key}")

    def _route_to_thread(self, message: InboundMessage) -> IntakeResult:
        customer = self.customers.get_or_create(message.contact, message.received_at)
        ticket, related = self._find_ticket(message, customer)
        ticket = self._follow_merges(ticket)
        sender_count = self.markers.hit(f"rate#sender#{message.contact.key}", message.received_at, HOUR, message.key)
        over_sender_limit = sender_count > self.settings.sender_mails_per_hour
        if ticket is None:
            if message.is_bounce:
                return self._quarantined(message, "bounce_unmatched", "a delivery failure report that matches no ticket")
            if message.automated:
                # an out-of-office, newsletter or notification that answers nothing of ours is not work for an
                # agent: it is kept for review, never assigned and never answered
                return self._quarantined(
                    message,
                    "automated_unthreaded",
                    "automated mail (" + ", ".join(message.automation_reasons or ("automated",)) + ") that threads "
                    "into no ticket" + (f"; it refers to {related.ref} of another sender" if related else ""),
                )
            if over_sender_limit:
                return self._quarantined(
                    message,
                    "rate_limited",
                    f"the sender sent {sender_count} messages this hour "
                    f"(limit {self.settings.sender_mails_per_hour}); held to stop a loop or storm",
                )
            return self._create_ticket(message, customer, follow_up_of=None, related_to=related)
        if ticket.status == Status.CLOSED.value and not message.automated:
            return self._create_ticket(message, customer, follow_up_of=ticket)
        ticket_count = self.markers.hit(f"rate#ticket#{ticket.id}", message.received_at, HOUR, message.key)
        rate_limited = over_sender_limit or ticket_count > self.settings.ticket_mails_per_hour
        return self._add_to_ticket(message, ticket, rate_limited)

    def _follow_merges(self, ticket: Ticket | None) -> Ticket | None:
        """A message for a ticket that was merged goes where its thread continues (A into B, B into C: to C)."""
        from shared.domain.merge import MAX_FOLLOWED_MERGES

        for _ in range(MAX_FOLLOWED_MERGES):
            if ticket is None or not ticket.merged_into:
                return ticket
            ticket = self.tickets.get(ticket.merged_into) or ticket
        return ticket

    def _quarantined(self, message: InboundMessage, reason: str, detail: str) -> IntakeResult:
        count(Metric.MAILS_QUARANTINED, reason=reason)
        self.quarantine.keep(quarantine_entry(message, reason, detail), message.received_at)
        logger.info("inbound quarantined", extra={"reason": reason, "key": message.key})
        return IntakeResult(outcome="quarantined", reason=reason)

    def _find_ticket(
        self, message: InboundMessage, customer: Customer
    ) -> tuple[Ticket | None, Ticket | None]:
        """(the ticket this message joins, a ticket it refers to but may not join).

        A platform conversation (WhatsApp, Telegram, the widget ...) continues the contact's latest ticket on that
        channel: the platform vouched for who wrote (a closed one gets a linked follow-up, as for email).

        A signed reply address is proof enough. A ref in the subject and a Message-ID in In-Reply-To/References
        are not secrets — anyone who saw the mail, or guessed, can write them — so they thread only a message
        from the ticket's own customer; a delivery report threads only by the Message-ID of mail we sent. Anything
        else that points at a ticket starts a new one, linked to it as related."""
        hints = message.hints
        if message.continues_conversation:
            return self.tickets.latest_for_customer(customer.id, message.channel.value), None
        if hints is None or hints.empty:
            return None, None
        if hints.token_ref:
            ticket = self.tickets.by_ref(hints.token_ref)
            if ticket is not None:
                return ticket, None
        related: Ticket | None = None
        if hints.subject_ref:
            ticket = self.tickets.by_ref(hints.subject_ref)
            if ticket is not None:
                if ticket.customer_id == customer.id:
                    return ticket, None
                related = ticket
        for mid in hints.message_ids:
            item = self.tickets.message_for_email_message_id(mid)
            ticket = self.tickets.get(str(item.ticket_id)) if item is not None else None
            if item is None or ticket is None:
                continue
            ours = item.direction == Direction.OUTBOUND.value
            if ticket.customer_id == customer.id or (message.is_bounce and ours):
                return ticket, None
            related = related or ticket
        return None, related

    def _message_item(self, message: InboundMessage, ticket_id: str, suppressed: bool) -> Message:
        at = iso(message.received_at)
        body_full = message.body_full
        body_key = None
        truncated = False
        encoded = body_full.encode("utf-8", "surrogatepass")
        if len(body_full) > self.settings.max_stored_body_chars or len(encoded) > MAX_STORED_BODY_BYTES:
            # kept whole in S3; the thread item keeps what fits (DynamoDB counts bytes: 100,000 CJK characters are
            # 300 KB, and an item stops at 400 KB)
            body_key = f"bodies/{ticket_id}/{message.message_id}.txt"
            self.bodies.put(body_key, encoded, "text/plain; charset=utf-8")
            body_full = body_full[: self.settings.max_stored_body_chars]
            body_full = body_full.encode("utf-8", "surrogatepass")[:MAX_STORED_BODY_BYTES].decode("utf-8", "ignore")
            truncated = True
        body = message.body[:DISPLAY_BODY_CHARS]
        attachments = [
            {k: v for k, v in ref.__dict__.items() if v is not None} for ref in self._store_attachments(message)
        ] + [dict(media) for media in message.media]
        return Message(
            ticket_id=ticket_id,
            at=at,
            message_id=message.message_id,
            direction=Direction.INBOUND.value,
            kind=(MessageKind.AUTOMATIC if message.automated else MessageKind.CUSTOMER).value,
            channel=message.channel.value,
            author={"contact": message.contact.address, "name": message.contact.name},
            subject=message.subject,
            body=body,
            body_full=body_full if body_full != body else None,
            body_truncated=truncated or len(message.body) > DISPLAY_BODY_CHARS,
            body_key=body_key,
            raw_key=message.raw_key,
            attachments=attachments,
            email_message_id=message.email_message_id,
            in_reply_to=list(message.in_reply_to),
            recipients=list(message.recipients),
            automated=message.automated,
            automation_reasons=list(message.automation_reasons),
            suppressed=suppressed or message.automated,
            defects=list(message.defects)[:20],
            importance=message.importance,
            delivery={"platform_message_id": message.platform_message_id} if message.platform_message_id else None,
        )

    def _store_attachments(self, message: InboundMessage) -> list[AttachmentRef]:
        """Store each attachment under the message id (a retry overwrites the same objects); oversize ones are
        listed with a note instead — the raw original still holds them."""
        refs = []
        limit = self.settings.max_attachment_bytes
        for n, attachment in enumerate(message.attachments, start=1):
            size = len(attachment.content)
            key: str | None = None
            note = None
            if size > limit:
                note = f"not stored: {size} bytes exceeds the {limit} byte limit; it is kept in the raw original"
            else:
                key = f"{self.settings.attachments_prefix}{message.message_id}/{n}-{attachment.name}"
                self.bodies.put(key, attachment.content, attachment.content_type)
            refs.append(
                AttachmentRef(
                    name=attachment.name,
                    content_type=attachment.content_type,
                    size=size,
                    key=key,
                    inline=attachment.inline,
                    note=note,
                )
            )
        return refs

    def _events(self, ticket_id: str, message: InboundMessage, *events: tuple[str, dict[str, Any]]) -> list[AuditEvent]:
        """Audit events caused by this inbound message, in order, with ids derived from its key."""
        actor = f"customer:{message.contact.address}"
        return [
            AuditEvent(
                type=type_,
                at=message.received_at,
                actor=actor,
                data=data,
                id=derived_ulid(message.received_at, f"{message.key}#{type_}#{ticket_id}"),
                seq=seq,
            )
            for seq, (type_, data) in enumerate(events)
        ]

    def _create_ticket(
        self,
        message: InboundMessage,
        customer: Customer,
        follow_up_of: Ticket | None,
        related_to: Ticket | None = None,
    ) -> IntakeResult:
        ticket = self._new_ticket(message, customer, follow_up_of, related_to)
        ticket_id, at = ticket.id, ticket.created_at
        bind_ticket(ticket_id)
        msg_item = self._message_item(message, ticket_id, suppressed=False)
        events = self._events(
            ticket_id,
            message,
            (
                "ticket.created",
                {
                    "channel": message.channel.value,
                    "follow_up_of": follow_up_of.id if follow_up_of else None,
                    "related_to": related_to.id if related_to else None,
                },
            ),
            ("message.added", {"message_id": message.message_id, "automated": message.automated}),
        )
        created = self.tickets.create(ticket, msg_item, events, ref_candidates(message.key))
        if not created:
            existing = self.tickets.get(ticket_id)
            ticket = existing if existing is not None else ticket
        else:
            count(Metric.TICKETS_CREATED, channel=message.channel.value)
            if message.automated:
                count(Metric.AUTOMATED_SUPPRESSED, channel=message.channel.value)
        if created:
            self._link(message, ticket, follow_up_of, related_to)
        self.announcer.announce(ticket_created(ticket_id, message.message_id, message.channel.value, message.automated, at))
        logger.info("ticket created", extra={"ticket_id": ticket_id, "ref": ticket.ref, "automated": message.automated})
        return IntakeResult(
            outcome="follow_up" if follow_up_of else "created",
            ticket_id=ticket_id,
            message_id=message.message_id,
            ref=ticket.ref,
            suppressed=message.automated,
        )

    def _new_ticket(
        self, message: InboundMessage, customer: Customer, follow_up_of: Ticket | None, related_to: Ticket | None
    ) -> Ticket:
        at = iso(message.received_at)
        tags = {tag for tag, flag in (("automated", message.automated), ("bounce", message.is_bounce)) if flag}
        return Ticket(
            id=derived_ulid(message.received_at, message.key + "#ticket"),
            subject=message.subject[:500] or "(no subject)",
            channel=message.channel.value,
            team=self.settings.default_team,
            customer_id=customer.id,
            customer=CustomerSnapshot(
                id=customer.id, email=customer.email, handle=customer.handle, name=customer.name, tier=customer.tier
            ),
            mailbox=message.mailbox,
            automated=message.automated,
            automation_reasons=list(message.automation_reasons),
            follow_up_of=follow_up_of.id if follow_up_of else None,
            related_to=related_to.id if related_to else None,
            message_count=1,
            customer_waiting_count=0 if message.automated else 1,
            created_at=at,
            updated_at=at,
            last_customer_message_at=None if message.automated else at,
            tags=tags,
        )

    def _link(self, message: InboundMessage, ticket: Ticket, follow_up_of: Ticket | None, related_to: Ticket | None) -> None:
        """The ticket a follow-up continues, or the one a stranger's mail referred to, learns of the new ticket."""
        if follow_up_of is not None:
            data = {"follow_up": ticket.id, "ref": ticket.ref}
            self.tickets.add_events(follow_up_of.id, self._events(follow_up_of.id, message, ("ticket.follow_up_opened", data)))
        if related_to is not None:
            data = {"related": ticket.id, "ref": ticket.ref, "reason": "another sender"}
            self.tickets.add_events(related_to.id, self._events(related_to.id, message, ("ticket.related_opened", data)))

    def _add_to_ticket(self, message: InboundMessage, ticket: Ticket, rate_limited: bool) -> IntakeResult:
        bind_ticket(ticket.id)
        at = iso(message.received_at)
        changes: list[tuple[str, dict[str, Any]]] = [
            ("message.added", {"message_id": message.message_id, "automated": message.automated, "rate_limited": rate_limited})
        ]
        reopened = False
        if not message.automated:
            # automated mail (out-of-office, bounces) never reopens or resumes a ticket
            outcome = on_customer_reply(Status(ticket.status))
            reopened = outcome.reopened
            if outcome.status.value != ticket.status:
                changes.append(("ticket.status_changed", {"from": ticket.status, "to": outcome.status.value, "reason": "customer_reply"}))
                ticket.status = outcome.status.value
                if outcome.status == Status.OPEN and ticket.assignee:
                    # back to the queue; routing offers it to the same agent first, within capacity
                    ticket.preferred_agent = ticket.assignee
                    ticket.assignee = None
            if outcome.reopened:
                ticket.reopen_count = (ticket.reopen_count or 0) + 1
                ticket.resolved_at = None
                changes.append(("ticket.reopened", {"reopen_count": ticket.reopen_count}))
            ticket.last_customer_message_at = at
            ticket.customer_waiting_count = int(ticket.customer_waiting_count or 0) + 1
        ticket.message_count = (ticket.message_count or 0) + 1
        ticket.updated_at = max(ticket.updated_at, at)
        msg_item = self._message_item(message, ticket.id, suppressed=rate_limited)
        events = self._events(ticket.id, message, *changes)
        added = self.tickets.add_message(ticket, msg_item, events)
        if added:
            count(Metric.MESSAGES_THREADED, channel=message.channel.value)
            if message.automated or rate_limited:
                count(Metric.AUTOMATED_SUPPRESSED, channel=message.channel.value)
        suppressed = message.automated or rate_limited
        self.announcer.announce(
            {
                "event": "message.added",
                "ticket_id": ticket.id,
                "message_id": message.message_id,
                "channel": message.channel.value,
                "automated": message.automated,
                "suppress_auto_response": suppressed,
                "reopened": reopened,
                "at": at,
            }
        )
        logger.info("message threaded", extra={"ticket_id": ticket.id, "ref": ticket.ref, "suppressed": suppressed})
        return IntakeResult(outcome="threaded", ticket_id=ticket.id, message_id=message.message_id, ref=ticket.ref, suppressed=suppressed)
