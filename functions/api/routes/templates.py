"""Message templates (per id, language and channel) and keyword auto-replies."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response

from shared.domain.access import Principal
from shared.domain.model import Role

from functions.api.gateway import operation
from functions.api.services import configuration

routes = Blueprint(__name__)


@operation(routes, "GET", "/v1/templates", tag="templates", response="TemplateList")
def list_templates(caller: Principal) -> dict[str, Any]:
    """Saved templates and the shipped defaults they override, and every placeholder a template may use."""
    items, placeholders = configuration().templates()
    return {"items": items, "placeholders": placeholders}


@operation(routes, "PUT", "/v1/templates/{template_id}/{language}/{channel}", tag="templates",
           role=Role.SUPERVISOR, body="TemplateDocument", response="TemplateResource",
           ids=("template_id", "language", "channel"), document=True)  # fmt: skip
def put_template(template_id: str, language: str, channel: str, caller: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """Save a message template. The body holds `subject`, `text` and `html` (id, language and channel come from the path); unknown
    placeholders, syntax errors and unsafe expressions are refused with the reason."""
    return configuration().save_template((template_id, language, channel), body, caller.subject)


@operation(routes, "GET", "/v1/auto-replies", tag="templates", response="AutoReplyList")
def list_auto_replies(caller: Principal) -> dict[str, Any]:
    """Keyword auto-replies, by name."""
    return {"items": configuration().auto_replies()}


@operation(routes, "PUT", "/v1/auto-replies/{auto_reply}", tag="templates", role=Role.SUPERVISOR,
           body="AutoReplyDocument", response="AutoReplyResource", ids=("auto_reply",), document=True)  # fmt: skip
def put_auto_reply(auto_reply: str, caller: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """Save a keyword auto-reply. Messages on `channels` containing one of `phrases` get `template` (which must exist)
    and may resolve the ticket."""
    return configuration().save_auto_reply(auto_reply, body, caller.subject)


@operation(routes, "DELETE", "/v1/auto-replies/{auto_reply}", tag="templates", role=Role.SUPERVISOR, status=204,
           ids=("auto_reply",))  # fmt: skip
def delete_auto_reply(auto_reply: str, caller: Principal) -> Response:
    """Remove a keyword auto-reply."""
    configuration().delete_auto_reply(auto_reply)
    return Response(body="", status_code=204)
