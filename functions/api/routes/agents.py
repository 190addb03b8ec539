"""Agents (presence, capacity, skills, hours) and customers (tier, name)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response

from shared.domain.access import Principal
from shared.domain.model import Role
from shared.representation import customer_resource

from functions.api.gateway import operation
from functions.api.services import customers, roster

if TYPE_CHECKING:
    from shared.contracts.api import AgentChange, AgentQuery, CustomerChange

routes = Blueprint(__name__)


@operation(routes, "GET", "/v1/agents", tag="agents", query="AgentQuery", response="AgentList")
def list_agents(caller: Principal, query: AgentQuery) -> dict[str, Any]:
    """Agents with presence, capacity and their current (read-only) load: those of the caller's teams (an admin:
    every agent); filter by team (one of the caller's)."""
    return {"items": [view.resource() for view in roster().list(query.team or None, caller)]}


@operation(routes, "GET", "/v1/agents/{agent_id}", tag="agents", response="AgentResource", ids=("agent_id",))
def get_agent(agent_id: str, caller: Principal) -> dict[str, Any]:
    """One agent with presence, capacity, skills, hours and current load (of the caller's teams; 403 otherwise)."""
    return roster().get(agent_id, caller).resource()


@operation(routes, "PUT", "/v1/agents/{agent_id}", tag="agents", body="AgentChange", response="AgentResource",
           ids=("agent_id",), also=(201,))  # fmt: skip
def put_agent(agent_id: str, caller: Principal, body: AgentChange) -> Response:
    """Create (201) or update an agent. Fields left out keep their value; agents may set their own presence;
    everything else needs a supervisor. Coming online or gaining capacity drains the team's queue onto them."""
    view, created = roster().put(agent_id, body, caller)
    return Response(body=view.resource(), status_code=201 if created else 200)


@operation(routes, "GET", "/v1/customers/{customer_id}", tag="customers", response="CustomerResource")
def get_customer(customer_id: str, caller: Principal) -> dict[str, Any]:
    """A customer by id or by email address: one with a ticket the caller can see, or with no ticket yet (403
    when all their tickets belong to teams the caller does not work in)."""
    return customer_resource(customers().get(customer_id, caller))


@operation(routes, "PATCH", "/v1/customers/{customer_id}", tag="customers", role=Role.SUPERVISOR,
           body="CustomerChange", response="CustomerResource")  # fmt: skip
def patch_customer(customer_id: str, caller: Principal, body: CustomerChange) -> dict[str, Any]:
    """Set a customer's tier (standard, premium, vip) or name; by email, a customer not seen yet is created, so
    key accounts can be registered before they first write."""
    return customer_resource(customers().change(customer_id, body, caller))
