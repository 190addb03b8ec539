"""Opaque pagination cursors: a DynamoDB start key bound to the index it came from."""

from __future__ import annotations

import base64
import json
from typing import Any

from shared.domain.errors import ValidationFailed


def encode_cursor(index_name: str, key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps({"i": index_name, "k": key}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, index_name: str) -> dict[str, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if data["i"] != index_name or not isinstance(data["k"], dict):
            raise ValueError("cursor belongs to another listing")
        return dict(data["k"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ValidationFailed("invalid cursor: pass the next_cursor of the previous page with the same filters") from exc
