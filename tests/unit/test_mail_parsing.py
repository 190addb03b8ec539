"""What intake reads out of real customer mail: every charset, every client, every kind of breakage."""

from __future__ import annotations

import base64
import binascii
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from shared.mail.parsing import Address, MailParseError, ParsedEmail, parse_email

pytestmark = pytest.mark.unit

MAILS = Path(__file__).resolve().parents[1] / "mails"
WIB = timezone(timedelta(hours=7))


def parse_mail(name: str, *, loop_marker: str | None = None) -> ParsedEmail:
    return parse_email((MAILS / name).read_bytes(), loop_marker=loop_marker)


# --- who wrote, about what, when ----------------------------------------------------------------


def test_indonesian_customer_reporting_an_outage_is_read_exactly():
    mail = parse_mail("customer_id_login_urgent.eml")

    assert mail.subject == "Sistem macet, tidak bisa login sejak pagi"
    assert mail.sender == Address(email="budi.santoso@pelanggan.example", name="Budi Santoso")
    assert mail.to == [Address(email="support@acme.example", name="Acme Support")]
    assert mail.cc == [
        Address(email="sari.dewi@pelanggan.example", name="Sari Dewi"),
        Address(email="it-ops@pelanggan.example", name=None),
    ]
    assert mail.date == datetime(2025, 11, 3, 15, 12, 40, tzinfo=WIB)
    assert mail.message_id == "<CAB7x1-login-0001@mail.pelanggan.example>"
    assert mail.importance == "high"
    assert "sistem macet, kami tidak bisa login ke dasbor" in mail.text
    assert "40 staf gudang yang tidak bisa bekerja — mohon" in mail.text
    assert mail.display_text == mail.text
    assert mail.attachments == []
    assert mail.defects == []
    assert not mail.automation.is_automated


@pytest.mark.parametrize(
    ("from_header", "email", "name"),
    [
        (b"=?utf-8?q?Eve=0D=0ABcc:_victim@evil.example?= <eve@evil.example>", "eve@evil.example", "Eve Bcc: victim@evil.example"),
        (b'"=?utf-8?b?RXZlDQpCY2M6IHZAeC5jb20=?=" <eve@evil.example>', "eve@evil.example", "Eve Bcc: v@x.com"),
        (b"=?utf-8?q?victim@evil.example?= <eve@evil.example>", "eve@evil.example", "victim@evil.example"),
        (b"=?utf-8?q?Tab=09and=07bell?= <eve@evil.example>", "eve@evil.example", "Tab and bell"),
    ],
    ids=["crlf-bcc", "base64-crlf", "address-as-name", "control-chars"],
)
def test_the_sender_is_the_from_addr_spec_never_text_inside_an_encoded_display_name(from_header, email, name):
    raw = b"From: " + from_header + b"\r\nTo: support@example.com\r\nSubject: hi\r\nMessage-ID: <a@b>\r\n\r\nbody\r\n"
    mail = parse_email(raw)
    assert mail.sender == Address(email=email, name=name)


def test_an_address_only_inside_encoded_words_is_no_sender():
    raw = b"From: =?utf-8?q?victim@evil.example?=\r\nTo: support@example.com\r\nSubject: hi\r\n\r\nbody\r\n"
    assert parse_email(raw).sender is None


def test_headers_are_kept_decoded_under_lowercase_names_for_storage():
    mail = parse_mail("iso2022jp_japanese.eml")

    assert mail.headers["subject"] == ["ログインできません"]
    assert mail.headers["from"] == ["山田太郎 <taro.yamada@example.co.jp>"]
    assert mail.headers["message-id"] == ["<20251105091500.A1B2@example.co.jp>"]


def test_subject_split_over_base64_and_quoted_printable_words_reads_as_one_line():
    mail = parse_mail("rfc2047_subject_and_name.eml")

    assert mail.subject == "[Dringend] Zahlung fehlgeschlagen für Bestellung – bitte prüfen"
    assert mail.sender == Address(email="juergen.schaefer@beispiel.example", name="Jürgen Schäfer")
    assert mail.to == [Address(email="support@acme.example", name="Acme Kundendienst")]
    assert mail.defects == []


