"""Raw RFC 5322 bytes -> a plain, fully decoded ``ParsedEmail``.

Customers write from every mail client ever shipped, so this module assumes nothing is well formed:
each header, charset and transfer encoding is decoded on its own, and whatever was broken but
survived is written to ``defects`` instead of stopping intake. Only bytes that are not an email at
all raise ``MailParseError``, which the caller turns into a quarantine record.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import functools
import io
import mimetypes
import re
import unicodedata
from email.utils import getaddresses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from email import policy
from email.errors import (
    MessageDefect,
    NonASCIILocalPartDefect,
    ObsoleteHeaderDefect,
    UndecodableBytesDefect,
)
from email.generator import BytesGenerator
from email.header import decode_header, make_header
from email.headerregistry import AddressHeader, DateHeader
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from urllib.parse import unquote, unquote_to_bytes

from shared.mail.automation import (
    AutomationVerdict,
    detect_automation,
    message_ids,
    normalize_message_id,
)
from shared.mail.body import html_to_text, trim_reply

__all__ = [
    "Address",
    "Attachment",
    "MailParseError",
    "ParsedEmail",
    "parse_email",
]


class MailParseError(Exception):
    """Raised only when the bytes are not an email at all (empty, no header block, no usable structure).

    The caller quarantines the raw mail with str(exc) as the reason.
    """


@dataclass(frozen=True)
class Attachment:
    """A file the customer sent, decoded and safe to store under its own name."""

    filename: str
    content_type: str
    size: int
    content: bytes
    inline: bool
    content_id: str | None


@dataclass(frozen=True)
class Address:
    """A mailbox as intake matches customers: lowercased address plus the decoded display name."""

    email: str
    name: str | None


@dataclass(frozen=True)
class ParsedEmail:
    """Everything intake, threading and the agent console need from one inbound mail."""

    message_id: str | None
    in_reply_to: list[str]
    references: list[str]
    subject: str
    sender: Address | None
    reply_to: Address | None
    to: list[Address]
    cc: list[Address]
    date: datetime | None
    text: str
    html: str | None
    display_text: str
    attachments: list[Attachment]
    headers: dict[str, list[str]]
    importance: str | None
    defects: list[str]
    automation: AutomationVerdict


def parse_email(raw: bytes, *, loop_marker: str | None = None) -> ParsedEmail:
    """Uses email.parser.BytesParser(policy=email.policy.default). Never raises anything except MailParseError.

    Anything unexpected below is still reported as MailParseError so one strange mail can only
    ever be quarantined, never crash intake or vanish.
    """
    try:
        return _parse(raw, loop_marker)
    except MailParseError:
        raise
    except Exception as exc:  # noqa: BLE001 - the contract above is the whole point
        raise MailParseError(f"unparseable mail ({type(exc).__name__}: {exc})") from exc


# --- top level --------------------------------------------------------------------------------

_MAX_DEFECTS = 50


class _Defects:
    """Ordered, de-duplicated, bounded notes; a pathological mail must not produce megabytes of them."""

    def __init__(self) -> None:
        self._notes: dict[str, None] = {}

    def add(self, note: str) -> None:
        if len(self._notes) < _MAX_DEFECTS:
            self._notes.setdefault(note, None)

    def as_list(self) -> list[str]:
        return list(self._notes)


def _parse(raw: bytes, loop_marker: str | None) -> ParsedEmail:
    if not isinstance(raw, (bytes, bytearray)):
        raise MailParseError(f"expected raw bytes, got {type(raw).__name__}")
    data = bytes(raw).lstrip(b"\r\n")
    if not data.strip():
        raise MailParseError("empty message")
    defects = _Defects()
    msg = _read_message(data, defects)

    charset_hint = _header_charset_hint(msg)
    headers = _decoded_headers(msg, defects, charset_hint)
    addresses = _AddressReader(msg, defects, charset_hint)
    body = _extract_body(msg, defects, charset_hint)
    text = body.text
    try:
        automation = detect_automation(msg, loop_marker=loop_marker)
    except Exception as exc:  # noqa: BLE001 - a verdict failure must not lose the mail
        defects.add(f"automation check failed: {type(exc).__name__}")
        automation = AutomationVerdict(False, (), False, (), None)

    senders = addresses.read("from")
    reply_to = addresses.read("reply-to")
    return ParsedEmail(
        message_id=_message_id(headers, defects),
        in_reply_to=message_ids(" ".join(headers.get("in-reply-to", []))),
        references=message_ids(" ".join(headers.get("references", []))),
        subject=_collapse_whitespace(_first(headers, "subject")),
        sender=senders[0] if senders else None,
        reply_to=reply_to[0] if reply_to else None,
        to=addresses.read("to"),
        cc=addresses.read("cc"),
        date=_date(msg, defects),
        text=text,
        html=body.html,
        display_text=(trim_reply(text) or text) if text else "",
        attachments=body.attachments,
        headers=headers,
        importance=_importance(headers),
        defects=defects.as_list(),
        automation=automation,
    )


def _read_message(data: bytes, defects: _Defects) -> EmailMessage:
    try:
        msg = _bytes_to_message(data)
    except Exception as exc:  # noqa: BLE001
        raise MailParseError(f"unparseable MIME structure ({type(exc).__name__}: {exc})") from exc
    if not msg.keys() or _has_defect(msg, "MissingHeaderBodySeparatorDefect"):
        repaired = _repair_header_block(data)
        if repaired is not None:
            try:
                candidate = _bytes_to_message(repaired)
            except Exception:  # noqa: BLE001 - keep the first reading
                candidate = None
            if candidate is not None and len(candidate.keys()) > len(msg.keys()):
                defects.add("malformed header lines were skipped to recover the header block")
                msg = candidate
    if not msg.keys():
        raise MailParseError("no header block: the data does not start with mail headers")
    return msg


def _bytes_to_message(data: bytes) -> EmailMessage:
    msg = BytesParser(policy=policy.default).parsebytes(data)
    if not isinstance(msg, EmailMessage):  # policy.default always builds EmailMessage
        raise MailParseError("parser returned an unexpected message type")
    return msg


def _has_defect(part: Message, name: str) -> bool:
    return any(type(defect).__name__ == name for defect in part.defects)


_HEADER_LINE = re.compile(rb"^([!-9;-~]+)[ \t]*:")
_OBSOLETE_COLON = re.compile(rb"^([!-9;-~]+)[ \t]+:")
_CONTINUATION_LINE = re.compile(rb"^[ \t]")
_KNOWN_HEADER = re.compile(
    rb"^(?:from|to|cc|subject|date|message-id|received|reply-to|return-path|delivered-to"
    rb"|references|in-reply-to|mime-version|content-[a-z-]+|x-[!-9;-~]+)$",
    re.IGNORECASE,
)
_HEADER_END = re.compile(rb"\r?\n[ \t]*\r?\n")
_MAX_SKIPPED_HEADER_LINES = 3


def _repair_header_block(data: bytes) -> bytes | None:
    """Rebuild a header block that stdlib gave up on part-way.

    Handles RFC 5322 obsolete ``Name  :`` syntax and a stray non-header line in the middle of the
    headers; only when real header names follow the damage, so a mail that simply has no blank line
    before its body is left alone.
    """
    end = _HEADER_END.search(data)
    block, rest = (data[: end.start()], data[end.start() :]) if end else (data, b"")
    kept: list[bytes] = []
    skipped = 0
    damaged = False
    known_after_damage = False
    for line in block.splitlines(keepends=True):
        header = _HEADER_LINE.match(line)
        if header:
            fixed = _OBSOLETE_COLON.sub(rb"\1:", line)
            if fixed != line:
                damaged = True
            if damaged and _KNOWN_HEADER.match(header.group(1)):
                known_after_damage = True
            kept.append(fixed)
        elif _CONTINUATION_LINE.match(line) and kept:
            kept.append(line)
        else:
            skipped += 1
            damaged = True
    if not known_after_damage or skipped > _MAX_SKIPPED_HEADER_LINES:
        return None
    return b"".join(kept) + rest


# --- headers ----------------------------------------------------------------------------------

_LINE_BREAK = re.compile(r"\r?\n")
# stdlib's structured address parser is super-linear; a 20,000-recipient To: took seconds.
_STRUCTURED_HEADER_LIMIT = 16_384

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_FOREIGN_SURROGATES = re.compile(r"[\ud800-\udc7f\udd00-\udfff]")


def _decoded_headers(msg: Message, defects: _Defects, charset: str | None) -> dict[str, list[str]]:
    """Every top-level header, decoded one by one so a single broken header costs only itself."""
    headers: dict[str, list[str]] = {}
    for name, raw_value in msg.raw_items():
        key = name.strip().lower()
        value = _header_text(msg, name, str(raw_value), defects)
        value = _CONTROL_CHARS.sub(" ", _repair_undecodable(value, charset, defects, f"header {key}"))
        headers.setdefault(key, []).append(value.strip())
    return headers


def _header_text(msg: Message, name: str, raw_value: str, defects: _Defects) -> str:
    """policy.default's decoded value, or the lenient RFC 2047 reading when it cannot be used."""
    if len(raw_value) > _STRUCTURED_HEADER_LIMIT:
        return _decode_encoded_words(_unfold(raw_value))
    try:
        return str(msg.policy.header_fetch_parse(name, raw_value))
    except Exception:  # noqa: BLE001 - policy.default header classes raise on some garbage
        defects.add(f"header {name.strip().lower()}: could not be parsed, kept as written")
        return _decode_encoded_words(_unfold(raw_value))


