"""Mail we send must thread back into its ticket, read correctly in any client, and never start a mail loop."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from shared.domain.language import format_duration
from shared.mail.outbound import (
    MAX_REFERENCES,
    OutboundMail,
    compose_mail,
    reply_subject,
    subject_with_ref,
    thread_references,
)
from shared.mail.parsing import Address, parse_email
from shared.mail.reply_address import ref_from_address, reply_address
from shared.domain.templates import DEFAULT_TEMPLATES, choose_template, render_template

pytestmark = pytest.mark.unit

LOOP_MARKER = "support@acme.example"
SIGNING_KEY = b"test-reply-key"
REF = "T-7K2M9Q"
CUSTOMER_MESSAGE_ID = "<CAB7x1-login-0001@mail.pelanggan.example>"
SENT_AT = datetime(2025, 11, 3, 8, 12, 50, tzinfo=timezone.utc)


def outbound(**overrides: Any) -> OutboundMail:
    fields: dict[str, Any] = {
        "from_address": "support@acme.example",
        "from_name": "Dukungan Acme",
        "to_address": "budi.santoso@pelanggan.example",
        "to_name": "Budi Santoso",
        "reply_to": reply_address(SIGNING_KEY, REF, "support@acme.example"),
        "subject": f"[{REF}] Sistem macet, tidak bisa login sejak pagi",
        "text": "Halo Budi,\n\nPesan Anda sudah kami terima.\n",
        "html": None,
        "ref": REF,
        "in_reply_to": CUSTOMER_MESSAGE_ID,
        "references": (),
        "loop_marker": LOOP_MARKER,
        "automatic": True,
        "message_id_domain": "acme.example",
        "date": SENT_AT,
    }
    fields.update(overrides)
    return OutboundMail(**fields)


def acknowledgement_for_budi() -> OutboundMail:
    template = choose_template(DEFAULT_TEMPLATES, "acknowledgement", "id", "email")
    rendered = render_template(
        template,
        {
            "customer_name": "Budi Santoso",
            "ref": REF,
            "subject": "Sistem macet, tidak bisa login sejak pagi",
            "eta_first_response": format_duration(900, "id"),
            "eta_resolution": format_duration(86400, "id"),
            "queue_position": 2,
            "agent_name": None,
            "suggested_articles": [{"title": "Sesi kedaluwarsa", "url": "https://help.acme.example/sesi"}],
            "support_address": "support@acme.example",
            "channel": "email",
        },
    )
    assert rendered.subject is not None
    return outbound(subject=rendered.subject, text=rendered.text, html=rendered.html)


# --- the acknowledgement a customer receives -----------------------------------------------------


def test_indonesian_acknowledgement_reads_back_exactly_as_written():
    mail = acknowledgement_for_budi()

    parsed = parse_email(compose_mail(mail), loop_marker=LOOP_MARKER)

    assert parsed.subject == "[T-7K2M9Q] Sistem macet, tidak bisa login sejak pagi"
    assert parsed.sender == Address(email="support@acme.example", name="Dukungan Acme")
    assert parsed.to == [Address(email="budi.santoso@pelanggan.example", name="Budi Santoso")]
    assert parsed.date == SENT_AT
    assert parsed.text.strip() == mail.text.strip()
    assert parsed.html is not None and "Sesi kedaluwarsa" in parsed.html
    assert parsed.defects == []


def test_replies_to_our_mail_come_back_to_the_signed_ticket_address():
    parsed = parse_email(compose_mail(outbound()))

    assert parsed.reply_to is not None
    assert parsed.reply_to.email == reply_address(SIGNING_KEY, REF, "support@acme.example")
    assert ref_from_address(SIGNING_KEY, parsed.reply_to.email, "acme.example") == REF


def test_threading_headers_answer_the_customer_mail_and_keep_the_thread():
    parsed = parse_email(
        compose_mail(
            outbound(
                in_reply_to="CABudi-reply-7@mail.pelanggan.example",  # bare, as some clients store it
                references=(CUSTOMER_MESSAGE_ID, "<ticket-ack@acme.example>", CUSTOMER_MESSAGE_ID),
            )
        )
    )

    assert parsed.in_reply_to == ["<CABudi-reply-7@mail.pelanggan.example>"]
    assert parsed.references == [
        CUSTOMER_MESSAGE_ID,
        "<ticket-ack@acme.example>",
        "<CABudi-reply-7@mail.pelanggan.example>",
    ]
    assert parsed.message_id is not None and parsed.message_id.endswith("@acme.example>")


def test_a_first_mail_of_our_own_has_no_threading_headers():
    parsed = parse_email(compose_mail(outbound(in_reply_to=None, references=())))

    assert parsed.in_reply_to == []
    assert parsed.references == []
    assert "in-reply-to" not in parsed.headers and "references" not in parsed.headers


def test_a_retried_send_can_reuse_the_stored_message_id():
    first = compose_mail(outbound(message_id="<01JBX8-ack@acme.example>"))

    assert compose_mail(outbound(message_id="<01JBX8-ack@acme.example>")) == first
    assert parse_email(first).message_id == "<01JBX8-ack@acme.example>"
    with pytest.raises(ValueError):
        compose_mail(outbound(message_id="not a message id"))


def test_non_ascii_names_and_subjects_survive_any_relay():
    mail = outbound(
        from_name="Tim Dukungan — Acme",
        to_name="Jürgen Schäfer",
        subject="Zahlung fehlgeschlagen für Bestellung – bitte prüfen, ini sudah kedua kalinya terjadi minggu ini",
        text="Halo Jürgen — kami sedang memeriksanya.",
        html="<p>Halo Jürgen — kami sedang memeriksanya.</p>",
    )

    raw = compose_mail(mail)
    parsed = parse_email(raw)

    assert raw.isascii(), "RFC 2047 headers and quoted-printable bodies: 7-bit clean"
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    assert parsed.subject == (
        "[T-7K2M9Q] Zahlung fehlgeschlagen für Bestellung – bitte prüfen, ini sudah kedua kalinya terjadi minggu ini"
    )
    assert parsed.sender == Address(email="support@acme.example", name="Tim Dukungan — Acme")
    assert parsed.to == [Address(email="budi.santoso@pelanggan.example", name="Jürgen Schäfer")]
    assert parsed.text.strip() == "Halo Jürgen — kami sedang memeriksanya."
    assert parsed.html is not None and "Halo Jürgen — kami" in parsed.html


def test_html_goes_out_as_an_alternative_to_the_text():
    raw = compose_mail(acknowledgement_for_budi())

    assert b"Content-Type: multipart/alternative" in raw
    assert raw.index(b"Content-Type: text/plain") < raw.index(b"Content-Type: text/html")
    assert raw.count(b"MIME-Version") == 1


def test_text_only_mail_is_a_single_plain_part():
    raw = compose_mail(outbound(html=None))

    assert b"multipart" not in raw
    assert b"Content-Type: text/plain; charset=\"utf-8\"" in raw


def test_a_customer_name_cannot_inject_headers():
    parsed = parse_email(compose_mail(outbound(to_name="Budi\r\nBcc: everyone@example.com")))

    assert parsed.to == [Address(email="budi.santoso@pelanggan.example", name="Budi Bcc: everyone@example.com")]
    assert "bcc" not in parsed.headers


# --- loops between two helpdesks stop ------------------------------------------------------------


def test_our_acknowledgement_is_recognised_as_automatic_by_our_own_intake():
    verdict = parse_email(compose_mail(acknowledgement_for_budi()), loop_marker=LOOP_MARKER).automation

    assert verdict.is_automated
    assert "auto-submitted:auto-generated" in verdict.reasons
    assert "x-loop:ours" in verdict.reasons
    assert "x-auto-response-suppress" in verdict.reasons
    assert verdict.is_bounce is False


def test_another_helpdesk_sees_auto_submitted_and_a_loop_marker_it_does_not_own():
    verdict = parse_email(compose_mail(outbound()), loop_marker="help@other-helpdesk.example").automation

    assert "auto-submitted:auto-generated" in verdict.reasons
    assert "x-loop" in verdict.reasons


def test_an_agent_reply_is_not_auto_submitted_but_still_carries_the_loop_marker():
    parsed = parse_email(
        compose_mail(outbound(automatic=False, text="Pak Budi, sesi sudah kami reset.")), loop_marker=LOOP_MARKER
    )

    assert "auto-submitted" not in parsed.headers
    assert "x-auto-response-suppress" not in parsed.headers
    assert parsed.headers["x-loop"] == [LOOP_MARKER]
    assert parsed.automation.reasons == ("x-loop:ours",)


# --- the ref in the subject ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Printer", "[T-7K2M9Q] Printer"),
        ("Re: Printer", "Re: [T-7K2M9Q] Printer"),
        ("[T-7K2M9Q] Printer", "[T-7K2M9Q] Printer"),
        ("Re: [T-7K2M9Q] Printer", "Re: [T-7K2M9Q] Printer"),
        ("Printer offline [T-7K2M9Q]", "Printer offline [T-7K2M9Q]"),
        ("Re: [t-7k2m9q] Printer", "Re: [T-7K2M9Q] Printer"),
        ("[T-7K2M9Q] Re: [T-7K2M9Q] Printer", "Re: [T-7K2M9Q] Printer"),
        ("Ticket T-7K2M9Q solved", "[T-7K2M9Q] Ticket T-7K2M9Q solved"),
        ("[T-AAAAAA] merged", "[T-7K2M9Q] [T-AAAAAA] merged"),
        ("", "[T-7K2M9Q]"),
    ],
)
def test_the_subject_carries_the_ref_exactly_once(subject, expected):
    assert subject_with_ref(subject, REF) == expected
    assert parse_email(compose_mail(outbound(subject=subject))).subject == expected


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("Printer", "Re: [T-7K2M9Q] Printer"),
        ("Re: Printer", "Re: [T-7K2M9Q] Printer"),
        ("RE: Re: AW: Printer", "Re: [T-7K2M9Q] Printer"),
        ("Balas: Sistem macet", "Re: [T-7K2M9Q] Sistem macet"),
        ("Re: [T-7K2M9Q] Printer", "Re: [T-7K2M9Q] Printer"),
        ("[T-7K2M9Q] Re: Printer", "Re: [T-7K2M9Q] Printer"),
        ("Re[2]: Printer", "Re: [T-7K2M9Q] Printer"),
        ("Regarding invoice", "Re: [T-7K2M9Q] Regarding invoice"),
        ("Re:   ", "Re: [T-7K2M9Q]"),
    ],
)
def test_reply_subject_has_one_re_and_one_ref(original, expected):
    assert reply_subject(original, "t-7k2m9q") == expected


def test_a_bad_ref_is_a_programming_error():
    with pytest.raises(ValueError):
        reply_subject("Printer", "1042")
    with pytest.raises(ValueError):
        compose_mail(outbound(ref="#1042"))


# --- References stays bounded --------------------------------------------------------------------


def test_a_long_thread_keeps_the_root_and_the_latest_ids():
    history = tuple(f"<m{n}@acme.example>" for n in range(40))

    ids = thread_references(history, "<customer-41@pelanggan.example>")

    assert len(ids) == MAX_REFERENCES
    assert ids[0] == "<m0@acme.example>"
    assert ids[-2:] == ["<m39@acme.example>", "<customer-41@pelanggan.example>"]


def test_the_answered_mail_is_always_last_even_if_already_referenced():
    ids = thread_references(("<a@x>", "<b@x>", "<c@x>", "garbage with spaces"), "<b@x>")

    assert ids == ["<a@x>", "<c@x>", "<b@x>"]


def test_dates_are_sent_in_utc_whatever_zone_the_caller_used():
    wib = timezone(timedelta(hours=7))
    parsed = parse_email(compose_mail(outbound(date=SENT_AT.astimezone(wib))))

    assert parsed.date == SENT_AT
    assert parsed.headers["date"] == ["Mon, 03 Nov 2025 08:12:50 +0000"]


def test_outbound_mail_is_a_value():
    with pytest.raises(dataclasses.FrozenInstanceError):
        outbound().subject = "changed"  # type: ignore[misc]


def test_mail_about_no_single_ticket_keeps_its_subject_without_a_ref():
    parsed = parse_email(compose_mail(outbound(ref=None, subject="[support] 3 alerts held outside business hours")))

    assert parsed.subject == "[support] 3 alerts held outside business hours"


def test_an_alert_digest_lists_each_alert_oldest_first():
    from shared.services.alerts import digest_text

    subject, text = digest_text(
        "support",
        [
            {"at": "2026-11-07T14:02:00.000Z", "subject": "[T-BBBBBB] ticket.escalated: Kasir mati"},
            {"at": "2026-11-07T14:01:00.000Z", "subject": "[T-AAAAAA] sla.warning: Kasir mati"},
        ],
    )
    assert subject == "[support] 2 alerts held outside business hours"
    assert text.index("T-AAAAAA") < text.index("T-BBBBBB") and "2026-11-07 14:01 UTC" in text
