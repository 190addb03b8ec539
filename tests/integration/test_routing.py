"""Routing scenarios on moto: priority with reasons, conflict-free assignment, the fair queue, the acknowledgement."""

from __future__ import annotations

from datetime import datetime, timezone
from email import message_from_bytes, policy

import pytest

from shared.domain.model import Status
from shared.storage.agents import AgentRepository
from shared.storage.config import ConfigRepository
from shared.storage.customers import CustomerRepository
from shared.domain.ticket import Ticket
from shared.storage.models import AgentLoadModel, AgentModel, CustomerModel, TicketModel
from shared.storage.tickets import TicketRepository
from shared.domain.model import Channel, Contact
from tests.support import compose, deliver

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 2, 3, 15, tzinfo=timezone.utc)


def agent(agent_id: str, *, capacity: int = 3, presence: str = "online", load: int = 0, tier: int = 1, skills=(), team="support", **extra):
    AgentRepository().save(
        AgentModel(
            id=agent_id,
            name=agent_id.title(),
            team=team,
            presence=presence,
            capacity=capacity,
            tier=tier,
            skills=set(skills),
            timezone="Asia/Jakarta",
            created_at="",
            updated_at="",
            **extra,
        ),
        NOW,
    )
    if load:
        AgentLoadModel(agent_id=agent_id).update(actions=[AgentLoadModel.load.set(load)])


def load_of(agent_id: str) -> int:
    return int(AgentLoadModel.get(agent_id).load)


def vip(address: str) -> None:
    repo = CustomerRepository()
    repo.update(repo.get_or_create(Contact(Channel.EMAIL, address), NOW).id, NOW, tier="vip")


def new_ticket(aws, subject: str, *, sender: str = "Budi <budi@pelanggan.co.id>", minute: int = 0, body: str = "Halo") -> Ticket:
    result = deliver(aws.s3, compose(sender=sender, subject=subject, body=body), timestamp=f"2026-11-02T03:{minute:02d}:00.000Z")
    ticket = TicketRepository().get(result["ticket_id"])
    assert ticket is not None
    return ticket


def test_with_five_online_and_four_busy_the_fifth_agent_gets_the_ticket(aws):
    for n in range(1, 5):
        agent(f"busy-{n}", capacity=2, load=2)
    agent("free-5", capacity=2)

    ticket = new_ticket(aws, "Printer error")
    aws.route()

    assert TicketModel.get(ticket.id).assignee == "free-5"
    assert TicketModel.get(ticket.id).status == "in_progress"
    assert load_of("free-5") == 1 and all(load_of(f"busy-{n}") == 2 for n in range(1, 5))


def test_the_least_loaded_agent_wins_and_ties_go_to_who_waited_longest(aws):
    agent("ani", capacity=5, load=2)
    agent("budi", capacity=5, load=1)
    agent("citra", capacity=5, load=1)
    AgentLoadModel(agent_id="budi").update(actions=[AgentLoadModel.last_assigned_at.set("2026-11-02T02:00:00.000Z")])
    AgentLoadModel(agent_id="citra").update(actions=[AgentLoadModel.last_assigned_at.set("2026-11-02T01:00:00.000Z")])

    first = new_ticket(aws, "one", minute=1)
    aws.route()
    second = new_ticket(aws, "two", minute=2)
    aws.route()

    assert TicketModel.get(first.id).assignee == "citra"  # tie on load 1: citra waited longer
    assert TicketModel.get(second.id).assignee == "budi"  # now budi (1) is below citra (2) and ani (2)


def test_nobody_is_overfilled_and_extra_tickets_wait_then_drain_in_order_as_capacity_frees(aws):
    agent("dewi", capacity=1)
    tickets = [new_ticket(aws, f"request {n}", minute=n) for n in range(3)]
    aws.route()

    states = [TicketModel.get(t.id) for t in tickets]
    assert [t.assignee for t in states] == ["dewi", None, None]
    assert [t.status for t in states] == ["in_progress", "open", "open"]
    assert load_of("dewi") == 1

    from tests.integration.test_api_routing import change

    change(tickets[0].id, status="resolved")
    aws.route()
    assert TicketModel.get(tickets[1].id).assignee == "dewi" and TicketModel.get(tickets[2].id).assignee is None
    assert load_of("dewi") == 1


