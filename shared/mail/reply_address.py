"""Signed per-ticket reply addresses: support+<token>@domain.

Customers' mail clients often drop In-Reply-To/References and rewrite subjects; a reply to this address still
threads. The token is the ticket ref plus an HMAC, so nobody can forge an address that posts into someone else's
ticket. Tokens are lower case because some relays lower-case local parts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from shared.domain.ids import REF_PREFIX, normalize_ref

_SIG_CHARS = 10


def _signature(key: bytes, ref: str) -> str:
    digest = hmac.new(key, f"reply-to:{ref}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:_SIG_CHARS]


def reply_token(key: bytes, ref: str) -> str:
    return f"{ref[len(REF_PREFIX):].lower()}-{_signature(key, ref)}"


def reply_address(key: bytes, ref: str, support_address: str) -> str:
    local, _, domain = support_address.partition("@")
    return f"{local}+{reply_token(key, ref)}@{domain}"


def ref_from_address(key: bytes, address: str, support_domain: str) -> str | None:
    """The ticket ref of a correctly signed reply address at our domain; None for anything else."""
    local, _, domain = address.strip().lower().rpartition("@")
    if domain != support_domain.lower() or "+" not in local:
        return None
    token = local.split("+", 1)[1]
    ref_part, _, sig = token.partition("-")
    ref = normalize_ref(REF_PREFIX + ref_part)
    if ref is None or not sig:
        return None
    return ref if hmac.compare_digest(sig, _signature(key, ref)) else None
