"""SLA clocks, the escalation ladder, agents' changes and customer messages, on in-memory fakes."""

from __future__ import annotations

import email
from datetime import timedelta

import pytest

from shared.domain.errors import AgentUnavailable, InvalidTransition
from shared.services.sla import PROMISE_STEP
from shared.services.ticket_changes import TicketChange
from tests.fakes import T0, World

pytestmark = pytest.mark.unit

POLICY = {
    "name": "Fast support",
    "position": 1,
    "calendar": "24x7",
    "targets": {"first_response": 600, "resolution": 3600},
    "ladder": [
        {"metric": "first_response", "at": 0.5, "action": "warn", "notify": ["supervisor"]},
        {"metric": "first_response", "at": 1.0, "action": "escalate", "tier": 2, "notify": ["supervisor"]},
    ],
}


def _routed(world: World, subject: str = "Pertanyaan produk", **mail: object) -> str:
    created = world.mail(subject, **mail)  # type: ignore[arg-type]
    world.pump()
    return str(created.ticket_id)


def _ladder_timers(world: World, ticket_id: str) -> list[tuple[int, object]]:
    return [(step, due) for tid, step, due in world.out.timers if tid == ticket_id and step >= 0]


def test_the_policy_applies_at_creation_and_the_ladder_warns_then_escalates_each_step_once():
    world = World()
    world.config.put("sla-policy", "fast", POLICY)
    ticket_id = _routed(world)
    ticket = world.ticket(ticket_id)
    assert ticket.sla is not None and ticket.sla["policy"] == "fast"
    assert _ladder_timers(world, ticket_id)[0] == (0, T0 + timedelta(seconds=300))

    world.clock.now = T0 + timedelta(seconds=300)
    assert world.sla.fire(ticket_id, 0) == "fired"
    assert world.sla.fire(ticket_id, 0) == "stale"  # a duplicate timer
    assert [t for t, _ in world.out.published] == ["sla.warning"]
    assert world.out.alerts and world.out.alerts[0][1] == ("supervisor",)

    assert world.sla.fire(ticket_id, 1) == "rescheduled"  # early: its timer comes back when it is due
    world.clock.now = T0 + timedelta(seconds=600)
    assert world.sla.fire(ticket_id, 1) == "fired"
    ticket = world.ticket(ticket_id)
    assert ticket.escalation_level == 1 and ticket.required_tier == 2 and ticket.sla["state"] == "breached"
    published = [t for t, _ in world.out.published]
    assert published.index("sla.breached") < published.index("ticket.escalated")


def test_the_sweep_fires_what_a_lost_timer_missed():
    world = World()
    world.config.put("sla-policy", "fast", POLICY)
    ticket_id = _routed(world)
    world.out.timers.clear()  # the timers were lost

    world.clock.now = T0 + timedelta(seconds=301)
    result = world.sla.sweep(T0, world.clock.now)
    assert result["fired"] == 1 and world.tickets.events(ticket_id, "sla.warning")


def test_waiting_on_the_customer_pauses_the_clock_and_their_reply_resumes_it():
    world = World()
    world.agents.add("ani")
    world.config.put("sla-policy", "fast", POLICY)
    ticket_id = _routed(world)

    world.later(seconds=60)
    world.changes.apply(ticket_id, TicketChange(status="pending"), "agent:ani")
    world.pump()
    assert world.ticket(ticket_id).sla["state"] == "paused"
    world.clock.now = T0 + timedelta(hours=5)
    assert world.sla.fire(ticket_id, 1) == "stale"  # paused: no breach while the customer has it

    ref = world.ticket(ticket_id).ref
    from shared.mail.threading import ThreadHints

    world.mail(f"Re: [{ref}]", "ini datanya", minutes=300, hints=ThreadHints(None, ref, ()))
    world.pump()
    assert world.ticket(ticket_id).sla["state"] != "paused"
    assert world.tickets.events(ticket_id, "sla.resumed")


def test_resolving_releases_the_agents_slot_tells_the_customer_once_and_meets_the_clock():
    world = World()
    world.agents.add("ani", capacity=1)
    ticket_id = _routed(world)
    assert world.agents.loads["ani"] == 1
    mails_before = len(world.out.mails)

    world.later(minutes=30)
    outcome = world.changes.apply(ticket_id, TicketChange(status="resolved"), "agent:ani")
    world.pump()
    assert outcome.freed_teams == ("support",) and world.agents.loads["ani"] == 0
    assert world.ticket(ticket_id).sla["state"] == "met"
    assert len(world.out.mails) == mails_before + 1  # the resolution notice
    world.messenger.notify_once(world.ticket(ticket_id), "resolved")
    assert len(world.out.mails) == mails_before + 1  # never twice


def test_the_state_machine_refuses_a_jump_and_assigning_to_a_full_agent_is_refused():
    world = World()
    world.agents.add("ani", capacity=1, load=1)
    ticket_id = _routed(world)
    with pytest.raises(InvalidTransition):
        world.changes.apply(ticket_id, TicketChange(status="closed"), "agent:ani")
    with pytest.raises(AgentUnavailable):
        world.changes.apply(ticket_id, TicketChange(assignee="ani"), "supervisor:lead")
    assert world.ticket(ticket_id).waiting and world.agents.loads["ani"] == 1


def test_unassigning_puts_the_ticket_back_in_the_queue_for_the_next_free_agent():
    world = World()
    world.agents.add("ani", capacity=1)
    ticket_id = _routed(world)
    world.agents.add("budi", capacity=1)

    world.changes.apply(ticket_id, TicketChange(unassign=True), "supervisor:lead")
    world.pump()  # capacity.freed: the queue drains, ani is preferred again (she had it)
    ticket = world.ticket(ticket_id)
    assert ticket.assignee == "ani" and world.agents.loads == {"ani": 1, "budi": 0}


