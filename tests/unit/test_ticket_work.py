"""Moving a ticket to another team, merging two, linking related tickets of different teams, and macros — on
in-memory fakes: who may, what must exist, what the customer hears, and that a retry repeats nothing."""

from __future__ import annotations

import pytest

from shared.contracts.api import Reply
from shared.contracts.refusals import validated
from shared.contracts.work import LinkRequest, MacroRun, MergeRequest, MoveRequest
from shared.domain.access import Forbidden, Principal
from shared.domain.errors import InvalidTransition, NotFound, ValidationFailed
from shared.domain.model import Role
from shared.mail.threading import ThreadHints
from tests.fakes import World

pytestmark = pytest.mark.unit

AGENT = Principal(subject="rina", role=Role.AGENT, agent_id="rina")
LEAD = Principal(subject="sari", role=Role.SUPERVISOR, agent_id="sari")
BILLING_AGENT = Principal(subject="dewi", role=Role.AGENT, agent_id="dewi", teams=("billing",))
BILLING_LEAD = Principal(subject="joko", role=Role.SUPERVISOR, agent_id="joko", teams=("billing",))


def _ticket(world: World, subject: str = "Pembayaran gagal", sender: str = "budi@pelanggan.co.id", minutes: float = 0) -> str:
    created = world.mail(subject, sender=sender, minutes=minutes)
    world.pump()
    return str(created.ticket_id)


def _events(world: World, ticket_id: str) -> list[str]:
    return [e.type for e in world.tickets.thread(ticket_id)[1]]


# --- move -------------------------------------------------------------------------------------------------------


def test_a_lead_moves_a_held_ticket_to_another_team_whose_queue_takes_it_and_the_sla_clock_stays():
    world = World()
    world.agents.add("rina")
    world.agents.add("dewi", team="billing")
    ticket_id = _ticket(world)
    held = world.ticket(ticket_id)
    assert held.assignee == "rina" and held.status == "in_progress"
    clock_before, due_before = held.sla_clock, held.due_at

    moved = world.work().move(ticket_id, MoveRequest(team="billing", reason="a refund"), LEAD)
    assert (moved.team, moved.status, moved.assignee) == ("billing", "open", None)
    assert world.agents.loads["rina"] == 0  # her slot came back
    assert "ticket.moved" in _events(world, ticket_id)
    announced = [e for e in world.out.announced if e["event"] == "capacity.freed"]
    assert {e["team"] for e in announced} >= {"billing", "support"}

    world.pump()  # billing's queue drains to its own agent
    after = world.ticket(ticket_id)
    assert (after.team, after.assignee, after.status) == ("billing", "dewi", "in_progress")
    assert after.sla_clock == clock_before and after.due_at == due_before
    assert after.preferred_agent is None


def test_moving_is_a_leads_to_a_team_that_exists_and_straight_to_an_agent_only_of_that_team():
    world = World()
    world.agents.add("rina")
    world.agents.add("dewi", team="billing")
    ticket_id = _ticket(world)
    work = world.work()
    with pytest.raises(Forbidden):
        work.move(ticket_id, MoveRequest(team="billing"), AGENT)
    with pytest.raises(ValidationFailed, match="no team 'biling'"):
        work.move(ticket_id, MoveRequest(team="biling"), LEAD)
    with pytest.raises(ValidationFailed, match="not an agent of team billing"):
        work.move(ticket_id, MoveRequest(team="billing", assignee="rina"), LEAD)
    with pytest.raises(Forbidden):  # a lead of billing does not lead support's tickets
        work.move(ticket_id, MoveRequest(team="billing"), BILLING_LEAD)
    given = work.move(ticket_id, MoveRequest(team="billing", assignee="dewi"), LEAD)
    assert (given.team, given.assignee, given.status) == ("billing", "dewi", "in_progress")
    assert world.agents.loads == {"rina": 0, "dewi": 1}


def test_a_team_with_settings_but_no_agents_yet_may_receive_work_and_it_waits_in_its_queue():
    world = World()
    world.config.put("team", "vip-desk", {"strategy": "fifo"})
    ticket_id = _ticket(world)
    moved = world.work().move(ticket_id, MoveRequest(team="vip-desk"), LEAD)
    assert (moved.team, moved.status, moved.assignee) == ("vip-desk", "open", None)
    world.pump()
    assert world.ticket(ticket_id).waiting


# --- merge ------------------------------------------------------------------------------------------------------


