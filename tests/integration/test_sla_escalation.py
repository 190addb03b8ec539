"""SLA clocks and the escalation ladder on moto, with a controllable clock."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from shared.storage.models import TicketModel
from shared.storage.tickets import TicketRepository
from tests.integration.test_api_routing import call, change, put_agent
from tests.support import compose, deliver

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 2, 3, 15, tzinfo=timezone.utc)  # the default mail timestamp in tests.support

FAST = {
    "position": 1,
    "name": "urgent in seconds",
    "conditions": {"priority": ["urgent"], "tier": [], "channel": [], "tags": [], "team": []},
    "targets": {"first_response": 40, "next_response": 60, "resolution": 400},
    "calendar": "24x7",
    "ladder": [
        {"metric": "first_response", "at": 0.75, "action": "warn", "notify": ["assignee"]},
        {"metric": "first_response", "at": 1.0, "action": "escalate", "tier": 2, "notify": ["supervisor"]},
    ],
}


class RecordedTimers:
    """The escalate queue's timers as (ticket id, step, due ISO) — SQS would hide them behind their delays."""

    def __init__(self) -> None:
        self.sent: list[dict] = []

    def schedule(self, ticket_id: str, step: int, due_at: datetime, now: datetime) -> int:
        from shared.adapters.timers import delay_for
        from shared.domain.timefmt import iso

        self.sent.append({"ticket_id": ticket_id, "step": step, "due_at": iso(due_at)})
        return delay_for(due_at, now)

    def take(self) -> list[dict]:
        sent, self.sent = self.sent, []
        return sent


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def sla(aws):
    """The SLA service as the escalate function builds it, with a clock the test moves."""
    from functions.escalate import handler as escalate
    from functions.route import handler as route

    clock = Clock(T0)
    timers = RecordedTimers()
    route._router = None
    escalate._service = None
    service = escalate.service()
    service.clock, service.timers = clock, timers
    router = route.build_router()
    router.sla.clock, router.sla.timers = clock, timers
    router.routing.clock = router.messenger.clock = router.changes.clock = service.routing.clock = clock
    route._router = router
    aws.recorded_timers = timers
    import boto3

    tap = aws.sqs.create_queue(QueueName="bus-tap")["QueueUrl"]
    arn = aws.sqs.get_queue_attributes(QueueUrl=tap, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events_client = boto3.client("events", region_name="us-east-1")
    events_client.put_rule(Name="tap", EventPattern=json.dumps({"source": ["ticketing"]}), EventBusName="default")
    events_client.put_targets(Rule="tap", EventBusName="default", Targets=[{"Id": "q", "Arn": arn}])
    aws.bus_tap = tap
    yield service, clock
    route._router = None
    escalate._service = None


def bus_events(aws) -> list[dict]:
    """What reached the EventBridge bus, through a rule that copies every `ticketing` event to a queue."""
    return [json.loads(m["Body"]) for m in aws.sqs.receive_message(QueueUrl=aws.bus_tap, MaxNumberOfMessages=10).get("Messages", [])]


def events(ticket_id: str) -> list[str]:
    return [e.type for e in TicketRepository().thread(ticket_id)[1]]


def test_an_urgent_ticket_warns_then_escalates_to_tier_2_each_step_once(aws, sla):
    service, clock = sla
    status, body = call("PUT", "/v1/sla-policies/urgent-fast", FAST, role="admin")
    assert status == 200, body
    put_agent("t1", {"team": "support", "capacity": 3, "presence": "online", "tier": 1, "email": "t1@example.com"})
    put_agent("t2", {"team": "support", "capacity": 3, "presence": "online", "tier": 2})
    ticket_id = deliver(aws.s3, compose(subject="Server mati total darurat"))["ticket_id"]
    aws.route()
    ticket = TicketModel.get(ticket_id)
    assert ticket.priority == "urgent" and ticket.assignee == "t1"
    assert ticket.sla.as_dict()["policy"] == "urgent-fast"
    assert "sla.applied" in events(ticket_id)
    timers = aws.recorded_timers.take()
    assert [(t["step"], t["due_at"]) for t in timers] == [(0, "2026-11-02T03:15:30.000Z")]

    clock.now = T0 + timedelta(seconds=30)
    assert service.fire(ticket_id, 0) == "fired"
    assert service.fire(ticket_id, 0) == "stale"  # a duplicate timer changes nothing
    assert "sla.warning" in events(ticket_id)
    [next_timer] = aws.recorded_timers.take()
    assert next_timer["step"] == 1 and next_timer["due_at"] == "2026-11-02T03:15:40.000Z"

    clock.now = T0 + timedelta(seconds=35)
    assert service.fire(ticket_id, 1) == "rescheduled"  # early: re-sent for the remaining 5 s
    clock.now = T0 + timedelta(seconds=41)
    assert service.fire(ticket_id, 1) == "fired"
    for _ in range(3):
        assert service.fire(ticket_id, 1) == "stale"

    escalated = TicketModel.get(ticket_id)
    assert escalated.escalation_level == 1 and escalated.assignee == "t2"
    types = events(ticket_id)
    assert types.count("sla.warning") == 1 and types.count("sla.breached") == 1 and types.count("ticket.escalated") == 1
    assert escalated.sla.as_dict()["state"] == "breached"
    published = bus_events(aws)
    # t1 was promised to answer within the 40 s target: that slipped too, and the customer was told
    assert [e["detail-type"] for e in published] == ["sla.warning", "sla.breached", "ticket.escalated", "eta.slipped"]
    assert all(e["detail"]["ticket_id"] == ticket_id for e in published)
    assert escalated.escalation_causes == {"sla:first_response": 2}


def test_sistem_macet_goes_to_tier_2_at_once(aws, sla):
    put_agent("t1", {"team": "support", "capacity": 3, "presence": "online", "tier": 1})
    put_agent("t2", {"team": "support", "capacity": 3, "presence": "online", "tier": 2})
    ticket_id = deliver(aws.s3, compose(subject="Sistem macet", body="Sistem macet sejak pagi"))["ticket_id"]
    aws.route()

    ticket = TicketModel.get(ticket_id)
    assert ticket.assignee == "t2" and ticket.escalation_level == 1 and ticket.required_tier == 2
    escalation = [e for e in TicketRepository().thread(ticket_id)[1] if e.type == "ticket.escalated"]
    assert "sistem macet" in escalation[0].data["reason"]


def test_pending_stops_the_clock_and_the_customer_reply_resumes_it(aws, sla):
    """The agent's PATCH runs on the real clock, so this scenario starts now rather than at T0."""
    from shared.domain.timefmt import iso, parse_iso, utcnow

    service, clock = sla
    call("PUT", "/v1/sla-policies/urgent-fast", FAST, role="admin")
    put_agent("t1", {"team": "support", "capacity": 3, "presence": "online", "tier": 1})
    start = utcnow().replace(microsecond=0)
    clock.now = start
    ticket_id = deliver(aws.s3, compose(subject="Darurat: server down", message_id="<p@x>"), timestamp=iso(start))["ticket_id"]
    aws.route()
    aws.recorded_timers.take()

    change(ticket_id, status="pending")  # a few hundred ms of the 40 s were used
    aws.route()
    assert TicketModel.get(ticket_id).sla.as_dict()["state"] == "paused"
    assert aws.recorded_timers.take() == []  # nothing runs while the customer has the ball
    assert TicketModel.get(ticket_id).due_bucket is None

    reply_at = start + timedelta(seconds=1000)
    clock.now = reply_at
    deliver(aws.s3, compose(body="Here is the log", in_reply_to="<p@x>"), timestamp=iso(reply_at))
    aws.route()
    ticket = TicketModel.get(ticket_id)
    assert "sla.paused" in events(ticket_id) and "sla.resumed" in events(ticket_id)
    [timer] = [t for t in aws.recorded_timers.take() if t["step"] == 0]
    warn_due = parse_iso(timer["due_at"])
    assert reply_at + timedelta(seconds=28) <= warn_due <= reply_at + timedelta(seconds=30)
    due = parse_iso(ticket.sla.as_dict()["first_response_due"])
    assert reply_at + timedelta(seconds=38) <= due <= reply_at + timedelta(seconds=40)


def test_the_sweep_fires_what_a_lost_timer_missed_and_reads_only_due_buckets(aws, sla):
    service, clock = sla
    call("PUT", "/v1/sla-policies/urgent-fast", FAST, role="admin")
    put_agent("t1", {"team": "support", "capacity": 9, "presence": "online", "tier": 1})
    ticket_id = deliver(aws.s3, compose(subject="Urgent: outage"))["ticket_id"]
    for n in range(5):  # not due for hours: the sweep must not touch them
        deliver(aws.s3, compose(subject=f"normal {n}"))
    aws.route()
    aws.recorded_timers.take()  # the timers are lost

    clock.now = T0 + timedelta(seconds=45)
    from unittest import mock

    from shared.storage.models import ConfigModel

    listed: list[str] = []
    query = ConfigModel.query
    with mock.patch.object(ConfigModel, "query", side_effect=lambda kind, *a, **k: listed.append(kind) or query(kind, *a, **k)):
        result = service.sweep(T0, clock.now)

    assert result["fired"] == 2 and result["buckets"] == 1
    assert listed.count("sla-policy") == 1  # one DynamoDB read of the policies for the whole sweep
    assert events(ticket_id).count("sla.warning") == 1 and events(ticket_id).count("ticket.escalated") == 1
    assert service.sweep(T0, clock.now)["fired"] == 0  # a second sweep finds nothing new


def test_resolving_meets_the_sla_and_tells_the_customer_once(aws, sla):
    put_agent("t1", {"team": "support", "capacity": 3, "presence": "online"})
    ticket_id = deliver(aws.s3, compose(subject="Invoice question"))["ticket_id"]
    aws.route()
    change(ticket_id, status="resolved")
    aws.route()

    ticket = TicketModel.get(ticket_id)
    assert ticket.sla.as_dict()["state"] == "met" and ticket.due_bucket is None
    assert [e["detail-type"] for e in bus_events(aws)] == ["ticket.resolved"]
    notices = [m for m in TicketRepository().thread(ticket_id)[0] if m.direction == "outbound"]
    assert sorted(m.author["system"] for m in notices) == ["acknowledgement", "resolved"]


def test_calendars_and_policies_are_validated_by_the_api(aws):
    ok = {"timezone": "Asia/Jakarta", "hours": {"mon": [["08:00", "17:00"]]}, "holidays": {"country": "ID", "subdivision": None, "extra": ["2026-12-24"]}}
    assert call("PUT", "/v1/calendars/jakarta-office", ok, role="admin")[0] == 200
    assert call("GET", "/v1/calendars", role="agent")[1]["items"][0]["id"] == "jakarta-office"
    status, body = call("PUT", "/v1/calendars/bad", {**ok, "timezone": "Mars/Base"}, role="admin")
    assert status == 400 and "timezone" in body["error"]["message"]
    status, body = call("PUT", "/v1/sla-policies/x", {**FAST, "calendar": "nowhere"}, role="admin")
    assert status == 400 and "nowhere" in body["error"]["message"]
    assert call("PUT", "/v1/sla-policies/x", FAST, role="supervisor")[0] == 403
    status, body = call("PUT", "/v1/sla-policies/x", {**FAST, "targets": {"first_response": -5}}, role="admin")
    assert status == 400
    listing = call("GET", "/v1/sla-policies", role="agent")[1]["items"]
    assert [p["id"] for p in listing][0] == "default-urgent" or any(p["id"].startswith("default-") for p in listing)


def test_an_agent_reply_goes_out_threaded_and_meets_the_first_response(aws, sla):
    put_agent("t1", {"team": "support", "capacity": 3, "presence": "online", "name": "Tini"})
    # received a second before the route stage's clock, so the acknowledgement sorts after the mail it answers
    mail = compose(subject="Printer", message_id="<pr@pelanggan.co.id>")
    ticket_id = deliver(aws.s3, mail, timestamp="2026-11-02T03:14:59.000Z")["ticket_id"]
    aws.route()

    status, ticket = call("POST", f"/v1/tickets/{ticket_id}/replies", {"body": "Sudah kami perbaiki, silakan coba lagi."}, role="agent", agent="t1")
    assert status == 201, ticket
    status, noted = call("POST", f"/v1/tickets/{ticket_id}/replies", {"body": "driver v2 fixed it", "internal": True}, role="agent", agent="t1")
    assert status == 201
    aws.route()

    kinds = [(m["direction"], m["kind"]) for m in noted["messages"]]
    assert kinds == [("inbound", "customer"), ("outbound", "automatic"), ("outbound", "agent"), ("outbound", "note")]
    reply_mail = aws.sent_mail()[-1]
    raw = reply_mail.raw_data if isinstance(reply_mail.raw_data, str) else reply_mail.raw_data.decode()
    assert "In-Reply-To: <pr@pelanggan.co.id>" in raw and "Auto-Submitted" not in raw
    assert len(aws.sent_mail()) == 2  # the acknowledgement and the reply; the note went to nobody
    final = TicketModel.get(ticket_id)
    assert final.first_responded_at and final.customer_waiting_count == 0
    assert "sla.met" in events(ticket_id)
    assert call("POST", f"/v1/tickets/{ticket_id}/replies", {"body": ""}, role="agent")[0] == 400


def test_a_customer_writing_three_times_without_an_answer_is_escalated(aws, sla):
    put_agent("t1", {"team": "support", "capacity": 3, "presence": "online", "tier": 1})
    put_agent("t2", {"team": "support", "capacity": 3, "presence": "online", "tier": 2})
    ticket_id = deliver(aws.s3, compose(subject="Halo?", message_id="<w1@pelanggan.co.id>"))["ticket_id"]
    aws.route()
    assert TicketModel.get(ticket_id).assignee == "t1"
    for n, minute in ((2, 20), (3, 40)):
        deliver(aws.s3, compose(body=f"Halo? ({n})", in_reply_to="<w1@pelanggan.co.id>"), timestamp=f"2026-11-02T03:{minute}:00.000Z")
        aws.route()

    ticket = TicketModel.get(ticket_id)
    assert ticket.escalation_level == 1 and ticket.assignee == "t2"
    escalation = [e for e in TicketRepository().thread(ticket_id)[1] if e.type == "ticket.escalated"]
    assert "3 times without an answer" in escalation[0].data["reason"]

    change(ticket_id, escalation_level=0, reason="a billing question; tier 1 can answer")
    deliver(aws.s3, compose(body="Halo? (4)", in_reply_to="<w1@pelanggan.co.id>"), timestamp="2026-11-02T03:50:00.000Z")
    aws.route()
    assert TicketModel.get(ticket_id).escalation_level == 0  # the fourth message does not undo the lead's call


def test_a_breached_promise_tells_the_customer_once_that_it_takes_longer(aws, sla):
    service, clock = sla
    call("PUT", "/v1/sla-policies/urgent-fast", FAST, role="admin")
    ticket_id = deliver(aws.s3, compose(subject="Darurat: server down"))["ticket_id"]
    aws.route()  # nobody online: it waits

    clock.now = T0 + timedelta(seconds=45)
    service.sweep(T0, clock.now)
    service.sweep(T0, clock.now)

    notices = [m for m in TicketRepository().thread(ticket_id)[0] if m.direction == "outbound"]
    assert [m.author["system"] for m in notices] == ["acknowledgement", "delayed"]


def test_the_sweep_repairs_load_drift_and_reports_the_backlog_age(aws, sla):
    from functions.escalate.handler import sweep_handler
    from shared.storage.models import AgentLoadModel
    from tests.support import FakeContext

    put_agent("t1", {"team": "support", "capacity": 3, "presence": "online"})
    deliver(aws.s3, compose(subject="one"))
    aws.route()
    AgentLoadModel(agent_id="t1").update(actions=[AgentLoadModel.load.set(3)])  # drift: 3 counted, 1 held
    put_agent("t1", {"presence": "away"})
    deliver(aws.s3, compose(subject="waiting"), timestamp="2026-11-02T03:20:00.000Z")
    aws.route()

    sla[1].now = T0 + timedelta(minutes=5)  # the counter has been still long enough for the indexes to settle
    result = sweep_handler({}, FakeContext(function_name="ticketing-SweepFunction"))

    assert int(AgentLoadModel.get("t1").load) == 1
    assert result["support.repaired"] == 1 and result["support.backlog_age_s"] > 0


def test_a_lead_escalates_by_hand_and_de_escalates_when_the_cause_is_gone(aws, sla):
    put_agent("t1", {"team": "support", "capacity": 3, "presence": "online", "tier": 1})
    put_agent("t3", {"team": "support", "capacity": 3, "presence": "online", "tier": 3})
    ticket_id = deliver(aws.s3, compose(subject="Complex migration"))["ticket_id"]
    aws.route()
    assert TicketModel.get(ticket_id).assignee == "t1"

    assert call("PATCH", f"/v1/tickets/{ticket_id}", {"escalation_level": 2}, role="agent")[0] == 403
    status, body = call("PATCH", f"/v1/tickets/{ticket_id}", {"escalation_level": 2, "reason": "needs the DBA"})
    assert status == 200 and body["status"] == "open" and body["escalation_level"] == 2
    aws.route()
    assert TicketModel.get(ticket_id).assignee == "t3"

    status, body = call("PATCH", f"/v1/tickets/{ticket_id}", {"escalation_level": 0, "reason": "migration done"})
    assert status == 200 and body["escalation_level"] == 0 and body["assignee"] == "t3"  # the tier-3 agent keeps it
    assert "ticket.deescalated" in events(ticket_id)


def test_an_idle_vip_ticket_goes_to_tier_2_and_other_idle_tickets_are_flagged(aws, sla):
    from shared.storage.customers import CustomerRepository
    from shared.domain.model import Channel, Contact
    from shared.storage.models import CustomerModel

    service, clock = sla
    repo = CustomerRepository()
    repo.update(repo.get_or_create(Contact(Channel.EMAIL, "vip@pelanggan.co.id"), T0).id, T0, tier="vip")
    call("PUT", "/v1/teams/support", {"supervisors": ["lead@example.com"]})
    put_agent("t1", {"team": "support", "capacity": 5, "presence": "online", "tier": 1, "email": "t1@example.com"})
    put_agent("t2", {"team": "support", "capacity": 5, "presence": "online", "tier": 2})
    vip_ticket = deliver(aws.s3, compose(sender="vip@pelanggan.co.id", subject="Pertanyaan kontrak"))["ticket_id"]
    plain_ticket = deliver(aws.s3, compose(subject="Pertanyaan biasa"))["ticket_id"]
    aws.route()
    assert TicketModel.get(vip_ticket).assignee == "t1"  # a plain VIP question needs no tier 2 yet

    clock.now = T0 + timedelta(minutes=31)
    service.sweep(T0, clock.now)
    assert TicketModel.get(vip_ticket).assignee == "t2" and "VIP ticket idle" in str(
        [e.data for e in TicketRepository().thread(vip_ticket)[1] if e.type == "ticket.escalated"]
    )
    assert "ticket.idle" not in events(plain_ticket)  # four hours for everyone else

    clock.now = T0 + timedelta(hours=4, minutes=1)
    service.sweep(T0, clock.now)  # the every-minute sweeps since: its SLA steps fired first, then the idle flag
    assert "sla.warning" in events(plain_ticket) and "ticket.idle" in events(plain_ticket)


def test_the_acknowledgement_promises_within_the_tickets_own_sla(aws, sla):
    slow = {**FAST, "targets": {"first_response": 300, "next_response": 600, "resolution": 3600}, "ladder": []}
    call("PUT", "/v1/sla-policies/urgent-fast", slow, role="admin")
    put_agent("t1", {"team": "support", "capacity": 3, "presence": "online"})
    ticket_id = deliver(aws.s3, compose(subject="Darurat: aplikasi mati", body="Aplikasi mati, mohon bantuan"))["ticket_id"]
    aws.route()

    [ack] = [e for e in TicketRepository().thread(ticket_id)[1] if e.type == "notification.sent"]
    assert ack.data["eta_first_response"] == "sekitar 5 menit"  # the policy's 5 minutes, not the default hour


# --- de-escalation when the cause is gone -----------------------------------------------------------------------


def escalation_events(ticket_id: str, kind: str) -> list[dict]:
    return [e.data for e in TicketRepository().thread(ticket_id)[1] if e.type == kind]


def reply(ticket_id: str, agent: str, text: str = "Sudah kami cek, ini solusinya.", role: str = "agent") -> None:
    status, body = call("POST", f"/v1/tickets/{ticket_id}/replies", {"body": text}, role=role, agent=agent)
    assert status == 201, body


def start_now(clock) -> datetime:
    """Scenarios with API calls run on the real clock (the API's), so the SLA clock starts now as well."""
    from shared.domain.timefmt import utcnow

    clock.now = utcnow().replace(microsecond=0)
    return clock.now


def test_answering_an_sla_escalated_ticket_brings_it_down_and_the_tier_2_agent_keeps_it(aws, sla):
    from shared.domain.timefmt import iso

    service, clock = sla
    start = start_now(clock)
    call("PUT", "/v1/sla-policies/urgent-fast", FAST, role="admin")
    put_agent("t1", {"team": "support", "capacity": 3, "presence": "online", "tier": 1})
    put_agent("t2", {"team": "support", "capacity": 3, "presence": "online", "tier": 2})
    ticket_id = deliver(aws.s3, compose(subject="Server mati total darurat"), timestamp=iso(start))["ticket_id"]
    aws.route()
    clock.now = start + timedelta(seconds=41)
    service.sweep(start, clock.now)
    escalated = TicketModel.get(ticket_id)
    assert escalated.escalation_level == 1 and escalated.assignee == "t2"
    bus_events(aws)

    reply(ticket_id, "t2")
    aws.route()

    ticket = TicketModel.get(ticket_id)
    assert ticket.escalation_level == 0 and ticket.required_tier == 1 and not ticket.escalation_causes
    assert ticket.assignee == "t2"  # whoever holds it keeps it
    [down] = escalation_events(ticket_id, "ticket.deescalated")
    assert down["from_level"] == 1 and down["to_level"] == 0 and down["reason"] == "an agent answered"
    assert "ticket.deescalated" in [e["detail-type"] for e in bus_events(aws)]
    status, body = call("GET", f"/v1/tickets/{ticket_id}", role="agent")
    assert body["escalation_level"] == 0 and body["escalation_causes"] == {}


def test_an_answer_ends_the_sla_cause_but_an_escalation_keyword_keeps_the_ticket_up(aws, sla):
    from shared.domain.timefmt import iso

    service, clock = sla
    start = start_now(clock)
    call("PUT", "/v1/sla-policies/urgent-fast", FAST, role="admin")
    put_agent("t2", {"team": "support", "capacity": 3, "presence": "online", "tier": 2})
    ticket_id = deliver(aws.s3, compose(subject="Darurat: sistem macet"), timestamp=iso(start))["ticket_id"]
    aws.route()
    clock.now = start + timedelta(seconds=41)
    service.sweep(start, clock.now)
    assert TicketModel.get(ticket_id).escalation_causes == {"keyword:sistem macet": 2, "sla:first_response": 2}

    reply(ticket_id, "t2")
    aws.route()

    ticket = TicketModel.get(ticket_id)
    assert ticket.escalation_level == 1 and ticket.escalation_causes == {"keyword:sistem macet": 2}
    assert escalation_events(ticket_id, "ticket.deescalated") == []


def test_an_escalation_keyword_is_a_tag_removing_it_de_escalates_and_tagging_one_escalates(aws, sla):
    put_agent("t1", {"team": "support", "capacity": 3, "presence": "online", "tier": 1})
    put_agent("t2", {"team": "support", "capacity": 3, "presence": "online", "tier": 2})
    stuck = deliver(aws.s3, compose(subject="Sistem macet", body="Sistem macet sejak pagi"))["ticket_id"]
    printer = deliver(aws.s3, compose(subject="Printer offline", body="Printernya tidak mau mencetak"))["ticket_id"]
    aws.route()
    status, body = call("GET", f"/v1/tickets/{stuck}", role="agent")
    assert "sistem macet" in body["tags"] and body["escalation_causes"] == {"keyword:sistem macet": 2}
    assert body["assignee"] == "t2" and TicketModel.get(printer).assignee == "t1"

    body = change(stuck, tags=[t for t in body["tags"] if t != "sistem macet"], reason="root cause fixed")
    assert body["escalation_level"] == 0 and body["assignee"] == "t2"
    [down] = escalation_events(stuck, "ticket.deescalated")
    assert down["reason"] == "root cause fixed"

    # R10: an agent who cannot solve it tags it, and it goes to a more experienced tier at once
    status, body = call("PATCH", f"/v1/tickets/{printer}", {"tags": ["System Down"]}, role="agent", agent="t1")
    assert status == 200 and body["escalation_level"] == 1 and body["status"] == "open", body
    aws.route()
    assert TicketModel.get(printer).assignee == "t2"
    [up] = escalation_events(printer, "ticket.escalated")
    assert up["reason"] == "escalation keyword tags changed by agent:t1" and up["causes"] == ["keyword:system down"]


def test_a_de_escalated_ticket_still_in_the_queue_goes_to_a_tier_1_agent(aws, sla):
    put_agent("t1", {"team": "support", "capacity": 3, "presence": "online", "tier": 1})
    ticket_id = deliver(aws.s3, compose(subject="Halo?", message_id="<q1@pelanggan.co.id>"))["ticket_id"]
    aws.route()
    for n, minute in ((2, 20), (3, 40)):
        deliver(aws.s3, compose(body=f"Halo? ({n})", in_reply_to="<q1@pelanggan.co.id>"), timestamp=f"2026-11-02T03:{minute}:00.000Z")
        aws.route()
    waiting = TicketModel.get(ticket_id)
    assert waiting.escalation_level == 1 and waiting.status == "open" and waiting.assignee is None  # no tier 2 online

    reply(ticket_id, "lead-1", role="supervisor")  # the team lead answers from the queue
    aws.route()

    ticket = TicketModel.get(ticket_id)
    assert ticket.escalation_level == 0 and ticket.assignee == "t1"
    assert escalation_events(ticket_id, "ticket.deescalated")[0]["reason"] == "an agent answered"


def test_a_supervisor_lowering_the_level_overrules_the_causes(aws, sla):
    put_agent("t2", {"team": "support", "capacity": 3, "presence": "online", "tier": 2})
    ticket_id = deliver(aws.s3, compose(subject="Sistem macet"))["ticket_id"]
    aws.route()
    body = change(ticket_id, escalation_level=0, reason="false alarm")
    assert body["escalation_level"] == 0 and body["escalation_causes"] == {"keyword:sistem macet": 0}  # overruled
    body = change(ticket_id, tags=[*body["tags"], "billing"])  # the keyword tag left alone does not come back
    assert body["escalation_level"] == 0


# --- the promise the acknowledgement made -------------------------------------------------------------------------


def outbound_kinds(ticket_id: str) -> list[str]:
    return [m.author.get("system") for m in TicketRepository().thread(ticket_id)[0] if m.direction == "outbound"]


def delayed_notice(ticket_id: str) -> str:
    [notice] = [m for m in TicketRepository().thread(ticket_id)[0] if m.author.get("system") == "delayed"]
    return notice.body


WARN_ONLY = {**FAST, "ladder": [{"metric": "first_response", "at": 0.75, "action": "warn"}, {"metric": "first_response", "at": 1.0, "action": "warn"}]}


def test_a_queue_longer_than_the_target_is_promised_the_target_and_the_customer_hears_once_when_it_slips(aws, sla):
    """A promise never exceeds the ticket's SLA targets (a 40 s policy once promised "about 35 minutes"); when
    the live queue says later, the customer is told once, with the queue's estimate."""
    service, clock = sla
    call("PUT", "/v1/sla-policies/urgent-fast", WARN_ONLY, role="admin")
    put_agent("t1", {"team": "support", "capacity": 1, "presence": "online", "tier": 1})
    deliver(aws.s3, compose(subject="Darurat: aplikasi mati", sender="a@pelanggan.co.id"))
    aws.route()
    ticket_id = deliver(aws.s3, compose(subject="Darurat: aplikasi mati"))["ticket_id"]
    aws.route()
    promise = TicketModel.get(ticket_id).eta_promise
    assert promise["first_response"] == 40 and promise["resolution"] == 400  # the policy's own targets
    [ack] = [m for m in TicketRepository().thread(ticket_id)[0] if m.direction == "outbound"]
    assert "Posisi Anda dalam antrean: 1" in ack.body  # one ticket ahead of it for the one agent who can take it

    clock.now = T0 + timedelta(seconds=45)
    service.sweep(T0, clock.now)
    service.sweep(T0, clock.now)
    assert "sla.breached" in events(ticket_id)
    assert outbound_kinds(ticket_id) == ["acknowledgement", "delayed"]
    assert "Perkiraan balasan pertama: sekitar 45 menit" in delayed_notice(ticket_id)  # the queue's own estimate
    [slip] = escalation_events(ticket_id, "eta.slipped")
    assert slip["metric"] == "first_response"
    assert TicketModel.get(ticket_id).eta_promise["slipped_at"]
    assert service.fire(ticket_id, -2) == "stale" and outbound_kinds(ticket_id).count("delayed") == 1  # a replay


def test_a_forecast_past_the_promise_tells_the_customer_before_the_promise_breaks(aws, sla):
    from shared.domain.timefmt import iso

    service, clock = sla
    start = start_now(clock)
    hour = {**FAST, "targets": {"first_response": 3600, "next_response": 3600, "resolution": 4 * 3600}, "ladder": []}
    call("PUT", "/v1/sla-policies/urgent-fast", hour, role="admin")
    put_agent("t1", {"team": "support", "capacity": 3, "presence": "online", "tier": 1})
    put_agent("t2", {"team": "support", "capacity": 1, "presence": "online", "tier": 2})
    deliver(aws.s3, compose(subject="Sistem macet", sender="b@pelanggan.co.id"), timestamp=iso(start))
    aws.route()  # t2 is now full
    ticket_id = deliver(aws.s3, compose(subject="Darurat: aplikasi mati"), timestamp=iso(start))["ticket_id"]
    aws.route()
    assert TicketModel.get(ticket_id).assignee == "t1"
    assert TicketModel.get(ticket_id).eta_promise["first_response"] == 900  # t1 picks it up within 15 minutes

    clock.now = start + timedelta(minutes=5)
    change(ticket_id, escalation_level=1, reason="needs tier 2")  # back to the queue, behind t2's full hands
    aws.route()

    assert outbound_kinds(ticket_id) == ["acknowledgement", "delayed"]
    notice = delayed_notice(ticket_id)
    assert "Perkiraan balasan pertama: sekitar 45 menit" in notice, notice
    [slip] = escalation_events(ticket_id, "eta.slipped")
    assert slip["reason"] == "back in the queue" and slip["forecast"] > slip["promised"]


def urgent_ticket_held_by_t1(aws, clock) -> tuple[datetime, str]:
    """An urgent ticket on the 40 s policy without a ladder, routed to t1 now: its acknowledgement promised 40 s."""
    from shared.domain.timefmt import iso

    start = start_now(clock)
    call("PUT", "/v1/sla-policies/urgent-fast", {**FAST, "ladder": []}, role="admin")
    put_agent("t1", {"team": "support", "capacity": 3, "presence": "online", "tier": 1})
    ticket_id = deliver(aws.s3, compose(subject="Darurat: aplikasi mati"), timestamp=iso(start))["ticket_id"]
    aws.route()
    return start, ticket_id


def test_an_answer_in_time_keeps_the_first_promise_and_the_resolution_promise_is_watched_next(aws, sla):
    from shared.domain.timefmt import iso

    service, clock = sla
    start, ticket_id = urgent_ticket_held_by_t1(aws, clock)
    promise = TicketModel.get(ticket_id).eta_promise
    assert promise["first_response"] == 40 and promise["resolution"] == 400  # never past the policy's targets
    assert TicketModel.get(ticket_id).due_sort.endswith("#-2")

    clock.now = start + timedelta(seconds=10)
    reply(ticket_id, "t1")
    aws.route()
    clock.now = start + timedelta(seconds=60)
    service.sweep(start, clock.now)
    assert outbound_kinds(ticket_id)[-1] != "delayed"  # the first promise was kept
    assert TicketModel.get(ticket_id).due_sort.startswith(iso(start + timedelta(seconds=400)))

    clock.now = start + timedelta(seconds=401)
    service.sweep(start, clock.now)
    assert outbound_kinds(ticket_id).count("delayed") == 1
    assert escalation_events(ticket_id, "eta.slipped")[0]["metric"] == "resolution"
    assert "Perkiraan balasan pertama" not in delayed_notice(ticket_id)  # answered: only the resolution is re-estimated


def test_a_ticket_reopened_twice_escalates_when_it_reopens_and_a_supervisor_can_lower_it(aws, sla):
    put_agent("t1", {"team": "support", "capacity": 3, "presence": "online", "tier": 1})
    put_agent("t2", {"team": "support", "capacity": 3, "presence": "online", "tier": 2})
    ticket_id = deliver(aws.s3, compose(subject="Sinkronisasi gagal", message_id="<r1@pelanggan.co.id>"))["ticket_id"]
    aws.route()
    for n in (1, 2):
        reply(ticket_id, "t1")
        change(ticket_id, status="resolved")
        aws.route()
        deliver(aws.s3, compose(body=f"Masih gagal ({n})", in_reply_to="<r1@pelanggan.co.id>"), timestamp=f"2026-11-02T04:0{n}:00.000Z")
        aws.route()
    ticket = TicketModel.get(ticket_id)
    assert ticket.reopen_count == 2 and ticket.escalation_causes == {"reopened": 2} and ticket.assignee == "t2"

    change(ticket_id, escalation_level=0, reason="same root cause, tier 1 can finish it")
    deliver(aws.s3, compose(body="Ada kabar?", in_reply_to="<r1@pelanggan.co.id>"), timestamp="2026-11-02T04:10:00.000Z")
    aws.route()
    assert TicketModel.get(ticket_id).escalation_level == 0  # a message that reopens nothing does not overrule the lead


# --- alerts outside business hours ----------------------------------------------------------------------------------


def test_alerts_outside_business_hours_are_held_and_sent_as_one_digest_when_the_office_opens(aws, sla):
    from unittest import mock

    from functions.escalate.handler import sweep_handler
    from shared.storage.models import MarkerModel
    from tests.support import FakeContext

    service, clock = sla
    office = {"timezone": "Asia/Jakarta", "hours": {d: [["08:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}}
    assert call("PUT", "/v1/calendars/jakarta-office", office, role="admin")[0] == 200
    call("PUT", "/v1/teams/support", {"calendar": "jakarta-office", "supervisors": ["lead@example.com"]})
    put_agent("t1", {"team": "support", "capacity": 5, "presence": "online", "tier": 1, "email": "t1@example.com"})
    every = {**FAST, "conditions": {**FAST["conditions"], "priority": []}}  # the SLA runs 24x7; alerts keep office hours
    assert call("PUT", "/v1/sla-policies/all-fast", every, role="admin")[0] == 200
    saturday_night = datetime(2026, 11, 7, 14, 0, tzinfo=timezone.utc)  # 21:00 in Jakarta
    service.alerts.clock = clock
    clock.now = saturday_night
    ids = [deliver(aws.s3, compose(subject=f"Pertanyaan {n}", sender=f"c{n}@pelanggan.co.id"), timestamp="2026-11-07T14:00:00.000Z")["ticket_id"] for n in (1, 2)]
    aws.route()

    clock.now = saturday_night + timedelta(seconds=45)
    service.sweep(saturday_night, clock.now)  # warnings to t1, escalations to the lead: all held
    team_mail = [m for m in aws.sent_mail() if m.destinations[0] in ("t1@example.com", "lead@example.com")]
    assert team_mail == []  # the customers heard of the delay; the team's alerts wait for the office
    held = MarkerModel.get("alerts-deferred#support").deferred
    assert sorted(str(e["to"][0]) for e in held) == ["lead@example.com"] * 2 + ["t1@example.com"] * 2
    assert service.alerts.send_deferred("support") == 0  # still closed

    monday_morning = datetime(2026, 11, 9, 1, 5, tzinfo=timezone.utc)  # 08:05 in Jakarta
    clock.now = monday_morning
    with mock.patch("functions.escalate.handler.utcnow", return_value=monday_morning):
        result = sweep_handler({}, FakeContext(function_name="ticketing-SweepFunction"))
    assert result["support.digests"] == 2  # one mail each for t1 and the lead
    digests = {m.destinations[0]: m for m in aws.sent_mail() if "held outside" in str(m.raw_data)}
    assert sorted(digests) == ["lead@example.com", "t1@example.com"]
    body = digests["lead@example.com"].raw_data
    body = body if isinstance(body, str) else body.decode()
    assert "2 alerts held outside business hours" in body and all(TicketModel.get(i).ref in body for i in ids)
    assert service.alerts.send_deferred("support") == 0  # sent once


def test_the_acknowledgement_counts_a_wait_in_office_hours_on_the_customers_clock(aws, sla):
    from shared.domain.timefmt import iso

    service, clock = sla
    office = {"timezone": "Asia/Jakarta", "hours": {d: [["08:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}}
    assert call("PUT", "/v1/calendars/jakarta-office", office, role="admin")[0] == 200
    policy = {**FAST, "conditions": {**FAST["conditions"], "priority": []}, "calendar": "jakarta-office", "ladder": [],
              "targets": {"first_response": 4 * 3600, "next_response": 4 * 3600, "resolution": 16 * 3600}}  # fmt: skip
    assert call("PUT", "/v1/sla-policies/office", policy, role="admin")[0] == 200
    put_agent("t1", {"team": "support", "capacity": 3, "presence": "online", "tier": 1})
    friday_1655 = datetime(2026, 11, 6, 9, 55, tzinfo=timezone.utc)  # 16:55 in Jakarta
    clock.now = friday_1655
    ticket_id = deliver(aws.s3, compose(subject="Pertanyaan tagihan"), timestamp=iso(friday_1655))["ticket_id"]
    aws.route()

    [ack] = [e for e in TicketRepository().thread(ticket_id)[1] if e.type == "notification.sent"]
    assert ack.data["eta_first_response"] == "sekitar 3 hari"  # 15 business minutes end Monday 08:10
    ticket = TicketModel.get(ticket_id)
    assert ticket.eta_promise["first_response"] == 900
    assert ticket.due_sort == "2026-11-09T01:10:00.000Z#-2"  # Monday 08:10 in Jakarta
    assert service._idle_at(ticket) == datetime(2026, 11, 9, 4, 55, tzinfo=timezone.utc)  # 4 office hours: Monday 11:55

    clock.now = datetime(2026, 11, 9, 1, 11, tzinfo=timezone.utc)  # Monday 08:11: the promised first reply is late
    service.sweep(clock.now - timedelta(minutes=2), clock.now)
    notice = delayed_notice(ticket_id)
    assert "Perkiraan penyelesaian yang baru: sekitar 31 jam" in notice  # what is left of 16 office hours: Tuesday


def test_two_sweeps_holding_the_same_read_of_held_alerts_send_the_digest_once(aws, sla):
    from unittest import mock

    from shared.storage.models import MarkerModel

    service, clock = sla
    alerts = service.alerts
    alerts.clock = clock
    ticket_id = deliver(aws.s3, compose(subject="Pertanyaan malam"))["ticket_id"]
    aws.route()
    ticket = TicketModel.get(ticket_id)
    for n in range(2):
        alerts._hold("support", {"at": f"2026-11-02T03:1{n}:00.000Z", "ref": ticket.ref, "subject": f"alert {n}", "to": ["lead@example.com"]}, T0)
    stale = MarkerModel.get("alerts-deferred#support", consistent_read=True)
    with mock.patch.object(MarkerModel, "get", return_value=stale):  # both sweeps read the list before either took it
        assert alerts.send_deferred("support") == 1
        assert alerts.send_deferred("support") == 0
    assert sum("held outside" in str(m.raw_data) for m in aws.sent_mail()) == 1


def test_a_ladder_step_that_loses_a_race_looks_again_a_second_later(aws, sla):
    from unittest import mock

    from shared.domain.errors import Conflict

    service, clock = sla
    call("PUT", "/v1/sla-policies/urgent-fast", FAST, role="admin")
    ticket_id = deliver(aws.s3, compose(subject="Darurat: aplikasi mati"))["ticket_id"]
    aws.route()
    aws.recorded_timers.take()
    clock.now = T0 + timedelta(seconds=31)
    with mock.patch.object(service, "_save", side_effect=Conflict("changed meanwhile")):
        assert service.fire(ticket_id, 0) == "raced"
    assert aws.recorded_timers.take() == [{"ticket_id": ticket_id, "step": 0, "due_at": "2026-11-02T03:15:32.000Z"}]
    assert service.fire(ticket_id, 0) == "fired"


def test_a_reply_the_api_recorded_keeps_the_promise_before_routing_meets_the_clock(aws, sla):
    service, clock = sla
    start, ticket_id = urgent_ticket_held_by_t1(aws, clock)
    reply(ticket_id, "t1")  # reply.sent is announced but not routed yet
    clock.now = start + timedelta(seconds=45)

    assert service.fire(ticket_id, -2) == "rescheduled"  # only the resolution promise is left, and not yet due
    assert "delayed" not in outbound_kinds(ticket_id)


def test_resolving_keeps_the_promise_so_a_reopen_does_not_rearm_it(aws, sla):
    put_agent("t1", {"team": "support", "capacity": 3, "presence": "online", "tier": 1})
    ticket_id = deliver(aws.s3, compose(subject="Pertanyaan tagihan"))["ticket_id"]
    aws.route()
    change(ticket_id, status="resolved")
    aws.route()
    assert TicketModel.get(ticket_id).eta_promise["kept_at"]
    change(ticket_id, status="open", reason="customer called again")
    aws.route()
    ticket = TicketModel.get(ticket_id)
    assert ticket.status in ("open", "in_progress") and not str(ticket.due_sort or "").endswith("#-2")


def test_without_an_acknowledgement_the_sla_target_is_what_the_customer_may_expect(aws, sla):
    service, clock = sla
    start = start_now(clock)  # the API stamps the ticket with the real clock
    call("PUT", "/v1/sla-policies/urgent-fast", {**FAST, "conditions": {**FAST["conditions"], "priority": []}, "ladder": []}, role="admin")
    call("PUT", "/v1/templates/opening-hours/id/chat", {"subject": None, "text": "Kami buka 08.00-20.00 WIB. Ref {{ ref }}."})
    call("PUT", "/v1/auto-replies/opening-hours", {"channels": ["chat"], "phrases": ["jam buka"], "template": "opening-hours"})
    status, ticket = call(
        "POST", "/v1/tickets",
        {"channel": "chat", "customer": {"handle": "visitor-7"}, "body": "Jam buka kapan? Dan pesanan saya belum sampai."},
        role="agent", headers={"Idempotency-Key": "chat-7"},
    )  # fmt: skip
    assert status == 201
    aws.route()  # answered by the keyword rule instead of an acknowledgement: no promise was made
    assert TicketModel.get(ticket["id"]).eta_promise is None

    clock.now = start + timedelta(seconds=42)
    service.sweep(start, clock.now)
    assert outbound_kinds(ticket["id"]) == ["auto_reply", "delayed"]  # past the 40 s target: told once