def test_reply_threading_headers_are_normalised_with_angle_brackets():
    mail = parse_mail("gmail_reply_en.eml")

    assert mail.in_reply_to == ["<ticket-1042-reply-2@acme.example>"]
    assert mail.references == [
        "<CAJane-original@mail.gmail.example>",
        "<ticket-1042-reply-1@acme.example>",
        "<ticket-1042-reply-2@acme.example>",
    ]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Importance: low", "low"),
        ("Importance: High", "high"),
        ("X-Priority: 2", "high"),
        ("X-Priority: 5 (Lowest)", "low"),
        ("X-Priority: 3 (Normal)", "normal"),
        ("Priority: urgent", "high"),
        ("X-Mailer: Thunderbird", None),
    ],
)
def test_the_senders_importance_flag_is_understood_from_every_client_dialect(header, expected):
    raw = f"From: a@pelanggan.example\nSubject: x\n{header}\n\nbody\n".encode()

    assert parse_email(raw).importance == expected


# --- charsets and transfer encodings -------------------------------------------------------------


def test_french_invoice_complaint_in_latin1_quoted_printable():
    mail = parse_mail("latin1_quoted_printable.eml")

    assert mail.subject == "Facture erronée"
    assert mail.sender is not None and mail.sender.name == "Hélène Müller"
    assert "Notre facture n° 2025-118 affiche un total erroné" in mail.text
    assert mail.text.endswith("Société Générale des Étoiles")
    assert mail.defects == []


def test_outlook_windows_1252_curly_quotes_and_euro_sign_survive():
    mail = parse_mail("windows1252_curly_quotes.eml")

    assert "The “Export to CSV” button doesn’t work — it spins forever." in mail.text
    assert "We’re on the €49 plan." in mail.text
    assert mail.sender == Address(email="mark.oneill@contoso.example", name="Mark O'Neill")


def test_japanese_mail_in_iso_2022_jp():
    mail = parse_mail("iso2022jp_japanese.eml")

    assert mail.subject == "ログインできません"
    assert mail.sender == Address(email="taro.yamada@example.co.jp", name="山田太郎")
    assert "今朝からログインできません。" in mail.text
    assert mail.defects == []


@pytest.mark.parametrize(
    ("name", "subject", "sender_name", "sentence"),
    [
        ("shift_jis_japanese.eml", "請求書", None, "請求書の金額が違います。"),
        ("korean_ks_c_5601.eml", "로그인 문제", "김민수", "로그인이 안 됩니다. 확인 부탁드립니다."),
        ("gb2312_base64.eml", "账户无法登录", "李明", "您好，我们的账户无法登录。"),
    ],
)
def test_asian_legacy_charsets_decode(name, subject, sender_name, sentence):
    mail = parse_mail(name)

    assert mail.subject == subject
    assert mail.sender is not None and mail.sender.name == sender_name
    assert mail.text == sentence
    assert mail.defects == []


def test_base64_body_with_emoji():
    mail = parse_mail("base64_utf8_body.eml")

    assert "Pesanan #INV-88231 belum sampai padahal status “Terkirim” sejak 3 hari." in mail.text
    assert "Mohon dicek ke kurir. 🙏" in mail.text


def test_unknown_charset_with_raw_8bit_bytes_is_guessed_and_noted():
    mail = parse_mail("unknown_charset_8bit.eml")

    assert mail.text == "Hola, el pedido llegó dañado. ¿Pueden enviar otro?"
    assert mail.sender == Address(email="jose.garcia@ejemplo.example", name="José García")
    assert any("unknown charset 'x-unknown-8bit'" in note for note in mail.defects)


def test_bytes_that_fit_no_charset_become_replacement_characters_not_a_crash():
    raw = (
        b"From: a@pelanggan.example\nSubject: rusak\n"
        b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
        b"Harga naik \xff\xfe 20%\n"
    )

    mail = parse_email(raw)

    assert mail.text == "Harga naik \ufffd\ufffd 20%"
    assert any("undecodable bytes" in note for note in mail.defects)