def test_a_merge_closes_the_source_copies_its_thread_to_the_target_and_tells_its_customer_once():
    world = World()
    world.agents.add("rina")
    target_id = _ticket(world, "Pembayaran gagal", minutes=0)
    source_id = _ticket(world, "Bayar gagal lagi, tolong!", minutes=5)
    assert world.ticket(source_id).assignee == "rina" and world.ticket(source_id).due_at is not None
    mails_before = len(world.out.mails)

    target = world.work().merge(source_id, MergeRequest(into=target_id, reason="same payment"), LEAD)
    source = world.ticket(source_id)
    assert (source.status, source.merged_into) == ("closed", target_id)
    assert target.merged_from == [source_id]
    copies = [m for m in world.tickets.thread(target_id)[0] if m.merged_from == source_id]
    assert [m.body for m in copies if m.kind == "customer"] == ["Halo"]
    assert target.message_count == len([m for m in world.tickets.thread(target_id)[0] if m.direction == "inbound"]) == 2
    assert world.agents.loads["rina"] == 1  # the source's slot is back; the target still holds one
    assert "ticket.merged_into" in _events(world, source_id) and "ticket.merged_from" in _events(world, target_id)
    world.pump()  # the source's SLA clock stops as a closed ticket's does: nothing is due on it any more
    assert world.ticket(source_id).due_at is None
    notice = world.out.mails[mails_before:]
    assert len(notice) == 1 and world.ticket(target_id).ref.encode() in notice[0][0]

    with pytest.raises(InvalidTransition, match=f"merged into {target_id}: reply there"):
        world.desk().reply(source_id, validated(Reply, {"body": "Halo"}, "body"), LEAD)
    again = world.work().merge(source_id, MergeRequest(into=target_id), LEAD)  # a retry repeats nothing
    assert again.merged_from == [source_id] and again.message_count == target.message_count
    assert len(world.out.mails) == mails_before + 1
    assert _events(world, target_id).count("ticket.merged_from") == 1


def test_a_customer_writing_to_the_merged_ticket_lands_on_the_target():
    world = World()
    target_id = _ticket(world, "Pembayaran gagal")
    source_id = _ticket(world, "Bayar gagal lagi", minutes=5)
    world.work().merge(source_id, MergeRequest(into=target_id), LEAD)
    source_ref = world.ticket(source_id).ref
    reply = world.mail(f"Re: [{source_ref}] Bayar gagal lagi", "Masih gagal", minutes=30,
                       hints=ThreadHints(token_ref=None, subject_ref=source_ref, message_ids=()))  # fmt: skip
    assert (reply.outcome, reply.ticket_id) == ("threaded", target_id)


def test_what_cannot_be_merged_is_refused_with_the_reason():
    world = World()
    first = _ticket(world, "Satu")
    second = _ticket(world, "Dua", minutes=1)
    third = _ticket(world, "Tiga", minutes=2)
    work = world.work()
    with pytest.raises(Forbidden):
        work.merge(second, MergeRequest(into=first), AGENT)
    with pytest.raises(ValidationFailed, match="itself"):
        work.merge(first, MergeRequest(into=first), LEAD)
    with pytest.raises(NotFound):
        work.merge(first, MergeRequest(into="T-NOSUCH"), LEAD)
    work.merge(second, MergeRequest(into=first), LEAD)
    with pytest.raises(InvalidTransition, match="already merged"):
        work.merge(second, MergeRequest(into=third), LEAD)
    with pytest.raises(InvalidTransition, match="merge into that ticket instead"):
        work.merge(third, MergeRequest(into=second), LEAD)
    resolved = world.ticket(third)
    resolved.status = "resolved"
    world.tickets.save_unguarded(resolved)
    with pytest.raises(InvalidTransition, match="reopen it first"):
        work.merge(first, MergeRequest(into=third), LEAD)


def test_the_target_takes_the_more_urgent_priority_and_both_tickets_tags():
    world = World()
    target_id, source_id = _ticket(world, "Satu"), _ticket(world, "Dua", minutes=1)
    source = world.ticket(source_id)
    source.priority, source.tags = "urgent", {"refund"}
    world.tickets.save_unguarded(source)
    target = world.work().merge(source_id, MergeRequest(into=target_id), LEAD)
    assert target.priority == "urgent" and "refund" in target.tags
    assert any(source.ref in reason for reason in target.priority_reasons)


# --- links ------------------------------------------------------------------------------------------------------


def test_a_link_between_two_teams_tickets_shows_each_team_the_others_progress():
    world = World()
    billing_id = _ticket(world, "Refund")
    billing = world.ticket(billing_id)
    billing.team = "billing"
    world.tickets.save_unguarded(billing)
    world.agents.add("rina")
    support_id = _ticket(world, "Pembayaran gagal", minutes=1)
    work = world.work()

    linked = work.link(support_id, LinkRequest(ticket=billing.ref, note="refund follows"), AGENT)
    assert [link["ticket_id"] for link in linked.links] == [billing_id]
    views = work.links(world.ticket(billing_id))  # billing's side, as billing reads it
    assert views[0]["ticket_id"] == support_id and views[0]["status"] == "in_progress"
    assert views[0]["assignee"] == "rina" and views[0]["team"] == "support"
    assert "ticket.linked" in _events(world, support_id) and "ticket.linked" in _events(world, billing_id)
    with pytest.raises(Forbidden):  # linking does not open the other team's ticket to work on
        world.desk().find(billing_id, AGENT)

    again = work.link(support_id, LinkRequest(ticket=billing_id), AGENT)
    assert len(again.links) == 1
    unlinked = work.unlink(support_id, billing.ref, AGENT)
    assert unlinked.links == [] and world.ticket(billing_id).links == []
    with pytest.raises(NotFound):
        work.unlink(support_id, billing_id, AGENT)
    with pytest.raises(ValidationFailed, match="itself"):
        work.link(support_id, LinkRequest(ticket=support_id), AGENT)


