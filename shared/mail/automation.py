"""Recognising mail that no human wrote.

Out-of-office replies, newsletters, bounces and our own looping notifications must never open
tickets or trigger auto-acknowledgements (that is how two autoresponders mail each other forever).
Every signal is reported as a machine-readable reason so intake can decide and operators can see why.

Only raw header values are read here: the signals are ASCII tokens, and raw access cannot raise on
a malformed address or date the way the structured header objects of ``policy.default`` can.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage, Message
from email.parser import HeaderParser
from email.policy import compat32
from email.utils import parseaddr

_FOLDING = re.compile(r"\r?\n(?=[ \t])")
_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
_BARE_MESSAGE_ID = re.compile(r"^[^<>\s@]+@[^<>\s@]+$")

_BULK_PRECEDENCE = frozenset({"bulk", "junk", "list"})
_SUPPRESS_VALUES = frozenset({"all", "oof", "autoreply", "dr", "rn", "nrn"})
_DAEMON_LOCAL_PARTS = frozenset({"mailer-daemon", "postmaster"})
_FAILURE_WORDING = re.compile(
    r"undeliver|returned mail|returning message|failure notice|mail delivery fail"
    r"|delivery (?:status notification \(failure\)|failure|failed|has failed|problem)"
    r"|could not be delivered|non-?delivery|tidak terkirim|tidak dapat dikirim|gagal (?:ter|di)kirim",
    re.IGNORECASE,
)
_ORIGINAL_ID_IN_TEXT = re.compile(r"^[ \t]*Message-ID:[ \t]*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)
_REPORT_TYPE_FALLBACK = re.compile(r"report-type\s*=\s*\"?([\w-]+)", re.IGNORECASE)


@dataclass(frozen=True)
class AutomationVerdict:
    """Why a mail looks machine-generated, and for bounces, who bounced and which mail of ours."""

    is_automated: bool
    reasons: tuple[str, ...]
    is_bounce: bool
    bounced_recipients: tuple[str, ...]
    original_message_id: str | None


def message_ids(value: str) -> list[str]:
    """Every ``<id>`` in a header value, in order, without duplicates.

    The one place message-id syntax is decided: threading (Message-ID, In-Reply-To, References)
    and bounce matching must agree on it. Entries with whitespace inside the brackets are skipped.
    """
    seen: dict[str, None] = {}
    for match in _MESSAGE_ID.finditer(value):
        seen.setdefault(f"<{match.group(1)}>", None)
    return list(seen)


def normalize_message_id(value: str) -> str | None:
    """A single Message-ID with angle brackets; tolerates the bare ``id@host`` some mailers send."""
    found = message_ids(value)
    if found:
        return found[0]
    bare = value.strip()
    if _BARE_MESSAGE_ID.match(bare):
        return f"<{bare}>"
    return None


def detect_automation(msg: EmailMessage, *, loop_marker: str | None) -> AutomationVerdict:
    """Collect every automation signal on the top-level message (RFC 3834, DSN, ARF, list headers)."""
    report_type = _report_type(msg)
    from_daemon = _sender_is_daemon(msg)
    reasons = [
        *_header_signals(msg, loop_marker),
        *([_REPORT_REASONS[report_type]] if report_type in _REPORT_REASONS else []),
        *(["mailer-daemon"] if from_daemon else []),
        *_list_and_autoreply_signals(msg),
    ]
    subject = " ".join(_raw_values(msg, "subject"))
    is_bounce = report_type == "delivery-status" or (from_daemon and bool(_FAILURE_WORDING.search(subject)))
    return AutomationVerdict(
        is_automated=bool(reasons),
        reasons=tuple(dict.fromkeys(reasons)),
        is_bounce=is_bounce,
        bounced_recipients=_bounced_recipients(msg) if is_bounce else (),
        original_message_id=_original_message_id(msg) if is_bounce else None,
    )


_REPORT_REASONS = {
    "delivery-status": "delivery-status-report",
    "feedback-report": "feedback-report",
    "disposition-notification": "read-receipt",
}


def _header_signals(msg: EmailMessage, loop_marker: str | None) -> list[str]:
    """RFC 3834 and the de-facto headers autoresponders set: Auto-Submitted, Precedence, X-Loop,
    X-Auto-Response-Suppress, an empty Return-Path."""
    reasons: list[str] = []
    auto_submitted = _first_token(_raw_values(msg, "auto-submitted"))
    if auto_submitted and auto_submitted != "no":
        reasons.append(f"auto-submitted:{auto_submitted}")
    precedence = _first_token(_raw_values(msg, "precedence"))
    if precedence in _BULK_PRECEDENCE:
        reasons.append(f"precedence:{precedence}")
    loops = _raw_values(msg, "x-loop")
    if loops:
        ours = loop_marker is not None and any(_same_marker(value, loop_marker) for value in loops)
        reasons.append("x-loop:ours" if ours else "x-loop")
    suppress = {
        token.lower() for value in _raw_values(msg, "x-auto-response-suppress") for token in re.split(r"[\s,;]+", value) if token
    }
    if suppress & _SUPPRESS_VALUES:
        reasons.append("x-auto-response-suppress")
    if any(re.sub(r"\s", "", value) == "<>" for value in _raw_values(msg, "return-path")):
        reasons.append("empty-return-path")
    return reasons


def _list_and_autoreply_signals(msg: EmailMessage) -> list[str]:
    reasons: list[str] = []
    if _raw_values(msg, "list-id") or _raw_values(msg, "list-unsubscribe"):
        reasons.append("list-id")
    if _raw_values(msg, "x-autoreply"):
        reasons.append("x-autoreply")
    if _raw_values(msg, "x-autorespond"):
        reasons.append("x-autorespond")
    return reasons


def _raw_values(msg: Message, name: str) -> list[str]:
    """Unfolded raw values of one header, whatever state the header is in."""
    wanted = name.lower()
    return [
        _FOLDING.sub("", str(value)).strip()
        for key, value in msg.raw_items()
        if key.lower() == wanted
    ]


def _first_token(values: list[str]) -> str:
    """``auto-generated (failure)`` -> ``auto-generated``; the comment and parameters are noise."""
    if not values:
        return ""
    match = re.match(r"\s*([^\s;(]+)", values[0])
    return match.group(1).lower() if match else ""


def _same_marker(value: str, marker: str) -> bool:
    def canonical(text: str) -> str:
        return text.strip().strip("<>").strip().lower()

    return canonical(value) == canonical(marker)


def _report_type(msg: Message) -> str | None:
    if _content_type(msg) != "multipart/report":
        return None
    try:
        value = msg.get_param("report-type")
    except Exception:  # noqa: BLE001 - a broken Content-Type must not hide the verdict
        value = None
    if isinstance(value, tuple):  # RFC 2231 form (charset, language, value)
        value = value[2]
    if not value:
        header = " ".join(_raw_values(msg, "content-type"))
        found = _REPORT_TYPE_FALLBACK.search(header)
        value = found.group(1) if found else None
    return str(value).strip().lower() if value else None


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:  # noqa: BLE001
        return "text/plain"


def _sender_is_daemon(msg: Message) -> bool:
    for value in _raw_values(msg, "from"):
        try:
            address = parseaddr(value)[1]
        except Exception:  # noqa: BLE001 - parseaddr has raised on pathological input before
            address = value
        local_part = address.split("@", 1)[0].strip().strip("<>\"'").lower()
        if local_part in _DAEMON_LOCAL_PARTS:
            return True
    return False


def _report_parts(msg: Message) -> list[Message]:
    """Leaf parts of the bounce itself, without descending into the returned original."""
    parts: list[Message] = []
    stack: list[Message] = [msg]
    while stack:
        part = stack.pop()
        payload = part.get_payload() if part.get_content_maintype() == "multipart" else None
        if isinstance(payload, list):
            stack.extend(reversed([p for p in payload if isinstance(p, Message)]))
        else:
            parts.append(part)
    return parts


def _bounced_recipients(msg: Message) -> tuple[str, ...]:
    """Failed recipients from every ``message/delivery-status`` part; both names when they differ.

    Original-Recipient is the address we wrote to; Final-Recipient the one that failed after
    forwarding. Either can match the customer record, so both are reported.
    """
    found: dict[str, None] = {}
    for part in _report_parts(msg):
        if _content_type(part) != "message/delivery-status":
            continue
        for fields in _status_blocks(part):
            action = fields.get("action", "").split("(")[0].strip().lower()
            if action and action != "failed":
                continue
            for field in ("original-recipient", "final-recipient"):
                address = _recipient_address(fields.get(field, ""))
                if address:
                    found.setdefault(address, None)
    return tuple(found)


def _status_blocks(part: Message) -> list[dict[str, str]]:
    """The per-recipient field groups of a delivery-status body, however it was parsed."""
    payload = part.get_payload()
    blocks: list[dict[str, str]] = []
    if isinstance(payload, list):
        for block in payload:
            if isinstance(block, Message):
                blocks.append(_field_map(block))
        return blocks
    text = _part_bytes(part).decode("latin-1").replace("\r\n", "\n")
    for chunk in re.split(r"\n[ \t]*\n", text):
        blocks.append(_field_map(HeaderParser(policy=compat32).parsestr(chunk)))
    return blocks


def _field_map(block: Message) -> dict[str, str]:
    fields: dict[str, str] = {}
    for key, value in block.raw_items():
        fields.setdefault(key.lower(), _FOLDING.sub("", str(value)).strip())
    return fields


def _recipient_address(value: str) -> str | None:
    """``rfc822; <x@y>`` -> ``x@y``."""
    address = value.split(";", 1)[-1].strip().strip("<>").strip().lower()
    if "@" not in address or any(ch.isspace() for ch in address):
        return None
    return address


def _original_message_id(msg: Message) -> str | None:
    """Message-ID of the mail that bounced: from the returned message, its headers, or the text."""
    parts = _report_parts(msg)
    for part in parts:
        ctype = _content_type(part)
        if ctype in ("message/rfc822", "message/global"):
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, Message):
                found = _message_id_of(inner)
                if found:
                    return found
        elif ctype in ("text/rfc822-headers", "message/global-headers"):
            text = _part_bytes(part).decode("latin-1")
            found = _message_id_of(HeaderParser(policy=compat32).parsestr(text.lstrip()))
            if found:
                return found
    for part in parts:
        if _content_type(part) == "text/plain":
            match = _ORIGINAL_ID_IN_TEXT.search(_part_bytes(part).decode("latin-1"))
            if match:
                return normalize_message_id(match.group(1))
    return None


def _message_id_of(headers: Message) -> str | None:
    for value in _raw_values(headers, "message-id"):
        found = normalize_message_id(value)
        if found:
            return found
    return None


def _part_bytes(part: Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - undecodable transfer encoding: read what is there
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    return raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""