def _unfold(value: str) -> str:
    return _LINE_BREAK.sub("", value)


def _decode_encoded_words(value: str) -> str:
    """RFC 2047 decoding for values the structured header parser refused."""
    if "=?" not in value:
        return value
    try:
        return str(make_header(decode_header(value)))
    except Exception:  # noqa: BLE001 - bad charset or base64 inside the encoded word
        return value


def _repair_undecodable(value: str, charset: str | None, defects: _Defects, where: str) -> str:
    """Turn raw 8-bit header bytes (kept as surrogates by the parser) into real characters.

    UTF-8 first (RFC 6532), then the charset the body declares; without a usable one, Windows-1252,
    which is what unlabelled 8-bit headers from western mailers almost always are.
    """
    if not _SURROGATES.search(value):
        return value
    if not _is_escape_only(value):
        defects.add(f"{where}: undecodable characters replaced")
        return _SURROGATES.sub("\ufffd", value)
    data = value.encode("utf-8", "surrogateescape")
    hint = _codec_for(charset)
    for codec in _unique(["utf-8", hint if hint not in (None, "ascii") else "cp1252"]):
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    defects.add(f"{where}: undecodable bytes replaced")
    return data.decode("utf-8", "replace")


def _is_escape_only(value: str) -> bool:
    """Only \\udc80-\\udcff come from surrogateescape; anything else cannot be turned back into bytes."""
    return _FOREIGN_SURROGATES.search(value) is None


