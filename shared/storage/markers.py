"""Send-once markers, rate-limit windows and held alert lists.

A marker is claimed with a conditional put before any side effect. A claim whose holder died (lease expired)
can be taken over: every write after the claim is itself conditional and keyed by ids derived from the same
key, so a takeover finishes the work instead of doing it twice.

Taking a message in and handling a route announcement once is Powertools' idempotency utility
(shared/adapters/idempotency.py, its records in the same table). The send-once markers (`ack#`, `notice#`,
`auto-reply#`) stay claims here: they guard one mail across different invocations and event keys, are
checked rather than wrapped around a call, and must never be released on a failure nor expire — where the
utility deletes the record when the work raises and lets it go when the lease ends.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.exceptions import PutError, UpdateError
from pynamodb.expressions.condition import size

from shared.domain.model import Claim
from shared.storage.models import MarkerModel

DAY = 86_400
MAX_WINDOW_MEMBERS = 1000
MAX_MEMBER_CHARS = 200


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

    def hit(self, key: str, now: datetime, window_seconds: int, member: str) -> int:
        """Count `member` (the message, alert ... being counted) once in the window that `now` falls in; returns
        how many distinct members the window holds. A retry or redelivery of the same member counts nothing more.

        The members are a string set on the window's item, so adding one is idempotent. A window holding
        MAX_WINDOW_MEMBERS stops growing (the item stays far below DynamoDB's 400 KB) and reports that number:
        every limit here is much lower, so it still reads as over the limit."""
        ts = int(now.timestamp())
        window = ts - ts % window_seconds
        marker = MarkerModel(key=f"{key}#{window}")
        member = member[:MAX_MEMBER_CHARS]
        try:
            marker.update(
                actions=[MarkerModel.members.add({member}), MarkerModel.expires_at.set(window + window_seconds + DAY)],
                condition=MarkerModel.members.does_not_exist()
                | (size(MarkerModel.members) < MAX_WINDOW_MEMBERS)
                | MarkerModel.members.contains(member),
            )
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
            return MAX_WINDOW_MEMBERS
        return len(marker.members or ())

    # ------------------------------------------------------------------ held lists (alerts outside business hours)

    def held(self, key: str) -> tuple[list[dict[str, Any]], int]:
        """The entries held under `key` and the list's append count (the condition `take` needs)."""
        try:
            item = MarkerModel.get(key, consistent_read=True)
        except MarkerModel.DoesNotExist:
            return [], 0
        return [dict(e) for e in item.deferred or []], int(item.hits or 0)

    def take(self, key: str, hits: int) -> bool:
        """Empty the list if nothing was appended since it was read with `hits` appends; whether it was taken.
        Taking moves the append count too, so a second reader holding the same read cannot take it again."""
        try:
            MarkerModel(key=key).update(
                actions=[MarkerModel.deferred.remove(), MarkerModel.hits.add(1)],
                condition=MarkerModel.hits == hits,
            )
        except UpdateError:
            return False
        return True

    def hold(self, key: str, entry: dict[str, Any], expires_at: int, max_entries: int) -> bool:
        """Append `entry` to the list; False when it already holds `max_entries`."""
        try:
            MarkerModel(key=key).update(
                actions=[
                    MarkerModel.deferred.set((MarkerModel.deferred | []).append([entry])),
                    MarkerModel.hits.add(1),
                    MarkerModel.expires_at.set(expires_at),
                ],
                condition=MarkerModel.deferred.does_not_exist() | (size(MarkerModel.deferred) < max_entries),
            )
        except UpdateError:
            return False
        return True

