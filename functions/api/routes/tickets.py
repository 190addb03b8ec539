"""Tickets: list and read them, open one from another channel, reply or note, change it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response

from shared.domain.access import Principal
from shared.domain.ticket import Ticket
from shared.representation import event_resource, message_resource, ticket_resource

from functions.api.gateway import operation
from functions.api.http import conditional
from functions.api.services import desk, saved_views, work

if TYPE_CHECKING:
    from shared.contracts.api import Reply, TicketIntake, TicketPatch, TicketQuery

routes = Blueprint(__name__)
TAG = "tickets"
IDEMPOTENCY_NOTE = "Retries with the same key (per caller) return the first ticket with 200, never a second one"


def with_thread(ticket: Ticket) -> dict[str, Any]:
    messages, events = desk().thread(ticket)
    resource = ticket_resource(ticket)
    if ticket.links:
        resource["links"] = work().links(ticket)  # with how each linked ticket stands now
    resource["messages"] = [message_resource(m) for m in messages]
    resource["events"] = [event_resource(e) for e in events]
    return resource


IF_NONE_MATCH = ("If-None-Match", "The ETag of the copy the client holds: 304 with no body when nothing changed")


@operation(routes, "GET", "/v1/tickets", tag=TAG, query="TicketQuery", response="TicketPage", also=(304,),
           headers=(IF_NONE_MATCH,))  # fmt: skip
def list_tickets(caller: Principal, query: TicketQuery) -> Response:
    """List tickets, newest first. Narrowed by status, priority, channel, assignee, tag, tier, escalation level,
    customer or words in the subject, or by a saved `view`; `next_cursor` pages on. With `updated_since`: the
    tickets changed at or after it, oldest change first (polling: docs/desk.md). Carries an ETag."""
    page = desk().search(saved_views().narrow(query, caller), caller)
    body = {"items": [ticket_resource(t) for t in page.items], "next_cursor": page.next_cursor}
    return conditional(routes.current_request, body)


@operation(routes, "GET", "/v1/tickets/{ticket_id}", tag=TAG, response="TicketWithThread", also=(304,),
           headers=(IF_NONE_MATCH,))  # fmt: skip
def get_ticket(ticket_id: str, caller: Principal) -> Response:
    """One ticket with its thread (messages, oldest first) and its audit events; the ref works as id too.
    Carries an ETag; `If-None-Match` with it answers 304 while nothing changed."""
    return conditional(routes.current_request, with_thread(desk().find(ticket_id, caller)))


@operation(routes, "POST", "/v1/tickets", tag=TAG, body="TicketIntake", response="TicketWithThread", status=201,
           also=(200,), headers=(("Idempotency-Key", IDEMPOTENCY_NOTE),))  # fmt: skip
def create_ticket(caller: Principal, body: TicketIntake) -> Response:
    """Open a ticket from another channel (web form, chat, phone note, social) through the same intake as email.
    Send an `Idempotency-Key` header to make retries safe: the same key never creates a second ticket (200)."""
    request = routes.current_request
    key = request.headers.get("idempotency-key") if request is not None else None
    ticket, created = desk().open(body, key, caller)
    return Response(body=with_thread(ticket), status_code=201 if created else 200)


@operation(routes, "POST", "/v1/tickets/{ticket_id}/replies", tag=TAG, body="Reply", response="TicketWithThread",
           status=201, errors=(409,))  # fmt: skip
def post_reply(ticket_id: str, caller: Principal, body: Reply) -> dict[str, Any]:
    """Reply to the customer or add an internal note. A public reply goes out on the ticket's channel (email: threaded, signed Reply-To); `internal: true` is a
    note only agents see. A closed ticket takes notes only (409 for a reply)."""
    return with_thread(desk().reply(ticket_id, body, caller))


@operation(routes, "PATCH", "/v1/tickets/{ticket_id}", tag=TAG, body="TicketPatch", response="TicketWithThread",
           errors=(409,))  # fmt: skip
def patch_ticket(ticket_id: str, caller: Principal, body: TicketPatch) -> dict[str, Any]:
    """Change a ticket. Status (through the state machine), assignee (null to put it back in the queue), priority, tags, and
    escalation_level (a supervisor's; it overrules the recorded causes). Tagging an escalation keyword
    ("system down", "sistem macet" ...) escalates to tier 2; removing the tag ends that cause."""
    return with_thread(desk().change(ticket_id, body, caller))