def _first(headers: dict[str, list[str]], name: str) -> str:
    values = headers.get(name)
    return values[0] if values else ""


def _collapse_whitespace(value: str) -> str:
    return " ".join(value.split())


def _message_id(headers: dict[str, list[str]], defects: _Defects) -> str | None:
    value = _first(headers, "message-id")
    if not value:
        return None
    found = normalize_message_id(value)
    if found is None:
        defects.add(f"unusable Message-ID {value[:100]!r}")
    return found


def _date(msg: Message, defects: _Defects) -> datetime | None:
    for raw_value in _raw_values(msg, "date"):
        try:
            header = msg.policy.header_fetch_parse("Date", raw_value)
            parsed = header.datetime if isinstance(header, DateHeader) else None
        except Exception:  # noqa: BLE001 - fall back to the lenient stdlib date parser
            parsed = _lenient_date(_unfold(str(raw_value)))
        if parsed is None:
            defects.add(f"invalid Date header {_unfold(str(raw_value)).strip()[:100]!r}")
            return None
        # "-0000" (and some broken zones) give a naive value: RFC 5322 reads that as UTC.
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)
    return None


def _lenient_date(value: str) -> datetime | None:
    try:
        return parsedate_to_datetime(value)
    except Exception:  # noqa: BLE001 - ValueError, TypeError, OverflowError all seen in the wild
        return None


def _raw_values(msg: Message, name: str) -> list[str]:
    return [str(value) for key, value in msg.raw_items() if key.strip().lower() == name]


_IMPORTANCE_WORDS = {"high": "high", "urgent": "high", "low": "low", "normal": "normal"}
_PRIORITY_WORDS = {"urgent": "high", "non-urgent": "low", "normal": "normal"}
_X_PRIORITY_LEVELS = {"1": "high", "2": "high", "3": "normal", "4": "low", "5": "low"}


def _importance(headers: dict[str, list[str]]) -> str | None:
    """What the sender's client flagged; one input to ticket priority, never the whole decision."""
    importance = _first(headers, "importance").strip().lower()
    if importance in _IMPORTANCE_WORDS:
        return _IMPORTANCE_WORDS[importance]
    x_priority = _first(headers, "x-priority").strip()[:1]
    if x_priority in _X_PRIORITY_LEVELS:
        return _X_PRIORITY_LEVELS[x_priority]
    priority = _first(headers, "priority").strip().lower()
    if priority in _PRIORITY_WORDS:
        return _PRIORITY_WORDS[priority]
    ms_priority = _first(headers, "x-msmail-priority").strip().lower()
    if ms_priority in _IMPORTANCE_WORDS:
        return _IMPORTANCE_WORDS[ms_priority]
    return None


