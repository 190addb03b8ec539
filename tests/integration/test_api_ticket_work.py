"""Moving, merging, linking and macros through the API on moto: what a lead and an agent do over HTTP, stored in
the real tables (links, merged_from and copied messages round-trip through DynamoDB), mail through SES."""

from __future__ import annotations

import pytest
from chalice.test import Client

from tests.support import api_call, api_token, compose, deliver

pytestmark = pytest.mark.integration

token, call = api_token, api_call
AGENT, LEAD, BILLING = token("agent", "rina"), token("supervisor", "sari"), token("agent", "dewi", "billing")


def _agents() -> None:
    from shared.domain.model import AgentProfile
    from shared.domain.timefmt import utcnow
    from shared.storage.agents import AgentRepository

    for agent_id, team in (("rina", "support"), ("dewi", "billing")):
        AgentRepository().save(AgentProfile(id=agent_id, team=team, presence="online", capacity=3), utcnow())


def _mail(api: Client, aws, subject: str, sender: str = "Budi <budi@pelanggan.co.id>") -> dict:
    deliver(aws.s3, compose(subject=subject, sender=sender))
    aws.route()
    status, listing = call(api, "GET", f"/v1/tickets?q={subject.split()[0]}", LEAD)
    assert status == 200
    return next(t for t in listing["items"] if t["subject"] == subject)


def test_a_lead_moves_a_ticket_to_billing_where_its_agent_gets_it_with_the_same_sla(api, aws):
    _agents()
    ticket = _mail(api, aws, "Refund belum masuk")
    assert ticket["assignee"] == "rina"
    status, reply = call(api, "POST", f"/v1/tickets/{ticket['id']}/move", AGENT, {"team": "billing"})
    assert status == 403
    status, moved = call(api, "POST", f"/v1/tickets/{ticket['id']}/move", LEAD, {"team": "billing", "reason": "refund"})
    assert status == 200 and (moved["team"], moved["status"], moved["assignee"]) == ("billing", "open", None)
    assert "ticket.moved" in [e["type"] for e in moved["events"]]
    aws.route()
    status, now = call(api, "GET", f"/v1/tickets/{ticket['id']}", BILLING)
    assert status == 200 and (now["assignee"], now["status"]) == ("dewi", "in_progress")
    assert now["sla"] == ticket["sla"]
    assert call(api, "GET", f"/v1/tickets/{ticket['id']}", AGENT)[0] == 403  # support no longer works on it
    status, refused = call(api, "POST", f"/v1/tickets/{ticket['id']}/move", token("supervisor", "joko", "billing"),
                           {"team": "nosuch"})  # fmt: skip
    assert status == 400 and "no team 'nosuch'" in refused["error"]["message"]


def test_a_lead_merges_a_duplicate_and_the_customers_next_mail_lands_on_the_target(api, aws):
    _agents()
    target = _mail(api, aws, "Pembayaran gagal")
    source = _mail(api, aws, "Bayar gagal lagi")
    sent_before = len(aws.sent_mail())
    status, merged = call(api, "POST", f"/v1/tickets/{source['ref']}/merge", LEAD, {"into": target["ref"]})
    assert status == 200 and merged["id"] == target["id"] and merged["merged_from"] == [source["id"]]
    assert [m["body"] for m in merged["messages"] if m.get("merged_from") == source["id"] and m["kind"] == "customer"]
    notices = aws.sent_mail()[sent_before:]
    assert len(notices) == 1 and target["ref"] in notices[0].raw_data
    _, closed = call(api, "GET", f"/v1/tickets/{source['id']}", LEAD)
    assert (closed["status"], closed["merged_into"]) == ("closed", target["id"])

    again = call(api, "POST", f"/v1/tickets/{source['id']}/merge", LEAD, {"into": target["id"]})[1]
    assert again["message_count"] == merged["message_count"] and len(aws.sent_mail()) == sent_before + 1

    deliver(aws.s3, compose(subject=f"Re: [{source['ref']}] Bayar gagal lagi", body="Masih gagal"))
    aws.route()
    _, after = call(api, "GET", f"/v1/tickets/{target['id']}", LEAD)
    assert "Masih gagal" in [m["body"] for m in after["messages"]]
    status, refused = call(api, "POST", f"/v1/tickets/{target['id']}/merge", LEAD, {"into": source["id"]})
    assert status == 409 and "merge into that ticket instead" in refused["error"]["message"]


