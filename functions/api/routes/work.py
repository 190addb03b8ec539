"""Moves on whole tickets: to another team, merged into another, linked to a related one; macros."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response

from shared.domain.access import Principal
from shared.domain.model import Role
from shared.representation import ticket_resource

from functions.api.gateway import operation
from functions.api.routes.tickets import with_thread
from functions.api.services import work

if TYPE_CHECKING:
    from shared.contracts.work import DraftPreview, LinkRequest, MacroRun, MergeRequest, MoveRequest

routes = Blueprint(__name__)
TAG = "tickets"


@operation(routes, "POST", "/v1/tickets/{ticket_id}/move", tag=TAG, role=Role.SUPERVISOR, body="MoveRequest",
           response="TicketWithThread", errors=(409,))  # fmt: skip
def move_ticket(ticket_id: str, caller: Principal, body: MoveRequest) -> dict[str, Any]:
    """Move the ticket to another team (a lead's): it joins that team's queue, or goes to `assignee`, one of its
    agents. Whoever held it lets go; priority, escalation and the SLA clock stay as they were."""
    return with_thread(work().move(ticket_id, body, caller))


@operation(routes, "POST", "/v1/tickets/{ticket_id}/merge", tag=TAG, role=Role.SUPERVISOR, body="MergeRequest",
           response="TicketWithThread", errors=(409,))  # fmt: skip
def merge_ticket(ticket_id: str, caller: Principal, body: MergeRequest) -> dict[str, Any]:
    """Merge this ticket into `into` (a lead's; both must be tickets of their teams): this one closes, its messages
    are copied to the target, later messages to it land there, and its customer is told once. Answers with the
    target. Repeating the call finishes a merge that was cut short and changes nothing else."""
    return with_thread(work().merge(ticket_id, body, caller))


@operation(routes, "POST", "/v1/tickets/{ticket_id}/links", tag=TAG, body="LinkRequest", response="TicketWithThread",
           status=201)  # fmt: skip
def link_ticket(ticket_id: str, caller: Principal, body: LinkRequest) -> dict[str, Any]:
    """Link a related ticket of any team (by id or ref). Both tickets keep the link, and each shows how the other
    stands (status, owner, escalation) to its own team: cross-team coordination without sharing the work."""
    return with_thread(work().link(ticket_id, body, caller))


@operation(routes, "DELETE", "/v1/tickets/{ticket_id}/links/{other}", tag=TAG, response="TicketWithThread",
           ids=("other",))  # fmt: skip
def unlink_ticket(ticket_id: str, other: str, caller: Principal) -> dict[str, Any]:
    """Remove the link to `other` (id or ref) from both tickets."""
    return with_thread(work().unlink(ticket_id, other, caller))


@operation(routes, "GET", "/v1/macros", tag="macros", response="MacroList")
def list_macros(caller: Principal) -> dict[str, Any]:
    """The team's macros: canned replies with the changes that go with them."""
    return {"items": work().macros()}


@operation(routes, "PUT", "/v1/macros/{macro_id}", tag="macros", role=Role.SUPERVISOR, body="MacroDocument",
           response="MacroResource", ids=("macro_id",), document=True)  # fmt: skip
def put_macro(macro_id: str, caller: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """Save a macro: a reply (a stored `template`, or its own `reply` wording with the templates' placeholders;
    `internal` for a note) and the status, priority and tags it sets."""
    return work().save_macro(macro_id, body, caller.subject)


@operation(routes, "DELETE", "/v1/macros/{macro_id}", tag="macros", role=Role.SUPERVISOR, status=204,
           ids=("macro_id",))  # fmt: skip
def delete_macro(macro_id: str, caller: Principal) -> Response:
    """Remove a macro."""
    work().delete_macro(macro_id)
    return Response(body="", status_code=204)


@operation(routes, "POST", "/v1/tickets/{ticket_id}/macros/{macro_id}", tag="macros", body="MacroRun",
           response="MacroOutcome", ids=("macro_id",), errors=(409,))  # fmt: skip
def run_macro(ticket_id: str, macro_id: str, caller: Principal, body: MacroRun) -> dict[str, Any]:
    """Apply a macro to the ticket, or with `preview: true` only show the reply as this customer would get it and
    the changes it would make. Nothing is sent when a change is impossible (409)."""
    result = work().run_macro(ticket_id, macro_id, body, caller)
    return {"macro": result.macro, "preview": result.preview, "reply": result.reply, "changes": result.changes,
            "events": result.events, "ticket": ticket_resource(result.ticket)}  # fmt: skip


@operation(routes, "POST", "/v1/tickets/{ticket_id}/preview", tag=TAG, body="DraftPreview", response="RenderedDraft")
def preview_draft(ticket_id: str, caller: Principal, body: DraftPreview) -> dict[str, Any]:
    """A stored template or the agent's draft as this ticket's customer would read it: placeholders
    (`customer_name`, `ref`, `agent_name` ...) filled in, in the ticket's language and channel. Sends nothing;
    the console's reply box shows it before the agent sends."""
    rendered = work().preview(ticket_id, body.template, body.text, caller)
    return {"subject": rendered.subject, "text": rendered.text, "template": body.template}