def test_removing_an_escalation_keyword_tag_de_escalates_and_adding_one_escalates():
    world = World()
    ticket_id = _routed(world, "Sistem macet")
    assert world.ticket(ticket_id).escalation_level == 1

    world.changes.apply(ticket_id, TicketChange(tags=()), "supervisor:lead")
    assert world.ticket(ticket_id).escalation_level == 0
    world.changes.apply(ticket_id, TicketChange(tags=("sistem macet",)), "supervisor:lead")
    assert world.ticket(ticket_id).escalation_level == 1


def test_the_acknowledgement_goes_once_with_ref_and_eta_and_never_to_a_bouncing_address():
    world = World()
    world.agents.add("ani")
    ticket_id = _routed(world, "Tidak bisa login")
    [(raw, to)] = world.out.mails
    ack = email.message_from_bytes(raw)
    assert to == ["budi@pelanggan.co.id"] and world.ticket(ticket_id).ref in str(ack["Subject"])
    assert world.messenger.acknowledge(world.ticket(ticket_id), suppress=False) is None  # once per ticket
    assert world.ticket(ticket_id).eta_promise is not None

    from shared.domain.model import Channel, Contact

    world.customers.get_or_create(Contact(Channel.EMAIL, "gone@pelanggan.co.id"), T0)
    world.customers.mark_bouncing(Contact(Channel.EMAIL, "gone@pelanggan.co.id"), T0)
    _routed(world, "Halo", sender="gone@pelanggan.co.id")
    assert len(world.out.mails) == 1


def test_a_promise_that_breaks_tells_the_customer_once_that_it_takes_longer():
    world = World()
    ticket_id = _routed(world, "Pertanyaan produk")  # nobody online: the promise will break
    promise = world.ticket(ticket_id).eta_promise
    assert promise is not None
    world.clock.now = T0 + timedelta(seconds=promise["first_response"] - 60)
    assert world.sla.fire(ticket_id, PROMISE_STEP) == "rescheduled"  # not yet
    world.clock.now = T0 + timedelta(seconds=promise["first_response"])
    assert world.sla.fire(ticket_id, PROMISE_STEP) == "fired"
    assert world.sla.fire(ticket_id, PROMISE_STEP) == "stale"
    kinds = [email.message_from_bytes(raw)["Subject"] for raw, _ in world.out.mails]
    assert len(kinds) == 2 and world.tickets.events(ticket_id, "eta.slipped")


def test_an_agents_reply_meets_the_first_response_and_brings_an_sla_escalation_down():
    world = World()
    world.config.put("sla-policy", "fast", POLICY)
    world.agents.add("citra", tier=2)
    ticket_id = _routed(world)
    world.clock.now = T0 + timedelta(seconds=600)
    world.sla.fire(ticket_id, 1)
    assert world.ticket(ticket_id).escalation_level == 1

    world.later(seconds=30)
    world.sla.on_agent_reply(world.ticket(ticket_id), world.clock())
    ticket = world.ticket(ticket_id)
    assert ticket.escalation_level == 0
    assert [e.data.get("metric") for e in world.tickets.events(ticket_id, "sla.met")] == ["first_response"]


def test_an_auto_reply_rule_answers_and_resolves_and_no_acknowledgement_goes_out_beside_it():
    world = World()
    world.config.put("auto-reply", "opening-hours", {"phrases": ["jam buka"], "template": "acknowledgement", "resolve": True})
    ticket_id = _routed(world, "Jam buka toko?", body="Kapan jam buka toko?")

    ticket = world.ticket(ticket_id)
    assert ticket.status == "resolved"
    assert len(world.out.mails) == 1  # the auto-reply only: it answered, so no acknowledgement and no resolution notice
    [sent] = world.tickets.events(ticket_id, "notification.sent")
    assert sent.data["kind"] == "auto_reply" and sent.data["rule"] == "opening-hours"


def test_an_agents_public_reply_goes_to_the_customer_threaded_and_is_on_the_thread():
    world = World()
    world.agents.add("ani", name="Ani")
    ticket_id = _routed(world, "Tidak bisa login")
    message_id = world.messenger.agent_reply(world.ticket(ticket_id), "ani", "Ani", "Sudah kami reset.", world.clock())

    raw, to = world.out.mails[-1]
    reply = email.message_from_bytes(raw)
    assert to == ["budi@pelanggan.co.id"] and "Ani" in str(reply["From"])
    assert world.ticket(ticket_id).ref in str(reply["Subject"]) and "support+" in str(reply["Reply-To"])
    outbound = [m for m in world.tickets.thread(ticket_id)[0] if m.message_id == message_id]
    assert outbound and outbound[0].kind == "agent" and outbound[0].body == "Sudah kami reset."


def test_one_ladder_step_reads_each_policy_calendar_and_team_once():
    """The step looks at the policy, the calendar and the team's idle time several times (due steps, the clock's
    summary, the next due moment, idleness): one decision reads and parses each once."""
    world = World()
    world.config.put("calendar", "office", {"timezone": "Asia/Jakarta", "hours": {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}})
    world.config.put("sla-policy", "fast", {**POLICY, "calendar": "office"})
    ticket_id = _routed(world)
    world.config.reads.clear()

    world.clock.now = T0 + timedelta(seconds=300)
    assert world.sla.fire(ticket_id, 0) == "fired"
    reads = world.config.reads
    assert sorted(set(reads)) == sorted(reads), reads
    assert {("sla-policy", "*"), ("calendar", "office"), ("team", "support")} <= set(reads)
