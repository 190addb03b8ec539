"""Who is asking and what their role lets them do: the rule every API service applies before it changes anything.

A principal comes from a verified bearer token (shared/auth.py, run by the API's authorizer); roles are ordered
agent < supervisor < admin, and each needs-role check names the role that was missing.

Team boundaries: a token names the teams its holder works in (an agent's own team, the teams a supervisor
leads). An agent or supervisor sees and changes only tickets of those teams, and the tickets handed to them from
another team (a lead may lend work across teams); an admin works across all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.domain.errors import DomainError
from shared.domain.model import Role


class Unauthorized(DomainError):
    code = "unauthorized"


class Forbidden(DomainError):
    code = "forbidden"


DEFAULT_TEAM = "support"
"""The team every agent and ticket has until someone names another (AgentProfile.team, Ticket.team)."""


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    agent_id: str | None
    teams: tuple[str, ...] = (DEFAULT_TEAM,)

    def works_in(self, team: str) -> bool:
        return self.role == Role.ADMIN or team in self.teams

    @property
    def actor(self) -> str:
        """How the audit trail names this caller."""
        return f"agent:{self.subject}"


def require_role(principal: Principal, needed: Role) -> None:
    if not principal.role.at_least(needed):
        raise Forbidden(f"this action needs the {needed.value} role; your token has {principal.role.value}")


def require_team(principal: Principal, team: str, what: str = "this ticket", holder: str | None = None) -> None:
    """Refuse work on another team's ticket (403), naming the teams the token may work in; the agent a ticket
    is assigned to (`holder`) may always work on it."""
    if not principal.works_in(team) and not (holder is not None and holder == principal.agent_id):
        mine = ", ".join(principal.teams) or "none"
        raise Forbidden(f"{what} belongs to team {team}; your token works in {mine}")
