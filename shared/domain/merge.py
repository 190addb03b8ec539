"""Merging two tickets about the same request: the source closes into the target, its thread is copied over, and
whatever the customer writes to it later lands on the target (the intake follows `merged_into`).

Decided here without storage; saved by shared/services/ticket_work.py in an order that is safe to retry: the
source is closed (the commit point, conditional on its version), then the copies and the target's share are
written under ids derived from the merge, so a retried merge writes the same items again, never second ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from shared.domain.errors import InvalidTransition, ValidationFailed
from shared.domain.ids import derived_ulid
from shared.domain.model import AuditEvent, Priority, Status
from shared.domain.ticket import Message, Ticket
from shared.domain.timefmt import parse_iso

MAX_FOLLOWED_MERGES = 5  # a chain of merges (A into B, B into C) is followed this far
MERGEABLE_TARGET = (Status.OPEN.value, Status.IN_PROGRESS.value, Status.PENDING.value)


def check_merge(source: Ticket, target: Ticket) -> bool:
    """True when the merge is still to do, False when `source` is already merged into `target` (a retry finishes
    it); refused when it cannot be done at all."""
    if source.id == target.id:
        raise ValidationFailed("into: a ticket cannot be merged into itself")
    if source.merged_into == target.id:
        return False
    if source.merged_into:
        raise InvalidTransition(f"{source.ref} was already merged into another ticket ({source.merged_into})")
    if target.merged_into:
        raise InvalidTransition(f"{target.ref} was merged into {target.merged_into}: merge into that ticket instead")
    if source.status == Status.CLOSED.value:
        raise InvalidTransition(f"{source.ref} is closed: a closed ticket stays as it was")
    if target.status not in MERGEABLE_TARGET:
        raise InvalidTransition(
            f"{target.ref} is {target.status}: reopen it first, or merge it into {source.ref} instead"
        )
    return True


@dataclass
class MergePlan:
    """What a merge writes: the source's new values and event, the copies of its messages, the target's share."""

    source_values: dict[str, Any]
    source_event: AuditEvent
    copies: list[Message] = field(default_factory=list)
    target_event: AuditEvent | None = None


def plan_merge(source: Ticket, target: Ticket, messages: list[Message], actor: str, at: str, reason: str | None) -> MergePlan:
    now = parse_iso(at)
    data = {"source": source.id, "source_ref": source.ref, "target": target.id, "target_ref": target.ref,
            "reason": reason, "messages": len(messages)}  # fmt: skip
    data = {k: v for k, v in data.items() if v is not None}
    return MergePlan(
        source_values={"status": Status.CLOSED.value, "closed_at": at, "merged_into": target.id,
                       "updated_at": max(source.updated_at, at)},  # fmt: skip
        source_event=AuditEvent("ticket.merged_into", now, actor, data, id=derived_ulid(now, f"merge#{source.id}#out")),
        copies=[copied(message, source, target) for message in messages],
        target_event=AuditEvent("ticket.merged_from", now, actor, data, id=derived_ulid(now, f"merge#{source.id}#in")),
    )


def copied(message: Message, source: Ticket, target: Ticket) -> Message:
    """The source's message on the target's thread, at its own time, marked where it came from. Its email
    Message-ID stays with the original only (one ticket answers to it; the source forwards by `merged_into`)."""
    at = parse_iso(message.at)
    return replace(
        message,
        ticket_id=target.id,
        message_id=derived_ulid(at, f"merge#{source.id}#{message.message_id}"),
        email_message_id=None,
        merged_from=source.id,
    )


def absorb(target: Ticket, source: Ticket, inbound: int, at: str) -> bool:
    """The target takes on the source's share: its unanswered messages, tags, the more urgent priority. False when
    it already has (a retried merge). `inbound`: how many customer messages came with the copies."""
    if source.id in target.merged_from:
        return False
    target.merged_from = [*target.merged_from, source.id]
    target.message_count = int(target.message_count or 0) + inbound
    target.customer_waiting_count = int(target.customer_waiting_count or 0) + int(source.customer_waiting_count or 0)
    target.tags = set(target.tags or ()) | set(source.tags or ())
    if Priority(source.priority).rank < Priority(target.priority).rank:
        target.priority_reasons = [*target.priority_reasons, f"{source.priority}, as {source.ref} merged into it was"]
        target.priority = source.priority
    if source.last_customer_message_at and (target.last_customer_message_at or "") < source.last_customer_message_at:
        target.last_customer_message_at = source.last_customer_message_at
    target.touch(at)
    return True
