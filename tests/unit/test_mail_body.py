"""What an agent reads first: HTML made readable, quoted history and signatures cut away."""

from __future__ import annotations

import time

import pytest

from shared.mail.body import html_to_text, trim_reply

pytestmark = pytest.mark.unit


# --- html_to_text --------------------------------------------------------------------------------


def test_html_table_entities_and_links_become_plain_readable_text():
    html = (
        "<html><head><style>p {color: red}</style><script>track()</script></head><body>"
        "<p>Halo&nbsp;tim,</p><p>Stok &amp; harga salah:</p>"
        "<table><tr><th>SKU</th><th>Stok</th></tr><tr><td>MAW-001</td><td>87</td></tr></table>"
        '<p>Lihat <a href="https://help.acme.example/stok">panduan</a>.</p></body></html>'
    )

    text = html_to_text(html)

    assert text == "Halo tim,\n\nStok & harga salah:\n\nSKU      Stok\nMAW-001  87\n\n\nLihat panduan."


def test_long_runs_of_blank_lines_collapse_to_two():
    html = "<p>atas</p>" + "<br>" * 12 + "<p>bawah</p>"

    assert html_to_text(html) == "atas\n\n\nbawah"


@pytest.mark.parametrize("html", ["", "   \n ", "<!-- hanya komentar -->", "<html><body></body></html>"])
def test_empty_html_gives_empty_text(html):
    assert html_to_text(html) == ""


def test_xml_declaration_and_control_characters_do_not_break_conversion():
    html = '<?xml version="1.0" encoding="utf-8"?><html><body><p>Halo\x00 dunia\x0b</p></body></html>'

    assert html_to_text(html) == "Halo dunia"


