"""The API's one front door: the Chalice app, the bearer-token authorizer, and `operation`, the decorator every
route is declared with.

`operation` is what keeps routes thin and `/openapi.json` true: it records the route's method, path, role, query
model, body model and response model (the OpenAPI document is generated from those records), validates the query
and body with their models before the view runs, checks the caller's role, and maps every domain error to
`{"error": {"code", "message"}}` with its status, once.

Authentication is Chalice's built-in authorizer `bearer` on every route that needs a role: it verifies the JWT
(shared/auth.py) and hands the view the principal through the request context. Locally (`chalice local`, the local
stack, `chalice.test`) Chalice's gateway runs it as API Gateway does when deployed.
"""

from __future__ import annotations

import functools
import json
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from chalice.app import AuthRequest, AuthResponse, Blueprint, Request, Response

from shared.adapters.secrets import signing_key
from shared.auth import authenticate
from shared.domain.access import Forbidden, Principal, Unauthorized, require_role
from shared.domain.errors import Conflict, DomainError, InFlight, InvalidTransition, NotFound, ValidationFailed
from shared.domain.ids import checked_id
from shared.domain.model import Role
from shared.observability import bind_invocation, logger, metrics
from shared.settings import Settings, get_settings
from shared.storage.errors import StorageError, storage_refusal

from functions.api.http import Api, PayloadTooLarge, UnsupportedMediaType, error_body, error_response, json_object

if TYPE_CHECKING:
    from pydantic import BaseModel

app = Api(app_name="ticketing-api")
app.api.cors = False

