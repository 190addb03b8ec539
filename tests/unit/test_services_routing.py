"""Routing on in-memory fakes: priorities with reasons, the team's queue order, skills as preferences, capacity."""

from __future__ import annotations

import pytest

from tests.fakes import World

pytestmark = pytest.mark.unit


def test_a_vips_outage_is_urgent_with_every_reason_and_goes_to_a_tier_2_agent():
    """"sistem macet" is urgent and an escalation keyword: tier 1 (ani) may not take it, tier 2 (citra) does."""
    world = World()
    world.customers.set_tier(_contact("boss@pelanggan.co.id"), "vip", world.clock())
    world.agents.add("ani", capacity=2)
    world.agents.add("citra", capacity=2, tier=2)
    created = world.mail("Sistem macet total", "Semua kasir tidak bisa transaksi", sender="boss@pelanggan.co.id")
    world.pump()

    ticket = world.ticket(created.ticket_id)
    assert ticket.priority == "urgent" and ticket.priority_source == "rules"
    assert any("sistem macet" in reason for reason in ticket.priority_reasons)
    assert any("vip" in reason for reason in ticket.priority_reasons)
    assert ticket.required_tier == 2 and ticket.tags == {"sistem macet"}
    assert ticket.assignee == "citra" and ticket.status == "in_progress"
    assert world.agents.loads == {"ani": 0, "citra": 1}
    [changed] = world.tickets.events(ticket.id, "ticket.priority_changed")
    assert changed.data["to"] == "urgent"


def test_nobody_online_leaves_the_ticket_waiting_and_the_first_agent_online_gets_it():
    world = World()
    created = world.mail("Tidak bisa login")
    world.pump()
    assert world.ticket(created.ticket_id).waiting

    world.agents.add("ani")
    world.out.announce({"event": "agent.available", "team": "support", "agent_id": "ani"})
    world.pump()
    assert world.ticket(created.ticket_id).assignee == "ani"


def test_the_queue_serves_high_before_older_medium_and_never_fills_an_agent_past_capacity():
    world = World()
    older = world.mail("Pertanyaan produk", minutes=1, sender="a@pelanggan.co.id")
    urgent = world.mail("Tidak bisa login", minutes=2, sender="b@pelanggan.co.id")
    third = world.mail("Pertanyaan lain", minutes=3, sender="c@pelanggan.co.id")
    world.pump()

    world.agents.add("ani", capacity=1)
    world.routing.drain("support")
    assert world.ticket(urgent.ticket_id).assignee == "ani"
    assert world.ticket(older.ticket_id).waiting and world.ticket(third.ticket_id).waiting
    assert world.agents.loads["ani"] == 1

    world.agents.profiles["ani"].capacity = 2
    world.routing.drain("support")  # a second slot: the older of the two equal tickets first
    assert world.ticket(older.ticket_id).assignee == "ani" and world.ticket(third.ticket_id).waiting
    assert world.agents.loads["ani"] == 2


def test_fifo_serves_by_age_with_vip_customers_first():
    world = World()
    world.config.put("team", "support", {"strategy": "fifo"})
    world.customers.set_tier(_contact("vip@pelanggan.co.id"), "vip", world.clock())
    first = world.mail("Pertanyaan", minutes=1, sender="a@pelanggan.co.id")
    vip = world.mail("Pertanyaan juga", minutes=2, sender="vip@pelanggan.co.id")
    world.pump()

    world.agents.add("ani", capacity=1)
    world.routing.drain("support")
    assert world.ticket(vip.ticket_id).assignee == "ani" and world.ticket(first.ticket_id).waiting


def test_a_billing_ticket_goes_to_a_skill_less_agent_when_nobody_has_the_skill():
    """The newcomer's setup: agents without skills. A skill is a preference, never a wall (skill wait 0)."""
    world = World()
    world.agents.add("ani")
    created = world.mail("Tagihan ganda bulan ini", "Saya ditagih dua kali")
    world.pump()

    ticket = world.ticket(created.ticket_id)
    assert ticket.required_skill == "billing"
    assert ticket.assignee == "ani"
    assert "billing" in str(ticket.assignment_reason)


def test_with_a_skill_wait_the_skilled_agent_is_preferred_and_the_others_wait_their_turn():
    world = World()
    world.config.put("team", "support", {"skill_wait_seconds": 300})
    world.agents.add("ani")
    created = world.mail("Tagihan ganda bulan ini")
    world.pump()
    assert world.ticket(created.ticket_id).waiting  # ani lacks the skill: the ticket waits for the skill wait

    result = world.routing.drain("support")
    assert result.retry_at is not None  # routing asks to be woken when the wait ends
    world.later(seconds=301)
    world.routing.drain("support")
    assert world.ticket(created.ticket_id).assignee == "ani"


def test_an_agent_changing_priority_by_hand_is_never_overruled_by_the_rules():
    world = World()
    created = world.mail("Sistem macet")
    world.pump()
    world.changes.apply(created.ticket_id, _change(priority="low"), "agent:ani")

    ticket = world.routing.prioritise(world.ticket(created.ticket_id))
    assert ticket.priority == "low" and ticket.priority_source == "agent"


def test_a_lost_race_re_reads_and_decides_again():
    """Someone saves the ticket between routing's read and its save: the rules run again on the fresh copy."""
    world = World()
    created = world.mail("Tidak bisa login")
    stale = world.ticket(created.ticket_id)
    fresh = world.ticket(created.ticket_id)
    fresh.tags = {"from-elsewhere"}
    world.tickets.save(fresh)

    decided = world.routing.prioritise(stale)
    stored = world.ticket(created.ticket_id)
    assert decided.priority == stored.priority == "high"
    assert stored.tags == {"from-elsewhere"}  # the other change survived


def _contact(address: str):
    from shared.domain.model import Channel, Contact

    return Contact(Channel.EMAIL, address)


def _change(**values):
    from shared.services.ticket_changes import TicketChange

    return TicketChange(**values)