def test_linked_tickets_of_two_teams_each_show_the_others_progress(api, aws):
    _agents()
    support = _mail(api, aws, "Tagihan dobel")
    billing = _mail(api, aws, "Refund tagihan dobel", sender="Sari <sari@pelanggan.co.id>")
    call(api, "POST", f"/v1/tickets/{billing['id']}/move", LEAD, {"team": "billing"})
    aws.route()
    status, linked = call(api, "POST", f"/v1/tickets/{support['id']}/links", AGENT,
                          {"ticket": billing["ref"], "note": "refund di billing"})  # fmt: skip
    assert status == 201
    view = linked["links"][0]
    assert (view["ticket_id"], view["team"], view["status"], view["assignee"]) == (billing["id"], "billing", "in_progress", "dewi")
    call(api, "PATCH", f"/v1/tickets/{billing['id']}", BILLING, {"status": "resolved"})
    _, seen = call(api, "GET", f"/v1/tickets/{support['id']}", AGENT)
    assert seen["links"][0]["status"] == "resolved"  # support sees billing's progress
    _, other_side = call(api, "GET", f"/v1/tickets/{billing['id']}", BILLING)
    assert other_side["links"][0]["ticket_id"] == support["id"] and other_side["links"][0]["note"] == "refund di billing"
    status, unlinked = call(api, "DELETE", f"/v1/tickets/{support['id']}/links/{billing['ref']}", AGENT)
    assert status == 200 and unlinked["links"] == []


def test_a_macro_is_saved_by_a_lead_previewed_and_applied_by_an_agent(api, aws):
    _agents()
    ticket = _mail(api, aws, "Kode promo tidak jalan")
    macro = {"title": "Promo fixed", "reply": "Halo {{ customer_name }}, kode promo untuk {{ ref }} sudah aktif lagi.",
             "status": "resolved", "add_tags": ["promo"]}  # fmt: skip
    assert call(api, "PUT", "/v1/macros/promo", AGENT, macro)[0] == 403
    status, saved = call(api, "PUT", "/v1/macros/promo", LEAD, macro)
    assert status == 200 and saved["id"] == "promo"
    status, bad = call(api, "PUT", "/v1/macros/bad", LEAD, {"title": "x", "reply": "{{ nope }}"})
    assert status == 400 and "reply" in bad["error"]["message"]
    assert [m["id"] for m in call(api, "GET", "/v1/macros", AGENT)[1]["items"]] == ["promo"]

    path = f"/v1/tickets/{ticket['id']}/macros/promo"
    status, preview = call(api, "POST", path, AGENT, {"preview": True})
    assert status == 200 and preview["reply"]["text"] == f"Halo Budi, kode promo untuk {ticket['ref']} sudah aktif lagi."
    assert preview["changes"] == {"status": "resolved", "tags": ["promo"]} and preview["ticket"]["status"] == "in_progress"
    sent_before = len(aws.sent_mail())
    status, applied = call(api, "POST", path, AGENT, {})
    assert status == 200 and applied["ticket"]["status"] == "resolved" and applied["ticket"]["tags"] == ["promo"]
    assert len(aws.sent_mail()) == sent_before + 1
    assert call(api, "POST", f"/v1/tickets/{ticket['id']}/macros/nosuch", AGENT, {})[0] == 404


def test_an_agent_previews_a_template_and_a_draft_with_this_tickets_placeholders_and_nothing_is_sent(api, aws):
    _agents()
    ticket = _mail(api, aws, "Tagihan ganda", sender="Sinta Dewi <sinta@pelanggan.co.id>")
    sent_before, thread_before = len(aws.sent_mail()), ticket["message_count"]
    status, draft = call(api, "POST", f"/v1/tickets/{ticket['id']}/preview", AGENT,
                         {"text": "Halo {{ customer_name }}, tiket {{ ref }} sedang kami cek."})  # fmt: skip
    assert status == 200 and draft["text"] == f"Halo Sinta Dewi, tiket {ticket['ref']} sedang kami cek.", draft
    status, stored = call(api, "POST", f"/v1/tickets/{ticket['id']}/preview", AGENT, {"template": "acknowledgement"})
    assert status == 200 and ticket["ref"] in stored["subject"] and "Sinta Dewi" in stored["text"], stored
    assert "{{" not in stored["text"]
    assert call(api, "POST", f"/v1/tickets/{ticket['id']}/preview", AGENT, {"template": "nosuch"})[0] == 404
    status, refused = call(api, "POST", f"/v1/tickets/{ticket['id']}/preview", AGENT, {"text": "{{ broken"})
    assert status == 400 and "text" in refused["error"]["fields"], refused
    assert call(api, "POST", f"/v1/tickets/{ticket['id']}/preview", AGENT, {})[0] == 400
    assert call(api, "POST", f"/v1/tickets/{ticket['id']}/preview", BILLING, {"text": "x"})[0] == 403
    assert len(aws.sent_mail()) == sent_before
    assert call(api, "GET", f"/v1/tickets/{ticket['id']}", AGENT)[1]["message_count"] == thread_before
