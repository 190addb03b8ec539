"""The people the desk knows: agents as supervisors set them up, and customers (their tier and name).

Rules: an agent may change their own presence and nothing else about themselves; the rest is a supervisor's, for
agents of the teams they lead (moving an agent between teams needs both). An
agent who comes online, gains capacity or changes team or skills may take waiting work, so the team's queue is
drained onto them. A customer is found by id or by email address, and a supervisor may set up a key account by
email before its first message.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable

from shared.domain.access import Forbidden, Principal, require_role, require_team
from shared.domain.errors import NotFound
from shared.domain.ids import customer_id_for
from shared.domain.model import AgentProfile, AgentView, Channel, Contact, Customer, Presence, Role
from shared.domain.ports import AgentDirectory, Announcer, CustomerAccounts, TicketFilters, TicketSearch

if TYPE_CHECKING:
    from shared.contracts.api import AgentChange, CustomerChange


@dataclass
class Roster:
    agents: AgentDirectory
    announcer: Announcer
    now: Callable[[], datetime]

    def list(self, team: str | None, caller: Principal) -> list[AgentView]:
        """The agents of `team`, or of every team the caller works in (an admin: every agent)."""
        if team is not None:
            require_team(caller, team, f"team {team}'s roster")
            return self.agents.roster(team)
        if caller.role == Role.ADMIN:
            return self.agents.roster(None)
        return [view for name in caller.teams for view in self.agents.roster(name)]

    def get(self, agent_id: str, caller: Principal) -> AgentView:
        """An agent of the caller's teams (anyone may read themselves)."""
        view = self.agents.get(agent_id)
        if view is None:
            raise NotFound(f"no agent {agent_id}")
        require_team(caller, view.profile.team, f"agent {agent_id}", holder=agent_id)
        return view

    def put(self, agent_id: str, change: AgentChange, caller: Principal) -> tuple[AgentView, bool]:
        """The saved agent and whether this created them."""
        given = change.given()
        existing = self.agents.get(agent_id)
        before = existing.profile if existing else None
        profile = _changed(before or AgentProfile(id=agent_id), given)
        if not (caller.agent_id == agent_id and set(given) <= {"presence"}):
            require_role(caller, Role.SUPERVISOR)  # a lead sets up agents of the teams they lead, moves them between
            for team in {profile.team, *([before.team] if before else [])}:
                require_team(caller, team, f"agent {agent_id}")
        saved = self.agents.save(profile, self.now())
        if _may_take_work(before, saved.profile):
            from shared.contracts.events import AgentAvailable, wire

            self.announcer.announce(wire(AgentAvailable(team=profile.team, agent_id=agent_id)))
        return saved, existing is None


def _changed(profile: AgentProfile, given: dict[str, Any]) -> AgentProfile:
    values: dict[str, Any] = {name: set(v) if name in ("skills", "channels") else v for name, v in given.items()}
    return replace(profile, **values)


def _may_take_work(before: AgentProfile | None, after: AgentProfile) -> bool:
    if after.presence != Presence.ONLINE.value:
        return False
    return (
        before is None
        or before.presence != Presence.ONLINE.value
        or after.capacity > before.capacity
        or after.team != before.team
        or after.skills != before.skills
    )


@dataclass
class Customers:
    """Team boundaries: an agent or supervisor sees the customers of the tickets they can see; a customer with
    no ticket yet (a key account registered before it writes) belongs to no team, so any of them may."""

    customers: CustomerAccounts
    now: Callable[[], datetime]
    tickets: TicketSearch

    def get(self, key: str, caller: Principal) -> Customer:
        """By id (`cus_...`) or by email address."""
        contact = _email_contact(key)
        customer = self.customers.get(customer_id_for(contact) if contact else key)
        if customer is None:
            raise NotFound(f"no customer {key}")
        self._may_see(customer, caller)
        return customer

    def change(self, key: str, change: CustomerChange, caller: Principal) -> Customer:
        """Tier or name; by email, a customer not seen yet is created (key accounts registered before they write)."""
        contact = _email_contact(key)
        customer = self.customers.get_or_create(contact, self.now()) if contact else self.customers.get(key)
        if customer is None:
            raise NotFound(f"no customer {key}")
        self._may_see(customer, caller)
        tier = change.tier.value if change.tier is not None else None
        return self.customers.update(customer.id, self.now(), tier=tier, name=change.name)

    def _may_see(self, customer: Customer, caller: Principal) -> None:
        """At most two reads of the by-customer index, one ticket each."""
        if caller.role == Role.ADMIN:
            return
        theirs = TicketFilters(customer_id=customer.id, teams=caller.teams, or_assignee=caller.agent_id)
        if self.tickets.list(theirs, limit=1).items or not self.tickets.list(TicketFilters(customer_id=customer.id), limit=1).items:
            return
        mine = ", ".join(caller.teams) or "none"
        raise Forbidden(f"customer {customer.id} has tickets only in teams your token does not work in ({mine})")


def _email_contact(key: str) -> Contact | None:
    return Contact(Channel.EMAIL, key) if "@" in key else None