def test_windows_line_endings_are_normalised():
    raw = b"From: a@pelanggan.example\r\nSubject: crlf\r\n\r\nBaris satu\r\nBaris dua\r\n"

    mail = parse_email(raw)

    assert mail.text == "Baris satu\nBaris dua"
    assert "\r" not in mail.display_text


# --- HTML and MIME structure ---------------------------------------------------------------------


def test_html_only_mail_becomes_readable_text_with_its_table():
    mail = parse_mail("html_only_table.eml")

    assert mail.html is not None and "<table" in mail.html
    assert mail.text.startswith("Halo tim support,")
    assert "MAW-001  120     87" in mail.text
    assert "Panduan yang saya ikuti: Sinkronisasi stok." in mail.text
    assert "Terima kasih & salam," in mail.text
    for markup in ("<", "&nbsp;", "&amp;", "\xa0", "padding"):
        assert markup not in mail.text


def test_plain_part_is_preferred_over_html_in_an_alternative():
    mail = parse_mail("multipart_alternative.eml")

    assert mail.text == "Tombol unduh invoice bulan Oktober tidak merespons."
    assert mail.html is not None and "<b>unduh invoice</b>" in mail.html
    assert mail.attachments == []


def test_screenshot_inline_and_invoice_attached_in_nested_multiparts():
    mail = parse_mail("mixed_pdf_inline_image.eml")

    assert mail.text == "Checkout gagal dengan kode ERR-502. Screenshot di bawah, invoice terlampir."
    screenshot, invoice = mail.attachments
    assert (screenshot.filename, screenshot.content_type, screenshot.size) == ("image-1.png", "image/png", 70)
    assert screenshot.inline is True
    assert screenshot.content_id == "screenshot-1@mitra.example"
    assert screenshot.content.startswith(b"\x89PNG\r\n")
    assert (invoice.filename, invoice.content_type, invoice.size) == (
        "invoice-INV-2025-0042.pdf",
        "application/pdf",
        125,
    )
    assert invoice.inline is False
    assert invoice.content_id is None
    assert invoice.content.startswith(b"%PDF-1.4")


def test_rfc2231_attachment_names_in_indonesian_and_japanese():
    mail = parse_mail("rfc2231_attachment_names.eml")

    assert [(a.filename, a.content_type, a.size) for a in mail.attachments] == [
        (
            "Laporan Keuangan Kuartal III – Revisi.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            27,
        ),
        ("見積書_2025年11月.txt", "text/plain", 40),
    ]
    assert mail.attachments[1].content.decode("utf-8") == "請求書の修正をお願いします\n"
    assert mail.text == "Terlampir laporan dan penawaran."


def test_forwarded_bank_mail_is_an_attachment_not_the_customers_words():
    mail = parse_mail("forwarded_rfc822.eml")

    assert mail.text.startswith("Saya teruskan email dari bank")
    assert "Rp 1.250.000" not in mail.text
    (forwarded,) = mail.attachments
    assert forwarded.filename == "Konfirmasi pembayaran berhasil.eml"
    assert forwarded.content_type == "message/rfc822"
    assert b"Message-ID: <trx-99812@bank.example>" in forwarded.content
    assert b"Pembayaran Rp 1.250.000 ke ACME berhasil." in forwarded.content
    assert forwarded.size == len(forwarded.content)


def test_forwarded_mail_without_subject_gets_a_generated_name():
    raw = (
        b"From: a@pelanggan.example\nSubject: fwd\nContent-Type: multipart/mixed; boundary=b\n\n"
        b"--b\nContent-Type: text/plain\n\nlihat lampiran\n"
        b"--b\nContent-Type: message/rfc822\n\nFrom: x@bank.example\n\nisi\n--b--\n"
    )

    (forwarded,) = parse_email(raw).attachments

    assert forwarded.filename == "message-1.eml"


def test_outlook_unquoted_boundary_with_equals_signs_is_recovered():
    mail = parse_mail("outlook_unquoted_boundary.eml")

    assert mail.text == (
        "Printer struk di kasir 2 tidak mau mencetak sejak update semalam. \n"
        "Lampu indikator berkedip merah."
    )
    assert mail.html is not None and "<p>Lampu indikator berkedip merah.</p>" in mail.html
    assert "multipart/alternative: unquoted boundary with special characters recovered" in mail.defects


