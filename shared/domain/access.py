"""Who is asking and what their role lets them do: the rule every API service applies before it changes anything.

A principal comes from a verified bearer token (shared/auth.py, run by the API's authorizer); roles are ordered
agent < supervisor < admin, and each needs-role check names the role that was missing.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.domain.errors import DomainError
from shared.domain.model import Role


class Unauthorized(DomainError):
    code = "unauthorized"


class Forbidden(DomainError):
    code = "forbidden"


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    agent_id: str | None

    @property
    def actor(self) -> str:
        """How the audit trail names this caller."""
        return f"agent:{self.subject}"


def require_role(principal: Principal, needed: Role) -> None:
    if not principal.role.at_least(needed):
        raise Forbidden(f"this action needs the {needed.value} role; your token has {principal.role.value}")