# --- addresses --------------------------------------------------------------------------------

_ADDR_SPEC = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
_BARE_ADDRESS = re.compile(r"[^\s<>\"',;:()\[\]@]+@[^\s<>\"',;:()\[\]@]+\.[^\s<>\"',;:()\[\]@]+")
# Defects that only describe legal-but-old syntax or raw UTF-8 we decode anyway.
_REPAIRED_HEADER_DEFECTS = (ObsoleteHeaderDefect, NonASCIILocalPartDefect, UndecodableBytesDefect)


class _AddressReader:
    """Reads address headers with the structured parser, falling back to the lenient one."""

    def __init__(self, msg: Message, defects: _Defects, charset: str | None) -> None:
        self._msg = msg
        self._defects = defects
        self._charset = charset

    def read(self, name: str) -> list[Address]:
        found: list[Address] = []
        for raw_value in _raw_values(self._msg, name):
            for display, spec in self._mailboxes(name, raw_value):
                address = self._address(display, spec, name)
                if address is not None:
                    found.append(address)
                elif spec.strip():
                    self._defects.add(f"header {name}: unusable address {spec.strip()[:100]!r}")
        return found

    def _mailboxes(self, name: str, raw_value: str) -> list[tuple[str, str]]:
        if len(raw_value) > _STRUCTURED_HEADER_LIMIT:
            self._defects.add(f"header {name}: very long, addresses read leniently")
            return [("", spec) for spec in _BARE_ADDRESS.findall(_unfold(raw_value))]
        try:
            header = self._msg.policy.header_fetch_parse(name, raw_value)
            mailboxes = []
            if isinstance(header, AddressHeader):
                mailboxes = [(item.display_name, item.addr_spec) for item in header.addresses]
                for defect in getattr(header, "defects", ()):
                    if not isinstance(defect, _REPAIRED_HEADER_DEFECTS):
                        self._defects.add(f"header {name}: {_defect_text(defect)}")
        except Exception:  # noqa: BLE001
            self._defects.add(f"header {name}: could not be parsed, read leniently")
            mailboxes = []
        # an address the parser decoded out of an encoded word is not one the header really names
        written = re.sub(r"\s", "", _ENCODED_WORD.sub(" ", _unfold(raw_value))).lower()
        mailboxes = [(display, spec) for display, spec in mailboxes if re.sub(r"\s", "", spec).lower() in written]
        if any(_ADDR_SPEC.match(spec.strip().strip("<>")) for _, spec in mailboxes):
            return mailboxes
        # "From: Big Bug bb@bug.com" and friends: keep whatever looks like an address. Only the raw text is
        # searched: an address inside an encoded display name ("=?utf-8?q?Eve=0D=0ABcc:_victim@...?=") is text the
        # sender chose, never the mailbox the mail came from.
        raw = _unfold(raw_value)
        words = _ENCODED_WORD.findall(raw)
        masked = _ENCODED_WORD.sub(lambda match: f"\0{words.index(match.group(0))}\0", raw)
        restored = [
            (_decode_encoded_words(re.sub(r"\0(\d+)\0", lambda m: words[int(m.group(1))], display)), spec)
            for display, spec in getaddresses([masked])
            if "\0" not in spec and _ADDR_SPEC.match(spec.strip())
        ]
        if restored:
            self._defects.add(f"header {name}: malformed, address taken from the raw text")
            return restored
        lenient = _BARE_ADDRESS.findall(_ENCODED_WORD.sub(" ", raw))
        if lenient:
            self._defects.add(f"header {name}: malformed, address taken from the raw text")
            return [("", spec) for spec in lenient]
        return mailboxes

    def _address(self, display: str, spec: str, name: str) -> Address | None:
        where = f"header {name}"
        email = _repair_undecodable(spec, self._charset, self._defects, where).strip().strip("<>")
        if not _ADDR_SPEC.match(email):
            return None
        display_name = _collapse_whitespace(
            _CONTROL_CHARS.sub(" ", _repair_undecodable(display or "", self._charset, self._defects, where))
        ).strip("\"' ")
        return Address(email=email.lower(), name=display_name or None)


# --- body and attachments ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Body:
    text: str
    html: str | None
    attachments: list[Attachment]


@dataclass(frozen=True)
class _PendingAttachment:
    filename: str | None
    content_type: str
    content: bytes
    disposition: str | None
    content_id: str | None


_CID_REFERENCE = re.compile(r"cid:([^\"'\s>)]+)", re.IGNORECASE)


