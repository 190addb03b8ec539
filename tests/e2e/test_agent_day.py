"""Issue 10's lead and agent moves through the local stack, as a team would use them over HTTP: a lead merges a
customer's duplicate mail and moves the ticket to billing, billing's agent gets it and answers with a macro, and
the customer's mail (the merge notice, the macro's reply) is in the outbox `ticketing outbox` shows."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.conftest import RunningStack, customer_mail

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CUSTOMER = "Wulan <wulan@pelanggan.co.id>"


def _ticket(stack: RunningStack, token: str, subject: str) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        status, body = stack.request("GET", "/v1/tickets?limit=100", token=token)
        assert status == 200, body
        return next((t for t in body["items"] if t["subject"] == subject and t["assignee"]), None)

    return stack.wait_until(found, timeout=30)


def _outbox(stack: RunningStack) -> list[dict[str, Any]]:
    result = stack.cli("outbox", "--to", "wulan@pelanggan.co.id", "--json")
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout)["items"])


def test_a_lead_merges_and_moves_and_billing_answers_with_a_macro(local_stack: RunningStack) -> None:
    lead = local_stack.token("supervisor", "sari", "support", "billing")
    for agent_id, team in (("rina", "support"), ("dewi", "billing")):
        status, body = local_stack.request("PUT", f"/v1/agents/{agent_id}", token=lead,
                                           body={"team": team, "capacity": 3, "presence": "online"})  # fmt: skip
        assert status in (200, 201), body
    local_stack.send_mail(customer_mail("Dana belum kembali", "Refund pesanan 7781 belum masuk.", CUSTOMER))
    first = _ticket(local_stack, lead, "Dana belum kembali")
    local_stack.send_mail(customer_mail("Refund 7781??", "Sudah seminggu, mohon dicek.", CUSTOMER))
    second = _ticket(local_stack, lead, "Refund 7781??")

    status, merged = local_stack.request("POST", f"/v1/tickets/{second['ref']}/merge", token=lead, body={"into": first["ref"]})
    assert status == 200 and merged["merged_from"] == [second["id"]], merged
    assert "Sudah seminggu, mohon dicek." in [m["body"] for m in merged["messages"]]

    status, moved = local_stack.request("POST", f"/v1/tickets/{first['id']}/move", token=lead,
                                        body={"team": "billing", "reason": "refund"})  # fmt: skip
    assert status == 200 and moved["team"] == "billing", moved
    dewi = local_stack.token("agent", "dewi", "billing")
    local_stack.wait_until(
        lambda: local_stack.request("GET", f"/v1/tickets/{first['id']}", token=dewi)[1].get("assignee") == "dewi",
        timeout=30,
    )
    assert local_stack.request("GET", f"/v1/tickets/{first['id']}", token=local_stack.token("agent", "rina"))[0] == 403

    macro = {"title": "Refund sent", "reply": "Halo {{ customer_name }}, refund untuk {{ ref }} sudah kami kirim.",
             "status": "resolved", "add_tags": ["refund"]}  # fmt: skip
    assert local_stack.request("PUT", "/v1/macros/refund-sent", token=lead, body=macro)[0] == 200
    status, preview = local_stack.request("POST", f"/v1/tickets/{first['id']}/macros/refund-sent", token=dewi,
                                          body={"preview": True})  # fmt: skip
    assert status == 200 and preview["ticket"]["status"] == "in_progress", preview
    status, applied = local_stack.request("POST", f"/v1/tickets/{first['id']}/macros/refund-sent", token=dewi, body={})
    assert status == 200 and applied["ticket"]["status"] == "resolved", applied

    def delivered() -> list[dict[str, Any]] | None:
        mails = _outbox(local_stack)
        texts = [json.dumps(m) for m in mails]
        merged_notice = [t for t in texts if first["ref"] in t and second["ref"] in t]
        reply = [t for t in texts if preview["reply"]["text"] in t]
        return mails if merged_notice and reply else None

    try:
        local_stack.wait_until(delivered, timeout=30)
    except AssertionError:
        pytest.fail(f"the merge notice ({second['ref']} into {first['ref']}) or the macro's reply is not in the outbox: "
                    f"{json.dumps(_outbox(local_stack), ensure_ascii=False)[-4000:]}")  # fmt: skip


def test_the_escalation_overview_lists_every_escalated_ticket_with_its_causes_and_owner(local_stack: RunningStack) -> None:
    lead = local_stack.token("supervisor", "sari", "support", "billing")
    status, body = local_stack.request("PUT", "/v1/agents/rina", token=lead,
                                       body={"team": "support", "capacity": 5, "presence": "online"})  # fmt: skip
    assert status in (200, 201), body
    local_stack.send_mail(customer_mail("Aplikasi tidak bisa dibuka", "Sejak pagi semua kasir error.", CUSTOMER))
    local_stack.send_mail(customer_mail("Laporan bulanan kosong", "Laporan November tidak muncul.", CUSTOMER))
    outage = _ticket(local_stack, lead, "Aplikasi tidak bisa dibuka")
    report = _ticket(local_stack, lead, "Laporan bulanan kosong")
    rina = local_stack.token("agent", "rina", "support")

    status, tagged = local_stack.request("PATCH", f"/v1/tickets/{outage['id']}", token=rina,
                                         body={"tags": ["system down"]})  # fmt: skip
    assert status == 200 and tagged["escalation_level"] == 1, tagged
    status, raised = local_stack.request("PATCH", f"/v1/tickets/{report['id']}", token=lead,
                                         body={"escalation_level": 2, "reason": "customer's auditor waiting"})  # fmt: skip
    assert status == 200 and raised["escalation_level"] == 2, raised
    assert local_stack.request("PATCH", f"/v1/tickets/{report['id']}", token=rina, body={"escalation_level": 0})[0] == 403

    status, overview = local_stack.request("GET", "/v1/escalations", token=lead)
    assert status == 200, overview
    listed = {item["id"]: (level["level"], item) for level in overview["levels"] for item in level["items"]}
    assert {outage["id"], report["id"]} <= set(listed), overview
    level, item = listed[outage["id"]]
    held = local_stack.request("GET", f"/v1/tickets/{outage['id']}", token=lead)[1]  # tier 2 may have taken it over
    assert level == 1 and item["assignee"] == held["assignee"] and item["team"] == "support", (item, held)
    assert any("system down" in cause for cause in item["causes"]), item
    assert item["age_seconds"] >= 0 and item["escalated_seconds"] is not None, item
    level, item = listed[report["id"]]
    assert level == 2 and "manual" in item["causes"], item

    status, top = local_stack.request("GET", "/v1/escalations?level=2", token=rina)
    assert status == 200 and report["id"] in [i["id"] for lv in top["levels"] for i in lv["items"]], top
    assert outage["id"] not in [i["id"] for lv in top["levels"] for i in lv["items"]], top
    status, other = local_stack.request("GET", "/v1/escalations", token=local_stack.token("agent", "dewi", "billing"))
    assert status == 200, other
    assert not {outage["id"], report["id"]} & {i["id"] for lv in other["levels"] for i in lv["items"]}, other
