"""Issue 8's "a newcomer's data survives": `ticketing run` stopped and started again on the same data folder keeps
every ticket, agent, policy, setting and token; a reply to an acknowledgement sent before the restart still
threads; mail accepted just before SIGTERM is all ingested after it; `ticketing reset` clears it on purpose."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from datetime import date, timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import RunningStack, customer_mail, start_local_stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# Only catches a hang: a stop takes seconds; a shared, loaded machine may take longer, never minutes.
STOP_BOUND_SECONDS = 60.0

VIP_POLICY = {
    "position": 1,
    "name": "VIP urgent",
    "conditions": {"priority": ["urgent"], "tier": ["vip"], "channel": [], "tags": [], "team": []},
    "targets": {"first_response": 900, "next_response": 3600, "resolution": 14400},
    "calendar": "24x7",
    "ladder": [{"metric": "first_response", "at": 0.75, "action": "warn"}],
}


def tickets(stack: RunningStack, token: str, q: str | None = None) -> list[dict[str, Any]]:
    status, body = stack.request("GET", "/v1/tickets?limit=100" + (f"&q={q}" if q else ""), token=token)
    assert status == 200, body
    return list(body["items"])


def detail(stack: RunningStack, token: str, ticket_id: str) -> dict[str, Any]:
    status, body = stack.request("GET", f"/v1/tickets/{ticket_id}", token=token)
    assert status == 200, body
    return dict(body)


def outbox(stack: RunningStack) -> list[dict[str, Any]]:
    result = stack.cli("outbox", "--json")
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout)["items"])


def quarantined(stack: RunningStack, token: str) -> list[dict[str, Any]]:
    status, body = stack.request("GET", "/v1/quarantine", token=token)
    assert status == 200, body
    return list(body["items"])


def test_a_restart_keeps_tickets_people_settings_tokens_and_reply_addresses(tmp_path: Path) -> None:
    stack = start_local_stack(tmp_path / "data")
    try:
        admin = stack.token("admin")  # minted before the restart, used after it
        agent = stack.token("agent", agent="sari")
        body = {"team": "support", "capacity": 2, "presence": "online", "tier": 1, "timezone": "Asia/Jakarta"}
        assert stack.request("PUT", "/v1/agents/sari", token=admin, body=body)[0] == 201
        assert stack.request("PUT", "/v1/sla-policies/vip-urgent", token=admin, body=VIP_POLICY)[0] == 200
        team = {"strategy": "fifo", "language": "id", "supervisors": ["lead@example.com"]}
        assert stack.request("PUT", "/v1/teams/support", token=admin, body=team)[0] == 200

        first = customer_mail("Tidak bisa login ke aplikasi", "Sejak pagi saya tidak bisa login.",
                              "Rina Susanti <rina@pelanggan.co.id>")  # fmt: skip
        stack.send_mail(first)
        ticket = stack.wait_until(
            lambda: next((t for t in tickets(stack, agent) if t["subject"] == first["Subject"]), None), timeout=30
        )
        acknowledgement = stack.wait_until(
            lambda: next((m for m in outbox(stack) if ticket["ref"] in m["subject"]), None), timeout=30
        )
        reply_to = parseaddr(acknowledgement["reply_to"])[1]
        assert reply_to.startswith("support+") and reply_to.endswith("@example.com"), acknowledgement["reply_to"]

        stack.send_mail(b"To: support@example.com\r\nSubject: who sent this\r\n\r\nno sender\r\n",
                        mail_from="", to=["support@example.com"])  # fmt: skip
        parked = stack.wait_until(
            lambda: next((i for i in quarantined(stack, admin) if i["subject"] == "who sent this"), None), timeout=30
        )
        # An event parked in the ingest DLQ, delayed 10 minutes: still there, still delayed, after the restart.
        sqs = stack.aws("sqs")
        dlq = sqs.get_queue_url(QueueName="ticketing-local-IngestDLQ")["QueueUrl"]
        sqs.send_message(QueueUrl=dlq, MessageBody='{"parked": true}', DelaySeconds=600)

        before = {
            "ticket": detail(stack, agent, ticket["id"]),
            "agents": stack.request("GET", "/v1/agents", token=admin)[1]["items"],
            "policies": stack.request("GET", "/v1/sla-policies", token=admin)[1],
            "team": stack.request("GET", "/v1/teams/support", token=admin)[1],
            "outbox": [m["file"] for m in outbox(stack)],
        }
        stack = stack.restart(stop_timeout=STOP_BOUND_SECONDS)

        # The same data, read with the tokens minted before the restart.
        assert detail(stack, agent, ticket["id"]) == before["ticket"]
        assert stack.request("GET", "/v1/agents", token=admin)[1]["items"] == before["agents"]
        assert stack.request("GET", "/v1/sla-policies", token=admin)[1] == before["policies"]
        assert stack.request("GET", "/v1/teams/support", token=admin)[1] == before["team"]
        assert any(p["id"] == "vip-urgent" for p in before["policies"]["items"])

        # The quarantined mail's raw copy is still where its record says (same bucket name, object restored).
        raw = stack.aws("s3").get_object(Bucket=parked["raw_bucket"], Key=parked["raw_key"])["Body"].read()
        assert b"no sender" in raw
        sqs = stack.aws("sqs")  # the new stack listens on other ports
        dlq = sqs.get_queue_url(QueueName="ticketing-local-IngestDLQ")["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["All"])["Attributes"]
        assert (attributes["ApproximateNumberOfMessages"], attributes["ApproximateNumberOfMessagesDelayed"]) == (
            "0", "1")  # fmt: skip

        # The customer answers the acknowledgement sent before the restart: its signed address threads the reply
        # (no ref in the subject, no In-Reply-To).
        reply = customer_mail("Masih belum bisa", "Sudah saya coba lagi, tetap gagal.", "rina@pelanggan.co.id")
        del reply["To"]
        reply["To"] = reply_to
        stack.send_mail(reply, to=[reply_to])
        threaded = stack.wait_until(
            lambda: (d := detail(stack, agent, ticket["id"]))["message_count"] == 2 and d, timeout=30
        )
        assert [m["body"] for m in threaded["messages"] if m["direction"] == "inbound"][-1] == (
            "Sudah saya coba lagi, tetap gagal."
        )
        assert [t["id"] for t in tickets(stack, agent) if t["customer"]["email"] == "rina@pelanggan.co.id"] == [
            ticket["id"]
        ]
        # What was sent before the restart is still in the outbox.
        assert set(before["outbox"]) <= {m["file"] for m in outbox(stack)}

        # The portal link in that acknowledgement still opens the ticket (the same key signs it) ...
        link = re.search(r"/#/portal/([0-9A-Z]+)/([A-Za-z0-9_\-.]+)", acknowledgement["text"])
        assert link and link.group(1) == ticket["id"]
        request = urllib.request.Request(f"{stack.api_url}/v1/portal/tickets/{ticket['id']}",
                                         headers={"X-Portal-Token": link.group(2)})  # fmt: skip
        with urllib.request.urlopen(request, timeout=30) as response:
            assert json.loads(response.read())["ref"] == ticket["ref"]
        # ... and the KPIs counted the ticket across the restart, once: a recount finds nothing to correct.
        day = ticket["created_at"][:10]
        until = (date.fromisoformat(day) + timedelta(days=2)).isoformat()
        stack.wait_until(lambda: stack.request("GET", f"/v1/metrics/summary?from={day}&to={until}", admin)[1]
                         ["kpis"]["volume"]["value"] == 1, timeout=30)  # fmt: skip
        rebuilt = stack.cli("kpi", "rebuild")
        assert rebuilt.returncode == 0 and " 0 counter(s) corrected" in rebuilt.stdout, rebuilt.stdout + rebuilt.stderr
    finally:
        stack.stop(timeout=STOP_BOUND_SECONDS)


def test_mail_accepted_right_before_a_stop_is_all_ingested_after_the_restart(tmp_path: Path) -> None:
    stack = start_local_stack(tmp_path / "data")
    try:
        tag = f"stop{int(time.time()) % 100000:05d}"
        subjects = [f"Pesanan {tag} nomor {n:02d} belum sampai" for n in range(20)]
        for n, subject in enumerate(subjects):
            stack.send_mail(customer_mail(subject, "Mohon dicek.", f"Pembeli {n} <beli{n}@pelanggan.co.id>"))
        # Every one of them was answered 250 (send_message raises otherwise); stop at once.
        began = time.monotonic()
        status = stack.stop(timeout=STOP_BOUND_SECONDS)
        stopped_in = time.monotonic() - began
        assert status == 0, stack.logs()[-3000:]
        assert stopped_in < STOP_BOUND_SECONDS
        assert "Stopped." in stack.logs()

        stack = start_local_stack(stack.workdir, log_name="stack-2.log")
        admin = stack.token("admin")

        def accounted() -> dict[str, list[str]] | None:
            found: dict[str, list[str]] = {s: [] for s in subjects}
            for ticket in tickets(stack, admin, q=tag):
                if ticket["subject"] in found:
                    found[ticket["subject"]].append(ticket["id"])
            for item in quarantined(stack, admin):
                if item.get("subject") in found:
                    found[item["subject"]].append(f"quarantine:{item['reason']}")
            return found if all(found.values()) else None

        found = stack.wait_until(accounted, timeout=60)
        assert all(len(ids) == 1 for ids in found.values()), found  # each exactly once: no replay made a double
        assert all(not ids[0].startswith("quarantine:") for ids in found.values()), found
        stack.wait_until(lambda: not list((stack.workdir / "spool").glob("*.json")), timeout=30)
    finally:
        stack.stop(timeout=STOP_BOUND_SECONDS)


def test_reset_is_refused_while_the_stack_runs_and_clears_its_data_after_a_stop(tmp_path: Path) -> None:
    stack = start_local_stack(tmp_path / "data")
    try:
        agent = stack.token("agent")
        status, created = stack.request("POST", "/v1/tickets", token=agent, body={
            "channel": "web", "subject": "Formulir: minta reset password", "body": "Tolong reset password saya.",
            "customer": {"email": "tono@pelanggan.co.id", "name": "Tono"},
        })  # fmt: skip
        assert status == 201, created

        refused = stack.cli("reset")
        assert refused.returncode != 0
        assert "running" in refused.stderr and str(stack.workdir) in refused.stderr, refused.stderr
        assert detail(stack, agent, created["id"])["subject"] == "Formulir: minta reset password"

        assert stack.stop(timeout=STOP_BOUND_SECONDS) == 0
        cleared = stack.cli("reset")
        assert cleared.returncode == 0, cleared.stderr
        assert "dynamodb" in cleared.stdout
        assert not (stack.workdir / "dynamodb").exists() and not (stack.workdir / "secrets.json").exists()

        stack = start_local_stack(stack.workdir, log_name="stack-2.log")
        assert stack.request("GET", "/v1/tickets", token=agent)[0] == 401  # a new signing key
        fresh = stack.token("agent")
        assert tickets(stack, fresh) == []
        assert stack.request("GET", f"/v1/tickets/{created['id']}", token=fresh)[0] == 404
    finally:
        stack.stop(timeout=STOP_BOUND_SECONDS)