def _extract_body(msg: Message, defects: _Defects, charset_hint: str | None) -> _Body:
    """Walk the MIME tree once: readable text parts become the body, everything else an attachment.

    Iterative, so a maliciously deep tree cannot exhaust the stack; forwarded messages are not
    entered, so their text never masquerades as the customer's words.
    """
    plain: list[str] = []
    html: list[str] = []
    pending: list[_PendingAttachment] = []
    stack: list[Message] = [msg]
    while stack:
        part = stack.pop()
        content_type = _content_type(part)
        for defect in part.defects:
            defects.add(f"{content_type}: {_defect_text(defect)}")
        maintype = content_type.split("/", 1)[0]
        if maintype == "multipart":
            children = _children(part, content_type, defects)
            if children is None:
                plain.append(_part_text(part, defects))
            else:
                stack.extend(reversed(children))
        elif maintype == "message":
            pending.append(_message_attachment(part, content_type, defects, charset_hint))
        else:
            _leaf(part, content_type, defects, charset_hint, plain if content_type == "text/plain" else html, pending)
    html_source = "\n".join(html) if html else None
    text = "\n\n".join(chunk.strip() for chunk in plain if chunk.strip())
    if not text and html_source:
        text = html_to_text(html_source)
    referenced = _cid_references(html_source or "")
    return _Body(text=text.strip(), html=html_source, attachments=_name_attachments(pending, referenced))


def _leaf(
    part: Message, content_type: str, defects: _Defects, charset_hint: str | None, texts: list[str],
    pending: list[_PendingAttachment],
) -> None:  # fmt: skip
    """A part that is not a container: inline text/plain or text/html joins `texts`, anything else is kept as an
    attachment."""
    filename = _filename(part, defects, charset_hint)
    disposition = _disposition(part)
    if content_type in ("text/plain", "text/html") and disposition != "attachment" and not filename:
        texts.append(_part_text(part, defects))
        return
    pending.append(
        _PendingAttachment(
            filename=filename,
            content_type=content_type,
            content=_payload_bytes(part, defects, for_text=False),
            disposition=disposition,
            content_id=_content_id(part),
        )
    )


def _children(part: Message, content_type: str, defects: _Defects) -> list[Message] | None:
    """A multipart's parts; a boundary Python could not use is recovered from the raw header where possible,
    else None (the part is kept as plain text)."""
    payload = part.get_payload()
    if not isinstance(payload, list):
        recovered = _reparse_with_raw_boundary(part)
        if recovered is None:
            defects.add(f"{content_type} without usable boundary; kept as plain text")
            return None
        defects.add(f"{content_type}: unquoted boundary with special characters recovered")
        payload = recovered
    return [p for p in payload if isinstance(p, Message)]


_RAW_BOUNDARY = re.compile(r'boundary\s*=\s*(?:"([^"]+)"|([^;\s"]+))', re.IGNORECASE)


def _reparse_with_raw_boundary(part: Message) -> list[Message] | None:
    """Children of a multipart whose boundary was written unquoted with "=" in it.

    Outlook and Java mailers write ``boundary=----=_NextPart_000...``; the strict parameter parser
    stops at the first "=" and finds no parts, so the raw header is read again here.
    """
    values = _raw_values(part, "content-type")
    match = _RAW_BOUNDARY.search(_unfold(values[0])) if values else None
    if match is None:
        return None
    boundary = match.group(1) or match.group(2)
    try:
        if boundary == part.get_boundary():
            return None
        head = f'Content-Type: {_content_type(part)}; boundary="{boundary}"\n\n'.encode("ascii")
        candidate = BytesParser(policy=policy.default).parsebytes(head + _raw_payload(part))
    except Exception:  # noqa: BLE001 - an unusable boundary stays unusable
        return None
    children = candidate.get_payload()
    if not isinstance(children, list) or not children:
        return None
    return [child for child in children if isinstance(child, Message)]


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:  # noqa: BLE001 - garbage Content-Type reads as the RFC 2045 default
        return "text/plain"


def _disposition(part: Message) -> str | None:
    try:
        value = part.get_content_disposition()
    except Exception:  # noqa: BLE001
        return None
    return value.strip().lower() if isinstance(value, str) else None


def _content_id(part: Message) -> str | None:
    values = _raw_values(part, "content-id")
    if not values:
        return None
    value = _unfold(values[0]).strip().strip("<>").strip()
    return value or None


def _cid_references(html: str) -> set[str]:
    return {unquote(match.group(1)).strip("<>").lower() for match in _CID_REFERENCE.finditer(html)}


