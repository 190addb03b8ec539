"""Answering in the customer's language, and telling them how long they will wait in words they use."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.domain.language import detect_language, format_duration
from shared.mail.parsing import parse_email

pytestmark = pytest.mark.unit

MAILS = Path(__file__).resolve().parents[1] / "mails"


# --- which language to answer in ----------------------------------------------------------------


@pytest.mark.parametrize(
    "mail",
    ["customer_id_login_urgent.eml", "gmail_reply_id.eml", "outlook_reply_id.eml", "iphone_reply_id.eml"],
)
def test_indonesian_customer_mails_are_answered_in_indonesian(mail):
    parsed = parse_email((MAILS / mail).read_bytes())

    assert detect_language(f"{parsed.subject}\n{parsed.display_text}") == "id"


@pytest.mark.parametrize("mail", ["gmail_reply_en.eml", "outlook_header_block_en.eml"])
def test_english_customer_mails_are_answered_in_english(mail):
    parsed = parse_email((MAILS / mail).read_bytes())

    assert detect_language(f"{parsed.subject}\n{parsed.display_text}", default="id") == "en"


def test_an_indonesian_complaint_with_english_product_words_is_still_indonesian():
    text = (
        "Selamat siang, saya sudah reset password tapi tetap tidak bisa login ke akun dashboard. "
        "Error 500 muncul terus. Mohon dibantu, terima kasih."
    )

    assert detect_language(text) == "id"


def test_an_english_complaint_is_english_even_when_the_default_is_indonesian():
    text = "Hello, I cannot log in to my account since this morning. Please help, thanks."

    assert detect_language(text, default="id") == "en"


@pytest.mark.parametrize("text", ["tolong", "Terima kasih", "Halo kak, akun saya gagal"])
def test_short_indonesian_chat_messages_are_recognised(text):
    assert detect_language(text) == "id"


@pytest.mark.parametrize("text", ["", "ok", "T-7K2M9Q", "login error 500", "👍", "Thanks! Terima"])
def test_no_signal_or_a_tie_keeps_the_default(text):
    assert detect_language(text, default="id") == "id"
    assert detect_language(text, default="en") == "en"


def test_words_count_whole_and_in_any_case():
    # "IBU" and "Saya" count; "theme", "isian" and "candy" contain stop words but are not them.
    assert detect_language("IBU Saya", default="en") == "id"
    assert detect_language("theme isian candy", default="id") == "id"


def test_curly_apostrophes_from_phones_still_count():
    assert detect_language("I can’t login, it doesn’t work", default="id") == "en"


# --- waiting times in words ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "english", "indonesian"),
    [
        (0, "within a minute", "dalam satu menit"),
        (45, "within a minute", "dalam satu menit"),
        (60, "about 5 minutes", "sekitar 5 menit"),
        (14 * 60, "about 15 minutes", "sekitar 15 menit"),
        (15 * 60, "about 15 minutes", "sekitar 15 menit"),
        (15 * 60 + 0.0000001, "about 15 minutes", "sekitar 15 menit"),
        (16 * 60, "about 20 minutes", "sekitar 20 menit"),
        (58 * 60, "about 1 hour", "sekitar 1 jam"),
        (3600, "about 1 hour", "sekitar 1 jam"),
        (70 * 60, "about 1.5 hours", "sekitar 1,5 jam"),
        (2 * 3600, "about 2 hours", "sekitar 2 jam"),
        (5.9 * 3600, "about 6 hours", "sekitar 6 jam"),
        (6.2 * 3600, "about 7 hours", "sekitar 7 jam"),
        (20 * 3600, "about 20 hours", "sekitar 20 jam"),
        (47.5 * 3600, "about 2 days", "sekitar 2 hari"),
        (2 * 86400, "about 2 days", "sekitar 2 hari"),
        (2.2 * 86400, "about 3 days", "sekitar 3 hari"),
    ],
)
def test_waiting_times_are_rounded_up_to_a_sensible_step(seconds, english, indonesian):
    assert format_duration(seconds, "en") == english
    assert format_duration(seconds, "id") == indonesian


def test_a_one_day_target_reads_as_a_day_but_longer_ones_in_hours_until_two_days():
    assert format_duration(23.2 * 3600, "en") == "about 1 day"
    assert format_duration(24 * 3600, "id") == "sekitar 1 hari"
    assert format_duration(24.5 * 3600, "en") == "about 25 hours"
    assert format_duration(36 * 3600, "id") == "sekitar 36 jam"


def test_regional_tags_and_unknown_languages():
    assert format_duration(900, "id-ID") == "sekitar 15 menit"
    assert format_duration(900, "fr") == "about 15 minutes"


def test_a_negative_wait_is_already_due():
    assert format_duration(-30, "en") == "within a minute"


def test_a_non_finite_wait_is_a_programming_error():
    with pytest.raises(ValueError):
        format_duration(float("inf"), "en")