def test_urgency_strategy_serves_urgent_before_older_medium_and_fifo_serves_vip_first(aws):
    agent("eka", capacity=1, presence="offline")
    vip("vip@pelanggan.co.id")
    older = new_ticket(aws, "Pertanyaan tentang fitur", minute=1)
    urgent = new_ticket(aws, "Sistem macet total", minute=2)
    from_vip = new_ticket(aws, "Question", sender="vip@pelanggan.co.id", minute=3)
    aws.route()
    assert TicketModel.get(urgent.id).priority == "urgent"

    tickets = TicketRepository()
    assert [t.id for t in tickets.waiting("support", "urgency")] == [urgent.id, from_vip.id, older.id]
    ConfigRepository().put("team", "support", {"strategy": "fifo"}, "test", NOW)
    assert [t.id for t in tickets.waiting("support", "fifo")] == [from_vip.id, older.id, urgent.id]


def test_sistem_macet_from_a_vip_is_urgent_with_its_reasons(aws):
    vip("direktur@pelanggan.co.id")
    ticket = new_ticket(aws, "Sistem macet", sender="Pak Direktur <direktur@pelanggan.co.id>", body="Sistem macet sejak pagi, semua kasir berhenti.")
    aws.route()

    routed = TicketModel.get(ticket.id)
    assert routed.priority == "urgent" and routed.category == "outage"
    reasons = " | ".join(routed.priority_reasons)
    assert "sistem macet" in reasons and "vip" in reasons
    events = TicketRepository().thread(ticket.id)[1]
    changed = [e for e in events if e.type == "ticket.priority_changed"]
    assert changed and changed[0].data["to"] == "urgent"


def test_the_customer_gets_one_acknowledgement_with_ref_and_eta_threaded_and_marked_automatic(aws):
    agent("fajar", capacity=2)
    result = deliver(aws.s3, compose(subject="Tidak bisa login", body="Saya tidak bisa login sejak pagi", message_id="<ack-1@pelanggan.co.id>"))
    aws.route()
    aws.route()  # nothing left; a replayed announcement would be a no-op too

    [sent] = aws.sent_mail()
    mail = message_from_bytes(sent.raw_data.encode() if isinstance(sent.raw_data, str) else sent.raw_data, policy=policy.default)
    ticket = TicketModel.get(result["ticket_id"])
    assert ticket.ref in mail["Subject"]
    assert mail["In-Reply-To"] == "<ack-1@pelanggan.co.id>"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["Reply-To"].addresses[0].username.startswith("support+")
    assert mail["To"].addresses[0].addr_spec == "budi@pelanggan.co.id"
    body = mail.get_body(("plain",)).get_content()
    assert ticket.ref in body and "menit" in body  # Indonesian customer, Indonesian ETA
    messages, events = TicketRepository().thread(ticket.id)
    outbound = [m for m in messages if m.direction == "outbound"]
    assert len(outbound) == 1 and outbound[0].email_message_id.endswith("@email.amazonses.com>")
    assert [e.type for e in events].count("notification.sent") == 1


def test_a_reply_to_the_acknowledgement_threads_onto_the_ticket(aws):
    result = deliver(aws.s3, compose(subject="Invoice salah", message_id="<inv@pelanggan.co.id>"))
    aws.route()
    ack_id = [m for m in TicketRepository().thread(result["ticket_id"])[0] if m.direction == "outbound"][0].email_message_id

    reply = deliver(aws.s3, compose(subject="Re: Invoice salah", body="Terima kasih", in_reply_to=ack_id), timestamp="2026-11-02T05:00:00.000Z")

    assert reply["ticket_id"] == result["ticket_id"]