def _part_text(part: Message, defects: _Defects) -> str:
    data = _payload_bytes(part, defects, for_text=True)
    text = _decode_text(data, _part_charset(part), defects, _content_type(part))
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _part_charset(part: Message) -> str | None:
    try:
        value = part.get_content_charset()
    except Exception:  # noqa: BLE001
        return None
    return value if isinstance(value, str) and value.strip() else None


def _header_charset_hint(msg: Message) -> str | None:
    """The first charset any body part declares: the best guess for raw 8-bit bytes in headers."""
    stack: list[Message] = [msg]
    while stack:
        part = stack.pop()
        charset = _part_charset(part)
        if charset:
            return charset
        payload = part.get_payload() if part.get_content_maintype() == "multipart" else None
        if isinstance(payload, list):
            stack.extend(reversed([p for p in payload if isinstance(p, Message)]))
    return None


# --- transfer encodings -----------------------------------------------------------------------

_CTE_ALIASES = {
    "": "7bit",
    "7bit": "7bit",
    "7bits": "7bit",
    "8bit": "8bit",
    "8bits": "8bit",
    "binary": "binary",
    "quotedprintable": "quoted-printable",
    "qp": "quoted-printable",
    "base64": "base64",
    "xuuencode": "uuencode",
    "uuencode": "uuencode",
    "uue": "uuencode",
    "xuue": "uuencode",
}
_BASE64_ALPHABET_ONLY = re.compile(rb"[^A-Za-z0-9+/]")
_BASE64_IGNORABLE = re.compile(rb"[\s=]")


def _transfer_encoding(part: Message) -> tuple[str, str]:
    """(normalized, as written): mailers write "Quoted-printable;", "7-bit", "quoted printable"."""
    values = _raw_values(part, "content-transfer-encoding")
    written = _unfold(values[0]).strip() if values else ""
    token = written.split(";", 1)[0].strip().strip("\"'").lower()
    return _CTE_ALIASES.get(re.sub(r"[^a-z0-9]", "", token), token), written


def _payload_bytes(part: Message, defects: _Defects, *, for_text: bool) -> bytes:
    """Decoded payload; an unknown encoding keeps the bytes as sent rather than dropping them."""
    data = _raw_payload(part)
    encoding, written = _transfer_encoding(part)
    if encoding in ("7bit", "8bit", "binary"):
        return data
    if encoding == "base64":
        return _decode_base64(data, defects)
    if encoding == "quoted-printable":
        return binascii.a2b_qp(data)
    if encoding == "uuencode" and not for_text:
        decoded = _decode_uu(data)
        if decoded is not None:
            return decoded
    defects.add(f"unsupported Content-Transfer-Encoding {written[:50]!r}; kept as raw 7bit")
    return data


def _raw_payload(part: Message) -> bytes:
    """The payload bytes exactly as they arrived.

    ``get_payload()`` already decodes 8-bit text with the declared charset and errors="replace",
    which would throw away the bytes the charset fallbacks need; the stored payload still has them
    (as surrogate escapes, because the mail was parsed from bytes).
    """
    payload = getattr(part, "_payload", None)
    if not isinstance(payload, str):
        payload = part.get_payload()
    if not isinstance(payload, str):
        return b""
    if _is_escape_only(payload):
        return payload.encode("utf-8", "surrogateescape")
    return payload.encode("utf-8", "replace")


def _decode_base64(data: bytes, defects: _Defects) -> bytes:
    cleaned = _BASE64_ALPHABET_ONLY.sub(b"", data)
    if len(cleaned) != len(_BASE64_IGNORABLE.sub(b"", data)):
        defects.add("base64 payload contained invalid characters; they were skipped")
    if len(cleaned) % 4 == 1:
        defects.add("base64 payload was truncated")
        cleaned = cleaned[:-1]
    return base64.b64decode(cleaned + b"=" * (-len(cleaned) % 4))


def _decode_uu(data: bytes) -> bytes | None:
    out = bytearray()
    started = False
    for line in data.splitlines():
        if not started:
            started = line.startswith(b"begin ")
            continue
        if line.strip() == b"end":
            return bytes(out)
        if not line.strip():
            continue
        try:
            out += binascii.a2b_uu(line)
        except binascii.Error:
            # Some encoders pad lines with garbage; decode only the declared length.
            length = (((line[0] - 32) & 63) * 4 + 5) // 3
            try:
                out += binascii.a2b_uu(line[:length])
            except binascii.Error:
                return None
    return bytes(out) if started else None


# --- charsets ---------------------------------------------------------------------------------

