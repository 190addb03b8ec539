"""Where an outbound message on a platform channel stands: queued -> sent -> delivered -> read, or failed.

Platforms send receipts out of order and more than once (a `read` can overtake its `delivered`), so the status only
moves forward; `failed` ends it, except that a later receipt proving the customer got it wins.
"""

from __future__ import annotations

from typing import Any

ORDER = {"queued": 0, "sent": 1, "failed": 2, "delivered": 3, "read": 4}


def next_delivery(current: dict[str, Any], status: str, at: str, error: str | None = None) -> dict[str, Any] | None:
    """The delivery record after a receipt, or None when the receipt says nothing new."""
    if status not in ORDER:
        raise ValueError(f"unknown delivery status {status!r}")
    now = str(current.get("status") or "queued")
    if ORDER[status] <= ORDER.get(now, 0):
        return None
    updated = {**current, "status": status, "updated_at": at, f"{status}_at": at}
    if error:
        updated["error"] = error
    return updated
