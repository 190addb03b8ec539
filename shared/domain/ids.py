"""Identifiers: time-sortable ticket/message ids and short human refs.

Ids for inbound items are derived from the item's idempotency key, so a retried delivery computes the same ids
and its conditional writes collide with the first attempt instead of creating a twin.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime

from shared.domain.model import Contact

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REF_PREFIX = "T-"
REF_LENGTH = 6
REF_PATTERN = re.compile(r"(?<![A-Za-z0-9])T-([0-9A-HJKMNP-TV-Z]{6})(?![A-Za-z0-9])", re.IGNORECASE)


def _base32(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def ulid(at: datetime, entropy: bytes | None = None) -> str:
    """A ULID: 48-bit millisecond time + 80 bits of entropy (random unless given), 26 Crockford characters."""
    millis = int(at.timestamp() * 1000)
    rand = entropy[:10] if entropy is not None else secrets.token_bytes(10)
    value = (millis << 80) | int.from_bytes(rand.ljust(10, b"\0"), "big")
    return _base32(value, 26)


def derived_ulid(at: datetime, key: str) -> str:
    """The same (time, key) always gives the same id."""
    return ulid(at, hashlib.sha256(key.encode()).digest())


def ref_candidates(key: str, count: int = 8) -> list[str]:
    """Deterministic candidate refs for an idempotency key; the first one not taken is used."""
    out = []
    for attempt in range(count):
        digest = hashlib.sha256(f"{key}#ref#{attempt}".encode()).digest()
        out.append(REF_PREFIX + _base32(int.from_bytes(digest[:8], "big"), REF_LENGTH))
    return out


def normalize_ref(text: str) -> str | None:
    """Canonical ref (upper case, 'T-XXXXXX') for a ref as a human may type it; None if it is not one."""
    match = REF_PATTERN.fullmatch(text.strip())
    return REF_PREFIX + match.group(1).upper() if match else None


def find_ref(subject: str) -> str | None:
    """The first ticket ref mentioned in a subject line, canonicalised."""
    match = REF_PATTERN.search(subject or "")
    return REF_PREFIX + match.group(1).upper() if match else None


def customer_id_for(contact: Contact) -> str:
    """A customer's id, derived from how they are reached: two first messages from one address, even at the same
    moment, converge on one customer."""
    return "cus_" + hashlib.sha256(contact.key.encode()).hexdigest()[:20]


PLAIN_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
_PLAIN_ID = re.compile(PLAIN_ID)


def checked_id(value: str, what: str) -> str:
    """An id given in a path (agents, teams, calendars, policies, templates ...): short, plain, safe as a key."""
    from shared.domain.errors import ValidationFailed

    if not _PLAIN_ID.fullmatch(value):
        raise ValidationFailed(f"{what} ids are 1-64 letters, digits, '-', '_' or '.' (starting with a letter or digit)")
    return value
