"""Teams' settings and the priority rules: how work is ordered, who is alerted, what is urgent."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

from shared.domain.access import Principal
from shared.domain.model import Role

from functions.api.gateway import operation
from functions.api.services import configuration

routes = Blueprint(__name__)


@operation(routes, "GET", "/v1/teams/{team}", tag="teams", response="TeamResource", ids=("team",))
def get_team(team: str, caller: Principal) -> dict[str, Any]:
    """Every setting the product reads for the team, defaults filled in."""
    return configuration().team(team)


@operation(routes, "PUT", "/v1/teams/{team}", tag="teams", role=Role.SUPERVISOR, body="TeamChange",
           response="TeamResource", ids=("team",), document=True)  # fmt: skip
def put_team(team: str, caller: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """Change the team's settings. Fields left out keep their value (PATCH does the same): `strategy`
    (`urgency`: priority then age; `fifo`: age with VIP first), `language`, the business `calendar` non-urgent
    alerts keep to, who is alerted (`supervisors`, `managers`), when a ticket counts as idle (`idle_minutes`,
    `vip_idle_minutes`) and how long a ticket waits for an agent with its skill (`skill_wait_seconds`)."""
    return configuration().change_team(team, body, caller)


@operation(routes, "PATCH", "/v1/teams/{team}", tag="teams", role=Role.SUPERVISOR, body="TeamChange",
           response="TeamResource", ids=("team",), document=True)  # fmt: skip
def patch_team(team: str, caller: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """The same as PUT: only the fields given change."""
    return configuration().change_team(team, body, caller)


@operation(routes, "GET", "/v1/priority-rules", tag="priority rules", response="PriorityRulesDocument")
def get_priority_rules(caller: Principal) -> dict[str, Any]:
    """The rules that set every new ticket's priority (the shipped defaults until an admin saves others)."""
    return configuration().priority_rules()


@operation(routes, "PUT", "/v1/priority-rules", tag="priority rules", role=Role.ADMIN, body="PriorityRulesDocument",
           response="PriorityRulesDocument", document=True)  # fmt: skip
def put_priority_rules(caller: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """Replace the priority rules (keyword lists per channel, impact words, tier boost, floors), checked whole."""
    return configuration().save_priority_rules(body, caller.subject)
