"""The agent's day: folder counts, the escalation overview, saved views."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response

from shared.domain.access import Principal
from shared.domain.ports import Escalated
from shared.domain.timefmt import parse_iso, utcnow

from functions.api.gateway import operation
from functions.api.services import overview, saved_views

if TYPE_CHECKING:
    from shared.contracts.desk import EscalationQuery, ViewDocument, ViewScope

routes = Blueprint(__name__)


@operation(routes, "GET", "/v1/folders", tag="desk", response="FolderList")
def list_folders(caller: Principal) -> dict[str, Any]:
    """Folder counts for each team the caller may see (an admin: every team). Per queue status, per channel (open
    work), and the work folders: unassigned (waiting), mine, escalated, sla_breached. Maintained counters: one
    read per team however many tickets it has."""
    return {"items": overview().folders(caller)}


@operation(routes, "GET", "/v1/escalations", tag="desk", query="EscalationQuery", response="EscalationOverview")
def list_escalations(caller: Principal, query: EscalationQuery) -> dict[str, Any]:
    """Every escalated ticket of the caller's teams that is not resolved or closed, by level: its causes, age,
    how long it has been escalated, owner and team. Filter by `level` or `team`; agents see their teams' too."""
    levels = overview().escalations(caller, level=query.level, team=query.team)
    now = utcnow()
    shaped = [{"level": level, "count": len(found), "items": [_escalated(e, now) for e in found]}
              for level, found in levels.items()]  # fmt: skip
    return {"count": sum(level["count"] for level in shaped), "levels": shaped}


def _escalated(entry: Escalated, now: datetime) -> dict[str, Any]:
    ticket = entry.ticket
    return {
        "id": ticket.id, "ref": ticket.ref, "subject": ticket.subject, "team": ticket.team, "status": ticket.status,
        "priority": ticket.priority, "level": ticket.escalation_level, "causes": dict(ticket.escalation_causes or {}),
        "assignee": ticket.assignee, "created_at": ticket.created_at, "escalated_at": entry.escalated_at,
        "age_seconds": _seconds_since(ticket.created_at, now),
        "escalated_seconds": _seconds_since(entry.escalated_at, now) if entry.escalated_at else None,
    }  # fmt: skip


def _seconds_since(at: str, now: datetime) -> int:
    return max(0, int((now - parse_iso(at)).total_seconds()))


@operation(routes, "GET", "/v1/views", tag="desk", response="ViewList")
def list_views(caller: Principal) -> dict[str, Any]:
    """The caller's saved views, then those shared with their teams."""
    return {"items": saved_views().list(caller)}


@operation(routes, "GET", "/v1/views/{name}", tag="desk", query="ViewScope", response="ViewResource", ids=("name",))
def get_view(name: str, caller: Principal, query: ViewScope) -> dict[str, Any]:
    """One saved view: the caller's own, or with `team` that team's shared one."""
    return saved_views().get(name, caller, query.team)


@operation(routes, "PUT", "/v1/views/{name}", tag="desk", body="ViewDocument", response="ViewResource",
           ids=("name",), also=(201,))  # fmt: skip
def put_view(name: str, caller: Principal, body: ViewDocument) -> Response:
    """Save a named ticket filter (201 when new). With `team`, a supervisor shares it with a team they lead.
    `GET /v1/tickets?view=<name>` applies it."""
    view, created = saved_views().put(name, body, caller)
    return Response(body=view, status_code=201 if created else 200)


@operation(routes, "DELETE", "/v1/views/{name}", tag="desk", query="ViewScope", ids=("name",), status=204)
def delete_view(name: str, caller: Principal, query: ViewScope) -> Response:
    """Remove a saved view (a team's: a supervisor's of that team)."""
    saved_views().delete(name, caller, query.team)
    return Response(body="", status_code=204)

