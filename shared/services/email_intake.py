"""Email adapter of intake: an SES receipt (or the S3 object SES wrote) becomes an InboundMessage.

What cannot become a ticket is quarantined with its reason and the raw object's key — SES spam/virus FAIL, bytes
that are not an email, a mail with no sender, an unmatched bounce, a sender over its rate — so nothing accepted
is ever lost and one bad mail never blocks the others.
"""

from __future__ import annotations

import hashlib
import urllib.parse
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from typing import TYPE_CHECKING

from shared.domain.ids import customer_id_for, derived_ulid
from shared.domain.model import Channel, Contact, QuarantineEntry
from shared.domain.ports import Customers
from shared.services.intake import InboundAttachment, InboundMessage, IntakeResult, IntakeService
from shared.mail.parsing import MailParseError, ParsedEmail, parse_email
from shared.mail.threading import thread_hints
from shared.observability import Metric, count, logger
from shared.settings import Settings
from shared.domain.timefmt import Clock, parse_iso, utcnow

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.s3_event import S3EventRecord
    from aws_lambda_powertools.utilities.data_classes.ses_event import SESEventRecord


@dataclass(frozen=True)
class MailReceipt:
    """Where the raw mail is and what SES said about it."""

    delivery_id: str  # SES message id (also the S3 object name)
    bucket: str
    key: str
    received_at: datetime
    recipients: tuple[str, ...]
    verdicts: dict[str, str]


def receipt_from_ses_record(record: SESEventRecord, settings: Settings, clock: Clock = utcnow) -> MailReceipt:
    """The SES receipt rule's Lambda action (after its S3 action stored the mail under the delivery id)."""
    mail, receipt = record.ses.mail, record.ses.receipt
    delivery_id = mail.message_id
    verdicts = {
        "spam": receipt.spam_verdict,
        "virus": receipt.virus_verdict,
        "spf": receipt.spf_verdict,
        "dkim": receipt.dkim_verdict,
        "dmarc": receipt.dmarc_verdict,
    }
    return MailReceipt(
        delivery_id=delivery_id,
        bucket=settings.mail_bucket,
        key=f"{settings.raw_mail_prefix}{delivery_id}",
        received_at=_timestamp(receipt.timestamp or mail.timestamp, clock),
        recipients=tuple(r.lower() for r in receipt.recipients or mail.destination or []),
        verdicts={name: verdict.status.upper() for name, verdict in verdicts.items()},
    )


def receipt_from_s3_record(record: S3EventRecord, clock: Clock = utcnow) -> MailReceipt:
    """The S3-notification variant: SES stored the mail; verdicts come from the X-SES-*-Verdict headers."""
    key = urllib.parse.unquote_plus(record.s3.get_object.key)
    return MailReceipt(
        delivery_id=key.rsplit("/", 1)[-1],
        bucket=record.s3.bucket.name,
        key=key,
        received_at=_timestamp(record.event_time, clock),
        recipients=(),
        verdicts={},
    )


def content_digest(parsed: ParsedEmail) -> str:
    """What the mail says — subject, text and attachments — independent of the headers relays add on the way."""
    digest = hashlib.sha256()
    for part in (parsed.subject, parsed.text, *(f"{a.filename}:{hashlib.sha256(a.content).hexdigest()}" for a in parsed.attachments)):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    return digest.hexdigest()


def inbound_key(delivery_id: str, mailbox: str, sender: str, parsed: ParsedEmail) -> str:
    """The idempotency key: a mail is a duplicate only when it is the same SES delivery, or when the same sender
    sent the same Message-ID with the same content to the same mailbox (a resend, a second route, a retry).

    Message-IDs are not unique in the wild — mailers reuse them, test suites ship them, anyone can copy one — so
    another sender's mail, or a different mail under a reused id, is a new message, never silently dropped."""
    if not parsed.message_id:
        return f"ses#{delivery_id}"
    scope = "\n".join((mailbox.lower(), sender.strip().lower(), parsed.message_id, content_digest(parsed)))
    return "mid#" + hashlib.sha256(scope.encode("utf-8", "surrogatepass")).hexdigest()[:40]


def _timestamp(value: str | None, clock: Clock) -> datetime:
    if value:
        try:
            return parse_iso(value)
        except ValueError:
            pass
    return clock()


class RawMail(Protocol):
    """Where SES put the raw mail (S3)."""

    def get(self, key: str, bucket: str) -> bytes: ...


