"""Idempotency markers and rate-limit windows.

A marker is claimed with a conditional put before any side effect. A claim whose holder died (lease expired)
can be taken over: every write after the claim is itself conditional and keyed by ids derived from the same
key, so a takeover finishes the work instead of doing it twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.exceptions import PutError

from shared.storage.models import MarkerModel

DAY = 86_400


@dataclass(frozen=True)
class Claim:
    state: str  # "claimed" (go ahead), "done" (duplicate), "in_flight" (someone else is on it)
    result: dict[str, Any] | None = None


class MarkerRepository:
    def __init__(self, retention_days: int = 30) -> None:
        self.retention = retention_days * DAY

    def claim(self, key: str, now: datetime, lease_seconds: int) -> Claim:
        ts = int(now.timestamp())
        marker = MarkerModel(key=key, state="processing", lease_until=ts + lease_seconds, expires_at=ts + self.retention)
        try:
            marker.save(
                condition=MarkerModel.key.does_not_exist()
                | ((MarkerModel.state == "processing") & (MarkerModel.lease_until < ts))
            )
            return Claim("claimed")
        except PutError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
        existing = MarkerModel.get(key, consistent_read=True)
        if existing.state == "done":
            return Claim("done", dict(existing.result.as_dict()) if existing.result else None)
        return Claim("in_flight")

    def complete(self, key: str, result: dict[str, Any]) -> None:
        MarkerModel(key=key).update(
            actions=[MarkerModel.state.set("done"), MarkerModel.result.set(result), MarkerModel.lease_until.remove()]
        )

    def release(self, key: str) -> None:
        """Give a claim back after a failure, so the retry does not wait for the lease."""
        MarkerModel(key=key).delete(condition=MarkerModel.state == "processing")

    def hit(self, key: str, now: datetime, window_seconds: int) -> int:
        """Count one event in the window that `now` falls in; returns the count so far in that window."""
        ts = int(now.timestamp())
        window = ts - ts % window_seconds
        marker = MarkerModel(key=f"{key}#{window}")
        marker.update(
            actions=[MarkerModel.hits.add(1), MarkerModel.expires_at.set(window + window_seconds + DAY)]
        )
        return int(marker.hits or 0)