# --- macros -----------------------------------------------------------------------------------------------------

REFUND = {"title": "Refund approved", "reply": "Halo {{ customer_name }}, refund untuk {{ ref }} sudah kami proses.",
          "status": "resolved", "add_tags": ["refund"]}  # fmt: skip


def test_a_macro_previews_exactly_what_it_then_does():
    world = World()
    world.agents.add("rina")
    ticket_id = _ticket(world)
    work = world.work()
    work.save_macro("refund", REFUND, "sari")
    ref = world.ticket(ticket_id).ref
    mails_before = len(world.out.mails)

    preview = work.run_macro(ticket_id, "refund", MacroRun(preview=True), AGENT)
    assert preview.reply["text"] == f"Halo Budi, refund untuk {ref} sudah kami proses."
    assert preview.changes == {"status": "resolved", "tags": ["refund"]}
    assert "ticket.status_changed" in preview.events
    assert world.ticket(ticket_id).status == "in_progress" and len(world.out.mails) == mails_before

    done = work.run_macro(ticket_id, "refund", MacroRun(), AGENT)
    assert done.ticket.status == "resolved" and "refund" in done.ticket.tags
    assert len(world.out.mails) == mails_before + 1
    assert [m.body for m in world.tickets.thread(ticket_id)[0] if m.kind == "agent"] == [preview.reply["text"]]


def test_a_macro_that_cannot_apply_sends_nothing_and_a_bad_macro_is_refused_when_saved():
    world = World()
    ticket_id = _ticket(world)
    work = world.work()
    work.save_macro("close", {"title": "Close", "reply": "Ditutup.", "status": "closed"}, "sari")
    mails_before = len(world.out.mails)
    with pytest.raises(InvalidTransition, match="cannot move a ticket from"):
        work.run_macro(ticket_id, "close", MacroRun(), AGENT)
    assert len(world.out.mails) == mails_before
    with pytest.raises(NotFound):
        work.run_macro(ticket_id, "nope", MacroRun(), AGENT)
    with pytest.raises(ValidationFailed, match="unknown"):
        work.save_macro("x", {"title": "X", "reply": "{{ nobody }}"}, "sari")
    with pytest.raises(ValidationFailed, match="not both"):
        work.save_macro("x", {"title": "X", "reply": "a", "template": "resolved"}, "sari")
    with pytest.raises(ValidationFailed, match="must reply, or change"):
        work.save_macro("x", {"title": "X"}, "sari")
    with pytest.raises(ValidationFailed, match="no template 'nope'"):
        work.save_macro("x", {"title": "X", "template": "nope"}, "sari")
    assert [m["id"] for m in work.macros()] == ["close"]
    work.delete_macro("close")
    with pytest.raises(NotFound):
        work.delete_macro("close")


def test_a_macro_with_a_stored_template_replies_in_the_customers_language_and_an_internal_one_only_notes():
    world = World()
    world.agents.add("rina")
    ticket_id = _ticket(world, "Pesanan saya belum sampai")
    work = world.work()
    work.save_macro("thanks", {"title": "Resolved notice", "template": "resolved"}, "sari")
    work.save_macro("note", {"title": "Escalate note", "reply": "cek dengan gudang", "internal": True,
                             "priority": "high"}, "sari")  # fmt: skip
    preview = work.run_macro(ticket_id, "thanks", MacroRun(preview=True), AGENT)
    assert "sudah selesai ditangani" in preview.reply["text"]
    mails_before = len(world.out.mails)
    noted = work.run_macro(ticket_id, "note", MacroRun(), AGENT)
    assert noted.ticket.priority == "high" and len(world.out.mails) == mails_before
    assert [m.body for m in world.tickets.thread(ticket_id)[0] if m.kind == "note"] == ["cek dengan gudang"]


def test_contracts_refuse_an_unknown_field_in_a_move_or_merge():
    with pytest.raises(ValidationFailed, match="unknown field"):
        validated(MoveRequest, {"team": "billing", "queue": "x"}, "body")
    with pytest.raises(ValidationFailed, match="into"):
        validated(MergeRequest, {}, "body")
