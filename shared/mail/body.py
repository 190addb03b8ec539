"""Turning a mail body into what an agent should read.

Agents answer the customer's newest words, not the thread history their mail client pasted below
them, so the display text drops quoted replies, forwarded-header blocks and signatures. The full
text is always kept by the caller; this module only decides what to show first.
"""

from __future__ import annotations

import html as html_entities
import re


_BLANK_RUNS = re.compile(r"\n(?:[ \t]*\n){3,}")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_TAG = re.compile(r"<[^>]*>")
_BLOCK_TAG = re.compile(r"<\s*(?:br|/p|/div|/tr|/li|/h[1-6])\b[^>]*>", re.IGNORECASE)
_SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)


def html_to_text(html: str) -> str:
    """Render HTML as readable plain text, so HTML-only customers read like everyone else."""
    if not html.strip():
        return ""
    # lxml refuses control characters and an encoding declaration on an already-decoded string.
    cleaned = _XML_ILLEGAL.sub("", _XML_DECLARATION.sub("", html, count=1))
    try:
        from inscriptis import get_text  # with lxml, 17 ms of import: only HTML mail needs it

        text = get_text(cleaned)
    except Exception:  # noqa: BLE001 - inscriptis/lxml failures must not lose the body
        text = _strip_tags(cleaned)
    return _tidy(text)


def _strip_tags(html: str) -> str:
    """Last-resort rendering when the HTML parser gives up: keep the words, drop the markup."""
    without_code = _SCRIPT_OR_STYLE.sub("", html)
    with_breaks = _BLOCK_TAG.sub("\n", without_code)
    return html_entities.unescape(_TAG.sub("", with_breaks))


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\xa0", " ").split("\n")]
    return _BLANK_RUNS.sub("\n\n\n", "\n".join(lines)).strip()


# --- reply trimming ---------------------------------------------------------------------------

# "On Mon, 3 Nov 2025 at 10:00, Jane <j@x> wrote:" / "Pada tanggal ..., Jane <j@x> menulis:"
_ATTRIBUTION_START = re.compile(r"^(?:on|pada)\s", re.IGNORECASE)
_ATTRIBUTION = re.compile(r"^(?:on|pada)\s.*\b(?:wrote|menulis)\s*:$", re.IGNORECASE)
_ATTRIBUTION_MAX_LEN = 400

_ORIGINAL_MESSAGE = re.compile(
    r"^-{2,}\s*(?:original message|pesan asli)\s*-{2,}$", re.IGNORECASE
)
_UNDERSCORE_RULE = re.compile(r"^_{10,}$")
_FORWARD_MARKER = re.compile(
    r"(?:forwarded message|begin forwarded message|pesan yang diteruskan|pesan terusan)",
    re.IGNORECASE,
)

# Outlook's header block, in English and Indonesian, optionally bold ("*From:*").
_HEADER_FROM = re.compile(r"^\*?(?:from|dari)\s*:", re.IGNORECASE)
_HEADER_SENT = re.compile(r"^\*?(?:sent|date|dikirim|tanggal)\s*:", re.IGNORECASE)
_HEADER_TO = re.compile(r"^\*?(?:to|kepada|cc)\s*:", re.IGNORECASE)
_HEADER_SUBJECT = re.compile(r"^\*?(?:subject|subjek|perihal)\s*:", re.IGNORECASE)
_HEADER_BLOCK_WINDOW = 6

# Whole-line mobile signatures, a handful of words at most, set off by a blank line.
_MOBILE_SIGNATURE = re.compile(
    r"^(?:sent from my (?:[\w'-]+ ?){1,4}"
    r"|sent from (?:outlook|mail|yahoo mail)(?: for (?:ios|android|windows))?"
    r"|get outlook for (?:ios|android)"
    r"|dikirim dari (?:[\w'-]+ ?){1,3}saya"
    r"|dikirim dari (?:outlook|yahoo mail)(?: untuk (?:ios|android))?)[.!]?$",
    re.IGNORECASE,
)


def trim_reply(text: str) -> str:
    """Cut the quoted history and signature so the agent sees the customer's new words first."""
    normalized = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = normalized.split("\n")
    cut = _first_cut(lines)
    if cut is None:
        return normalized.strip()
    kept = "\n".join(lines[:cut]).strip()
    return kept or normalized.strip()


def _first_cut(lines: list[str]) -> int | None:
    """Index of the first line that starts history or signature, scanning top to bottom once."""
    stripped = [line.strip() for line in lines]
    for index, line in enumerate(stripped):
        if not line:
            continue
        if line == "--" or _is_mobile_signature(stripped, index):
            return index
        if _ORIGINAL_MESSAGE.match(line):
            return index
        if _starts_attribution(stripped, index):
            return index
        if _UNDERSCORE_RULE.match(line) and _next_nonblank_is_from(stripped, index):
            return index
        if _HEADER_FROM.match(line) and _is_header_block(stripped, index):
            if not _follows_forward_marker(stripped, index):
                return index
    return _trailing_quote_start(stripped)


def _is_mobile_signature(lines: list[str], index: int) -> bool:
    set_off = index == 0 or not lines[index - 1]
    return set_off and bool(_MOBILE_SIGNATURE.match(lines[index]))


def _starts_attribution(lines: list[str], index: int) -> bool:
    """An attribution line, possibly wrapped by the client over the next one or two lines."""
    line = lines[index]
    if not _ATTRIBUTION_START.match(line):
        return False
    joined = line
    for offset in range(3):
        if offset:
            following = index + offset
            if following >= len(lines) or not lines[following]:
                return False
            joined = f"{joined} {lines[following]}"
        if len(joined) > _ATTRIBUTION_MAX_LEN:
            return False
        if _ATTRIBUTION.match(joined):
            return True
    return False


def _next_nonblank_is_from(lines: list[str], index: int) -> bool:
    for following in lines[index + 1 : index + 4]:
        if following:
            return bool(_HEADER_FROM.match(following))
    return False


def _is_header_block(lines: list[str], index: int) -> bool:
    """A From: line only starts history when Sent/To/Subject lines follow right after it."""
    window = [line for line in lines[index + 1 : index + 1 + _HEADER_BLOCK_WINDOW] if line]
    seen = sum(
        any(pattern.match(line) for line in window)
        for pattern in (_HEADER_SENT, _HEADER_TO, _HEADER_SUBJECT)
    )
    return seen >= 2


def _follows_forward_marker(lines: list[str], index: int) -> bool:
    """Forwarded content is the customer's evidence, so a header block under a forward stays."""
    for previous in reversed(lines[max(0, index - 3) : index]):
        if previous:
            return bool(_FORWARD_MARKER.search(previous))
    return False


def _trailing_quote_start(lines: list[str]) -> int | None:
    """Start of a ">"-quoted block that runs to the end of the mail (inline quoting is kept)."""
    start: int | None = None
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        if not line:
            continue
        if line.startswith(">"):
            start = index
            continue
        break
    if start is None:
        return None
    # Drop an unrecognised attribution line ("Le 3 nov. 2025, Jane <j@x> a écrit :") above it.
    previous = start - 1
    while previous >= 0 and not lines[previous]:
        previous -= 1
    if previous >= 0:
        candidate = lines[previous]
        if (
            candidate.endswith(":")
            and len(candidate) <= _ATTRIBUTION_MAX_LEN
            and ("@" in candidate or any(ch.isdigit() for ch in candidate))
        ):
            return previous
    return start
