"""The signing key behind reply-to tokens and API bearer tokens."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from shared.settings import Settings

_cache: dict[str, bytes] = {}
_channel_cache: dict[str, dict[str, str]] = {}


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


def channel_secret(settings: Settings, webhook: str) -> dict[str, str]:
    """One channel's secret fields (app secret, verify token, access token ...): from the literal CHANNEL_SECRETS
    JSON when set (tests), else the JSON secret `<CHANNEL_SECRET_PREFIX><webhook>` in Secrets Manager, fetched
    once per process (and again after Powertools' five-minute cache, so a rotated value is picked up)."""
    if settings.channel_secrets:
        every: dict[str, Any] = json.loads(settings.channel_secrets)
        return {str(k): str(v) for k, v in dict(every.get(webhook) or {}).items()}
    name = settings.channel_secret_prefix + webhook
    if name not in _channel_cache:
        from aws_lambda_powertools.utilities import parameters

        value = parameters.get_secret(name, max_age=300)
        text = value.decode() if isinstance(value, bytes) else str(value)
        _channel_cache[name] = {str(k): str(v) for k, v in dict(json.loads(text)).items()}
    return _channel_cache[name]