def test_automated_mail_and_bouncing_customers_get_no_acknowledgement(aws):
    deliver(aws.s3, compose(subject="Out of office", headers={"Auto-Submitted": "auto-replied"}))
    CustomerRepository().get_or_create(Contact(Channel.EMAIL, "gone@pelanggan.co.id"), NOW)
    CustomerRepository().mark_bouncing(Contact(Channel.EMAIL, "gone@pelanggan.co.id"), NOW)
    deliver(aws.s3, compose(sender="gone@pelanggan.co.id", subject="help"))
    aws.route()

    assert aws.sent_mail() == []


def test_a_customer_reply_to_a_pending_ticket_goes_back_to_the_same_agent_within_capacity(aws):
    agent("gita", capacity=1)
    first = deliver(aws.s3, compose(subject="Need help", message_id="<pend@pelanggan.co.id>"))
    aws.route()
    from tests.integration.test_api_routing import change

    change(first["ticket_id"], status="pending")
    assert load_of("gita") == 0
    deliver(aws.s3, compose(body="here is the info", in_reply_to="<pend@pelanggan.co.id>"), timestamp="2026-11-02T04:00:00.000Z")
    aws.route()

    ticket = TicketModel.get(first["ticket_id"])
    assert ticket.status == "in_progress" and ticket.assignee == "gita" and load_of("gita") == 1


def test_a_failing_record_is_reported_alone_and_the_rest_of_the_batch_goes_through(aws):
    import json

    from functions.route.handler import lambda_handler
    from tests.integration.conftest import sqs_record
    from tests.support import FakeContext

    agent("hadi", capacity=3)
    deliver(aws.s3, compose(subject="fine"))
    [good] = aws.sqs.receive_message(QueueUrl=aws.route_queue_url, MaxNumberOfMessages=10)["Messages"]
    bad = dict(good, MessageId="bad-1", Body=json.dumps({"event": "ticket.created", "ticket_id": "NOPE", "message_id": "x"}))

    reply = lambda_handler({"Records": [sqs_record(bad, aws.route_queue_url), sqs_record(good, aws.route_queue_url)]}, FakeContext())

    assert reply == {"batchItemFailures": [{"itemIdentifier": "bad-1"}]}
    assert TicketModel.get(json.loads(good["Body"])["ticket_id"]).assignee == "hadi"


def test_route_announcements_replayed_change_nothing(aws):
    import json

    from functions.route.handler import lambda_handler
    from tests.integration.conftest import sqs_record
    from tests.support import FakeContext

    agent("intan", capacity=3)
    deliver(aws.s3, compose(subject="once"))
    [message] = aws.sqs.receive_message(QueueUrl=aws.route_queue_url)["Messages"]
    event = {"Records": [sqs_record(message, aws.route_queue_url)]}
    for _ in range(3):
        assert lambda_handler(event, FakeContext()) == {"batchItemFailures": []}

    ticket_id = json.loads(message["Body"])["ticket_id"]
    assert load_of("intan") == 1 and len(aws.sent_mail()) == 1
    assert [e.type for e in TicketRepository().thread(ticket_id)[1]].count("ticket.assigned") == 1


def test_waiting_tickets_are_assigned_when_an_agent_comes_online(aws):
    agent("joko", capacity=2, presence="offline")
    tickets = [new_ticket(aws, f"waiting {n}", minute=n) for n in range(3)]
    aws.route()
    assert all(TicketModel.get(t.id).status == Status.OPEN.value for t in tickets)

    from tests.integration.test_api_routing import put_agent

    put_agent("joko", {"presence": "online", "capacity": 2})
    aws.route()

    assert [TicketModel.get(t.id).assignee for t in tickets] == ["joko", "joko", None]
    assert load_of("joko") == 2