class EmailIntake:
    def __init__(self, settings: Settings, service: IntakeService, blobs: RawMail, customers: Customers, key: bytes) -> None:
        self.settings = settings
        self.service = service
        self.blobs = blobs
        self.customers = customers
        self.key = key

    def process(self, receipt: MailReceipt) -> IntakeResult:
        raw = self.blobs.get(receipt.key, receipt.bucket)
        return self.process_raw(receipt, raw)

    def process_raw(self, receipt: MailReceipt, raw: bytes) -> IntakeResult:
        verdict = self._verdict_failure(receipt, raw)
        if verdict:
            return self._quarantine(receipt, verdict, f"SES {verdict.split('_')[0]} verdict FAIL", None)
        try:
            parsed = parse_email(raw, loop_marker=self.settings.loop_marker)
        except MailParseError as exc:
            return self._quarantine(receipt, "unparseable", str(exc), None)
        author = parsed.reply_to or parsed.sender
        if author is None or "@" not in author.email:
            return self._quarantine(receipt, "missing_sender", "no usable From or Reply-To address", parsed)
        if parsed.automation.is_bounce:
            self._record_bounce(parsed, receipt.received_at)
        message = self._inbound(receipt, parsed, Contact(Channel.EMAIL, author.email, author.name))
        return self.service.accept(message)

    def quarantine_unexpected(self, receipt: MailReceipt, error: Exception) -> IntakeResult:
        """A bug met by one odd mail must not block the mailbox: keep it for a human with the error."""
        return self._quarantine(receipt, "processing_error", f"{type(error).__name__}: {error}", None)

    def _inbound(self, receipt: MailReceipt, parsed: ParsedEmail, contact: Contact) -> InboundMessage:
        mailbox = self._mailbox(receipt, parsed)
        key = inbound_key(receipt.delivery_id, mailbox, contact.address, parsed)
        addressed = [*receipt.recipients, *(a.email for a in parsed.to), *(a.email for a in parsed.cc)]
        in_reply_to = list(parsed.in_reply_to)
        if parsed.automation.original_message_id:
            in_reply_to.insert(0, parsed.automation.original_message_id)
        hints = thread_hints(
            key=self.key,
            support_domain=self.settings.support_domain,
            recipients=addressed,
            subject=parsed.subject,
            in_reply_to=in_reply_to,
            references=parsed.references,
        )
        return InboundMessage(
            channel=Channel.EMAIL,
            key=key,
            received_at=receipt.received_at,
            contact=contact,
            subject=parsed.subject,
            body=parsed.display_text,
            body_full=parsed.text,
            mailbox=mailbox,
            attachments=tuple(
                InboundAttachment(name=a.filename, content_type=a.content_type, content=a.content, inline=a.inline)
                for a in parsed.attachments
            ),
            email_message_id=parsed.message_id,
            recipients=tuple(dict.fromkeys(addressed)),
            in_reply_to=tuple(in_reply_to),
            hints=hints,
            raw_bucket=receipt.bucket,
            raw_key=receipt.key,
            automated=parsed.automation.is_automated,
            automation_reasons=parsed.automation.reasons,
            is_bounce=parsed.automation.is_bounce,
            importance=parsed.importance,
            defects=tuple(parsed.defects),
        )

    def _mailbox(self, receipt: MailReceipt, parsed: ParsedEmail) -> str:
        """The support address the mail came in on, without a +token: the dedupe scope for Message-IDs."""
        domain = "@" + self.settings.support_domain.lower()
        candidates = [*receipt.recipients, *(a.email.lower() for a in parsed.to), *(a.email.lower() for a in parsed.cc)]
        for address in candidates:
            if address.endswith(domain):
                local = address[: -len(domain)].split("+", 1)[0]
                return local + domain
        return self.settings.support_address

    def _verdict_failure(self, receipt: MailReceipt, raw: bytes) -> str | None:
        verdicts = dict(receipt.verdicts)
        if not verdicts:
            head = raw[:16384].decode("latin-1", "replace").lower()
            for name in ("spam", "virus"):
                if f"x-ses-{name}-verdict: fail" in head:
                    verdicts[name] = "FAIL"
        if verdicts.get("virus") == "FAIL":
            return "virus_verdict"
        if verdicts.get("spam") == "FAIL":
            return "spam_verdict"
        return None

    def _record_bounce(self, parsed: ParsedEmail, at: datetime) -> None:
        for address in parsed.automation.bounced_recipients:
            contact = Contact(Channel.EMAIL, address)
            if self.customers.mark_bouncing(contact, at):
                count(Metric.BOUNCES_RECORDED)
                logger.info("customer address marked bouncing", extra={"customer_id": customer_id_for(contact)})

    def _quarantine(self, receipt: MailReceipt, reason: str, detail: str, parsed: ParsedEmail | None) -> IntakeResult:
        entry_id = derived_ulid(receipt.received_at, f"quarantine#{receipt.delivery_id}")
        sender = None
        if parsed is not None and parsed.sender is not None:
            sender = parsed.sender.email
        self.service.quarantine.keep(
            QuarantineEntry(
                id=entry_id,
                reason=reason,
                detail=detail,
                raw_bucket=receipt.bucket,
                raw_key=receipt.key,
                sender=sender,
                subject=parsed.subject if parsed is not None else None,
            ),
            receipt.received_at,
        )
        count(Metric.MAILS_QUARANTINED, reason=reason)
        logger.warning("mail quarantined", extra={"reason": reason, "detail": detail, "raw_key": receipt.key})
        return IntakeResult(outcome="quarantined", reason=reason)