def test_odd_boundary_part_without_content_type_and_unknown_transfer_encoding():
    mail = parse_mail("odd_mime_structure.eml")

    assert mail.text == "Bagian ini tidak punya Content-Type, jadi dianggap text/plain."
    (data,) = mail.attachments
    assert data.filename == "harian.dat"
    assert data.content == b"H4sIAAAAAAAAA8tIzcnJBwCGphA2BQAAAA==\n"
    assert any("'x-gzip64'" in note for note in mail.defects)


def test_uuencoded_text_part_is_kept_as_raw_text_with_a_note():
    raw = (
        b"From: a@pelanggan.example\nSubject: uu\nContent-Type: text/plain\n"
        b"Content-Transfer-Encoding: x-uuencode\n\nbegin 644 pesan.txt\n%:&%L;PH`\n`\nend\n"
    )

    mail = parse_email(raw)

    assert mail.text.startswith("begin 644 pesan.txt")
    assert any("'x-uuencode'" in note for note in mail.defects)


def test_uuencoded_attachment_is_decoded():
    payload = b"laporan kas harian\n"
    encoded = binascii.b2a_uu(payload)
    raw = (
        b"From: a@pelanggan.example\nSubject: uu\nContent-Type: multipart/mixed; boundary=b\n\n"
        b"--b\nContent-Type: text/plain\n\nterlampir\n"
        b"--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=kas.txt\n"
        b"Content-Transfer-Encoding: x-uuencode\n\nbegin 644 kas.txt\n" + encoded + b"`\nend\n--b--\n"
    )

    (attachment,) = parse_email(raw).attachments

    assert attachment.content == payload


@pytest.mark.parametrize(
    ("disposition", "expected"),
    [
        ('attachment; filename="../../etc/passwd"', "passwd"),
        ('attachment; filename="C:\\\\Users\\\\budi\\\\struk.pdf"', "struk.pdf"),
        ('attachment; filename="invoice\u202efdp.exe"', "invoicefdp.exe"),
        ('attachment; filename="laporan\x07 akhir?.pdf"', "laporan akhir_.pdf"),
        ('attachment; filename=".."', "attachment-1.bin"),
    ],
)
def test_attachment_names_cannot_escape_a_folder_or_hide_their_extension(disposition, expected):
    raw = (
        "From: a@pelanggan.example\nSubject: file\nContent-Type: multipart/mixed; boundary=b\n\n"
        "--b\nContent-Type: text/plain\n\nfile\n"
        f"--b\nContent-Type: application/octet-stream\nContent-Disposition: {disposition}\n"
        "Content-Transfer-Encoding: base64\n\naGFsbw==\n--b--\n"
    ).encode("utf-8")

    (attachment,) = parse_email(raw).attachments

    assert attachment.filename == expected
    assert attachment.content == b"halo"


# --- what the agent sees first ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "display"),
    [
        ("gmail_reply_en.eml", "Thanks, the new link worked and I'm logged in again."),
        ("gmail_reply_id.eml", "Sudah bisa login lagi, terima kasih banyak atas bantuannya."),
        ("outlook_original_message.eml", "Laporan minggu ini juga kosong. Mohon dicek lagi.\n\nRegards,\nKevin"),
        ("outlook_header_block_en.eml", "We are still getting HTTP 429 after the limit increase."),
        ("outlook_reply_id.eml", "Masih gagal, error yang sama muncul di cabang Bandung.\n\nSalam,\nAgus"),
        ("signature_dashes.eml", "Could the agent console get a dark mode? Our night shift would love it."),
        ("iphone_reply_id.eml", "Oke, kami tunggu kabarnya."),
    ],
)
def test_replies_show_only_the_new_words_but_keep_the_full_history(name, display):
    mail = parse_mail(name)

    assert mail.display_text == display
    assert len(mail.text) > len(mail.display_text)
    assert mail.text.startswith(display.split("\n")[0])


# --- broken mail still becomes a ticket or a quarantine record -----------------------------------