STATUS_OF = {
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


@app.authorizer(ttl_seconds=0)
def bearer(auth_request: AuthRequest) -> AuthResponse:
    """`Authorization: Bearer <token>` (from `ticketing token`): a valid token may call every route; what its
    role allows is each route's own check. A missing, forged or expired token is a 401."""
    settings = get_settings()
    try:
        principal = _verified(settings, auth_request.token)
    except Unauthorized as error:
        raise _unauthorized(error.message) from None
    context = {"role": principal.role.value, "agent_id": principal.agent_id or "", "teams": ",".join(principal.teams)}
    return AuthResponse(routes=["*"], principal_id=principal.subject, context=context)


def _verified(settings: Settings, authorization: str | None) -> Principal:
    """A Cognito ID token when the stack has a user pool and the token says it is the pool's; else our own."""
    from shared.auth import authenticate_cognito, bearer_token, cognito_keys, issuer_of

    if settings.cognito_issuer:
        token = bearer_token(authorization)
        if issuer_of(token) == settings.cognito_issuer:
            keys = cognito_keys(settings.cognito_issuer)
            return authenticate_cognito(token, settings.cognito_issuer, _console_client(settings), keys,
                                        settings.max_token_ttl_seconds)  # fmt: skip
    return authenticate(signing_key(settings), authorization, settings.max_token_ttl_seconds)


def _console_client(settings: Settings) -> str:
    """The console's Cognito app client id: from the environment, or read once from its SSM parameter."""
    if settings.cognito_client_id:
        return settings.cognito_client_id
    from shared.adapters.parameters import parameter_value

    return parameter_value(settings.cognito_client_id_parameter)


def _unauthorized(message: str) -> Exception:
    """API Gateway answers 401 when a Lambda authorizer fails with exactly "Unauthorized"; Chalice's local gateway
    (only ever imported when it is the one serving) answers 401 with the body of its NotAuthorizedError."""
    local = sys.modules.get("chalice.local")
    if local is None:
        return Exception("Unauthorized")
    body = json.dumps(error_body("unauthorized", message)).encode()
    error: Exception = local.NotAuthorizedError({"Content-Type": "application/json", "WWW-Authenticate": "Bearer"}, body)
    return error


def caller_of(request: Request) -> Principal:
    """The principal the authorizer verified for this request."""
    context = (request.context or {}).get("authorizer") or {}
    try:
        role = Role(context.get("role"))
    except ValueError:
        raise Unauthorized("missing bearer token: send 'Authorization: Bearer <token>' (see `ticketing token`)") from None
    teams = tuple(team for team in str(context.get("teams") or "").split(",") if team)
    return Principal(subject=str(context.get("principalId")), role=role, agent_id=context.get("agent_id") or None, teams=teams)


def contract(name: str) -> type[BaseModel]:
    """A model of shared/contracts/api.py, config.py or desk.py by name. Routes name their contracts rather than import
    them, so the API's cold start does not pay for pydantic and every model (~140 ms): the first request that
    validates something does, and `GET /v1/tickets/{id}` never does."""
    import importlib

    for module in ("shared.contracts.api", "shared.contracts.config", "shared.contracts.work", "shared.contracts.desk",
                   "shared.contracts.selfservice"):  # fmt: skip
        found = getattr(importlib.import_module(module), name, None)
        if found is not None:
            return found  # type: ignore[no-any-return]
    raise LookupError(f"no contract {name!r} in shared/contracts")


@dataclass(frozen=True)
class Operation:
    """One route as `/openapi.json` describes it; models are named (see `contract`)."""

    method: str
    path: str
    tag: str
    view: Callable[..., Any]
    role: Role | None
    query: str | None
    body: str | None
    response: str | None
    status: int
    also: tuple[int, ...]
    ids: tuple[str, ...]
    errors: tuple[int, ...]
    headers: tuple[tuple[str, str], ...] = ()  # request headers the route reads: (name, what it means)
    raw_body: str | None = None  # a body the view reads as raw bytes (webhooks verify signatures on them)
    text: bool = False  # the success reply is text/plain


OPERATIONS: list[Operation] = []


def operation(
    blueprint: Blueprint | Api,
    method: str,
    path: str,
    *,
    tag: str,
    role: Role | None = Role.AGENT,
    query: str | None = None,
    body: str | None = None,
    response: str | None = None,
    status: int = 200,
    also: tuple[int, ...] = (),
    ids: tuple[str, ...] = (),
    errors: tuple[int, ...] = (),
    document: bool = False,
    headers: tuple[tuple[str, str], ...] = (),
    raw_body: str | None = None,
    text: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a route. The view gets the path parameters (those named in `ids` checked as plain ids), then
    `caller=` (when a role is needed), `query=` and `body=` (validated models), and returns the reply body (sent
    with `status`, or one of `also`) or a Response.

    `document=True`: the body is a configuration document the service parses through its rule module (which
    validates it with the same `body` model and keeps it as written); the view gets it as a JSON object.
    `raw_body`: the body's model for the document only — the view reads `request.raw_body` itself (a webhook
    checks its signature on the exact bytes before anything parses them)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        found = _possible_errors(role, query, body, ids, path) + errors
        OPERATIONS.append(
            Operation(method, path, tag, view, role, query, body, response, status, also, ids, found, headers, raw_body, text)
        )

        @functools.wraps(view)
        def handle(**params: str) -> Any:
            bind_invocation(blueprint.lambda_context)
            try:
                request = blueprint.current_request
                assert request is not None, "Chalice sets the request before a view runs"
                reply = view(**params, **_arguments(request, params))
                return reply if isinstance(reply, Response) else Response(body=reply, status_code=status)
            except DomainError as error:
                return error_response(_status(error), error.code, error.message, getattr(error, "fields", None))
            except StorageError as error:
                return _storage_refusal(error)
            except Exception:  # noqa: BLE001 - never leak a stack trace to a client
                logger.exception("unhandled API error")
                return error_response(500, "internal_error", "something went wrong; it has been logged")
            finally:
                if metrics.metric_set:  # what the request counted (a first response, a quarantined webhook ...)
                    metrics.flush_metrics()
                logger.thread_safe_clear_keys()

        def _arguments(request: Request, params: dict[str, str]) -> dict[str, Any]:
            for name in ids:
                checked_id(params[name], name.removesuffix("_id").replace("_", "-"))
            arguments: dict[str, Any] = {}
            if role is not None:
                caller = caller_of(request)
                require_role(caller, role)
                arguments["caller"] = caller
            if query is not None:
                arguments["query"] = _validated(query, dict(request.query_params or {}), "query")
            if body is not None:
                given = json_object(request)
                arguments["body"] = given if document else _validated(body, given, "body")
            return arguments

        blueprint.route(path, methods=[method], authorizer=bearer if role is not None else None)(handle)
        return view

    return decorate


def _validated(name: str, data: Any, what: str) -> Any:
    from shared.contracts.refusals import validated

    return validated(contract(name), data, what)


def _status(error: DomainError) -> int:
    return next((status for kind, status in STATUS_OF.items() if isinstance(error, kind)), 400)


def _storage_refusal(error: StorageError) -> Response:
    refusal = storage_refusal(error)
    if refusal is None:
        logger.exception("unhandled API error")
        return error_response(500, "internal_error", "something went wrong; it has been logged")
    logger.warning("storage refused a request", extra={"reason": refusal})
    return error_response(400, "validation_failed", f"the request cannot be stored: {refusal}")


def _possible_errors(role: Role | None, query: str | None, body: str | None, ids: tuple[str, ...], path: str) -> tuple[int, ...]:
    found: list[int] = []
    if query is not None or body is not None or ids:
        found.append(400)
    if role is not None:
        found += [401, 403]
    if "{" in path:
        found.append(404)
    if body is not None:
        found += [413, 415]
    return tuple(found)
