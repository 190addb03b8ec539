"""Which folders a ticket is in, and how a change moves their counts (shared/domain/folders.py)."""

from __future__ import annotations

from typing import Any

import pytest

from shared.domain.folders import SHARDS, folder_moves, folder_view, memberships, recount, shard_of

pytestmark = pytest.mark.unit


def state(**given: Any) -> dict[str, Any]:
    base = {"team": "support", "status": "open", "in_triage": False, "channel": "whatsapp", "assignee": None,
            "escalation_level": 0, "sla": None}  # fmt: skip
    return {**base, **given}


def test_a_new_waiting_whatsapp_ticket_is_in_its_status_channel_and_unassigned_folders():
    assert memberships(state()) == {("support", "status#open"), ("support", "channel#whatsapp"), ("support", "work#unassigned")}
    assert memberships(state(in_triage=True)) == {("support", "status#triage"), ("support", "channel#whatsapp")}


def test_an_agent_taking_it_moves_it_from_unassigned_to_theirs_and_to_in_progress():
    moves = folder_moves(state(), state(status="in_progress", assignee="rina"))
    assert moves == {
        ("support", "status#open"): -1, ("support", "status#in_progress"): 1,
        ("support", "work#unassigned"): -1, ("support", "assignee#rina"): 1,
    }  # fmt: skip


def test_resolving_escalated_breached_work_leaves_every_open_work_folder_but_keeps_the_status_count():
    before = state(status="in_progress", assignee="rina", escalation_level=1, sla={"state": "breached"})
    moves = folder_moves(before, {**before, "status": "resolved"})
    assert moves == {
        ("support", "status#in_progress"): -1, ("support", "status#resolved"): 1,
        ("support", "channel#whatsapp"): -1, ("support", "assignee#rina"): -1,
        ("support", "work#escalated"): -1, ("support", "work#sla_breached"): -1,
    }  # fmt: skip


def test_moving_a_ticket_to_another_team_leaves_the_old_teams_folders_and_enters_the_new_ones():
    moves = folder_moves(state(), state(team="billing"))
    assert {k: v for k, v in moves.items() if k[0] == "support"} == {
        ("support", "status#open"): -1, ("support", "channel#whatsapp"): -1, ("support", "work#unassigned"): -1}
    assert sum(v for k, v in moves.items() if k[0] == "billing") == 3


def test_a_change_no_folder_notices_moves_nothing_and_a_new_ticket_only_enters():
    assert folder_moves(state(), {**state(), "priority": "urgent", "tags": {"vip"}}) == {}
    assert set(folder_moves(None, state()).values()) == {1}


def test_shards_are_stable_and_spread_and_a_recount_sums_memberships():
    ids = [f"01JTICKET{n:05d}" for n in range(400)]
    assert shard_of(ids[0]) == shard_of(ids[0]) and {shard_of(i) for i in ids} == set(range(SHARDS))
    assert recount([state(), state(), state(status="closed")])[("support", "status#open")] == 2


def test_the_view_of_a_team_names_every_status_and_the_callers_own_folder():
    view = folder_view({"status#open": 2, "channel#email": 1, "channel#chat": 0, "assignee#rina": 4,
                        "work#escalated": 1}, "rina")  # fmt: skip
    assert view["status"] == {"triage": 0, "open": 2, "in_progress": 0, "pending": 0, "resolved": 0, "closed": 0}
    assert view["channel"] == {"email": 1}
    assert view["work"] == {"unassigned": 0, "escalated": 1, "sla_breached": 0, "mine": 4}
