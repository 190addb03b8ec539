"""Inbound items that did not become tickets, with the reason and the raw object kept for a human."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.domain.errors import ValidationFailed
from shared.domain.model import QuarantineEntry
from shared.storage.cursor import decode_cursor, encode_cursor
from shared.storage.models import LISTING, QuarantineModel
from shared.domain.timefmt import iso

__all__ = ["QuarantineEntry", "QuarantineRepository", "list_quarantine", "quarantine"]


def quarantine(entry: QuarantineEntry, received_at: datetime) -> None:
    """Idempotent: the id derives from the inbound item, so a retry overwrites the same record."""
    at = iso(received_at)
    QuarantineModel(
        id=entry.id,
        reason=entry.reason,
        detail=(entry.detail or "")[:2000] or None,
        source=entry.source,
        raw_bucket=entry.raw_bucket,
        raw_key=entry.raw_key,
        sender=entry.sender,
        subject=(entry.subject or "")[:500] or None,
        received_at=at,
        listing=LISTING,
        received_sort=f"{at}#{entry.id}",
    ).save()


def quarantine_resource(item: QuarantineModel) -> dict[str, Any]:
    return {
        "id": item.id,
        "reason": item.reason,
        "detail": item.detail,
        "source": item.source,
        "received_at": item.received_at,
        "raw_bucket": item.raw_bucket,
        "raw_key": item.raw_key,
        "sender": item.sender,
        "subject": item.subject,
    }


def list_quarantine(limit: int = 50, cursor: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first, with an opaque cursor for the next page."""
    if not 1 <= limit <= 200:
        raise ValidationFailed("limit must be between 1 and 200")
    start = decode_cursor(cursor, "by-received") if cursor else None
    items = list(
        QuarantineModel.by_received.query(
            LISTING, scan_index_forward=False, limit=limit, last_evaluated_key=start, page_size=limit
        )
    )
    next_cursor = None
    if len(items) == limit:
        last = items[-1]
        key = {"id": {"S": last.id}, "listing": {"S": LISTING}, "received_sort": {"S": last.received_sort}}
        next_cursor = encode_cursor("by-received", key)
    return [quarantine_resource(i) for i in items], next_cursor


class QuarantineRepository:
    """The quarantine as intake writes it and the review service reads it."""

    def keep(self, entry: QuarantineEntry, received_at: datetime) -> None:
        quarantine(entry, received_at)

    def page(self, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        return list_quarantine(limit=limit, cursor=cursor)
