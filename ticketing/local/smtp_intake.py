"""SMTP intake that plays Amazon SES inbound for the local stack.

SES accepts mail for the support domain, stores the raw message in S3 (the receipt rule's S3 action, key
`<prefix><sesMessageId>`) and then invokes the ingest function asynchronously with a receipt event. This listener
does the same with the rule read from infra/template.yaml, so the ingest handler runs exactly as on AWS: mail to
other domains is refused at RCPT time, and the handler is called after the 250 reply, with Lambda's retries.

SES never loses a mail it accepted; neither does this listener across a stop. With a spool folder, every
accepted mail is journalled (raw bytes, bucket, key and the SES event) before the 250 reply and the entry is
removed once the ingest handler finished with it (or it was parked in the dead-letter queue); what is left, by a
stop in the middle of an ingest or a crash, is stored and handed to the handler again at the next start.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import logging
import re
import secrets
import string
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import format_datetime, getaddresses
from typing import Any

import boto3
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from ticketing.local.persistence import write_atomically
from ticketing.local.runtime import AsyncInvoker, sqs_dead_letter
from ticketing.local.template import functions, ses_lambda_receipts

# Not under "ticketing": Powertools' Logger(service="ticketing") owns that name and would reformat these lines.
log = logging.getLogger(__name__.replace("ticketing.local", "local_stack"))

SES_MAX_MESSAGE_BYTES = 40 * 1024 * 1024
_SES_ID_ALPHABET = string.ascii_lowercase + string.digits
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_COMMON_ADDRESS_HEADERS = {"from": "from", "to": "to", "cc": "cc", "bcc": "bcc", "reply-to": "replyTo"}


def ses_message_id() -> str:
    """An id shaped like the ones SES gives inbound mail (lower-case alphanumerics)."""
    return "".join(secrets.choice(_SES_ID_ALPHABET) for _ in range(20))


def recipient_matches(address: str, rule_recipients: Sequence[str]) -> bool:
    """SES receipt-rule matching: a full address, a domain, or `.domain` for its subdomains."""
    address = address.strip().lower()
    domain = address.rpartition("@")[2]
    for entry in rule_recipients:
        entry = entry.strip().lower()
        if "@" in entry:
            if address == entry:
                return True
        elif entry.startswith("."):
            if domain.endswith(entry):
                return True
        elif domain == entry:
            return True
    return not rule_recipients  # a rule without recipients matches every address of the verified domains


@dataclass
class ReceiptRule:
    """One SES receipt rule: which recipients it takes, where the S3 action stores mail, what it invokes."""

    recipients: tuple[str, ...]
    bucket: str
    key_prefix: str
    function_arn: str
    invoker: AsyncInvoker


# ------------------------------------------------------------------------------------------------ the event


def _text(value: str) -> str:
    """Header text as SES reports it: unfolded, and undecodable bytes replaced rather than failing."""
    value = _FOLD.sub("", value)
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _decoded(value: str) -> str:
    try:
        return str(make_header(decode_header(value)))
    except Exception:  # noqa: BLE001 - a broken encoded-word is the ingest's problem, not the intake's
        return value


def _addresses(value: str) -> list[str]:
    result = []
    for name, address in getaddresses([value]):
        if not address and not name:
            continue
        name = _decoded(name)
        result.append(f"{name} <{address}>" if name else address)
    return result


def _ses_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def ses_receipt_event(
    raw: bytes,
    *,
    message_id: str,
    mail_from: str,
    destination: Sequence[str],
    recipients: Sequence[str],
    function_arn: str,
    received_at: datetime,
    processing_millis: int = 0,
) -> dict[str, Any]:
    """An SES receipt event for a Lambda action, shaped like events_samples/aws/sesEvent.json."""
    parsed = BytesHeaderParser(policy=compat32).parsebytes(raw)
    headers = [{"name": name, "value": _text(str(value))} for name, value in parsed.items()]
    common: dict[str, Any] = {"returnPath": mail_from}
    for header in headers:
        key = header["name"].lower()
        if key in _COMMON_ADDRESS_HEADERS:
            common.setdefault(_COMMON_ADDRESS_HEADERS[key], []).extend(_addresses(header["value"]))
        elif key == "sender":
            common.setdefault("sender", _addresses(header["value"]))
        elif key == "message-id":
            common.setdefault("messageId", header["value"].strip())
        elif key == "date":
            common.setdefault("date", header["value"].strip())
        elif key == "subject":
            common.setdefault("subject", _decoded(header["value"]))
    timestamp = _ses_time(received_at)
    verdict = {"status": "PASS"}
    return {
        "Records": [
            {
                "eventVersion": "1.0",
                "eventSource": "aws:ses",
                "ses": {
                    "mail": {
                        "commonHeaders": common,
                        "source": mail_from,
                        "timestamp": timestamp,
                        "destination": list(destination),
                        "headers": headers,
                        "headersTruncated": False,
                        "messageId": message_id,
                    },
                    "receipt": {
                        "recipients": list(recipients),
                        "timestamp": timestamp,
                        "spamVerdict": dict(verdict),
                        "dkimVerdict": dict(verdict),
                        "dmarcVerdict": dict(verdict),
                        "dmarcPolicy": "none",
                        "spfVerdict": dict(verdict),
                        "virusVerdict": dict(verdict),
                        "processingTimeMillis": processing_millis,
                        "action": {"type": "Lambda", "invocationType": "Event", "functionArn": function_arn},
                    },
                },
            }
        ]
    }


def with_ses_trace_headers(raw: bytes, *, message_id: str, mail_from: str, peer: str, helo: str,
                           recipient: str, at: datetime) -> bytes:  # fmt: skip
    """The raw message as SES stores it: Return-Path and a Received line prepended."""
    received = (
        f"Received: from {helo or 'unknown'} ({peer}) by inbound-smtp.local with SMTP id {message_id}"
        f" for {recipient}; {format_datetime(at.astimezone(UTC))}"
    )
    prefix = f"Return-Path: <{mail_from}>\r\n{received}\r\n"
    return prefix.encode("utf-8", "replace") + raw


# ------------------------------------------------------------------------------------------------ the spool


class MailSpool:
    """Accepted mail not yet ingested: one `<sesMessageId>-<n>.json` per (mail, receipt rule), written (fsync'd)
    before the 250 reply, removed when the rule's invocation is done with the event."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._closed = threading.Event()

    def record(self, name: str, rule: ReceiptRule, key: str, raw: bytes, event: dict[str, Any]) -> Path:
        path = self.folder / f"{name}.json"
        entry = {
            "function_arn": rule.function_arn,
            "bucket": rule.bucket,
            "key": key,
            "raw": base64.b64encode(raw).decode("ascii"),
            "event": event,
        }
        write_atomically(path, json.dumps(entry).encode("utf-8"))
        return path

    def finished(self, path: Path, future: Future[bool]) -> None:
        """The invocation's outcome: done with (handled or parked) removes the entry; cancelled, failed while
        stopping, or finished after the stack stopped waiting keeps it for the next start."""
        if self._closed.is_set() or future.cancelled() or future.exception() is not None or not future.result():
            return
        path.unlink(missing_ok=True)

    def close(self) -> None:
        """From now on nothing is removed: the rest of the stack (queues, tables) may already be stopping."""
        self._closed.set()

    def pending(self) -> list[tuple[Path, dict[str, Any]]]:
        entries = []
        for path in sorted(self.folder.glob("*.json"), key=lambda p: (p.stat().st_mtime, p.name)):
            try:
                entries.append((path, dict(json.loads(path.read_text(encoding="utf-8")))))
            except (OSError, ValueError):
                log.error("unreadable spool entry %s is left where it is", path)
        return entries


# ------------------------------------------------------------------------------------------------ the listener


class _SesInbound:
    """aiosmtpd handler hooks: RCPT filtering, then store-and-invoke on DATA."""

    def __init__(self, rules: Sequence[ReceiptRule], s3_client: Any, spool: MailSpool | None = None) -> None:
        self._rules = list(rules)
        self._s3 = s3_client
        self._spool = spool

    async def handle_RCPT(  # noqa: N802 - aiosmtpd hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if not any(recipient_matches(address, rule.recipients) for rule in self._rules):
            accepted = ", ".join(sorted({r for rule in self._rules for r in rule.recipients}))
            return f"550 5.1.1 <{address}>: recipient rejected; this server only accepts mail for {accepted}"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        received_at = datetime.now(UTC)
        message_id = ses_message_id()
        mail_from = "" if envelope.mail_from in (None, "<>") else str(envelope.mail_from)  # "" = null sender (DSN)
        content = envelope.original_content or b""
        peer = session.peer[0] if isinstance(session.peer, tuple) else str(session.peer)
        loop = asyncio.get_running_loop()
        matched = [
            (rule, [r for r in envelope.rcpt_tos if recipient_matches(r, rule.recipients)]) for rule in self._rules
        ]
        matched = [(rule, recipients) for rule, recipients in matched if recipients]
        # Store under every rule first: nothing is acknowledged before its raw copy exists.
        stored: list[tuple[ReceiptRule, list[str], bytes, str]] = []
        for rule, recipients in matched:
            raw = with_ses_trace_headers(
                content, message_id=message_id, mail_from=mail_from, peer=peer,
                helo=session.host_name or "", recipient=recipients[0], at=received_at,
            )  # fmt: skip
            key = f"{rule.key_prefix}{message_id}"
            put = functools.partial(self._s3.put_object, Bucket=rule.bucket, Key=key, Body=raw)
            try:
                await loop.run_in_executor(None, put)
            except Exception:  # noqa: BLE001 - tell the sender to retry, as SES would
                log.exception("could not store inbound mail in s3://%s/%s", rule.bucket, key)
                return "451 4.3.0 Could not store the message; try again later"
            stored.append((rule, recipients, raw, key))
        deliveries: list[tuple[ReceiptRule, dict[str, Any], Path | None]] = []
        for n, (rule, recipients, raw, key) in enumerate(stored):
            event = ses_receipt_event(
                raw, message_id=message_id, mail_from=mail_from, destination=envelope.rcpt_tos,
                recipients=recipients, function_arn=rule.function_arn, received_at=received_at,
                processing_millis=int((datetime.now(UTC) - received_at).total_seconds() * 1000),
            )  # fmt: skip
            entry = None
            if self._spool is not None:
                record = functools.partial(self._spool.record, f"{message_id}-{n}", rule, key, raw, event)
                try:
                    entry = await loop.run_in_executor(None, record)
                except Exception:  # noqa: BLE001 - not journalled, not accepted: the sender retries
                    log.exception("could not journal inbound mail %s", message_id)
                    return "451 4.3.0 Could not store the message; try again later"
            deliveries.append((rule, event, entry))
        for rule, event, entry in deliveries:
            try:
                future = rule.invoker.submit(event)
            except RuntimeError:  # the intake is stopping; the journalled mail is ingested at the next start
                if entry is None:
                    return "421 4.3.2 Service shutting down; try again later"
                continue
            if entry is not None and self._spool is not None:
                future.add_done_callback(functools.partial(self._spool.finished, entry))
        log.info("accepted mail %s (%d bytes, %d recipient(s))", message_id, len(content), len(envelope.rcpt_tos))
        return f"250 Ok {message_id}"


class SmtpIntake:
    """An SMTP listener on 127.0.0.1 that hands accepted mail to SES-style receipt rules."""

    def __init__(self, rules: Sequence[ReceiptRule], *, port: int, host: str = "127.0.0.1",
                 s3_client: Any | None = None, spool: Path | None = None) -> None:  # fmt: skip
        if not rules:
            raise ValueError("the SMTP intake needs at least one SES receipt rule")
        self.host = host
        self.port = port
        self.rules = list(rules)
        self._s3 = s3_client or boto3.client("s3")
        self.spool = MailSpool(spool) if spool is not None else None
        self.replayed = 0
        self._controller = Controller(
            _SesInbound(self.rules, self._s3, self.spool),
            hostname=host,
            port=port,
            ident="inbound-smtp.local (ticketing local stack)",
            data_size_limit=SES_MAX_MESSAGE_BYTES,
            enable_SMTPUTF8=True,
        )

    def start(self) -> None:
        """Hand the mail a previous run accepted but did not finish to the handler again, then listen."""
        self.replayed = self._replay()
        self._controller.start()

    def _replay(self) -> int:
        if self.spool is None:
            return 0
        invokers = {rule.function_arn: rule.invoker for rule in self.rules}
        replayed = 0
        for path, entry in self.spool.pending():
            invoker = invokers.get(str(entry.get("function_arn")))
            if invoker is None:
                log.error("spooled mail %s is for %s, which no receipt rule invokes now; left in the spool",
                          path.name, entry.get("function_arn"))  # fmt: skip
                continue
            # The raw copy may not have reached the bucket's mirror before the stop: store it again (same bytes).
            self._s3.put_object(Bucket=entry["bucket"], Key=entry["key"], Body=base64.b64decode(entry["raw"]))
            invoker.submit(entry["event"]).add_done_callback(functools.partial(self.spool.finished, path))
            replayed += 1
        if replayed:
            log.info("replaying %d accepted mail(s) that were not ingested before the last stop", replayed)
        return replayed

    def stop(self, timeout: float = 10.0) -> None:
        """Stop accepting connections first, then give invocations already running `timeout` seconds to finish;
        queued ones stay in the spool for the next start."""
        try:
            self._controller.stop()
        except AssertionError:
            pass  # never started
        for invoker in {id(rule.invoker): rule.invoker for rule in self.rules}.values():
            invoker.shutdown(timeout)
        if self.spool is not None:
            self.spool.close()


def receipt_rules_from_template(stack: Any, sqs_client: Any | None = None) -> list[ReceiptRule]:
    """The template's SES receipt rules with a Lambda action, wired to in-process handlers.

    `stack` is a `ticketing.local.provision.ProvisionedStack`. The invoked function's retries and dead-letter queue
    come from its EventInvokeConfig and DeadLetterQueue, as Lambda would apply them.
    """
    specs = functions(stack.template)
    sqs = sqs_client or boto3.client("sqs")
    rules: list[ReceiptRule] = []
    invokers: dict[str, AsyncInvoker] = {}
    for receipt in ses_lambda_receipts(stack.template):
        spec = specs[receipt.function_logical_id]
        if spec.logical_id not in invokers:
            dead_letter = None
            if spec.dead_letter_queue_arn is not None:
                queue_arn = str(stack.resolve(spec.dead_letter_queue_arn))
                queue_name = queue_arn.rsplit(":", 1)[1]
                dead_letter = sqs_dead_letter(sqs, str(sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]))
            invokers[spec.logical_id] = AsyncInvoker(
                stack.function_target(spec), max_retries=spec.max_async_retries, dead_letter=dead_letter
            )
        rules.append(
            ReceiptRule(
                recipients=tuple(str(r) for r in stack.resolve(list(receipt.recipients))),
                bucket=str(stack.resolve(receipt.bucket)),
                key_prefix=receipt.object_key_prefix,
                function_arn=stack.function_arn(spec.logical_id),
                invoker=invokers[spec.logical_id],
            )
        )
    return rules