def test_when_every_agent_tried_fills_up_meanwhile_a_newer_ticket_does_not_take_the_older_ones_slot(aws):
    """Found under contention: five lost races on the queue head used to move on to the next ticket."""
    from shared.services.routing import RoutingService
    from shared.storage.customers import CustomerRepository

    for n in range(1, 7):
        agent(f"a{n}", capacity=1)
    older = new_ticket(aws, "Question 1", minute=1)
    younger = new_ticket(aws, "Question 2", minute=2)
    routing = RoutingService(TicketRepository(), AgentRepository(), CustomerRepository(), ConfigRepository())
    for ticket in (older, younger):
        routing.admit(routing.prioritise(ticket))  # routed, but not yet drained

    class StaleRead(AgentRepository):
        """The candidates this worker read; right after, other workers filled a1..a5."""

        first = True

        def candidates(self, team):
            fresh = super().candidates(team)
            if self.first:
                self.first = False
                for n in range(1, 6):
                    AgentLoadModel(agent_id=f"a{n}").update(actions=[AgentLoadModel.load.set(1)])
            return fresh

    RoutingService(TicketRepository(), StaleRead(), CustomerRepository(), ConfigRepository()).drain("support")

    assert TicketModel.get(older.id).assignee == "a6"
    assert TicketModel.get(younger.id).assignee is None


# ------------------------------------------------------------------ the simplest setup a new team makes


def test_billing_tickets_go_to_skill_less_agents_created_the_simplest_way(aws):
    """The default rules give "tagihan"/"refund"/"invoice" the skill billing; agents created with only a team,
    capacity and presence must still get them (they used to wait forever while the customer was told 4 hours)."""
    from tests.integration.test_api_routing import call, put_agent

    put_agent("ani", {"team": "support", "capacity": 2, "presence": "online"})
    ticket = new_ticket(aws, "Tagihan bulan ini salah", body="Mohon cek invoice saya, ada refund yang belum masuk.")
    aws.route()

    status, resource = call("GET", f"/v1/tickets/{ticket.id}", role="agent")
    assert status == 200 and resource["assignee"] == "ani" and resource["status"] == "in_progress"
    assert resource["skill"] == "billing"
    assert any(r.startswith("skill billing") for r in resource["priority_reasons"])
    assert "no free agent with skill 'billing': best agent without it" in resource["assignment_reason"]
    [assigned] = [e for e in resource["events"] if e["type"] == "ticket.assigned"]
    assert assigned["data"]["skill"] == "billing" and assigned["data"]["skill_matched"] is False
    [ack] = [m for m in resource["messages"] if m["direction"] == "outbound"]
    assert "antrean" not in ack["body"]  # nobody told they wait in a queue while an agent holds the ticket


def test_an_agent_with_the_skill_is_preferred_even_when_busier(aws):
    agent("plain", capacity=5)
    agent("fina", capacity=5, load=2, skills={"billing"})
    ticket = new_ticket(aws, "Refund", body="Saya minta refund.")
    aws.route()

    assert TicketModel.get(ticket.id).assignee == "fina"
    assert TicketModel.get(ticket.id).assignment_reason.startswith("has skill 'billing'")


def test_a_team_may_wait_for_a_skilled_agent_before_anyone_takes_the_ticket(aws):
    """skill_wait_seconds: the ticket waits that long for an agent with its skill, then the route stage drains
    the queue again by itself (a delayed team.drain) and the best agent without it takes it."""
    import time

    from shared.domain.timefmt import iso, utcnow
    from tests.integration.test_api_routing import call, put_agent

    assert call("PUT", "/v1/teams/support", {"skill_wait_seconds": 2})[0] == 200
    put_agent("ani", {"team": "support", "capacity": 2, "presence": "online"})
    created = deliver(aws.s3, compose(subject="Invoice salah", body="Invoice saya salah."), timestamp=iso(utcnow()))
    aws.route()
    assert TicketModel.get(created["ticket_id"]).assignee is None  # a skilled agent may still come

    deadline = time.monotonic() + 20
    while TicketModel.get(created["ticket_id"]).assignee is None and time.monotonic() < deadline:
        time.sleep(0.5)
        aws.route()  # the delayed drain becomes visible once the skill wait is over
    assert TicketModel.get(created["ticket_id"]).assignee == "ani"


