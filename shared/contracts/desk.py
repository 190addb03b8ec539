"""The agent's day over the API: folder counts, the escalation overview and saved views — their queries, bodies
and responses (the ticket list's own query is `api.TicketQuery`; a saved view keeps its filter fields)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, create_model

from shared.contracts.api import ID_PATTERN, MAX_ESCALATION_LEVEL, Query, Resource, TicketQuery
from shared.contracts.config import ClosedDocument

VIEW_FIELDS = ("status", "priority", "channel", "assignee", "tag", "tier", "escalation_level", "customer", "q")
"""What a saved view keeps: the ticket list's filters (never its paging, nor a polling instant)."""

TeamName = Annotated[str, Field(min_length=1, max_length=64, pattern=ID_PATTERN)]

if TYPE_CHECKING:

    class ViewFilters(ClosedDocument): ...

else:
    ViewFilters = create_model(
        "ViewFilters",
        __base__=ClosedDocument,
        __doc__="The ticket-list filters a view applies (the same fields and limits as GET /v1/tickets).",
        **{name: (field.annotation, field) for name, field in TicketQuery.model_fields.items() if name in VIEW_FIELDS},
    )


# --- requests -------------------------------------------------------------------------------------------------


class EscalationQuery(Query):
    level: Annotated[int, Field(ge=1, le=MAX_ESCALATION_LEVEL)] | None = Field(default=None, description="Only this level")
    team: TeamName | None = Field(default=None, description="Only this team (one of the caller's)")


class ViewScope(Query):
    team: TeamName | None = Field(default=None, description="The team's shared view rather than the caller's own")


class ViewDocument(ClosedDocument):
    """A named ticket filter: the caller's own, or (a supervisor's) shared with one of the teams they lead."""

    filters: ViewFilters = Field(default_factory=lambda: ViewFilters())
    team: TeamName | None = Field(default=None, description="Share the view with this team (a supervisor's)")


# --- responses ------------------------------------------------------------------------------------------------


class TeamFolders(Resource):
    team: str
    status: dict[str, int] = Field(description="Tickets per queue status: triage, open, in_progress, pending, resolved, closed")
    channel: dict[str, int] = Field(description="Open work (not resolved or closed) per channel")
    work: dict[str, int] = Field(description="unassigned (waiting), mine (the caller's), escalated, sla_breached")


class FolderList(Resource):
    items: list[TeamFolders]


class EscalatedTicket(Resource):
    id: str
    ref: str
    subject: str
    team: str
    status: str
    priority: str
    level: int
    causes: dict[str, int] = Field(description="What asked for the escalation, and the tier each cause asks for")
    assignee: str | None = Field(description="Who holds it (null: waiting in the queue)")
    created_at: str
    escalated_at: str | None = Field(description="When the level rose from 0 (null if not recorded)")
    age_seconds: int = Field(description="Since the ticket was created")
    escalated_seconds: int | None = Field(description="Since it was escalated")


class EscalationLevel(Resource):
    level: int
    count: int
    items: list[EscalatedTicket]


class EscalationOverview(Resource):
    count: int
    levels: list[EscalationLevel]


class ViewResource(Resource):
    name: str
    scope: Literal["personal", "team"]
    team: str | None
    filters: dict[str, Any]
    updated_at: str | None = None


class ViewList(Resource):
    items: list[ViewResource]
