"""The agent API (Chalice). Routes only: parse the request, call the repositories, shape the reply.

Errors are domain exceptions mapped once, here, to `{"error": {"code", "message"}}` with a fitting status.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from chalice import Chalice, Response
from chalice.deploy.swagger import CFNSwaggerGenerator

from shared.adapters.secrets import signing_key
from shared.auth import Forbidden, Principal, Unauthorized, authenticate, require_role
from shared.domain.errors import Conflict, DomainError, InvalidTransition, NotFound, ValidationFailed
from shared.domain.model import Channel, Priority, Role, Status, Tier
from shared.observability import logger
from shared.representation import event_resource, message_resource, ticket_resource
from shared.settings import get_settings
from shared.storage.quarantine import list_quarantine
from shared.storage.tickets import TicketFilters, TicketRepository

app = Chalice(app_name="ticketing-api")
app.api.cors = False

_STATUS = {
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    ValidationFailed: 400,
    InvalidTransition: 409,
    Conflict: 409,
}


def error_response(status: int, code: str, message: str) -> Response:
    return Response(body={"error": {"code": code, "message": message}}, status_code=status)


def _principal() -> Principal:
    headers = app.current_request.headers or {}
    return authenticate(signing_key(get_settings()), headers.get("authorization"))


def route(path: str, role: Role | None = Role.AGENT, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
    """app.route plus bearer-token auth (role=None: public) and the one place errors become HTTP."""

    def decorate(view: Callable[..., Any]) -> Any:
        @functools.wraps(view)
        def wrapper(*args: Any, **kw: Any) -> Any:
            try:
                if role is not None:
                    require_role(_principal(), role)
                return view(*args, **kw)
            except DomainError as error:
                status = next((s for cls, s in _STATUS.items() if isinstance(error, cls)), 400)
                return error_response(status, error.code, error.message)
            except Exception:  # noqa: BLE001 - never leak a stack trace to a client
                logger.exception("unhandled API error")
                return error_response(500, "internal_error", "something went wrong; it has been logged")

        return app.route(path, **kwargs)(wrapper)

    return decorate


def _query() -> dict[str, str]:
    return dict(app.current_request.query_params or {})


def _choice(params: dict[str, str], name: str, allowed: type) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    values = [member.value for member in allowed]  # type: ignore[attr-defined]
    if value not in values:
        raise ValidationFailed(f"{name} must be one of {', '.join(values)}; got {value!r}")
    return value


def _int(params: dict[str, str], name: str, default: int | None, low: int, high: int) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError as exc:
        raise ValidationFailed(f"{name} must be an integer; got {value!r}") from exc
    if not low <= number <= high:
        raise ValidationFailed(f"{name} must be between {low} and {high}; got {number}")
    return number


@app.route("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.route("/openapi.json")
def openapi() -> dict[str, Any]:
    """The Swagger 2.0 document Chalice generates for every route, with the bearer scheme declared."""
    document = CFNSwaggerGenerator().generate_swagger(app)
    for methods in document.get("paths", {}).values():
        for operation in methods.values():
            if isinstance(operation, dict):
                operation.pop("x-amazon-apigateway-integration", None)
    document.setdefault("securityDefinitions", {})["bearer"] = {
        "type": "apiKey",
        "name": "Authorization",
        "in": "header",
        "description": "Authorization: Bearer <token> (from `ticketing token --role agent`)",
    }
    return dict(document)


@route("/v1/tickets", methods=["GET"])
def list_tickets() -> dict[str, Any]:
    """Tickets newest first. Filters: status, priority, channel, assignee, tag, tier, escalation_level, q."""
    params = _query()
    filters = TicketFilters(
        status=_choice(params, "status", Status),
        priority=_choice(params, "priority", Priority),
        channel=_choice(params, "channel", Channel),
        assignee=params.get("assignee") or None,
        tag=params.get("tag") or None,
        tier=_choice(params, "tier", Tier),
        escalation_level=_int(params, "escalation_level", None, 0, 10),
        customer_id=params.get("customer") or None,
        q=params.get("q") or None,
    )
    limit = _int(params, "limit", 25, 1, 100) or 25
    page = TicketRepository().list(filters, limit=limit, cursor=params.get("cursor") or None)
    return {"items": [ticket_resource(t) for t in page.items], "next_cursor": page.next_cursor}


@route("/v1/tickets/{ticket_id}", methods=["GET"])
def get_ticket(ticket_id: str) -> dict[str, Any]:
    """One ticket with its thread (messages, oldest first) and its audit events."""
    repo = TicketRepository()
    ticket = repo.get(ticket_id)
    if ticket is None:
        ticket = repo.by_ref(ticket_id.upper())
    if ticket is None:
        raise NotFound(f"no ticket {ticket_id}")
    messages, events = repo.thread(ticket.id)
    resource = ticket_resource(ticket)
    resource["messages"] = [message_resource(m) for m in messages]
    resource["events"] = [event_resource(e) for e in events]
    return resource


@route("/v1/quarantine", methods=["GET"], role=Role.SUPERVISOR)
def get_quarantine() -> dict[str, Any]:
    """Inbound items that did not become tickets, newest first, with reason and raw object key."""
    params = _query()
    items, cursor = list_quarantine(limit=_int(params, "limit", 50, 1, 200) or 50, cursor=params.get("cursor") or None)
    return {"items": items, "next_cursor": cursor}
