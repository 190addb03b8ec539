"""A new team's first hour, through the local stack: agents created the simplest way (a team, a capacity, online;
no skills), mail that needs the billing skill and mail that does not. Nobody is skipped, nobody overfilled, and
what waits drains in the team's order as agents finish."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import RunningStack, customer_mail

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PRIORITY_RANK = {"urgent": 1, "high": 2, "medium": 3, "low": 4}
BILLING = [
    ("Tagihan bulan ini salah", "Tagihan saya dobel bulan ini."),
    ("Refund belum masuk", "Saya minta refund untuk pesanan kemarin."),
    ("Invoice salah", "Invoice saya salah alamat."),
    ("Pembayaran gagal", "Pembayaran saya gagal terus."),
    ("Tagihan lagi", "Tagihan saya belum diperbaiki."),
    ("Refund kedua", "Refund yang kedua juga belum."),
    ("Invoice ganda", "Kenapa ada dua invoice?"),
]
LOGIN = [(f"Tidak bisa login ({n})", "Saya tidak bisa login sejak pagi.") for n in range(7)]


def tickets(stack: RunningStack, token: str) -> list[dict[str, Any]]:
    status, body = stack.request("GET", "/v1/tickets?limit=100", token=token)
    assert status == 200, body
    return list(body["items"])


def test_five_skill_less_agents_take_ten_of_fourteen_and_the_rest_drain_in_order(local_stack: RunningStack) -> None:
    lead = local_stack.token("supervisor")
    for name in ("ani", "budi", "citra", "dodi", "eka"):
        status, body = local_stack.request(
            "PUT", f"/v1/agents/{name}", token=lead, body={"team": "support", "capacity": 2, "presence": "online"}
        )
        assert status == 201 and body["skills"] == [], body
    for n, (subject, text) in enumerate(item for pair in zip(BILLING, LOGIN) for item in pair):
        local_stack.send_mail(customer_mail(subject, text, f"Pelanggan {n} <p{n}@pelanggan.co.id>"))

    def settled() -> list[dict[str, Any]] | None:
        items = tickets(local_stack, lead)
        routed = all(t["priority_reasons"] and t["status"] in ("open", "in_progress") for t in items)
        return items if len(items) == 14 and routed and sum(1 for t in items if t["assignee"]) == 10 else None

    items = local_stack.wait_until(settled, timeout=60)
    status, roster = local_stack.request("GET", "/v1/agents", token=lead)
    for agent in roster["items"]:
        held = [t for t in items if t["assignee"] == agent["id"]]
        assert agent["load"] == len(held) == 2, (agent, held)  # everyone works, nobody is over capacity
    billing = [t for t in items if t["skill"] == "billing"]
    assert len(billing) == 7 and any(t["assignee"] for t in billing)  # skill-less agents take billing work
    for ticket in (t for t in billing if t["assignee"]):
        assert "best agent without it" in ticket["assignment_reason"]

    waiting = sorted((t for t in items if not t["assignee"]), key=lambda t: (PRIORITY_RANK[t["priority"]], t["created_at"]))
    assert len(waiting) == 4 and all(t["status"] == "open" for t in waiting)
    for head in waiting:
        finished = next(t for t in tickets(local_stack, lead) if t["status"] == "in_progress")
        status, body = local_stack.request("PATCH", f"/v1/tickets/{finished['id']}", token=lead, body={"status": "resolved"})
        assert status == 200, body

        def head_taken(head: dict[str, Any] = head) -> dict[str, Any] | None:
            ticket = local_stack.request("GET", f"/v1/tickets/{head['id']}", token=lead)[1]
            return ticket if ticket["assignee"] else None

        taken = local_stack.wait_until(head_taken, timeout=30)
        assert taken["assignee"] == finished["assignee"]  # the slot that freed, to the head of the queue
        still = [t for t in tickets(local_stack, lead) if not t["assignee"] and t["status"] == "open"]
        assert {t["id"] for t in still} == {t["id"] for t in waiting[waiting.index(head) + 1 :]}
    status, roster = local_stack.request("GET", "/v1/agents", token=lead)
    assert all(agent["load"] <= agent["capacity"] for agent in roster["items"])
