"""Mail the product sends: acknowledgements, status notices and agents' replies, as RFC 5322 bytes.

Three things decide whether a conversation stays one ticket: the ticket ref in the subject, the signed
per-ticket Reply-To, and In-Reply-To/References. All three are set here, in one place. Automatic mail is also
marked as automatic (RFC 3834 Auto-Submitted, X-Auto-Response-Suppress, X-Loop), so the other side's
autoresponder stays quiet and, if it does not, our own intake recognises the echo and the loop stops.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from shared.domain.ids import normalize_ref
from shared.mail.automation import normalize_message_id
from shared.domain.timefmt import utcnow

__all__ = [
    "MAX_REFERENCES",
    "OutboundMail",
    "compose_mail",
    "reply_subject",
    "subject_with_ref",
    "thread_references",
]

# Long threads would otherwise grow References without bound; the root plus the latest ids are enough to thread.
MAX_REFERENCES = 20

# Reply prefixes mail clients add: English, German, Nordic, Dutch, Indonesian, numbered ("Re[2]:", "RE^3:").
_REPLY_PREFIX = re.compile(
    r"^\s*(?:re|aw|sv|antw|balas|bls)(?:\s*[\[\(^]\s*\d+\s*[\]\)]?)?\s*:\s*", re.IGNORECASE
)
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class OutboundMail:
    """Everything one outgoing mail needs; the ticket's threading state is passed in, never looked up here.

    ``message_id`` and ``date`` are optional: give a message id derived from the stored outbound message when a
    retried send must produce the same mail; otherwise a fresh one is made at ``message_id_domain``.
    """

    from_address: str
    from_name: str | None
    to_address: str
    to_name: str | None
    reply_to: str
    subject: str
    text: str
    html: str | None
    ref: str | None  # None for mail about no single ticket (an alert digest): the subject then carries no ref
    in_reply_to: str | None
    references: tuple[str, ...]
    loop_marker: str
    automatic: bool
    message_id_domain: str
    message_id: str | None = None
    date: datetime | None = None


def compose_mail(mail: OutboundMail) -> bytes:
    """RFC 5322 bytes with CRLF line ends, ready for SES SendRawEmail or SMTP.

    Headers use RFC 2047 (not SMTPUTF8) for non-ASCII names and subjects and bodies are 7-bit clean, so any relay
    on the way can carry the mail unchanged.
    """
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = _address(mail.from_name, mail.from_address)
    msg["To"] = _address(mail.to_name, mail.to_address)
    msg["Reply-To"] = _address(mail.from_name, mail.reply_to)
    msg["Subject"] = subject_with_ref(mail.subject, _canonical_ref(mail.ref)) if mail.ref else _single_line(mail.subject)
    msg["Date"] = format_datetime(_utc(mail.date or utcnow()))
    msg["Message-ID"] = _own_message_id(mail)

    parent = normalize_message_id(mail.in_reply_to) if mail.in_reply_to else None
    if parent:
        msg["In-Reply-To"] = parent
    references = thread_references(mail.references, parent)
    if references:
        msg["References"] = " ".join(references)

    msg["X-Loop"] = _single_line(mail.loop_marker)
    if mail.automatic:
        msg["Auto-Submitted"] = "auto-generated"
        msg["X-Auto-Response-Suppress"] = "All"

    msg.set_content(_body(mail.text), subtype="plain", charset="utf-8", cte=_transfer_encoding(mail.text))
    if mail.html is not None:
        msg.add_alternative(_body(mail.html), subtype="html", charset="utf-8", cte=_transfer_encoding(mail.html))
        for part in msg.iter_parts():
            del part["MIME-Version"]  # stdlib stamps it on every part; it belongs on the top level only
    return msg.as_bytes(policy=policy.SMTP)


def reply_subject(original_subject: str, ref: str) -> str:
    """"Re: [T-7K2M9Q] Printer" however many "Re:", "AW:" or "Balas:" and refs the customer's client piled up."""
    ref = _canonical_ref(ref)
    rest = _single_line(_ref_tag(ref).sub(" ", original_subject))
    while True:
        stripped = _REPLY_PREFIX.sub("", rest, count=1)
        if stripped == rest:
            break
        rest = _single_line(_ref_tag(ref).sub(" ", stripped))
    return f"Re: [{ref}] {rest}".rstrip()


def subject_with_ref(subject: str, ref: str) -> str:
    """The subject with "[ref]" exactly once: kept where it is if present once, else put after any "Re:".

    Never doubled, because a subject that grows a ref per round trip looks broken to the customer.
    """
    ref = _canonical_ref(ref)
    subject = _single_line(subject)
    tag = _ref_tag(ref)
    if len(tag.findall(subject)) == 1:
        return tag.sub(f"[{ref}]", subject)
    rest = _single_line(tag.sub(" ", subject))
    prefixes = ""
    while match := _REPLY_PREFIX.match(rest):
        prefixes += match.group(0).strip() + " "
        rest = rest[match.end() :]
    return f"{prefixes}[{ref}] {rest}".rstrip()


def thread_references(references: tuple[str, ...] | list[str], in_reply_to: str | None) -> list[str]:
    """References for a reply: the earlier ones, then the mail we answer, each once, root plus the latest ids.

    The root is kept because some clients thread on the first id; the answered mail is always last (RFC 5322).
    """
    seen: dict[str, None] = {}
    for value in references:
        found = normalize_message_id(value)
        if found:
            seen.setdefault(found, None)
    parent = normalize_message_id(in_reply_to) if in_reply_to else None
    if parent:
        seen.pop(parent, None)
        seen[parent] = None
    ids = list(seen)
    if len(ids) > MAX_REFERENCES:
        ids = ids[:1] + ids[-(MAX_REFERENCES - 1) :]
    return ids


def _canonical_ref(ref: str) -> str:
    canonical = normalize_ref(ref)
    if canonical is None:
        raise ValueError(f"{ref!r} is not a ticket ref like T-7K2M9Q")
    return canonical


def _ref_tag(ref: str) -> re.Pattern[str]:
    """"[T-7K2M9Q]" as clients may have rewritten it: any case, spaces inside the brackets."""
    return re.compile(r"\[\s*" + re.escape(ref) + r"\s*\]", re.IGNORECASE)


def _single_line(value: str) -> str:
    """Header values must not carry line breaks (header injection); runs of whitespace become one space."""
    return _WHITESPACE.sub(" ", value).strip()


def _address(name: str | None, address: str) -> Address:
    return Address(display_name=_single_line(name or ""), addr_spec=address.strip())


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at.astimezone(timezone.utc)


def _own_message_id(mail: OutboundMail) -> str:
    if mail.message_id is not None:
        given = normalize_message_id(mail.message_id)
        if given is None:
            raise ValueError(f"{mail.message_id!r} is not a Message-ID like <id@host>")
        return given
    return make_msgid(domain=mail.message_id_domain)


def _body(content: str) -> str:
    return content if content.endswith("\n") else content + "\n"


def _transfer_encoding(content: str) -> str | None:
    """Quoted-printable for non-ASCII text: readable in the raw mail, and no relay has to handle 8-bit."""
    return None if content.isascii() else "quoted-printable"

