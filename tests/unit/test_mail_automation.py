"""Mail no human wrote must not open tickets or get auto-acknowledged: OOO, newsletters, bounces, loops."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest

from shared.mail.automation import detect_automation, message_ids, normalize_message_id
from shared.mail.parsing import parse_email

pytestmark = pytest.mark.unit

MAILS = Path(__file__).resolve().parents[1] / "mails"
OUR_LOOP_MARKER = "support@acme.example"


def message(raw: str) -> EmailMessage:
    parsed = BytesParser(policy=policy.default).parsebytes(raw.encode("utf-8"))
    assert isinstance(parsed, EmailMessage)
    return parsed


def customer_mail(extra_headers: str = "", sender: str = "Budi <budi@pelanggan.example>") -> EmailMessage:
    return message(f"From: {sender}\nTo: support@acme.example\nSubject: Tidak bisa login\n{extra_headers}\nHalo\n")


# --- the verdicts intake acts on ----------------------------------------------------------------


def test_a_customer_writing_in_is_not_automated():
    verdict = parse_email((MAILS / "customer_id_login_urgent.eml").read_bytes()).automation

    assert verdict.is_automated is False
    assert verdict.reasons == ()
    assert verdict.is_bounce is False
    assert verdict.bounced_recipients == ()
    assert verdict.original_message_id is None


def test_out_of_office_reply_is_automated_and_not_a_bounce():
    verdict = parse_email((MAILS / "out_of_office.eml").read_bytes()).automation

    assert verdict.is_automated
    assert verdict.reasons == ("auto-submitted:auto-replied", "x-auto-response-suppress")
    assert verdict.is_bounce is False


def test_bulk_newsletter_is_automated():
    verdict = parse_email((MAILS / "newsletter_bulk.eml").read_bytes()).automation

    assert verdict.reasons == ("precedence:bulk", "list-id")
    assert verdict.is_bounce is False


def test_bounce_of_our_acknowledgement_names_the_dead_address_and_our_message():
    verdict = parse_email((MAILS / "dsn_bounce.eml").read_bytes()).automation

    assert verdict.is_bounce
    assert verdict.bounced_recipients == ("old.account@pelanggan.example",)
    assert verdict.original_message_id == "<ticket-1043-ack@acme.example>"
    assert set(verdict.reasons) == {
        "auto-submitted:auto-replied",
        "empty-return-path",
        "delivery-status-report",
        "mailer-daemon",
    }


def test_our_own_notification_coming_back_is_recognised_as_our_loop():
    raw = (MAILS / "loop_own_notification.eml").read_bytes()

    assert "x-loop:ours" in parse_email(raw, loop_marker=OUR_LOOP_MARKER).automation.reasons
    assert "x-loop" in parse_email(raw, loop_marker=None).automation.reasons
    assert "x-loop" in parse_email(raw, loop_marker="helpdesk@other.example").automation.reasons


# --- individual signals -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ("Auto-Submitted: auto-generated (failure)\n", "auto-submitted:auto-generated"),
        ("Auto-Submitted: Auto-Replied\n", "auto-submitted:auto-replied"),
        ("Precedence: junk\n", "precedence:junk"),
        ("Precedence: list\n", "precedence:list"),
        ("X-Loop: helpdesk@vendor.example\n", "x-loop"),
        ("X-Auto-Response-Suppress: OOF, AutoReply\n", "x-auto-response-suppress"),
        ("X-Auto-Response-Suppress: DR\n", "x-auto-response-suppress"),
        ("Return-Path: <>\n", "empty-return-path"),
        ("List-Id: <pengumuman.acme.example>\n", "list-id"),
        ("List-Unsubscribe: <https://promo.example/u>\n", "list-id"),
        ("X-Autoreply: yes\n", "x-autoreply"),
        ("X-Autorespond: Saya sedang cuti\n", "x-autorespond"),
    ],
)
def test_each_automation_header_is_reported_by_name(headers, reason):
    verdict = detect_automation(customer_mail(headers), loop_marker=OUR_LOOP_MARKER)

    assert verdict.is_automated
    assert reason in verdict.reasons


@pytest.mark.parametrize(
    "headers",
    [
        "Auto-Submitted: no\n",
        "Precedence: first-class\n",
        "X-Auto-Response-Suppress: None\n",
        "Return-Path: <budi@pelanggan.example>\n",
    ],
)
def test_harmless_values_of_the_same_headers_do_not_flag_a_customer(headers):
    verdict = detect_automation(customer_mail(headers), loop_marker=OUR_LOOP_MARKER)

    assert verdict.is_automated is False
    assert verdict.reasons == ()


def test_postmaster_notice_without_failure_wording_is_automated_but_not_a_bounce():
    verdict = detect_automation(
        customer_mail(sender="Postmaster <postmaster@pelanggan.example>"), loop_marker=None
    )

    assert verdict.reasons == ("mailer-daemon",)
    assert verdict.is_bounce is False


def test_qmail_style_bounce_without_dsn_still_finds_our_original_message():
    msg = message(
        "From: MAILER-DAEMON@mx.pelanggan.example\nTo: support@acme.example\nSubject: failure notice\n\n"
        "Hi. This is the qmail-send program at mx.pelanggan.example.\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n\n"
        "<budi@pelanggan.example>:\nSorry, no mailbox here by that name.\n\n"
        "--- Below this line is a copy of the message.\n\n"
        "From: Acme Support <support@acme.example>\nMessage-ID: <ticket-77-ack@acme.example>\n"
        "Subject: [#77] Tiket diterima\n"
    )

    verdict = detect_automation(msg, loop_marker=None)

    assert verdict.is_bounce
    assert verdict.original_message_id == "<ticket-77-ack@acme.example>"
    assert verdict.bounced_recipients == ()


def test_dsn_with_returned_message_reports_every_failed_recipient_once():
    msg = message(
        "From: Mail Delivery Subsystem <MAILER-DAEMON@relay.example>\nTo: support@acme.example\n"
        "Subject: Returned mail\n"
        'Content-Type: multipart/report; report-type="delivery-status"; boundary="r"\n\n'
        "--r\nContent-Type: text/plain\n\nDelivery failed.\n"
        "--r\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; relay.example\n\n"
        "Original-Recipient: rfc822;budi@pelanggan.example\n"
        "Final-Recipient: RFC822; <Budi.Santoso@Mailhost.Pelanggan.Example>\nAction: failed\n\n"
        "Final-Recipient: rfc822; sari@pelanggan.example\nStatus: 5.0.0\n\n"
        "Final-Recipient: rfc822; ok@pelanggan.example\nAction: delivered\n"
        "--r\nContent-Type: message/rfc822\n\n"
        "From: support@acme.example\nMessage-ID: <ticket-88-reply-2@acme.example>\nSubject: x\n\nbody\n"
        "--r--\n"
    )

    verdict = detect_automation(msg, loop_marker=None)

    assert verdict.bounced_recipients == (
        "budi@pelanggan.example",
        "budi.santoso@mailhost.pelanggan.example",
        "sari@pelanggan.example",
    )
    assert verdict.original_message_id == "<ticket-88-reply-2@acme.example>"


def test_spam_complaint_feedback_report_is_automated():
    msg = message(
        "From: abuse@isp.example\nTo: support@acme.example\nSubject: complaint\n"
        "Content-Type: multipart/report; report-type=feedback-report; boundary=f\n\n"
        "--f\nContent-Type: text/plain\n\nThis is an abuse report.\n"
        "--f\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\n--f--\n"
    )

    verdict = detect_automation(msg, loop_marker=None)

    assert verdict.reasons == ("feedback-report",)
    assert verdict.is_bounce is False


def test_read_receipt_is_automated():
    msg = message(
        "From: budi@pelanggan.example\nTo: support@acme.example\nSubject: Read: tiket\n"
        "Content-Type: multipart/report; report-type=disposition-notification; boundary=m\n\n"
        "--m\nContent-Type: text/plain\n\nDibaca.\n--m--\n"
    )

    assert detect_automation(msg, loop_marker=None).reasons == ("read-receipt",)


# --- message-id syntax shared with threading ----------------------------------------------------


def test_message_ids_keeps_order_skips_broken_entries_and_duplicates():
    value = "<a@x.example> junk <b@y.example>, <broken id@z.example> <a@x.example> <c@w.example>"

    assert message_ids(value) == ["<a@x.example>", "<b@y.example>", "<c@w.example>"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<abc@x.example>", "<abc@x.example>"),
        ("  <abc@x.example> (comment)", "<abc@x.example>"),
        ("abc@x.example", "<abc@x.example>"),
        ("Tidak ada", None),
        ("", None),
    ],
)
def test_normalize_message_id(value, expected):
    assert normalize_message_id(value) == expected
