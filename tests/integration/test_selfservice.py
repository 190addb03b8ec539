"""The knowledge base, the help centre and the customer's portal through the API on moto: a lead publishes
articles, the acknowledgement suggests the right one and carries the portal link, the customer follows the link,
replies and rates once; tampered, expired and other tickets' links are refused."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.support import api_call, api_token, compose, deliver

pytestmark = pytest.mark.integration

call = api_call
LEAD, AGENT = api_token("supervisor", "sari"), api_token("agent", "rina")
PUBLIC = {"Content-Type": "application/json"}

ARTICLES = {
    "reset-password": {"title": "Cara mengatur ulang kata sandi", "language": "id", "category": "akun",
                       "tags": ["login", "password"], "status": "published",
                       "body": "Jika Anda lupa kata sandi atau tidak bisa login, buka halaman masuk dan pilih "
                               "'Lupa kata sandi'. Kami kirim tautan pengaturan ulang ke email Anda."},
    "refund-status": {"title": "Checking the status of a refund", "language": "en", "category": "billing",
                      "tags": ["refund"], "status": "published",
                      "body": "Refunds are returned to the original payment method within 5 business days. "
                              "You can check a refund's status under Orders."},
    "draft-shipping": {"title": "Pengiriman ke luar negeri", "language": "id", "status": "draft",
                       "body": "Kami belum mengirim ke luar negeri."},
}  # fmt: skip


def _publish(api) -> None:
    for article_id, doc in ARTICLES.items():
        status, saved = call(api, "PUT", f"/v1/articles/{article_id}", LEAD, doc)
        assert status == 200, saved
        assert saved["url"].endswith(f"/#/help/{article_id}")


def _portal_link(text: str) -> tuple[str, str]:
    found = re.search(r"/#/portal/([0-9A-Za-z-]+)/([A-Za-z0-9_\-.]+)", text)
    assert found, text
    return found.group(1), found.group(2)


def _mail_text(mail) -> str:
    import email
    from email import policy

    message = email.message_from_string(mail.raw_data, policy=policy.default)
    return message.get_body(("plain",)).get_content()


def test_articles_are_edited_by_leads_and_searched_by_anyone_in_either_language(api, aws):
    assert call(api, "PUT", "/v1/articles/x", AGENT, ARTICLES["refund-status"])[0] == 403
    _publish(api)
    status, found = call(api, "GET", "/v1/kb/search?q=lupa%20kata%20sandi", PUBLIC)
    assert status == 200 and found["items"][0]["id"] == "reset-password"
    found = call(api, "GET", "/v1/kb/search?q=where%20is%20my%20refunds", PUBLIC)[1]
    assert found["items"][0]["id"] == "refund-status"
    found = call(api, "GET", "/v1/kb/search?q=refnd%20status", PUBLIC)[1]  # a typo
    assert found["items"][0]["id"] == "refund-status"
    assert all(hit["id"] != "draft-shipping" for hit in call(api, "GET", "/v1/kb/search?q=luar%20negeri", PUBLIC)[1]["items"])
    assert call(api, "GET", "/v1/kb/articles/draft-shipping", PUBLIC)[0] == 404
    assert call(api, "GET", "/v1/kb/search?q=", PUBLIC)[0] == 400

    status, page = call(api, "GET", "/v1/kb/articles/refund-status", PUBLIC)
    assert status == 200 and page["title"].startswith("Checking")
    assert call(api, "POST", "/v1/kb/articles/refund-status/feedback", PUBLIC, {"helpful": True})[1]["helpful"] == 1
    call(api, "POST", "/v1/kb/articles/refund-status/feedback", PUBLIC, {"helpful": False})
    listed = {a["id"]: a for a in call(api, "GET", "/v1/articles", LEAD)[1]["items"]}
    assert listed["refund-status"]["counts"] == {"views": 1, "helpful": 1, "not_helpful": 1, "deflections": 0}
    assert listed["draft-shipping"]["status"] == "draft"

    # unpublishing takes it out of the index at once
    call(api, "PUT", "/v1/articles/refund-status", LEAD, {**ARTICLES["refund-status"], "status": "draft"})
    assert call(api, "GET", "/v1/kb/search?q=refund", PUBLIC)[1]["items"] == []
    assert call(api, "DELETE", "/v1/articles/reset-password", LEAD)[0] == 204
    assert call(api, "GET", "/v1/kb/search?q=kata%20sandi", PUBLIC)[1]["items"] == []


def test_the_acknowledgement_suggests_the_article_and_the_portal_link_lets_the_customer_reply_and_rate_once(api, aws):
    _publish(api)
    deliver(aws.s3, compose(subject="Tidak bisa login", body="Saya lupa kata sandi akun saya, tolong bantu."))
    aws.route()
    ack = _mail_text(aws.sent_mail()[-1])
    assert "Cara mengatur ulang kata sandi" in ack and "/#/help/reset-password" in ack
    ticket_id, token = _portal_link(ack)
    headers = {**PUBLIC, "X-Portal-Token": token}

    status, page = call(api, "GET", f"/v1/portal/tickets/{ticket_id}", headers)
    assert status == 200 and page["status"] == "open" and page["language"] == "id"
    assert [m["from"] for m in page["messages"]][:2] == ["you", "automatic"]
    assert page["can_reply"] and not page["can_rate"]
    assert page["suggested_articles"][0]["id"] == "reset-password"
    _, stored = call(api, "GET", f"/v1/tickets/{ticket_id}", LEAD)  # the link went out, but is not kept on the thread
    assert "/#/portal/" not in str(stored["messages"]) and "Cara mengatur ulang kata sandi" in str(stored["messages"])
    status, agent_view = call(api, "GET", f"/v1/tickets/{ticket_id}/suggestions", LEAD)
    assert status == 200 and agent_view["items"][0]["id"] == "reset-password"

    assert call(api, "POST", f"/v1/portal/tickets/{ticket_id}/csat", headers, {"score": 5})[0] == 409  # not resolved
    status, replied = call(api, "POST", f"/v1/portal/tickets/{ticket_id}/replies", headers, {"body": "Sudah saya coba, tetap gagal."})
    assert status == 201 and replied["ticket_id"] == ticket_id
    aws.route()
    _, full = call(api, "GET", f"/v1/tickets/{ticket_id}", LEAD)
    assert full["messages"][-1]["body"].startswith("Sudah saya coba") and full["messages"][-1]["kind"] == "customer"

    # an internal note never reaches the portal
    call(api, "POST", f"/v1/tickets/{ticket_id}/replies", LEAD, {"body": "catatan rahasia", "internal": True})
    assert "catatan rahasia" not in str(call(api, "GET", f"/v1/portal/tickets/{ticket_id}", headers)[1])

    status, resolved = call(api, "PATCH", f"/v1/tickets/{ticket_id}", LEAD, {"status": "resolved"})
    assert status == 200, resolved
    aws.route()
    notice = _mail_text(aws.sent_mail()[-1])
    assert f"/#/portal/{ticket_id}/" in notice and "/rate" in notice
    assert call(api, "GET", f"/v1/portal/tickets/{ticket_id}", headers)[1]["can_rate"] is True
    assert call(api, "POST", f"/v1/portal/tickets/{ticket_id}/csat", headers, {"score": 6})[0] == 400
    status, rated = call(api, "POST", f"/v1/portal/tickets/{ticket_id}/csat", headers, {"score": 4, "comment": "Cepat"})
    assert status == 201 and rated["score"] == 4
    status, again = call(api, "POST", f"/v1/portal/tickets/{ticket_id}/csat", headers, {"score": 1})
    assert status == 409 and "already been rated" in again["error"]["message"]
    _, stored = call(api, "GET", f"/v1/tickets/{ticket_id}", LEAD)
    assert stored["csat"]["score"] == 4 and "csat.received" in [e["type"] for e in stored["events"]]


def test_tampered_expired_and_other_tickets_links_are_refused(api, aws):
    from shared.adapters.secrets import purpose_key, signing_key
    from shared.domain.portal import portal_token
    from shared.domain.timefmt import utcnow
    from shared.settings import get_settings

    deliver(aws.s3, compose(subject="Pesanan A", body="Pesanan saya belum datang"))
    deliver(aws.s3, compose(subject="Pesanan B", sender="Dewi <dewi@pelanggan.co.id>", body="Barang rusak"))
    aws.route()
    links = [_portal_link(_mail_text(m)) for m in aws.sent_mail()[-2:]]
    (first, token), (second, other_token) = links
    assert first != second
    assert call(api, "GET", f"/v1/portal/tickets/{first}", {**PUBLIC, "X-Portal-Token": token})[0] == 200
    status, body = call(api, "GET", f"/v1/portal/tickets/{second}", {**PUBLIC, "X-Portal-Token": token})
    assert status == 403 and "another request" in body["error"]["message"]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert call(api, "GET", f"/v1/portal/tickets/{first}", {**PUBLIC, "X-Portal-Token": tampered})[0] == 401
    assert call(api, "GET", f"/v1/portal/tickets/{first}", PUBLIC)[0] == 401
    key = purpose_key(signing_key(get_settings()), "portal")
    expired = portal_token(key, first, utcnow() - timedelta(days=31), days=30)
    status, body = call(api, "GET", f"/v1/portal/tickets/{first}", {**PUBLIC, "X-Portal-Token": expired})
    assert status == 401 and "expired" in body["error"]["message"]
    reply_key = purpose_key(signing_key(get_settings()), "reply-to")  # a token signed for another purpose
    assert call(api, "GET", f"/v1/portal/tickets/{first}", {**PUBLIC, "X-Portal-Token": portal_token(reply_key, first, utcnow(), 30)})[0] == 401
    assert call(api, "POST", f"/v1/portal/tickets/{second}/replies", {**PUBLIC, "X-Portal-Token": token}, {"body": "x"})[0] == 403


def test_a_customer_closes_their_request_with_an_article_and_it_counts_as_a_deflection(api, aws):
    _publish(api)
    deliver(aws.s3, compose(subject="Refund", body="When will my refund arrive?"))
    aws.route()
    ticket_id, token = _portal_link(_mail_text(aws.sent_mail()[-1]))
    headers = {**PUBLIC, "X-Portal-Token": token}
    assert call(api, "POST", f"/v1/portal/tickets/{ticket_id}/solved", headers, {"article": "draft-shipping"})[0] == 404
    status, solved = call(api, "POST", f"/v1/portal/tickets/{ticket_id}/solved", headers, {"article": "refund-status"})
    assert status == 200 and solved["status"] == "resolved"
    aws.route()
    _, ticket = call(api, "GET", f"/v1/tickets/{ticket_id}", LEAD)
    assert ticket["status"] == "resolved" and ticket["resolved_by_article"] == "refund-status"
    assert call(api, "GET", "/v1/articles/refund-status", LEAD)[1]["counts"]["deflections"] == 1
    assert call(api, "POST", f"/v1/portal/tickets/{ticket_id}/solved", headers, {"article": "refund-status"})[0] == 409
