"""Self-service and KPIs through the local stack, as a customer and a lead meet them: articles published over
HTTP and found in Indonesian and English, the acknowledgement (SMTP in, outbox out) suggesting the right one with
the customer's portal link, the customer following that link to reply and to rate the resolved ticket once, and
the KPI summary — fed by DynamoDB Local's stream through the aggregate function — flagging an overloaded agent."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from tests.e2e.conftest import RunningStack, customer_mail, portal_link

pytestmark = pytest.mark.e2e

ARTICLES = {
    "lupa-kata-sandi": {"title": "Lupa kata sandi atau tidak bisa masuk", "language": "id", "status": "published",
                        "category": "akun", "tags": ["login"],
                        "body": "Buka halaman masuk, pilih 'Lupa kata sandi' dan ikuti tautan yang kami kirim ke "
                                "email Anda. Tautan berlaku satu jam."},
    "refund-timing": {"title": "When will my refund arrive?", "language": "en", "status": "published",
                      "category": "billing", "tags": ["refund"],
                      "body": "Refunds reach the original payment method within 5 business days of approval."},
}  # fmt: skip


def test_a_customer_finds_the_article_follows_their_link_replies_and_rates_and_the_kpis_count_it(local_stack: RunningStack) -> None:
    lead = local_stack.token("supervisor", "sari")
    for article_id, doc in ARTICLES.items():
        assert local_stack.request("PUT", f"/v1/articles/{article_id}", lead, doc)[0] == 200
    assert local_stack.request("GET", "/v1/kb/search?q=saya%20lupa%20sandi")[1]["items"][0]["id"] == "lupa-kata-sandi"
    assert local_stack.request("GET", "/v1/kb/search?q=refund%20arrive&lang=en")[1]["items"][0]["id"] == "refund-timing"
    assert local_stack.request("GET", "/v1/kb/search?q=pasword%20lupa")[1]["items"][0]["id"] == "lupa-kata-sandi"  # a typo

    address = "wulan@pelanggan.co.id"
    local_stack.send_mail(customer_mail("Tidak bisa masuk akun", "Saya lupa kata sandi, tidak bisa login.", f"Wulan <{address}>"))
    ack = local_stack.wait_until(lambda: local_stack.mails_to(address), timeout=30)[0]
    assert "Lupa kata sandi atau tidak bisa masuk" in ack["text"] and "/#/help/lupa-kata-sandi" in ack["text"]
    ticket_id, token = portal_link(ack["text"])
    assert f"{local_stack.api_url}/#/portal/{ticket_id}/" in ack["text"]  # the stack's own console

    status, page = local_stack.portal("GET", f"/v1/portal/tickets/{ticket_id}", token)
    assert status == 200 and page["ref"] in ack["subject"] and page["status"] in ("open", "in_progress")
    assert local_stack.portal("GET", f"/v1/portal/tickets/{ticket_id}", token[:-3] + "abc")[0] == 401
    status, _ = local_stack.portal("POST", f"/v1/portal/tickets/{ticket_id}/replies", token, {"body": "Sudah coba reset, tautannya tidak datang."})
    assert status == 201
    local_stack.wait_until(lambda: "tautannya tidak datang" in json.dumps(local_stack.request("GET", f"/v1/tickets/{ticket_id}", lead)[1]))

    assert local_stack.request("PATCH", f"/v1/tickets/{ticket_id}", lead, {"status": "resolved"})[0] == 200
    notice = local_stack.wait_until(lambda: [m for m in local_stack.mails_to(address) if "/rate" in m["text"]], timeout=30)[0]
    assert portal_link(notice["text"])[0] == ticket_id
    assert local_stack.portal("POST", f"/v1/portal/tickets/{ticket_id}/csat", token, {"score": 5, "comment": "Terima kasih"})[0] == 201
    assert local_stack.portal("POST", f"/v1/portal/tickets/{ticket_id}/csat", token, {"score": 1})[0] == 409

    # the KPIs: the stream has carried every change to the aggregates
    created = local_stack.request("GET", f"/v1/tickets/{ticket_id}", lead)[1]["created_at"][:10]
    from datetime import date

    until = (date.fromisoformat(created) + timedelta(days=2)).isoformat()

    def counted() -> dict[str, Any] | None:
        status, summary = local_stack.request("GET", f"/v1/metrics/summary?from={created}&to={until}", lead)
        assert status == 200, summary
        return summary if summary["kpis"]["csat_average"]["value"] == 5.0 else None

    summary = local_stack.wait_until(counted, timeout=30)
    assert summary["kpis"]["volume"]["value"] >= 1 and summary["kpis"]["csat_response_rate"]["value"] is not None
    assert all("baseline" in entry for entry in summary["kpis"].values())


def test_a_seeded_fortnight_shows_every_kpi_beside_last_week_and_flags_the_overloaded_agent(local_stack: RunningStack) -> None:
    from datetime import date, timedelta

    result = local_stack.cli("demo-week", "--team", "demo")
    assert result.returncode == 0, result.stderr
    lead = local_stack.token("supervisor", "sari", "demo")
    today = date.today()
    start, end = (today - timedelta(days=6)).isoformat(), (today + timedelta(days=1)).isoformat()

    written = int(result.stdout.split()[0])
    last: list[dict[str, Any]] = []

    def seeded() -> dict[str, Any] | None:
        status, summary = local_stack.request("GET", f"/v1/metrics/summary?from={start}&to={end}&group_by=agent", lead)
        assert status == 200, summary
        volume = summary["kpis"]["volume"]
        counted = (volume["value"] or 0) + (volume["baseline"] or 0)
        counts = {k: v for k, v in summary["kpis"].items() if k != "backlog_age_average"}  # that one ages by the second
        settled = counted == written and bool(last) and last[-1] == counts
        last.append(counts)
        return summary if settled else None

    summary = local_stack.wait_until(seeded, timeout=60, interval=1.0)  # ~250 tickets through the stream
    kpis = summary["kpis"]
    assert summary["baseline"] == {"from": (today - timedelta(days=13)).isoformat(), "to": start}
    for name in ("volume", "first_response_median", "first_response_p90", "resolution_median", "sla_compliance",
                 "csat_average", "csat_response_rate", "deflection_rate", "backlog", "escalations"):  # fmt: skip
        assert "baseline" in kpis[name] and "flag" in kpis[name], name
    assert kpis["volume"]["value"] > kpis["volume"]["baseline"] and kpis["volume"]["flag"] == "act"
    assert kpis["first_response_median"]["flag"] == "act"  # answers took three times as long
    budi = next(a for a in summary["workload"]["agents"] if a["agent"] == "budi")
    assert budi["overloaded"] and budi["why"] == "holds 3 tickets, capacity 2"
    assert {g["value"] for g in summary["groups"]} >= {"ani", "budi", "citra"}
    rebuilt = local_stack.cli("kpi", "rebuild")
    assert rebuilt.returncode == 0 and " 0 counter(s) corrected" in rebuilt.stdout, rebuilt.stdout + rebuilt.stderr
