"""The agent's day on the in-memory fakes: folders per team the caller sees, the escalation overview, saved views
applied to the list, and polling by `updated_since`."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.contracts.api import TicketPatch, TicketQuery
from shared.contracts.desk import ViewDocument
from shared.contracts.refusals import validated
from shared.domain.access import Forbidden, Principal
from shared.domain.errors import NotFound
from shared.domain.model import Role
from shared.services.overview import Overview
from shared.services.saved_views import SavedViews
from tests.fakes import T0, World

pytestmark = pytest.mark.unit

RINA = Principal(subject="rina", role=Role.AGENT, agent_id="rina")
SARI = Principal(subject="sari", role=Role.SUPERVISOR, agent_id="sari")
DEWI = Principal(subject="dewi", role=Role.AGENT, agent_id="dewi", teams=("billing",))
ADMIN = Principal(subject="admin", role=Role.ADMIN, agent_id=None, teams=())


def _world_with_work() -> tuple[World, list[str]]:
    world = World()
    world.agents.add("rina", capacity=1)
    ids = []
    for n, subject in enumerate(("Pembayaran gagal", "Lupa kata sandi", "Aplikasi error")):
        ids.append(str(world.mail(subject, sender=f"c{n}@pelanggan.co.id", minutes=n).ticket_id))
        world.pump()
    return world, ids


def _move_to_billing(world: World, ticket_id: str) -> None:
    ticket = world.ticket(ticket_id)
    ticket.team = "billing"
    world.tickets.save(ticket)


def test_an_agent_sees_their_teams_folders_with_their_own_work_and_an_admin_every_team():
    world, ids = _world_with_work()
    _move_to_billing(world, ids[2])
    [support] = Overview(world.tickets).folders(RINA)
    assert support["team"] == "support"
    assert support["status"]["in_progress"] == 1 and support["status"]["open"] == 1
    assert support["work"] == {"unassigned": 1, "escalated": 0, "sla_breached": 0, "mine": 1}
    assert support["channel"] == {"email": 2}
    assert [f["team"] for f in Overview(world.tickets).folders(DEWI)] == ["billing"]
    assert [f["team"] for f in Overview(world.tickets).folders(ADMIN)] == ["billing", "support"]


def test_the_escalation_overview_lists_each_level_of_the_callers_teams_only():
    world, ids = _world_with_work()
    desk = world.desk()
    desk.change(ids[0], TicketPatch(escalation_level=2), SARI)
    desk.change(ids[1], TicketPatch(escalation_level=1), SARI)
    _move_to_billing(world, ids[1])
    overview = Overview(world.tickets)
    mine = overview.escalations(RINA)
    assert {level: [e.ticket.id for e in found] for level, found in mine.items()} == {1: [], 2: [ids[0]]}
    assert [e.ticket.id for e in overview.escalations(ADMIN, level=1)[1]] == [ids[1]]
    with pytest.raises(Forbidden, match="billing"):
        overview.escalations(RINA, team="billing")
    desk.change(ids[0], TicketPatch(status="resolved"), SARI)
    assert overview.escalations(SARI)[2] == []  # tracked until resolved


def test_a_saved_view_narrows_the_list_and_what_the_request_gives_wins():
    world, ids = _world_with_work()
    views = SavedViews(world.config, world.clock)  # type: ignore[arg-type]
    document = validated(ViewDocument, {"filters": {"status": "open"}}, "body")
    saved, created = views.put("waiting", document, RINA)
    assert created and saved == {"name": "waiting", "scope": "personal", "team": None,
                                 "filters": {"status": "open"}, "updated_at": saved["updated_at"]}  # fmt: skip
    assert not views.put("waiting", document, RINA)[1]
    narrowed = views.narrow(validated(TicketQuery, {"view": "waiting"}, "query"), RINA)
    assert {t.id for t in world.desk().search(narrowed, RINA).items} == {ids[1], ids[2]}
    overridden = views.narrow(validated(TicketQuery, {"view": "waiting", "status": "in_progress"}, "query"), RINA)
    assert [t.id for t in world.desk().search(overridden, RINA).items] == [ids[0]]
    with pytest.raises(NotFound, match="view"):
        views.narrow(validated(TicketQuery, {"view": "waiting"}, "query"), SARI)  # personal: rina's only


def test_a_team_view_is_a_supervisors_of_a_team_they_lead_and_every_agent_of_it_may_use_it():
    world, _ = _world_with_work()
    views = SavedViews(world.config, world.clock)  # type: ignore[arg-type]
    shared = validated(ViewDocument, {"filters": {"priority": "urgent"}, "team": "support"}, "body")
    with pytest.raises(Forbidden, match="supervisor"):
        views.put("urgent", shared, RINA)
    with pytest.raises(Forbidden, match="team billing"):
        views.put("urgent", validated(ViewDocument, {"team": "billing"}, "body"), SARI)
    views.put("urgent", shared, SARI)
    assert [(v["name"], v["scope"], v["team"]) for v in views.list(RINA)] == [("urgent", "team", "support")]
    assert views.list(DEWI) == []
    assert views.narrow(validated(TicketQuery, {"view": "urgent"}, "query"), RINA).priority is not None
    with pytest.raises(Forbidden):
        views.delete("urgent", RINA, team="support")
    views.delete("urgent", SARI, team="support")
    with pytest.raises(NotFound):
        views.get("urgent", RINA, team="support")


def test_polling_returns_what_changed_since_oldest_change_first():
    world, ids = _world_with_work()
    world.clock.now = T0 + timedelta(hours=1)
    world.desk().change(ids[2], TicketPatch(priority="high"), SARI)
    since = validated(TicketQuery, {"updated_since": (T0 + timedelta(minutes=30)).isoformat()}, "query")
    assert [t.id for t in world.desk().search(since, RINA).items] == [ids[2]]
    everything = validated(TicketQuery, {"updated_since": T0.isoformat()}, "query")
    found = world.desk().search(everything, RINA).items
    assert [t.updated_at for t in found] == sorted(t.updated_at for t in found) and found[-1].id == ids[2]