def test_the_sweep_plans_a_drain_at_the_first_second_of_a_shift_and_the_drain_assigns_then(aws, monkeypatch):
    import math
    from datetime import timedelta

    from functions.escalate import handler as escalate
    from shared.adapters.route_queue import RouteAnnouncer
    from shared.domain.timefmt import iso, parse_iso, utcnow
    from tests.integration.test_api_routing import put_agent
    from tests.support import FakeContext

    now = utcnow()
    start = (now + timedelta(minutes=1)).replace(second=0, microsecond=0)
    day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[start.weekday()]
    put_agent("siti", {"team": "support", "capacity": 2, "presence": "online", "timezone": "UTC",
                       "working_hours": {day: [[start.strftime("%H:%M"), "24:00"]]}})  # fmt: skip
    waiting = deliver(aws.s3, compose(subject="Login gagal"), timestamp=iso(now))
    aws.route()
    assert TicketModel.get(waiting["ticket_id"]).assignee is None  # her shift has not begun

    sent: list[tuple[dict, int]] = []
    real_announce = RouteAnnouncer.announce
    monkeypatch.setattr(RouteAnnouncer, "announce", lambda self, event, delay_seconds=0: (sent.append((event, delay_seconds)), real_announce(self, event, delay_seconds))[1])  # noqa: E501
    escalate._service = None
    escalate.sweep_handler({}, FakeContext(function_name="ticketing-SweepFunction"))

    [(event, delay)] = [(e, d) for e, d in sent if e["event"] == "team.drain"]
    assert event["team"] == "support" and parse_iso(event["due_at"]) == start
    assert 0 < delay <= math.ceil((start - now).total_seconds()) + 1

    # the drain arrives at the first second of the shift
    from functions.route import handler as route

    route._router = None
    router = route.build_router()
    monkeypatch.setattr("shared.services.route_stage.utcnow", lambda: start + timedelta(seconds=1))
    router.routing.clock = lambda: start + timedelta(seconds=1)
    router.handle(event)
    assert TicketModel.get(waiting["ticket_id"]).assignee == "siti"
    route._router = None


def test_an_early_drain_hops_on_instead_of_draining(aws, monkeypatch):
    from datetime import timedelta

    from functions.route.handler import build_router
    from shared.adapters.route_queue import RouteAnnouncer
    from shared.domain.timefmt import iso, utcnow

    sent: list[tuple[dict, int]] = []
    monkeypatch.setattr(RouteAnnouncer, "announce", lambda self, event, delay_seconds=0: sent.append((event, delay_seconds)))
    due = utcnow() + timedelta(hours=2)
    assert build_router().handle({"event": "team.drain", "team": "support", "due_at": iso(due), "why": "shift starts"}) == {"hop": True}
    [(event, delay)] = sent
    assert event["due_at"] == iso(due) and delay == 900


def test_an_agent_who_resolves_another_teams_ticket_frees_a_slot_for_their_own_queue(aws):
    from tests.integration.test_api_routing import change, put_agent

    put_agent("budi", {"team": "billing", "capacity": 1, "presence": "online"}, role="admin")  # a billing agent: not a support lead's to set up
    helped = new_ticket(aws, "Printer", minute=1)  # a support ticket
    aws.route()
    change(helped.id, assignee="budi")
    theirs = new_ticket(aws, "Tagihan", minute=2)
    TicketModel(id=theirs.id).update(actions=[TicketModel.team.set("billing"), TicketModel.queue_key.set("billing#open")], add_version_condition=False)
    aws.route()
    assert TicketModel.get(theirs.id).assignee is None and load_of("budi") == 1

    change(helped.id, status="resolved")
    announced = aws.route_messages()
    assert {"event": "capacity.freed", "team": "billing", "ticket_id": helped.id} in announced
    from shared.services.route_stage import Router  # noqa: F401 - the drain the announcement asks for:
    from functions.route.handler import build_router

    build_router().handle({"event": "capacity.freed", "team": "billing"})
    assert TicketModel.get(theirs.id).assignee == "budi" and load_of("budi") == 1


