"""Issue 2's "done when", the way a newcomer tries it: `ticketing run`, mail over SMTP, tickets over HTTP."""

from __future__ import annotations

import json
from email.message import EmailMessage
from typing import Any

import pytest

from tests.e2e.conftest import RunningStack, customer_mail

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def mail(subject: str, body: str, *, sender: str = "Dewi Lestari <dewi@pelanggan.co.id>", **headers: str) -> EmailMessage:
    return customer_mail(subject, body, sender, **headers)


def find_ticket(stack: RunningStack, token: str, subject: str) -> dict[str, Any] | None:
    status, body = stack.request("GET", "/v1/tickets?limit=100&q=" + subject.split()[0].lower(), token=token)
    assert status == 200, body
    return next((t for t in body["items"] if t["subject"] == subject), None)


def ticket_detail(stack: RunningStack, token: str, ticket_id: str) -> dict[str, Any]:
    status, body = stack.request("GET", f"/v1/tickets/{ticket_id}", token=token)
    assert status == 200, body
    return dict(body)


def test_a_mail_becomes_a_ticket_a_resend_is_dropped_and_a_reply_threads(local_stack: RunningStack) -> None:
    token = local_stack.token("agent")
    first = mail("Pembayaran gagal terus", "Kartu saya ditolak saat checkout.")
    local_stack.send_mail(first)
    ticket = local_stack.wait_until(lambda: find_ticket(local_stack, token, "Pembayaran gagal terus"), timeout=30)
    assert ticket["status"] == "open" and ticket["ref"].startswith("T-")

    local_stack.send_mail(first)  # the same mail delivered again
    local_stack.wait_until(lambda: local_stack.logs().count("duplicate inbound dropped") >= 1, timeout=30)

    reply = mail("Re: Pembayaran gagal terus", "Sudah saya coba kartu lain, tetap gagal.", In_Reply_To=first["Message-ID"])
    local_stack.send_mail(reply)
    detail = local_stack.wait_until(
        lambda: (d := ticket_detail(local_stack, token, ticket["id"]))["message_count"] == 2 and d, timeout=30
    )
    assert [m["body"] for m in detail["messages"] if m["direction"] == "inbound"] == [
        "Kartu saya ditolak saat checkout.",
        "Sudah saya coba kartu lain, tetap gagal.",
    ]
    status, body = local_stack.request("GET", "/v1/tickets?limit=100&q=pembayaran", token=token)
    assert [t["id"] for t in body["items"] if t["subject"] == "Pembayaran gagal terus"] == [ticket["id"]]


def test_an_auto_reply_is_flagged_and_never_answered(local_stack: RunningStack) -> None:
    token = local_stack.token("agent")
    original = mail("Akun terkunci", "Akun saya terkunci setelah tiga kali salah password.")
    local_stack.send_mail(original)
    ticket = local_stack.wait_until(lambda: find_ticket(local_stack, token, "Akun terkunci"), timeout=30)

    local_stack.send_mail(
        mail(
            "Automatic reply: Akun terkunci",
            "Saya sedang cuti sampai Senin.",
            In_Reply_To=original["Message-ID"],
            Auto_Submitted="auto-replied",
            X_Auto_Response_Suppress="All",
        )
    )
    detail = local_stack.wait_until(
        lambda: (d := ticket_detail(local_stack, token, ticket["id"]))["message_count"] == 2 and d, timeout=30
    )
    auto = [m for m in detail["messages"] if m["direction"] == "inbound"][-1]  # the acknowledgement may come later
    assert auto["automated"] and auto["kind"] == "automatic" and auto["suppressed"]
    assert "auto-submitted:auto-replied" in auto["automation_reasons"]

    # the route stage has handled both announcements (created, then the auto-reply's message.added) ...
    def handled_twice() -> bool:
        lines = [line for line in local_stack.logs().splitlines() if "route event handled" in line and ticket["id"] in line]
        return len(lines) >= 2

    local_stack.wait_until(handled_twice, timeout=30)
    # ... and the customer got exactly one mail about this ticket: the acknowledgement of the original
    def mails_about_ticket() -> list[dict[str, Any]]:
        result = local_stack.cli("outbox", "--json")
        assert result.returncode == 0, result.stderr
        return [m for m in json.loads(result.stdout)["items"] if ticket["ref"] in m["subject"]]

    local_stack.wait_until(mails_about_ticket, timeout=10)  # the outbox folder is written every 0.2 s
    about_ticket = mails_about_ticket()
    assert len(about_ticket) == 1 and about_ticket[0]["auto_submitted"] == "auto-generated"


def test_a_malformed_mail_is_quarantined_and_listed_with_its_reason(local_stack: RunningStack) -> None:
    raw = b"To: support@example.com\r\nSubject: no sender at all\r\n\r\nwho am I?\r\n"
    local_stack.send_mail(raw, mail_from="", to=["support@example.com"])
    supervisor = local_stack.token("supervisor")

    def listed() -> dict[str, Any] | None:
        status, body = local_stack.request("GET", "/v1/quarantine", token=supervisor)
        assert status == 200, body
        return next((i for i in body["items"] if i["subject"] == "no sender at all"), None)

    item = local_stack.wait_until(listed, timeout=30)
    assert item["reason"] == "missing_sender" and item["raw_key"].startswith("inbound/")
    raw_copy = local_stack.aws("s3").get_object(Bucket=item["raw_bucket"], Key=item["raw_key"])["Body"].read()
    assert b"who am I?" in raw_copy

    cli = local_stack.cli("quarantine", "list", "--json")
    assert cli.returncode == 0, cli.stderr
    assert any(i["id"] == item["id"] and i["reason"] == "missing_sender" for i in json.loads(cli.stdout)["items"])
    assert local_stack.request("GET", "/v1/quarantine", token=local_stack.token("agent"))[0] == 403
