"""Saved views: an agent's named ticket filters, and the ones a supervisor shares with a team they lead.

Kept as configuration documents (one partition per owner: `view#agent#<id>`, `view#team#<team>`, so listing a
caller's views is one read per scope). `GET /v1/tickets?view=<name>` applies one: the caller's own view of that
name first, then their teams' shared ones; filters given with the request override the view's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable

from shared.domain.access import Principal, require_role, require_team
from shared.domain.errors import NotFound
from shared.domain.model import Role
from shared.domain.ports import ConfigStore
from shared.domain.timefmt import iso

if TYPE_CHECKING:
    from shared.contracts.api import TicketQuery
    from shared.contracts.desk import ViewDocument

PERSONAL, TEAM = "personal", "team"


@dataclass
class SavedViews:
    config: ConfigStore
    now: Callable[[], datetime]

    def list(self, caller: Principal) -> list[dict[str, Any]]:
        """The caller's own views, then their teams' shared ones, each by name."""
        scopes = [(PERSONAL, None), *((TEAM, team) for team in caller.teams)]
        return [_resource(name, scope, team, body) for scope, team in scopes
                for name, body in sorted(self.config.list(_kind(caller, scope, team)).items())]  # fmt: skip

    def get(self, name: str, caller: Principal, team: str | None = None) -> dict[str, Any]:
        scope = TEAM if team else PERSONAL
        if team:
            require_team(caller, team, f"team {team}'s views")
        body = self.config.get(_kind(caller, scope, team), name)
        if body is None:
            raise NotFound(f"no {'view of team ' + team if team else 'view of yours'} named {name}")
        return _resource(name, scope, team, body)

    def put(self, name: str, document: ViewDocument, caller: Principal) -> tuple[dict[str, Any], bool]:
        """Save the view (a team's: a supervisor's, of a team they lead); returns it and whether it is new."""
        team = document.team
        if team:
            require_role(caller, Role.SUPERVISOR)
            require_team(caller, team, f"team {team}'s views")
        kind = _kind(caller, TEAM if team else PERSONAL, team)
        created = self.config.get(kind, name) is None
        body = {"filters": document.filters.model_dump(mode="json", exclude_none=True), "updated_at": iso(self.now())}
        self.config.put(kind, name, body, caller.actor, self.now())
        return _resource(name, TEAM if team else PERSONAL, team, body), created

    def delete(self, name: str, caller: Principal, team: str | None = None) -> None:
        if team:
            require_role(caller, Role.SUPERVISOR)
            require_team(caller, team, f"team {team}'s views")
        if not self.config.delete(_kind(caller, TEAM if team else PERSONAL, team), name):
            raise NotFound(f"no view named {name} to delete")

    def narrow(self, query: TicketQuery, caller: Principal) -> TicketQuery:
        """The query with the named view's filters under it (what the request gives wins)."""
        if not query.view:
            return query
        saved = self._find(query.view, caller)
        given = {name: getattr(query, name) for name in query.model_fields_set}
        return type(query).model_validate({**saved, **given, "view": None})

    def _find(self, name: str, caller: Principal) -> dict[str, Any]:
        for scope, team in [(PERSONAL, None), *((TEAM, t) for t in caller.teams)]:
            body = self.config.get(_kind(caller, scope, team), name)
            if body is not None:
                return dict(body.get("filters") or {})
        raise NotFound(f"view: no saved view named {name} (yours or your teams')")


def _kind(caller: Principal, scope: str, team: str | None) -> str:
    return f"view#team#{team}" if scope == TEAM else f"view#agent#{caller.agent_id or caller.subject}"


def _resource(name: str, scope: str, team: str | None, body: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "scope": scope, "team": team, "filters": dict(body.get("filters") or {}),
            "updated_at": body.get("updated_at")}  # fmt: skip
