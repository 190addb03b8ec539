"""Issue 4's "done when", through the local stack: an urgent ticket on a policy measured in seconds warns, then goes
to tier 2, with events and alerts visible; a pending ticket's clock stops and resumes on the customer's reply;
replayed timer messages change nothing; the customer hears once that it takes longer than promised, and the
ticket comes down again when the tier-2 agent answers."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from email.message import EmailMessage
from typing import Any

import pytest

from tests.e2e.conftest import RunningStack, customer_mail

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SECONDS_POLICY = {
    "position": 1,
    "name": "urgent, measured in seconds",
    "conditions": {"priority": ["urgent"], "tier": [], "channel": [], "tags": [], "team": []},
    "targets": {"first_response": 6, "next_response": 60, "resolution": 600},
    "calendar": "24x7",
    "ladder": [
        {"metric": "first_response", "at": 0.5, "action": "warn", "notify": ["assignee"]},
        {"metric": "first_response", "at": 1.0, "action": "escalate", "tier": 2, "notify": ["supervisor"]},
    ],
}


# the pending scenario needs time to pause before the first step is due: a high-priority policy of 20 s
HIGH_POLICY = {
    **SECONDS_POLICY,
    "position": 2,
    "name": "high, measured in seconds",
    "conditions": {"priority": ["high"], "tier": [], "channel": [], "tags": [], "team": []},
    "targets": {"first_response": 20, "next_response": 60, "resolution": 600},
}


def urgent_mail(subject: str, sender: str, body: str = "Darurat, aplikasi kasir mati total.") -> EmailMessage:
    return customer_mail(subject, body, sender)


def ticket_by_subject(stack: RunningStack, token: str, subject: str) -> dict[str, Any] | None:
    status, body = stack.request("GET", "/v1/tickets?limit=100", token=token)
    assert status == 200, body
    found = next((t for t in body["items"] if t["subject"] == subject), None)
    if found is None:
        return None
    return dict(stack.request("GET", f"/v1/tickets/{found['id']}", token=token)[1])


def event_types(ticket: dict[str, Any]) -> list[str]:
    return [e["type"] for e in ticket["events"]]


def escalation_events(ticket: dict[str, Any]) -> list[str]:
    """The clock's and the ladder's own events (customer notices may still be on their way)."""
    return [t for t in event_types(ticket) if t.startswith("sla.") or t in ("ticket.escalated", "ticket.assigned")]


@pytest.fixture(scope="module")
def configured(local_stack: RunningStack) -> RunningStack:
    admin = local_stack.token("admin")
    assert local_stack.request("PUT", "/v1/sla-policies/urgent-seconds", token=admin, body=SECONDS_POLICY)[0] == 200
    assert local_stack.request("PUT", "/v1/sla-policies/high-seconds", token=admin, body=HIGH_POLICY)[0] == 200
    team = {"strategy": "urgency", "supervisors": ["lead@example.com"]}
    assert local_stack.request("PUT", "/v1/teams/support", token=admin, body=team)[0] == 200
    for agent_id, tier in (("tier1", 1), ("tier2", 2)):
        body = {"team": "support", "capacity": 5, "presence": "online", "tier": tier, "email": f"{agent_id}@example.com"}
        assert local_stack.request("PUT", f"/v1/agents/{agent_id}", token=admin, body=body)[0] == 201
    return local_stack


def test_an_urgent_ticket_warns_then_goes_to_tier_2_with_events_and_alerts(configured: RunningStack) -> None:
    stack = configured
    token = stack.token("supervisor")
    stack.send_mail(urgent_mail("Darurat kasir 1", "Toko Satu <satu@pelanggan.co.id>"))

    assigned = stack.wait_until(lambda: (t := ticket_by_subject(stack, token, "Darurat kasir 1")) and t["assignee"] and t, timeout=20)
    assert assigned["priority"] == "urgent" and assigned["assignee"] == "tier1"
    assert assigned["sla"]["policy"] == "urgent-seconds"

    escalated = stack.wait_until(
        lambda: (t := ticket_by_subject(stack, token, "Darurat kasir 1"))
        and "ticket.escalated" in event_types(t)
        and t["assignee"] == "tier2"  # the reassignment follows the escalation
        and t,
        timeout=30,
    )
    types = event_types(escalated)
    assert types.index("sla.warning") < types.index("sla.breached") <= types.index("ticket.escalated")
    assert escalated["assignee"] == "tier2" and escalated["escalation_level"] == 1
    assert escalated["sla"]["state"] == "breached"
    warning = next(e for e in escalated["events"] if e["type"] == "sla.warning")
    assert warning["data"]["metric"] == "first_response"

    def alerts() -> list[dict[str, Any]] | None:
        result = stack.cli("outbox", "--json")
        sent = [m for m in json.loads(result.stdout)["items"] if escalated["ref"] in m["subject"]]
        to = {m["to"] for m in sent}
        return sent if {"tier1@example.com", "lead@example.com"} <= to else None

    sent = stack.wait_until(alerts, timeout=15)
    assert any("sla.warning" in m["subject"] for m in sent if m["to"] == "tier1@example.com")
    assert any("ticket.escalated" in m["subject"] for m in sent if m["to"] == "lead@example.com")

    # replaying the timers that already fired changes nothing
    queue = stack.state()["env"]["ESCALATE_QUEUE_URL"]
    for step in (0, 1, 0, -2):  # -2: the customer's promise, already told
        body = {"ticket_id": escalated["id"], "step": step, "due_at": escalated["created_at"]}
        stack.aws("sqs").send_message(QueueUrl=queue, MessageBody=json.dumps(body))
    time.sleep(3)  # let the escalate poller consume them (they are not delayed)
    again = ticket_by_subject(stack, token, "Darurat kasir 1")
    assert again is not None and escalation_events(again) == escalation_events(escalated)
    assert again["assignee"] == "tier2" and again["escalation_level"] == 1
    told = stack.wait_until(
        lambda: (t := ticket_by_subject(stack, token, "Darurat kasir 1")) and "eta.slipped" in event_types(t) and t, timeout=15
    )
    assert event_types(told).count("eta.slipped") == 1  # the replayed promise timer told nobody twice


def test_a_pending_ticket_stops_its_clock_until_the_customer_replies(configured: RunningStack) -> None:
    stack = configured
    token = stack.token("supervisor")
    subject = "Tidak bisa login kasir 2"
    first = urgent_mail(subject, "Toko Dua <dua@pelanggan.co.id>", body="Saya tidak bisa login di kasir 2.")
    stack.send_mail(first)
    ticket = stack.wait_until(lambda: (t := ticket_by_subject(stack, token, subject)) and t["assignee"] and t, timeout=20)
    assert ticket["priority"] == "high" and ticket["sla"]["policy"] == "high-seconds"
    status, body = stack.request("PATCH", f"/v1/tickets/{ticket['id']}", token=token, body={"status": "pending"})
    assert status == 200, body
    paused = stack.wait_until(
        lambda: (t := ticket_by_subject(stack, token, subject)) and "sla.paused" in event_types(t) and t, timeout=15
    )
    assert paused["sla"]["state"] == "paused" and "sla.warning" not in event_types(paused)

    # Past the moment a running clock would have warned (75 % of the 20 s target after creation) and then some:
    # the paused clock must not have.
    created = datetime.fromisoformat(ticket["created_at"].replace("Z", "+00:00"))
    time.sleep(max(0.0, (created - datetime.now(timezone.utc)).total_seconds() + 20 * 0.75 + 3))
    still = ticket_by_subject(stack, token, subject)
    assert still is not None and "sla.warning" not in event_types(still) and "ticket.escalated" not in event_types(still)

    reply = urgent_mail(f"Re: {subject}", "Toko Dua <dua@pelanggan.co.id>", body="Ini tangkapan layarnya.")
    reply["In-Reply-To"] = first["Message-ID"]
    stack.send_mail(reply)
    resumed = stack.wait_until(
        lambda: (t := ticket_by_subject(stack, token, subject)) and "sla.warning" in event_types(t) and t, timeout=30
    )
    types = event_types(resumed)
    assert types.index("sla.paused") < types.index("sla.resumed") < types.index("sla.warning")


def test_the_customer_hears_of_the_slip_and_the_answer_brings_the_ticket_back_down(configured: RunningStack) -> None:
    stack = configured
    token = stack.token("supervisor")
    subject = "Darurat kasir 3"
    stack.send_mail(urgent_mail(subject, "Toko Tiga <tiga@pelanggan.co.id>"))
    escalated = stack.wait_until(
        lambda: (t := ticket_by_subject(stack, token, subject)) and t["assignee"] == "tier2" and t["escalation_level"] == 1 and t,
        timeout=30,
    )
    assert escalated["promise"]["first_response_seconds"] == 6  # tier1 had it: an answer within the 6 s target

    def customer_mail_about(kind_words: str) -> list[dict[str, Any]] | None:
        result = stack.cli("outbox", "--json", "--to", "tiga@pelanggan.co.id")
        found = [m for m in json.loads(result.stdout)["items"] if kind_words in m["text"]]
        return found or None

    [notice] = stack.wait_until(lambda: customer_mail_about("lebih lama dari biasanya"), timeout=20)
    assert escalated["ref"] in notice["subject"] and notice["auto_submitted"] == "auto-generated"
    assert "Perkiraan penyelesaian yang baru: sekitar" in notice["text"]

    agent = stack.token("agent", agent="tier2")
    status, body = stack.request("POST", f"/v1/tickets/{escalated['id']}/replies", token=agent, body={"body": "Sudah normal kembali."})
    assert status == 201, body
    down = stack.wait_until(
        lambda: (t := ticket_by_subject(stack, token, subject)) and t["escalation_level"] == 0 and t, timeout=20
    )
    assert down["assignee"] == "tier2" and down["escalation_causes"] == {}
    deescalated = next(e for e in down["events"] if e["type"] == "ticket.deescalated")
    assert deescalated["data"]["reason"] == "an agent answered"
    slips = [e for e in down["events"] if e["type"] == "eta.slipped"]
    assert len(slips) == 1 and customer_mail_about("lebih lama dari biasanya") == [notice]  # told once
