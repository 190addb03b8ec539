"""SLA policies (targets and the escalation ladder) and the business calendars they count in."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

from shared.domain.access import Principal
from shared.domain.model import Role
from shared.domain.teams import ALWAYS_OPEN_CALENDAR

from functions.api.gateway import operation
from functions.api.services import configuration

routes = Blueprint(__name__)


@operation(routes, "GET", "/v1/sla-policies", tag="SLA", response="SlaPolicyList")
def list_sla_policies(caller: Principal) -> dict[str, Any]:
    """SLA policies in the order they are tried. The first match wins; the shipped per-priority defaults come last as the catch-all."""
    return {"items": configuration().sla_policies()}


@operation(routes, "PUT", "/v1/sla-policies/{policy_id}", tag="SLA", role=Role.ADMIN, body="SlaPolicyDocument",
           response="SlaPolicyResource", ids=("policy_id",), document=True)  # fmt: skip
def put_sla_policy(policy_id: str, caller: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """Save an SLA policy. Its calendar must exist (24x7 always does)."""
    return configuration().save_sla_policy(policy_id, body, caller.subject)


@operation(routes, "GET", "/v1/calendars", tag="SLA", response="CalendarList")
def list_calendars(caller: Principal) -> dict[str, Any]:
    """Saved business calendars, and the ones built in."""
    return {"items": configuration().calendars(), "built_in": [ALWAYS_OPEN_CALENDAR]}


@operation(routes, "PUT", "/v1/calendars/{calendar_id}", tag="SLA", role=Role.ADMIN, body="CalendarDocument",
           response="CalendarResource", ids=("calendar_id",), document=True)  # fmt: skip
def put_calendar(calendar_id: str, caller: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """Save a business calendar. Business hours in a time zone with holidays: `{"timezone", "hours": {"mon": [["08:00", "12:00"], ...]},
    "holidays": {"country": "ID", "subdivision": null, "extra": ["2026-12-24"]}}`."""
    return configuration().save_calendar(calendar_id, body, caller.subject)
