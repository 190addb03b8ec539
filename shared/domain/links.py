"""Links between related tickets, usually of different teams (R22, R24): support's ticket about a failed payment
and billing's ticket about the refund. Each side keeps the link, and each team sees the other ticket's progress
(status, owner, escalation) on its own ticket, without being able to work on the other team's.
"""

from __future__ import annotations

from typing import Any

from shared.domain.errors import ValidationFailed
from shared.domain.ticket import Ticket

MAX_LINKS = 20
MAX_NOTE_CHARS = 500


def linked(ticket: Ticket, other_id: str) -> bool:
    return any(link.get("ticket_id") == other_id for link in ticket.links)


def add_link(ticket: Ticket, other: Ticket, note: str | None, actor: str, at: str) -> bool:
    """`ticket` links to `other`; False when it already does."""
    if ticket.id == other.id:
        raise ValidationFailed("ticket: a ticket cannot be linked to itself")
    if linked(ticket, other.id):
        return False
    if len(ticket.links) >= MAX_LINKS:
        raise ValidationFailed(f"{ticket.ref} already has {MAX_LINKS} links; remove one first")
    entry: dict[str, Any] = {"ticket_id": other.id, "ref": other.ref, "team": other.team, "by": actor, "at": at}
    if note:
        entry["note"] = note[:MAX_NOTE_CHARS]
    ticket.links = [*ticket.links, entry]
    ticket.touch(at)
    return True


def remove_link(ticket: Ticket, other_id: str, at: str) -> bool:
    if not linked(ticket, other_id):
        return False
    ticket.links = [link for link in ticket.links if link.get("ticket_id") != other_id]
    ticket.touch(at)
    return True


def progress(link: dict[str, Any], other: Ticket | None) -> dict[str, Any]:
    """A link as a reader sees it: what was linked, and how the other ticket stands now."""
    view = {key: link.get(key) for key in ("ticket_id", "ref", "team", "note", "by", "at")}
    if other is None:
        return {**view, "status": None}
    return {
        **view,
        "ref": other.ref,
        "team": other.team,
        "subject": other.subject,
        "status": other.status,
        "priority": other.priority,
        "assignee": other.assignee,
        "escalation_level": int(other.escalation_level or 0),
        "updated_at": other.updated_at,
        "resolved_at": other.resolved_at,
    }
