"""The API as deployed: one Lambda behind API Gateway's proxy resources, and the bearer authorizer as another.

API Gateway sends `/v1/{proxy+}`, `/webhooks/{proxy+}`, `/health` and `/openapi.json` here. Chalice dispatches on
the API Gateway resource a request matched (`requestContext.resourcePath`), so a proxy request is first given the
Chalice route its path matches — the one with the most literal segments when two match (`/v1/views/{name}` over
nothing, `/v1/tickets/{ticket_id}/links` over a parameter) — with its path parameters. A path no route matches is a
404 in the API's error shape. The views, the authorizer and the error shape are the same code the local stack
runs through Chalice's local gateway.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from functions.api.app import app
from functions.api.gateway import bearer


@lru_cache(maxsize=1)
def _routes() -> list[tuple[re.Pattern[str], str]]:
    """(pattern, Chalice resource path), most specific first."""
    found = []
    for resource in app.routes:
        pattern = re.compile("^" + re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(resource)) + "$")
        literal = len([part for part in resource.split("/") if part and not part.startswith("{")])
        found.append((literal, len(resource), pattern, resource))
    found.sort(key=lambda item: (-item[0], -item[1]))
    return [(pattern, resource) for _, _, pattern, resource in found]


def route_for(path: str) -> tuple[str, dict[str, str]] | None:
    """The Chalice resource path `path` matches, with its (URL-encoded, as API Gateway passes them) parameters."""
    for pattern, resource in _routes():
        match = pattern.match(path)
        if match:
            return resource, match.groupdict()
    return None


def _not_found(method: str, path: str) -> dict[str, Any]:
    body = {"error": {"code": "not_found", "message": f"no route {method} {path[:200]}; GET /openapi.json lists them"}}
    return {"statusCode": 404, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    context_ = event.setdefault("requestContext", {})
    if context_.get("resourcePath") not in app.routes:
        path = str(event.get("path") or "/")
        found = route_for(path)
        if found is None:
            return _not_found(str(event.get("httpMethod")), path)
        resource, parameters = found
        context_["resourcePath"] = event["resource"] = resource
        event["pathParameters"] = parameters or None
    result: dict[str, Any] = app(event, context)
    return result


def authorizer(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway's TOKEN authorizer: a policy allowing the API for a valid token, with the caller's role, agent
    id and teams as context; a missing or invalid token fails with "Unauthorized" (API Gateway's 401)."""
    try:
        result: dict[str, Any] = bearer(event, context)
    except Exception as error:
        # A refused token is a 401 only with exactly this message (the same process may also have Chalice's local
        # gateway loaded, whose refusal type differs); anything else (secrets unreachable) stays an error: a 500.
        if str(error) == "Unauthorized" or type(error).__name__ == "NotAuthorizedError":
            raise Exception("Unauthorized") from None  # noqa: TRY002
        raise
    return result
