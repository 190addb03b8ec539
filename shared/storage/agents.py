"""Agents and their load items.

A profile change (presence, capacity, skills, ...) writes the agent item and mirrors the routing facts onto the
load item in one transaction; the load counter itself is only ever changed by assignment and release.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.update import Action

from shared.domain.assignment import Candidate
from shared.domain.model import AgentProfile, AgentView, LoadCounter
from shared.storage.transactions import transaction
from shared.storage.models import AgentLoadModel, AgentModel
from shared.domain.timefmt import iso


def to_profile(item: AgentModel) -> AgentProfile:
    return AgentProfile(
        id=item.id,
        name=item.name,
        email=item.email,
        team=item.team or "support",
        presence=item.presence or "offline",
        capacity=int(item.capacity),
        skills=set(item.skills or ()),
        channels=set(item.channels or ()),
        tier=int(item.tier or 1),
        timezone=item.timezone or "UTC",
        working_hours=item.working_hours.as_dict() if item.working_hours is not None else None,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def _profile_item(profile: AgentProfile) -> AgentModel:
    return AgentModel(
        id=profile.id,
        name=profile.name,
        email=profile.email,
        team=profile.team,
        presence=profile.presence,
        capacity=profile.capacity,
        skills=set(profile.skills) or None,
        channels=set(profile.channels) or None,
        tier=profile.tier,
        timezone=profile.timezone,
        working_hours=profile.working_hours,
        created_at=profile.created_at,
        updated_at=profile.updated_at,
    )


def candidate_from(load: AgentLoadModel) -> Candidate:
    return Candidate(
        agent_id=load.agent_id,
        load=int(load.load or 0),
        capacity=int(load.capacity or 0),
        presence=load.presence,
        skills=frozenset(load.skills or ()),
        channels=frozenset(load.channels or ()),
        tier=int(load.tier or 1),
        timezone=load.timezone or "UTC",
        working_hours=load.working_hours.as_dict() if load.working_hours is not None else None,
        last_assigned_at=load.last_assigned_at,
        team=load.team or "support",
    )


class AgentRepository:
    def get(self, agent_id: str) -> AgentView | None:
        try:
            profile = AgentModel.get(agent_id, consistent_read=True)
        except AgentModel.DoesNotExist:
            return None
        return AgentView(to_profile(profile), self.candidate(agent_id))

    def roster(self, team: str | None = None) -> list[AgentView]:
        loads = {l.agent_id: l for l in (AgentLoadModel.by_team.query(team) if team else AgentLoadModel.scan())}
        profiles = (
            AgentModel.batch_get(list(loads)) if team else AgentModel.scan()
        )  # the agent roster is small: a few hundred items at most
        views = [AgentView(to_profile(p), candidate_from(loads[p.id]) if p.id in loads else None) for p in profiles]
        return sorted(views, key=lambda v: v.profile.id)

    def candidate(self, agent_id: str) -> Candidate | None:
        """A consistent read of one agent's load item, after a conditional failure made our copy stale."""
        try:
            return candidate_from(AgentLoadModel.get(agent_id, consistent_read=True))
        except AgentLoadModel.DoesNotExist:
            return None

    def candidates(self, team: str) -> list[Candidate]:
        return [candidate_from(load) for load in AgentLoadModel.by_team.query(team)]

    def load_items(self, team: str) -> list[LoadCounter]:
        return [
            LoadCounter(agent_id=item.agent_id, load=int(item.load or 0), load_changed_at=item.load_changed_at)
            for item in AgentLoadModel.by_team.query(team)
        ]

    def set_load(self, item: LoadCounter, load: int) -> bool:
        """Correct a drifted counter, only if it has not moved since `item` was read; whether it was written."""
        condition = AgentLoadModel.load == item.load
        if item.load_changed_at:
            condition &= AgentLoadModel.load_changed_at == item.load_changed_at
        else:
            condition &= AgentLoadModel.load_changed_at.does_not_exist()
        try:
            AgentLoadModel(agent_id=item.agent_id).update(actions=[AgentLoadModel.load.set(load)], condition=condition)
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def save(self, profile: AgentProfile, now: datetime) -> AgentView:
        """Write the profile and mirror its routing facts onto the load item (created with load 0 if new)."""
        profile.updated_at = iso(now)
        if not profile.created_at:
            profile.created_at = profile.updated_at
        load_item = AgentLoadModel(agent_id=profile.id)
        actions: list[Action] = [
            AgentLoadModel.team.set(profile.team),
            AgentLoadModel.capacity.set(int(profile.capacity)),
            AgentLoadModel.presence.set(profile.presence),
            AgentLoadModel.tier.set(int(profile.tier)),
            AgentLoadModel.timezone.set(profile.timezone),
            AgentLoadModel.load.set(AgentLoadModel.load | 0),
        ]
        for attr, value in ((AgentLoadModel.skills, profile.skills), (AgentLoadModel.channels, profile.channels)):
            actions.append(attr.set(set(value)) if value else attr.remove())
        if profile.working_hours is not None:
            actions.append(AgentLoadModel.working_hours.set(profile.working_hours))
        else:
            actions.append(AgentLoadModel.working_hours.remove())
        with transaction() as tx:
            tx.save(_profile_item(profile))
            tx.update(load_item, actions=actions)
        view = self.get(profile.id)
        assert view is not None
        return view