def test_malformed_headers_keep_what_can_be_saved_and_say_what_was_broken():
    mail = parse_mail("malformed_headers.eml")

    assert mail.sender == Address(email="yusuf.pratama@bengkel.example", name="Yusuf Pratama")
    assert mail.to == [Address(email="support@acme.example", name=None)]
    assert mail.subject == "Aplikasi error terus"
    assert mail.date is None
    assert mail.message_id is None
    assert mail.text == "Aplikasi kasir error setiap kali mencetak struk."
    assert "invalid Date header 'Kamis, 32 Nopember 2025 25:61:99 WIB'" in mail.defects
    assert "unusable Message-ID 'Tidak ada'" in mail.defects


def test_missing_from_is_not_an_error_the_caller_quarantines_it():
    mail = parse_mail("missing_from.eml")

    assert mail.sender is None
    assert mail.subject == "Pesan tanpa pengirim"
    assert mail.text == "Pesan ini tidak punya header From."


def test_obsolete_header_syntax_and_a_stray_header_line_are_recovered():
    raw = (
        b"Received: from relay.example by mx.acme.example; Mon, 3 Nov 2025 08:00:00 +0000\n"
        b"this line is not a header\n"
        b"From  : Budi <budi@pelanggan.example>\n"
        b"Subject: Tidak bisa login\n\n"
        b"Tolong dibantu.\n"
    )

    mail = parse_email(raw)

    assert mail.sender == Address(email="budi@pelanggan.example", name="Budi")
    assert mail.subject == "Tidak bisa login"
    assert mail.text == "Tolong dibantu."
    assert "malformed header lines were skipped to recover the header block" in mail.defects


def test_minus_zero_zone_dates_are_read_as_utc():
    raw = b"From: a@pelanggan.example\nDate: Mon, 3 Nov 2025 08:00:00 -0000\n\nx\n"

    assert parse_email(raw).date == datetime(2025, 11, 3, 8, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty message"),
        (b"\r\n  \r\n", "empty message"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "no header block"),
        (b"Halo, ini bukan email, hanya teks biasa.\nBaris kedua.\n", "no header block"),
    ],
)
def test_bytes_that_are_not_an_email_raise_the_quarantine_error(raw, reason):
    with pytest.raises(MailParseError, match=reason):
        parse_email(raw)


def test_pathologically_deep_mime_nesting_is_quarantined_not_a_crash():
    raw = b"From: a@pelanggan.example\nContent-Type: multipart/mixed; boundary=b0\n\n"
    for depth in range(1500):
        raw += b"--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n" % (depth, depth + 1)

    with pytest.raises(MailParseError, match="unparseable"):
        parse_email(raw)


def test_a_five_megabyte_log_paste_is_parsed_whole_and_quickly():
    log = "2025-11-03 07:31:02 ERROR kasir-12 koneksi database terputus (timeout 30s)\n" * 70_000
    body = f"Log lengkap terlampir di bawah.\n\n{log}\nOn Mon, 3 Nov 2025 at 07:00, Acme <s@acme.example> wrote:\n> lama\n"
    raw = (
        b"From: Budi <budi@pelanggan.example>\nSubject: log\n"
        b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
        + base64.encodebytes(body.encode("utf-8"))
    )
    assert len(raw) > 5_000_000

    started = time.perf_counter()
    mail = parse_email(raw)
    elapsed = time.perf_counter() - started

    assert mail.text.count("koneksi database terputus") == 70_000
    assert mail.display_text.endswith("koneksi database terputus (timeout 30s)")
    assert "wrote:" not in mail.display_text
    assert elapsed < 3.0


def test_twenty_thousand_recipients_do_not_stall_intake():
    recipients = ", ".join(f"pelanggan{n}@pelanggan.example" for n in range(20_000))
    raw = f"From: spam@blast.example\nTo: {recipients}\nSubject: promo\n\nbeli\n".encode()

    started = time.perf_counter()
    mail = parse_email(raw)

    assert len(mail.to) == 20_000
    assert mail.to[-1] == Address(email="pelanggan19999@pelanggan.example", name=None)
    assert time.perf_counter() - started < 2.0
