"""Issue 10's channel "done when", through the local stack: a signed WhatsApp payload and a signed Telegram update
become tickets of their channel and are routed; an agent's reply reaches the recording fake of that platform (and
the fake WhatsApp's signed `delivered` callback moves the reply's status on); a forged signature is a 401 that
creates nothing; a replay creates nothing new."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from tests.e2e.conftest import RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def webhook(stack: RunningStack, *args: str) -> tuple[int, dict[str, Any]]:
    result = stack.cli("webhook", *args)
    answer = json.loads(result.stdout)
    return int(answer["status"]), answer["body"]


def ticket(stack: RunningStack, token: str, ticket_id: str) -> dict[str, Any]:
    status, body = stack.request("GET", f"/v1/tickets/{ticket_id}", token=token)
    assert status == 200, body
    return dict(body)


def sent_on(stack: RunningStack, channel: str) -> list[dict[str, Any]]:
    result = stack.cli("outbox", "--channel", channel, "--json")
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout)["items"])


def test_whatsapp_and_telegram_messages_become_routed_tickets_and_replies_reach_the_platforms(local_stack: RunningStack) -> None:
    lead = local_stack.token("supervisor")
    status, body = local_stack.request("PUT", "/v1/agents/ani", token=lead,
                                       body={"team": "support", "capacity": 5, "presence": "online"})  # fmt: skip
    assert status in (200, 201), body
    wamid = uuid.uuid4().hex
    status, body = webhook(local_stack, "whatsapp", "--from", "+628123456789", "--name", "Budi", "--id", wamid,
                           "Halo, pesanan saya belum sampai")  # fmt: skip
    assert status == 200 and body["messages"][0]["outcome"] == "created", body
    whatsapp_id = body["messages"][0]["ticket_id"]
    status, body = webhook(local_stack, "telegram", "--from", "512345678", "--name", "Dewi Lestari", "Aplikasi tidak bisa dibuka")
    assert status == 200 and body["messages"][0]["outcome"] == "created", body
    telegram_id = body["messages"][0]["ticket_id"]

    # replayed: nothing new; forged: 401 and nothing created
    status, body = webhook(local_stack, "whatsapp", "--from", "+628123456789", "--id", wamid, "Halo, pesanan saya belum sampai")
    assert status == 200 and body["messages"][0] == {**body["messages"][0], "outcome": "duplicate", "ticket_id": whatsapp_id}
    status, body = webhook(local_stack, "whatsapp", "--forge", "--from", "+628199999999", "Palsu")
    assert status == 401 and body["error"]["code"] == "unauthorized"
    status, listing = local_stack.request("GET", "/v1/tickets?limit=100", token=lead)
    assert {t["channel"] for t in listing["items"]} >= {"whatsapp", "telegram"}
    assert not [t for t in listing["items"] if t["customer"].get("handle") == "+628199999999"]
    assert len([t for t in listing["items"] if t["channel"] == "whatsapp"]) == 1

    routed = local_stack.wait_until(lambda: all(ticket(local_stack, lead, t)["assignee"] for t in (whatsapp_id, telegram_id)), timeout=30)
    assert routed
    agent = local_stack.token("agent", "ani")
    for ticket_id, text in ((whatsapp_id, "Baik Pak Budi, kami cek ke kurir"), (telegram_id, "Coba perbarui ke versi 2.4.1")):
        status, body = local_stack.request("POST", f"/v1/tickets/{ticket_id}/replies", token=agent, body={"body": text})
        assert status == 201, body

    def reply_sent(channel: str, text: str) -> list[dict[str, Any]]:
        return [r for r in sent_on(local_stack, channel) if json.dumps(r["request"], ensure_ascii=False).find(text) >= 0]

    [whatsapp_send] = local_stack.wait_until(lambda: reply_sent("whatsapp", "kami cek ke kurir"), timeout=30)
    assert whatsapp_send["request"]["to"] == "628123456789" and whatsapp_send["status"] == 200
    [telegram_send] = local_stack.wait_until(lambda: reply_sent("telegram", "versi 2.4.1"), timeout=30)
    assert telegram_send["request"]["chat_id"] == "512345678"

    def reply_status(ticket_id: str) -> str | None:
        replies = [m for m in ticket(local_stack, lead, ticket_id)["messages"] if m["kind"] == "agent"]
        return (replies[0].get("delivery") or {}).get("status") if replies else None

    # the fake WhatsApp calls back `delivered`, signed, through our own webhook
    assert local_stack.wait_until(lambda: reply_status(whatsapp_id) == "delivered", timeout=30)
    assert local_stack.wait_until(lambda: reply_status(telegram_id) == "sent", timeout=30)