# --- trim_reply ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "Sudah beres, terima kasih.\n\nOn Mon, 3 Nov 2025 at 10:00, Jane <j@x.example> wrote:\n> lama\n",
            "Sudah beres, terima kasih.",
            id="gmail-english",
        ),
        pytest.param(
            "Sudah beres.\n\nOn Mon, 3 Nov 2025 at 10:00, Acme Support <support@acme.example>\nwrote:\n\n> lama\n",
            "Sudah beres.",
            id="gmail-english-wrapped",
        ),
        pytest.param(
            "Masih error.\n\nOn 3 Nov 2025, at 10:00, Jane Doe <j@x.example> wrote:\n\n> lama\n",
            "Masih error.",
            id="apple-mail",
        ),
        pytest.param(
            "Masih error.\n\nPada tanggal Sen, 3 Nov 2025 pukul 10.00 Acme <s@acme.example> menulis:\n> lama\n",
            "Masih error.",
            id="gmail-indonesian",
        ),
        pytest.param(
            "Masih error.\n\nPada Sen, 3 Nov 2025 10.00, Acme Support <\nsupport@acme.example> menulis:\n> lama\n",
            "Masih error.",
            id="gmail-indonesian-wrapped",
        ),
        pytest.param(
            "Tolong cek lagi.\n\n-----Original Message-----\nFrom: Acme\nSent: Monday\n\nlama\n",
            "Tolong cek lagi.",
            id="outlook-original-message",
        ),
        pytest.param(
            "Tolong cek lagi.\n\n-----Pesan Asli-----\nDari: Acme\n\nlama\n",
            "Tolong cek lagi.",
            id="outlook-original-message-indonesian",
        ),
        pytest.param(
            "Tolong cek lagi.\n\n________________________________\nFrom: Acme <s@acme.example>\n"
            "Sent: Monday, November 3, 2025 10:00 AM\nTo: Budi\nSubject: RE: tiket\n\nlama\n",
            "Tolong cek lagi.",
            id="outlook-underscore-rule",
        ),
        pytest.param(
            "Tolong cek lagi.\n\n________________________________\nDari: Acme <s@acme.example>\n"
            "Dikirim: Senin, 3 November 2025 10.00\nKepada: Budi\nSubjek: RE: tiket\n\nlama\n",
            "Tolong cek lagi.",
            id="outlook-underscore-rule-indonesian",
        ),
        pytest.param(
            "Masih 429.\n\nFrom: Acme Support <s@acme.example>\nSent: Monday, November 3, 2025 7:15 PM\n"
            "To: Priya\nSubject: API rate limit\n\nlama\n",
            "Masih 429.",
            id="outlook-header-block",
        ),
        pytest.param(
            "Masih 429.\n\n*From:* Acme Support <s@acme.example>\n*Sent:* Monday\n*To:* Priya\n"
            "*Subject:* API\n\nlama\n",
            "Masih 429.",
            id="outlook-header-block-bold",
        ),
        pytest.param(
            "Masih gagal.\n\nDari: Acme <s@acme.example>\nTanggal: Senin, 3 November 2025\n"
            "Kepada: Budi\nPerihal: tiket\n\nlama\n",
            "Masih gagal.",
            id="outlook-header-block-indonesian",
        ),
        pytest.param("Oke.\n\n> kutipan\n> lama\n\n", "Oke.", id="trailing-quote"),
        pytest.param(
            "Oke.\n\nLe lun. 3 nov. 2025 à 10:00, Acme <s@acme.example> a écrit :\n> kutipan\n",
            "Oke.",
            id="unknown-language-attribution-above-quote",
        ),
        pytest.param("Terima kasih.\n\n-- \nBudi\nPT Pelanggan\n", "Terima kasih.", id="signature"),
        pytest.param("Terima kasih.\n--\nBudi\n", "Terima kasih.", id="signature-trailing-space-stripped"),
        pytest.param("Oke.\n\nSent from my iPhone\n", "Oke.", id="iphone"),
        pytest.param("Oke.\n\nSent from my Android\n", "Oke.", id="android"),
        pytest.param("Oke.\n\nDikirim dari iPhone saya\n", "Oke.", id="iphone-indonesian"),
        pytest.param("Oke.\n\nGet Outlook for iOS\n", "Oke.", id="outlook-mobile"),
        pytest.param(
            "Oke.\n\nSent from my iPhone\n\nOn Mon, 3 Nov 2025 at 10:00, Acme <s@acme.example> wrote:\n> lama\n",
            "Oke.",
            id="mobile-signature-above-history",
        ),
    ],
)
def test_history_and_signatures_are_cut(text, expected):
    assert trim_reply(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            "Halo tim,\n> Apakah sudah dicoba login ulang?\nSudah, tetap gagal.\n> Browser apa?\nChrome.",
            id="inline-answers-between-quotes",
        ),
        pytest.param(
            "Halo tim,\nOn Monday the dashboard went down twice.\nWe wrote it down in the log.",
            id="sentence-starting-with-on",
        ),
        pytest.param(
            "Halo tim,\nFrom: the warehouse team, see below.\nStok tidak cocok.",
            id="from-without-header-block",
        ),
        pytest.param(
            "Lihat email bank di bawah.\n\n---------- Forwarded message ---------\nFrom: Bank <n@bank.example>\n"
            "Date: Fri, 7 Nov 2025\nSubject: Konfirmasi\nTo: maya@putri.example\n\nPembayaran berhasil.",
            id="forwarded-evidence-stays",
        ),
        pytest.param(
            "Halo tim,\n\nSent from my laptop the files you asked for yesterday, please check them.",
            id="sent-from-in-prose",
        ),
        pytest.param(
            "Halo tim,\nDikirim dari gudang kami barang yang rusak, mohon dicek saya tunggu.",
            id="dikirim-dari-in-prose",
        ),
        pytest.param("Halo tim,\nHarga naik 10%--20% bulan ini.", id="dashes-inside-a-line"),
    ],
)
def test_customer_words_that_only_look_like_history_are_kept(text):
    assert trim_reply(text) == text


def test_when_trimming_would_leave_nothing_the_whole_text_is_shown():
    text = "On Mon, 3 Nov 2025 at 10:00, Acme <s@acme.example> wrote:\n> lama\n\n"

    assert trim_reply(text) == text.strip()


def test_crlf_is_normalised():
    assert trim_reply("Baris satu\r\nBaris dua\r\n\r\n-- \r\nBudi\r\n") == "Baris satu\nBaris dua"


def test_trimming_a_huge_paste_stays_linear():
    text = "Log:\n" + "> 2025-11-03 ERROR koneksi terputus\n" * 150_000

    started = time.perf_counter()
    result = trim_reply(text)

    assert result == "Log:"
    assert time.perf_counter() - started < 2.0
