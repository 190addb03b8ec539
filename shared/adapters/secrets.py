"""The signing key behind reply-to tokens and API bearer tokens."""

from __future__ import annotations

import hashlib
import hmac

from shared.settings import Settings

_cache: dict[str, bytes] = {}


def signing_key(settings: Settings) -> bytes:
    """The literal SIGNING_SECRET when set (tests), else the Secrets Manager secret, fetched once per process."""
    if settings.signing_secret:
        return settings.signing_secret.encode()
    name = settings.signing_secret_name
    if name not in _cache:
        from aws_lambda_powertools.utilities import parameters

        value = parameters.get_secret(name, max_age=300)
        _cache[name] = value.encode() if isinstance(value, str) else bytes(value)
    return _cache[name]


def purpose_key(key: bytes, purpose: str) -> bytes:
    """One secret, separate keys per use: a leaked API token key cannot forge reply addresses."""
    return hmac.new(key, purpose.encode(), hashlib.sha256).digest()
