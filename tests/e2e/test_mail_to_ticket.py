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


def test_a_reply_quoting_only_the_message_id_the_customer_received_threads(local_stack: RunningStack) -> None:
    """SES replaces the Message-ID we write; the outbox shows the mail as delivered, and the id stored on the
    thread is that one, so a client that keeps only In-Reply-To (no ref, no signed Reply-To) still threads."""
    from email import policy
    from email.parser import BytesParser
    from pathlib import Path

    token = local_stack.token("agent")
    local_stack.send_mail(mail("Aplikasi tidak bisa dibuka", "Aplikasi langsung tertutup.", sender="Nina <nina@pelanggan.co.id>"))
    ticket = local_stack.wait_until(lambda: find_ticket(local_stack, token, "Aplikasi tidak bisa dibuka"), timeout=30)

    def acknowledgement() -> Any:
        sent = json.loads(local_stack.cli("outbox", "--json", "--to", "nina@pelanggan.co.id").stdout)["items"]
        return sent[0] if sent else None

    delivered = BytesParser(policy=policy.default).parsebytes(Path(local_stack.wait_until(acknowledgement, timeout=30)["file"]).read_bytes())
    received_id = str(delivered["Message-ID"])
    stored = [m for m in ticket_detail(local_stack, token, ticket["id"])["messages"] if m["direction"] == "outbound"]
    assert received_id.endswith("amazonses.com>") and stored[0]["email_message_id"] == received_id

    reply = EmailMessage()
    reply["From"], reply["To"], reply["Subject"] = "Nina <nina@pelanggan.co.id>", "support@example.com", "Re: your mail"
    reply["In-Reply-To"] = received_id
    reply.set_content("Masih tertutup juga.")
    local_stack.send_mail(reply)
    detail = local_stack.wait_until(
        lambda: (d := ticket_detail(local_stack, token, ticket["id"]))["message_count"] == 2 and d, timeout=30
    )
    assert [m["body"] for m in detail["messages"] if m["direction"] == "inbound"][-1] == "Masih tertutup juga."


def test_the_stacks_logs_hold_no_address_reply_token_or_bearer_token(local_stack: RunningStack) -> None:
    """Runs after the mails above: customers' addresses, signed reply addresses and tokens appear as hashes."""
    import re

    logs = local_stack.logs()
    assert "accepted mail" in logs and "ticket created" in logs  # the lines are there, without what they hid
    addresses = set(re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", logs)) - {"support@example.com"}
    assert addresses == set(), sorted(addresses)[:10]
    assert "eyJ" not in logs


def test_each_functions_log_lines_carry_its_own_name(local_stack: RunningStack) -> None:
    lines = [json.loads(line[line.index("{") :]) for line in local_stack.logs().splitlines() if line.lstrip().startswith('{"level"')]
    created = [line for line in lines if line.get("message") == "ticket created"]
    routed = [line for line in lines if line.get("message") == "route event handled"]
    assert created and routed
    assert {line.get("function_name") for line in created} == {"ticketing-local-IngestFunction"}
    assert {line.get("function_name") for line in routed} == {"ticketing-local-RouteFunction"}
