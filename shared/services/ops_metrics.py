"""What a ticket's audit events say to the operations dashboard: escalations by level, resolution and first-
response times by priority, SLA clocks started by priority. One mapping, called wherever events are written (the
SLA clock, an agent's change, a reply), so a dashboard widget and the audit trail cannot disagree.

Times are wall-clock seconds since the ticket was created (what a customer waited); the SLA's business-time view
is in the ticket's `sla` and, later, the KPI aggregates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from shared.domain.ticket import Ticket
from shared.domain.timefmt import parse_iso
from shared.observability import Metric, count, gauge


def _waited(ticket: Ticket, now: datetime) -> float:
    return max(0.0, (now - parse_iso(ticket.created_at)).total_seconds())


def record_events(ticket: Ticket, events: Iterable[tuple[str, Mapping[str, Any]]], now: datetime) -> None:
    for type_, data in events:
        if type_ == "ticket.escalated":
            count(Metric.ESCALATIONS, level=str(data.get("tier") or int(data.get("to_level", 0)) + 1))
        elif type_ == "ticket.status_changed" and data.get("to") == "resolved":
            gauge(Metric.RESOLUTION_TIME, _waited(ticket, now), MetricUnit.Seconds, priority=str(ticket.priority))
        elif type_ == "sla.applied":
            count(Metric.SLA_APPLIED, priority=str(ticket.priority))


def record_first_response(ticket: Ticket, now: datetime) -> None:
    """Call before the reply stamps first_responded_at: only the first agent answer counts."""
    if not ticket.first_responded_at:
        gauge(Metric.FIRST_RESPONSE_TIME, _waited(ticket, now), MetricUnit.Seconds, priority=str(ticket.priority))


def utilisation(agents: list[dict[str, Any]]) -> float | None:
    """Percent of the online agents' capacity in use (None with nobody online): near 100 for long is the "automate
    or hire" signal (R14); over 100 means a lead lent work beyond capacity."""
    online = [agent for agent in agents if agent["presence"] == "online" and int(agent["capacity"]) > 0]
    capacity = sum(int(agent["capacity"]) for agent in online)
    return 100.0 * sum(int(agent["load"]) for agent in online) / capacity if capacity else None
