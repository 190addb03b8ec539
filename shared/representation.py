"""The ticket resource as the public API contract defines it: the fields every client may rely on."""

from __future__ import annotations

from typing import Any

from shared.domain.links import progress
from shared.domain.model import AuditEvent, Customer
from shared.domain.ticket import Message, Ticket
from shared.domain.timefmt import iso


def plain(value: Any) -> Any:
    """Sets as sorted lists, for JSON."""
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return value


def ticket_resource(ticket: Ticket) -> dict[str, Any]:
    customer = ticket.customer
    return {
        "id": ticket.id,
        "ref": ticket.ref,
        "subject": ticket.subject,
        "channel": ticket.channel,
        "status": ticket.status,
        "priority": ticket.priority,
        "priority_reasons": list(ticket.priority_reasons or []),
        "category": ticket.category,
        "team": ticket.team,
        "customer": {
            "id": customer.id,
            "email": customer.email,
            "handle": customer.handle,
            "name": customer.name,
            "tier": customer.tier,
        },
        "assignee": ticket.assignee,
        "assignment_reason": ticket.assignment_reason if ticket.assignee else None,
        "skill": ticket.required_skill,
        "escalation_level": int(ticket.escalation_level or 0),
        "escalation_causes": dict(ticket.escalation_causes or {}),
        "tags": sorted(ticket.tags or []),
        "automated": bool(ticket.automated),
        "automation_reasons": list(ticket.automation_reasons or []),
        "follow_up_of": ticket.follow_up_of,
        "related_to": ticket.related_to,
        "merged_into": ticket.merged_into,
        "merged_from": list(ticket.merged_from or []),
        "links": [progress(link, None) for link in ticket.links],  # with_thread adds the live progress
        "reopen_count": int(ticket.reopen_count or 0),
        "message_count": int(ticket.message_count or 0),
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "changed_at": ticket.changed_at,
        "first_responded_at": ticket.first_responded_at,
        "resolved_at": ticket.resolved_at,
        "csat": dict(ticket.csat) if ticket.csat else None,
        "resolved_by_article": ticket.resolved_by_article,
        "sla": plain(ticket.sla),
        "promise": promise_resource(ticket),
    }


def promise_resource(ticket: Ticket) -> dict[str, Any] | None:
    """What the acknowledgement told the customer (business seconds on the ticket's SLA clock) and whether they
    have been told since that it takes longer."""
    promise = ticket.eta_promise
    if not promise:
        return None
    return {
        "made_at": promise.get("made_at"),
        "first_response_seconds": promise.get("first_response"),
        "resolution_seconds": promise.get("resolution"),
        "slipped_at": promise.get("slipped_at"),
    }


def message_resource(item: Message) -> dict[str, Any]:
    return {
        "id": item.message_id,
        "at": item.at,
        "direction": item.direction,
        "kind": item.kind,
        "channel": item.channel,
        "author": dict(item.author),
        "subject": item.subject,
        "body": item.body,
        "body_full": item.body_full if item.body_full is not None else item.body,
        "body_truncated": bool(item.body_truncated),
        "body_key": item.body_key,
        "raw_key": item.raw_key,
        "attachments": [dict(a) for a in item.attachments],
        "email_message_id": item.email_message_id,
        "automated": bool(item.automated),
        "automation_reasons": list(item.automation_reasons or []),
        "suppressed": bool(item.suppressed),
        "defects": list(item.defects or []),
        "merged_from": item.merged_from,
        "delivery": dict(item.delivery) if item.delivery else None,
    }


def event_resource(event: AuditEvent) -> dict[str, Any]:
    return {"type": event.type, "at": iso(event.at), "actor": event.actor, "data": dict(event.data or {})}


def customer_resource(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.id,
        "email": customer.email,
        "handle": customer.handle,
        "channel": customer.channel,
        "name": customer.name,
        "tier": customer.tier,
        "bouncing": bool(customer.bouncing),
        "created_at": customer.created_at,
        "updated_at": customer.updated_at,
    }