def test_the_sweep_keeps_the_load_of_an_agent_who_holds_another_teams_tickets(aws):
    """reconcile_load once counted only the agent's own team's tickets: budi ended with load 0 holding 4."""
    from datetime import timedelta

    from functions.escalate import handler as escalate
    from tests.integration.test_api_routing import change, put_agent

    put_agent("budi", {"team": "billing", "capacity": 4, "presence": "online"}, role="admin")
    tickets = [new_ticket(aws, f"support {n}", minute=n) for n in range(4)]
    aws.route()
    for ticket in tickets:
        change(ticket.id, assignee="budi")
    assert load_of("budi") == 4
    escalate._service = None
    service = escalate.service()
    service.clock = lambda: NOW + timedelta(days=60)  # long after the last assignment: the indexes have settled

    assert service.reconcile_load("billing") == {"agents_repaired": 0}
    assert load_of("budi") == 4
    AgentLoadModel(agent_id="budi").update(actions=[AgentLoadModel.load.set(1)])  # real drift is still repaired
    assert service.reconcile_load("billing") == {"agents_repaired": 1} and load_of("budi") == 4
    escalate._service = None


def test_the_sweep_leaves_a_counter_that_just_moved_for_the_next_sweep(aws):
    from functions.escalate import handler as escalate
    from shared.domain.timefmt import parse_iso

    agent("eka", capacity=3)
    new_ticket(aws, "one")
    aws.route()
    AgentLoadModel(agent_id="eka").update(actions=[AgentLoadModel.load.set(3)])
    escalate._service = None
    service = escalate.service()
    service.clock = lambda: parse_iso(AgentLoadModel.get("eka").load_changed_at)  # the assignment just happened

    assert service.reconcile_load("support") == {"agents_repaired": 0} and load_of("eka") == 3
    escalate._service = None


def test_the_acknowledgement_counts_only_the_tickets_ahead_that_its_own_agents_could_take(aws):
    agent("tini", capacity=1, load=1)  # tier 1, busy
    escalated = new_ticket(aws, "needs tier 2", minute=1)
    aws.route()
    TicketModel(id=escalated.id).update(actions=[TicketModel.required_tier.set(2)], add_version_condition=False)  # only tier 2 could take it
    new_ticket(aws, "first in line", minute=2)  # the one ticket ahead that tini could take
    aws.route()
    mine = new_ticket(aws, "my question", minute=3)
    aws.route()

    [ack] = [m for m in TicketRepository().thread(mine.id)[0] if m.direction == "outbound"]
    assert "Posisi Anda dalam antrean: 2" in ack.body, ack.body  # "first in line" and mine; not the tier-2 ticket


def test_a_new_ticket_whose_announcement_was_lost_is_announced_again_by_the_sweep(aws):
    """A queue lost with a crash (or a stop) must not leave a ticket in triage forever."""
    from functions.escalate import handler as escalate
    from tests.support import FakeContext

    agent("wati", capacity=2)
    lost = new_ticket(aws, "Tidak bisa login")
    assert [m["event"] for m in aws.route_messages()] == ["ticket.created"]  # consumed, never routed: lost
    assert TicketModel.get(lost.id).queue_key == "support#triage"

    escalate._service = None
    result = escalate.sweep_handler({}, FakeContext(function_name="ticketing-SweepFunction"))
    aws.route()

    assert result["support.reannounced"] == 1
    ticket = TicketModel.get(lost.id)
    assert ticket.assignee == "wati" and ticket.priority == "high"
    assert len([m for m in TicketRepository().thread(lost.id)[0] if m.direction == "outbound"]) == 1  # one ack
    again = escalate.sweep_handler({}, FakeContext(function_name="ticketing-SweepFunction"))
    assert again["support.reannounced"] == 0
    escalate._service = None
