"""The agent API (Chalice). Routes only: parse the request, call the repositories, shape the reply.

Errors are domain exceptions mapped once, here, to `{"error": {"code", "message"}}` with a fitting status.
"""

from __future__ import annotations

import functools
import threading
from typing import Any, Callable

from chalice.app import Request, Response

from shared.adapters.secrets import signing_key
from shared.auth import Forbidden, Principal, Unauthorized, authenticate, require_role
from shared.domain.errors import Conflict, DomainError, InFlight, InvalidTransition, NotFound, ValidationFailed
from shared.domain.model import Channel, Contact, Priority, Role, Status, Tier
from shared.observability import bind_invocation, logger
from shared.representation import customer_resource, event_resource, message_resource, ticket_resource
from shared.settings import get_settings
from shared.domain.teams import ALWAYS_OPEN_CALENDAR as ALWAYS_OPEN_ID, changed_team, team_settings
from shared.storage.agents import AgentRepository
from shared.storage.config import ConfigRepository
from shared.storage.customers import CustomerRepository, customer_id_for
from shared.domain.ticket import Ticket
from shared.storage.errors import StorageError, storage_refusal
from shared.storage.tickets import TicketFilters, TicketRepository
from shared.domain.timefmt import iso, utcnow

from functions.api.http import Api, PayloadTooLarge, UnsupportedMediaType, error_response, json_object
from functions.api.services import agent_profile, checked_id, label_list, name_field, services, text_field

app = Api(app_name="ticketing-api")
_context = threading.local()  # the caller of the request this thread serves (the local server is threaded)
app.api.cors = False

_STATUS = {
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    ValidationFailed: 400,
    InvalidTransition: 409,
    Conflict: 409,
    InFlight: 409,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
}


def _request() -> Request:
    request = app.current_request
    assert request is not None, "only called inside a route"
    return request


def _principal() -> Principal:
    settings = get_settings()
    return authenticate(signing_key(settings), _request().headers.get("authorization"), settings.max_token_ttl_seconds)


