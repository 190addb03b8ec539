"""The agent's overview: folder counts per team, and every escalated ticket of the caller's teams.

Both are read from maintained indexes, never by scanning tickets: the folder counters (moved in the transaction
of each ticket change, shared/domain/folders.py) and the sparse escalated index (open work with a level above 0).

Who sees what: an agent and a supervisor their teams' (the escalation overview too: an agent sees what is
escalated in their team, the work they may be asked to help with, R22), an admin every team's — every team that
has had a ticket, as the counters know them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.domain.access import Principal, require_team
from shared.domain.folders import folder_view
from shared.domain.model import Role
from shared.domain.ports import DeskIndexes, Escalated

ESCALATION_LEVELS = (1, 2)  # what the ladder and a supervisor can set (shared/domain/changes.py)


@dataclass
class Overview:
    indexes: DeskIndexes

    def folders(self, caller: Principal) -> list[dict[str, Any]]:
        """Per team the caller may see: counts per status, per channel (open work), and the work folders
        (unassigned, the caller's own, escalated, SLA breached)."""
        teams = None if caller.role == Role.ADMIN else caller.teams
        counts = self.indexes.folder_counts(teams)
        return [{"team": team, **folder_view(counts.get(team, {}), caller.agent_id)} for team in teams or sorted(counts)]

    def escalations(self, caller: Principal, level: int | None = None, team: str | None = None) -> dict[int, list[Escalated]]:
        """The escalated open work of the caller's teams (or of `team`, one of them) by level, longest escalated
        first within each level."""
        if team is not None:
            require_team(caller, team, f"team {team}'s escalations")
        teams = [team] if team else self._teams(caller)
        by_level: dict[int, list[Escalated]] = {}
        for wanted in [level] if level else ESCALATION_LEVELS:
            found = [entry for name in teams for entry in self.indexes.escalated(name, wanted)]
            by_level[wanted] = sorted(found, key=lambda e: (e.escalated_at or e.ticket.created_at, e.ticket.id))
        return by_level

    def _teams(self, caller: Principal) -> list[str]:
        if caller.role == Role.ADMIN:
            return sorted(self.indexes.folder_counts(None))
        return list(caller.teams)