# Mail labels a charset by its oldest name; decode with the superset real clients actually use.
_SUPERSETS = {
    "iso8859-1": "cp1252",
    "euc_kr": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "shift_jis": "cp932",
    "iso2022_jp": "iso2022_jp_ext",
    "tis-620": "cp874",
    "big5": "big5hkscs",
}
_LABEL_ALIASES = {
    "utf8mb4": "utf-8",
    "x-sjis": "cp932",
    "sjis": "cp932",
    "ms932": "cp932",
    "windows-31j": "cp932",
    "unicode-1-1-utf-7": "utf-7",
    "iso-8859-8-i": "iso-8859-8",
    "x-euc-jp": "euc_jp",
    "ks_c_5601-1987": "cp949",
}
# Text codecs that transform rather than decode; a hostile charset label must not pick them.
_UNSAFE_CODECS = frozenset(
    {"undefined", "unicode_escape", "raw_unicode_escape", "idna", "punycode", "mbcs", "oem"}
)


def _codec_for(label: str | None) -> str | None:
    """The Python codec for a charset label, or None when the label is unknown or unsafe."""
    if not label:
        return None
    cleaned = label.strip().strip("\"';").strip().lower()
    cleaned = _LABEL_ALIASES.get(cleaned, cleaned)
    try:
        info = codecs.lookup(cleaned)
    except (LookupError, ValueError, TypeError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _UNSAFE_CODECS:
        return None
    return _SUPERSETS.get(info.name, info.name)


def _decode_text(data: bytes, charset: str | None, defects: _Defects, where: str) -> str:
    """Decode body bytes, degrading step by step instead of failing.

    A declared charset is tried first (as its common superset), then UTF-8. Undeclared, US-ASCII
    and unknown charsets try UTF-8 then Windows-1252. Whatever remains undecodable becomes U+FFFD.
    """
    codec = _codec_for(charset)
    unknown = bool(charset) and codec is None
    guessing = codec in (None, "ascii")
    candidates = ["utf-8", "cp1252"] if guessing else _unique([codec, "utf-8"])
    for position, candidate in enumerate(candidates):
        try:
            text = data.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
        if unknown:
            defects.add(f"{where}: unknown charset {charset!r}; decoded as {candidate}")
        elif position > 0:
            defects.add(f"{where}: bytes are not valid {charset or 'utf-8'}; decoded as {candidate}")
        return text
    fallback = "utf-8" if guessing or codec is None else codec
    defects.add(f"{where}: undecodable bytes in {charset or 'undeclared'} text replaced")
    try:
        return data.decode(fallback, "replace")
    except LookupError:
        return data.decode("utf-8", "replace")


def _unique(values: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(value for value in values if value))


# --- attachment names -------------------------------------------------------------------------

_RFC2231_VALUE = re.compile(r"^([\w.:-]+)'[\w-]*'(.*)$")
_RAW_FILENAME = re.compile(
    r"(?:^|;)\s*(?:file)?name(\*)?\s*=\s*(?:\"([^\"]*)\"|([^;]*))", re.IGNORECASE
)
_UNSAFE_FILENAME_CHARS = re.compile(r'[<>:"|?*]')
_MAX_FILENAME = 200


@functools.lru_cache(maxsize=1)
def _mime_types() -> mimetypes.MimeTypes:
    """Built on the first attachment with an unusual type (it reads the system's mime.types: 6 ms)."""
    return mimetypes.MimeTypes()


_EXTENSIONS = {
    "application/octet-stream": ".bin",
    "text/plain": ".txt",
    "image/jpeg": ".jpg",
    "message/rfc822": ".eml",
    "message/global": ".eml",
    "message/delivery-status": ".txt",
    "message/disposition-notification": ".txt",
    "message/feedback-report": ".txt",
    "text/rfc822-headers": ".txt",
}


def _filename(part: Message, defects: _Defects, charset: str | None) -> str | None:
    """The sender's file name, decoded from RFC 2231 or RFC 2047 however the mailer wrote it."""
    try:
        name = part.get_filename()
    except Exception:  # noqa: BLE001
        name = None
    raw_name = _raw_filename(part)
    # Apple Mail writes "name=This is a test.txt" unquoted; the strict parser stops at the space.
    if not name or (raw_name and raw_name.startswith(str(name)) and len(raw_name) > len(str(name))):
        name = raw_name
    if not name:
        return None
    name = _decode_encoded_words(str(name))
    name = _repair_undecodable(name, charset, defects, "attachment filename")
    return _sanitize_filename(name) or None


def _raw_filename(part: Message) -> str | None:
    """Regex reading of filename/name parameters that the structured header parser rejected."""
    for header in ("content-disposition", "content-type"):
        for value in _raw_values(part, header):
            match = _RAW_FILENAME.search(_unfold(value))
            if not match:
                continue
            extended, quoted, bare = match.groups()
            name = (quoted if quoted is not None else bare or "").strip()
            encoded = _RFC2231_VALUE.match(name) if extended else None
            if encoded:
                codec = _codec_for(encoded.group(1)) or "utf-8"
                name = unquote_to_bytes(encoded.group(2)).decode(codec, "replace")
            if name:
                return name
    return None


def _sanitize_filename(name: str) -> str:
    """No directories, control or bidi-override characters, nothing Windows refuses to save."""
    base = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    visible = "".join(ch for ch in base if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co"))
    cleaned = _collapse_whitespace(_UNSAFE_FILENAME_CHARS.sub("_", visible)).strip(". ")
    if len(cleaned) > _MAX_FILENAME:
        stem, dot, extension = cleaned.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            cleaned = f"{stem[: _MAX_FILENAME - len(extension) - 1]}.{extension}"
        else:
            cleaned = cleaned[:_MAX_FILENAME]
    return cleaned


def _extension(content_type: str) -> str:
    return _EXTENSIONS.get(content_type) or _mime_types().guess_extension(content_type) or ".bin"


def _name_attachments(pending: list[_PendingAttachment], referenced: set[str]) -> list[Attachment]:
    """Give unnamed files stable, readable names: image-1.png, attachment-1.bin, message-1.eml."""
    counters: dict[str, int] = {}
    attachments: list[Attachment] = []
    for item in pending:
        filename = item.filename
        if not filename:
            if item.content_type.startswith("image/"):
                prefix = "image"
            elif item.content_type in ("message/rfc822", "message/global"):
                prefix = "message"
            else:
                prefix = "attachment"
            counters[prefix] = counters.get(prefix, 0) + 1
            filename = f"{prefix}-{counters[prefix]}{_extension(item.content_type)}"
        cid = item.content_id
        attachments.append(
            Attachment(
                filename=filename,
                content_type=item.content_type,
                size=len(item.content),
                content=item.content,
                inline=item.disposition == "inline" or (cid is not None and cid.lower() in referenced),
                content_id=cid,
            )
        )
    return attachments


def _message_attachment(
    part: Message, content_type: str, defects: _Defects, charset: str | None
) -> _PendingAttachment:
    """A forwarded mail or a report block, stored whole.

    A forwarded mail is named after its own subject: clients mostly label it with something
    generic ("ForwardedMessage.eml"), and the subject is what an agent recognises.
    """
    payload = part.get_payload()
    filename = None
    if isinstance(payload, list):
        inner = [item for item in payload if isinstance(item, Message)]
        content = b"".join(_serialize(item, defects) for item in inner)
        if content_type in ("message/rfc822", "message/global") and inner:
            subject = _forwarded_subject(inner[0], defects, charset)
            filename = _sanitize_filename(f"{subject}.eml") if subject else None
    else:
        content = _payload_bytes(part, defects, for_text=False)
    return _PendingAttachment(
        filename=filename or _filename(part, defects, charset),
        content_type=content_type,
        content=content,
        disposition=_disposition(part),
        content_id=_content_id(part),
    )


def _forwarded_subject(inner: Message, defects: _Defects, charset: str | None) -> str:
    values = _raw_values(inner, "subject")
    if not values:
        return ""
    decoded = _decode_encoded_words(_unfold(values[0]))
    subject = _collapse_whitespace(_repair_undecodable(decoded, charset, defects, "forwarded subject"))
    return subject[:150]


# Raw-value policy: headers are written back as received, never re-folded or re-encoded.
_VERBATIM = policy.compat32.clone(max_line_length=0)


def _serialize(message: Message, defects: _Defects) -> bytes:
    buffer = io.BytesIO()
    try:
        BytesGenerator(buffer, mangle_from_=False, policy=_VERBATIM).flatten(message)
    except Exception as exc:  # noqa: BLE001 - store what we can rather than nothing
        defects.add(f"attached message could not be re-serialized ({type(exc).__name__})")
        return b""
    return buffer.getvalue()


def _defect_text(defect: MessageDefect | Exception) -> str:
    """stdlib defects carry either a message or only a class docstring; prefer the message."""
    message = str(defect).strip()
    if message:
        return message
    doc = (type(defect).__doc__ or "").strip().splitlines()
    return doc[0].strip() if doc else type(defect).__name__