def route(path: str, role: Role | None = Role.AGENT, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
    """app.route plus bearer-token auth (role=None: public) and the one place errors become HTTP."""

    def decorate(view: Callable[..., Any]) -> Any:
        @functools.wraps(view)
        def wrapper(*args: Any, **kw: Any) -> Any:
            bind_invocation(app.lambda_context)
            try:
                if role is not None:
                    principal = _principal()
                    require_role(principal, role)
                    _context.principal = principal
                return view(*args, **kw)
            except DomainError as error:
                status = next((s for cls, s in _STATUS.items() if isinstance(error, cls)), 400)
                return error_response(status, error.code, error.message)
            except StorageError as error:
                refusal = storage_refusal(error)
                if refusal is None:
                    logger.exception("unhandled API error")
                    return error_response(500, "internal_error", "something went wrong; it has been logged")
                logger.warning("storage refused a request", extra={"reason": refusal})
                return error_response(400, "validation_failed", f"the request cannot be stored: {refusal}")
            except Exception:  # noqa: BLE001 - never leak a stack trace to a client
                logger.exception("unhandled API error")
                return error_response(500, "internal_error", "something went wrong; it has been logged")
            finally:
                logger.thread_safe_clear_keys()

        return app.route(path, **kwargs)(wrapper)

    return decorate


def _config_id(value: str, what: str) -> str:
    """Ids in paths (teams, calendars, auto-replies, policies, agents): short, plain, safe as DynamoDB keys."""
    return checked_id(value, what)


def _query() -> dict[str, str]:
    return dict(_request().query_params or {})


def _caller() -> Principal:
    principal: Principal = _context.principal
    return principal


def _body() -> dict[str, Any]:
    return json_object(_request())


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
    from chalice.deploy.swagger import CFNSwaggerGenerator  # 25 ms of import, for this route only

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


def _find_ticket(repo: TicketRepository, ticket_id: str) -> Ticket:
    if len(ticket_id) > 64:
        raise NotFound("no such ticket: ticket ids and refs are short")
    ticket = repo.get(ticket_id) or repo.by_ref(ticket_id.upper())
    if ticket is None:
        raise NotFound(f"no ticket {ticket_id}")
    return ticket


def _ticket_with_thread(repo: TicketRepository, ticket: Ticket) -> dict[str, Any]:
    messages, events = repo.thread(ticket.id)
    resource = ticket_resource(ticket)
    resource["messages"] = [message_resource(m) for m in messages]
    resource["events"] = [event_resource(e) for e in events]
    return resource


@route("/v1/tickets/{ticket_id}", methods=["GET"])
def get_ticket(ticket_id: str) -> dict[str, Any]:
    """One ticket with its thread (messages, oldest first) and its audit events; the ref works as id too."""
    repo = TicketRepository()
    return _ticket_with_thread(repo, _find_ticket(repo, ticket_id))


@route("/v1/tickets", methods=["POST"])
def create_ticket() -> Response:
    """A ticket from another channel (web form, chat, phone note, social) through the same intake as email.

    Send an `Idempotency-Key` header to make retries safe: the same key never creates a second ticket."""
    body = _body()
    result = services().intake_api(body, _request().headers.get("idempotency-key"), _caller())
    repo = TicketRepository()
    ticket = repo.get(result.ticket_id or "")
    if ticket is None:
        raise ValidationFailed(f"the message was not turned into a ticket: {result.reason or result.outcome}")
    status = 201 if result.outcome in ("created", "follow_up") else 200
    return Response(body=_ticket_with_thread(repo, ticket), status_code=status)


@route("/v1/tickets/{ticket_id}/replies", methods=["POST"])
def post_reply(ticket_id: str) -> Response:
    """`{"body": "...", "internal": false}`: a public reply goes out on the ticket's channel (email: threaded,
    signed Reply-To); `internal: true` is a note only agents see."""
    body = _body()
    unknown = set(body) - {"body", "internal"}
    if unknown:
        raise ValidationFailed(f"unknown fields {sorted(unknown)}; use body, internal")
    text = text_field(body, "body") or ""
    internal = body.get("internal", False)
    if not isinstance(internal, bool):
        raise ValidationFailed("internal must be true or false")
    repo = TicketRepository()
    ticket = _find_ticket(repo, ticket_id)
    if ticket.status == Status.CLOSED.value and not internal:
        raise InvalidTransition("the ticket is closed: a customer who writes again gets a follow-up ticket")
    services().reply(ticket, _caller(), text, internal)
    fresh = repo.get(ticket.id) or ticket
    return Response(body=_ticket_with_thread(repo, fresh), status_code=201)


@route("/v1/tickets/{ticket_id}", methods=["PATCH"])
def patch_ticket(ticket_id: str) -> dict[str, Any]:
    """Status (through the state machine), assignee (null to put it back in the queue), priority, tags, and
    escalation_level (needs a supervisor; it overrules the recorded causes). Tagging an escalation keyword
    ("system down", "sistem macet" ...) escalates to tier 2; removing the tag ends that cause."""
    from shared.services.ticket_changes import TicketChange

    body = _body()
    unknown = set(body) - {"status", "assignee", "priority", "tags", "escalation_level", "reason"}
    if unknown:
        raise ValidationFailed(
            f"unknown fields {sorted(unknown)}; use status, assignee, priority, tags, escalation_level, reason"
        )
    level = body.get("escalation_level")
    if level is not None and (not isinstance(level, int) or isinstance(level, bool)):
        raise ValidationFailed("escalation_level is 0 (tier 1), 1 (tier 2) or 2 (tier 3)")
    status = body.get("status")
    if status is not None:
        _choice({"status": status}, "status", Status)
    priority = body.get("priority")
    if priority is not None:
        _choice({"priority": priority}, "priority", Priority)
    tags = label_list(body, "tags") if body.get("tags") is not None else None
    if "assignee" in body and body["assignee"] is not None:
        if not isinstance(body["assignee"], str):
            raise ValidationFailed("assignee must be an agent id or null")
        checked_id(body["assignee"], "agent")
    reason = text_field(body, "reason", required=False, limit=1000)
    caller = _caller()
    repo = TicketRepository()
    ticket = _find_ticket(repo, ticket_id)
    if "assignee" in body and body["assignee"] not in (None, caller.agent_id):
        require_role(caller, Role.SUPERVISOR)
    if level is not None:
        require_role(caller, Role.SUPERVISOR)  # agents take tickets themselves; moving others' work is a lead's call
    change = TicketChange(
        status=status,
        assignee=body.get("assignee") if "assignee" in body else None,
        unassign="assignee" in body and body["assignee"] is None,
        priority=priority,
        tags=tuple(tags) if tags is not None else None,
        escalation_level=level,
        reason=reason,
    )
    outcome = services().changes().apply(ticket.id, change, f"agent:{caller.subject}")
    return _ticket_with_thread(repo, outcome.ticket)


@route("/v1/agents", methods=["GET"])
def list_agents() -> dict[str, Any]:
    """Agents with presence, capacity and their current (read-only) load. Filter: team."""
    team = _query().get("team") or None
    return {"items": [view.resource() for view in AgentRepository().roster(team)]}


@route("/v1/agents/{agent_id}", methods=["GET"])
def get_agent(agent_id: str) -> dict[str, Any]:
    view = AgentRepository().get(agent_id)
    if view is None:
        raise NotFound(f"no agent {agent_id}")
    return view.resource()


@route("/v1/agents/{agent_id}", methods=["PUT"])
def put_agent(agent_id: str) -> Response:
    """Create or update an agent. Agents may set their own presence; everything else needs a supervisor.
    Coming online or gaining capacity drains the team's waiting queue onto them."""
    caller = _caller()
    body = _body()
    if not (caller.agent_id == agent_id and set(body) <= {"presence"}):
        require_role(caller, Role.SUPERVISOR)
    repo = AgentRepository()
    existing = repo.get(agent_id)
    before = existing.resource() if existing else None
    profile = agent_profile(agent_id, body, existing.profile if existing else None)
    after = repo.save(profile, utcnow()).resource()
    freed = after["presence"] == "online" and (
        before is None
        or before["presence"] != "online"
        or after["capacity"] > before["capacity"]
        or after["team"] != before["team"]
        or after["skills"] != before["skills"]
    )
    if freed:
        services().announcer().announce({"event": "agent.available", "team": profile.team, "agent_id": agent_id})
    return Response(body=after, status_code=200 if existing else 201)


def _customer_key(key: str) -> Contact | None:
    """`cus_...` ids as they are; an email address stands for the customer it identifies."""
    return Contact(Channel.EMAIL, key) if "@" in key else None


@route("/v1/customers/{customer_id}", methods=["GET"])
def get_customer(customer_id: str) -> dict[str, Any]:
    """A customer by id or by email address."""
    contact = _customer_key(customer_id)
    customer = CustomerRepository().get(customer_id_for(contact) if contact else customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    return customer_resource(customer)


@route("/v1/customers/{customer_id}", methods=["PATCH"], role=Role.SUPERVISOR)
def patch_customer(customer_id: str) -> dict[str, Any]:
    """Set a customer's tier (standard, premium, vip) or name; by email, a customer not seen yet is created, so
    key accounts can be registered before they first write."""
    body = _body()
    unknown = set(body) - {"tier", "name"}
    if unknown:
        raise ValidationFailed(f"unknown fields {sorted(unknown)}; use tier, name")
    tier = _choice(body, "tier", Tier) if "tier" in body else None
    name = name_field(body, "name") if "name" in body else None
    repo = CustomerRepository()
    contact = _customer_key(customer_id)
    customer = repo.get_or_create(contact, utcnow()) if contact else repo.get(customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    return customer_resource(repo.update(customer.id, utcnow(), tier=tier or None, name=name))


@route("/v1/teams/{team}", methods=["GET"])
def get_team(team: str) -> dict[str, Any]:
    """Every setting the product reads for the team, defaults filled in."""
    return {"id": _config_id(team, "team"), **team_settings(ConfigRepository(), team).document()}


def _change_team(team: str) -> dict[str, Any]:
    config = ConfigRepository()
    current = team_settings(config, _config_id(team, "team"))
    settings = changed_team(current, _body())
    if settings.calendar != ALWAYS_OPEN_ID and config.get("calendar", settings.calendar) is None:
        raise ValidationFailed(f"calendar: no calendar {settings.calendar!r}; save it first with PUT /v1/calendars/...")
    config.put("team", team, settings.document(), _caller().subject, utcnow())
    services().announcer().announce({"event": "capacity.freed", "team": team})  # a shorter skill wait may free work
    return {"id": team, **settings.document()}


@route("/v1/teams/{team}", methods=["PUT"], role=Role.SUPERVISOR)
def put_team(team: str) -> dict[str, Any]:
    """Change the team's settings; fields left out keep their value (PATCH does the same):
    `strategy` (`urgency`: priority then age; `fifo`: age with VIP first), `language`, the business `calendar`
    non-urgent alerts keep to, who is alerted (`supervisors`, `managers`: email addresses), when a ticket counts as
    idle (`idle_minutes`, `vip_idle_minutes`) and how long a ticket waits for an agent with its skill before the
    best agent without it takes it (`skill_wait_seconds`, default 0)."""
    return _change_team(team)


@route("/v1/teams/{team}", methods=["PATCH"], role=Role.SUPERVISOR)
def patch_team(team: str) -> dict[str, Any]:
    """The same as PUT: only the fields given change."""
    return _change_team(team)


@route("/v1/priority-rules", methods=["GET"])
def get_priority_rules() -> dict[str, Any]:
    """The rules that set every new ticket's priority (the shipped defaults until an admin saves others)."""
    from shared.domain.priority import rules_to_document
    from shared.services.routing import priority_rules

    return rules_to_document(priority_rules(ConfigRepository()))


@route("/v1/priority-rules", methods=["PUT"], role=Role.ADMIN)
def put_priority_rules() -> dict[str, Any]:
    from shared.domain.priority import rules_from_document, rules_to_document

    rules = rules_from_document(_body())
    document = rules_to_document(rules)
    ConfigRepository().put("priority-rules", "default", document, _caller().subject, utcnow())
    return document


@route("/v1/sla-policies", methods=["GET"])
def list_sla_policies() -> dict[str, Any]:
    """Ordered policies, first match wins; the shipped per-priority defaults come last as the catch-all."""
    from shared.services.sla import policies as sla_policies
    from shared.domain.sla_clock import policy_to_document

    return {"items": [policy_to_document(p) for p in sla_policies(ConfigRepository())]}


@route("/v1/sla-policies/{policy_id}", methods=["PUT"], role=Role.ADMIN)
def put_sla_policy(policy_id: str) -> dict[str, Any]:
    from shared.domain.sla_clock import policy_from_document, policy_to_document

    policy = policy_from_document(_config_id(policy_id, "policy"), _body())
    config = ConfigRepository()
    if policy.calendar != ALWAYS_OPEN_ID and config.get("calendar", policy.calendar) is None:
        raise ValidationFailed(f"calendar: no calendar {policy.calendar!r}; save it first with PUT /v1/calendars/...")
    document = policy_to_document(policy)
    config.put("sla-policy", policy_id, document, _caller().subject, utcnow())
    return document


@route("/v1/calendars", methods=["GET"])
def list_calendars() -> dict[str, Any]:
    items = [{"id": name, **doc} for name, doc in sorted(ConfigRepository().list("calendar").items())]
    return {"items": items, "built_in": [ALWAYS_OPEN_ID]}


@route("/v1/calendars/{calendar_id}", methods=["PUT"], role=Role.ADMIN)
def put_calendar(calendar_id: str) -> dict[str, Any]:
    """Business hours in a time zone with holidays: `{"timezone", "hours": {"mon": [["08:00", "12:00"], ...]},
    "holidays": {"country": "ID", "subdivision": null, "extra": ["2026-12-24"]}}`."""
    from shared.domain.business_calendar import calendar_from_document, validate_calendar_document

    _config_id(calendar_id, "calendar")
    if calendar_id == ALWAYS_OPEN_ID:
        raise ValidationFailed("24x7 is built in and cannot be changed")
    document = validate_calendar_document(_body())
    calendar_from_document(calendar_id, document)
    ConfigRepository().put("calendar", calendar_id, document, _caller().subject, utcnow())
    return {"id": calendar_id, **document}


@route("/v1/templates", methods=["GET"])
def list_templates() -> dict[str, Any]:
    """Saved templates and the shipped defaults they override, each with its placeholders."""
    from shared.domain.templates import DEFAULT_TEMPLATES, PLACEHOLDERS, template_from_document, template_to_document

    saved = [template_from_document(doc) for doc in ConfigRepository().list("template").values()]
    keys = {(t.id, t.language, t.channel) for t in saved}
    defaults = [t for t in DEFAULT_TEMPLATES if (t.id, t.language, t.channel) not in keys]
    return {
        "items": [{**template_to_document(t), "source": "saved"} for t in saved]
        + [{**template_to_document(t), "source": "default"} for t in defaults],
        "placeholders": dict(PLACEHOLDERS),
    }


@route("/v1/templates/{template_id}/{language}/{channel}", methods=["PUT"], role=Role.SUPERVISOR)
def put_template(template_id: str, language: str, channel: str) -> dict[str, Any]:
    """Save a template; unknown placeholders, syntax errors and unsafe expressions are refused with the reason."""
    from shared.domain.templates import template_from_document, template_to_document

    for value, what in ((template_id, "template"), (language, "language"), (channel, "channel")):
        _config_id(value, what)
    body = _body()
    template = template_from_document({**body, "id": template_id, "language": language, "channel": channel})
    document = template_to_document(template)
    ConfigRepository().put("template", f"{template_id}:{language}:{channel}", document, _caller().subject, utcnow())
    return document


@route("/v1/auto-replies", methods=["GET"])
def list_auto_replies() -> dict[str, Any]:
    return {"items": [{"name": name, **doc} for name, doc in sorted(ConfigRepository().list("auto-reply").items())]}


@route("/v1/auto-replies/{name}", methods=["PUT"], role=Role.SUPERVISOR)
def put_auto_reply(name: str) -> dict[str, Any]:
    """A keyword auto-reply: messages on `channels` containing one of `phrases` get `template` (and may resolve)."""
    from shared.services.customer_messages import auto_reply_rule, stored_templates

    body = _body()
    rule = auto_reply_rule(_config_id(name, "auto-reply"), body)
    templates = stored_templates(ConfigRepository())
    if not any(t.id == rule.template for t in templates):
        raise ValidationFailed(f"no template {rule.template!r}; save it first with PUT /v1/templates/...")
    document = {"channels": list(rule.channels), "phrases": list(rule.phrases), "template": rule.template, "resolve": rule.resolve}
    ConfigRepository().put("auto-reply", name, document, _caller().subject, utcnow())
    return {"name": name, **document}


@route("/v1/auto-replies/{name}", methods=["DELETE"], role=Role.SUPERVISOR)
def delete_auto_reply(name: str) -> Response:
    if not ConfigRepository().delete("auto-reply", _config_id(name, "auto-reply")):
        raise NotFound(f"no auto-reply {name}")
    return Response(body="", status_code=204)


@route("/v1/quarantine", methods=["GET"], role=Role.SUPERVISOR)
def get_quarantine() -> dict[str, Any]:
    """Inbound items that did not become tickets, newest first, with reason and raw object key."""
    from shared.storage.quarantine import list_quarantine

    params = _query()
    items, cursor = list_quarantine(limit=_int(params, "limit", 50, 1, 200) or 50, cursor=params.get("cursor") or None)
    return {"items": items, "next_cursor": cursor}
