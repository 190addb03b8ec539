"""Knowledge-base search relevance on a small bilingual article set: realistic customer questions in Indonesian
and in English, with inflected words and typos, find the right article first; the prebuilt index survives JSON."""

from __future__ import annotations

import json

import pytest

from shared.domain.kb_search import Article, build_index, search

pytestmark = pytest.mark.unit

ARTICLES = [
    Article("id-kata-sandi", "Cara mengatur ulang kata sandi", "Lupa kata sandi? Klik 'Lupa kata sandi' di halaman "
            "masuk, lalu buka tautan yang kami kirim ke email Anda untuk membuat kata sandi baru.", "id", ("akun",)),
    Article("en-password", "How to reset your password", "Forgot your password? Choose 'Forgot password' on the "
            "sign-in page and open the link we email you to set a new password.", "en", ("account",)),
    Article("id-pengembalian", "Pengembalian dana pesanan yang dibatalkan", "Dana dikembalikan ke rekening atau "
            "kartu Anda dalam 7 hari kerja setelah pembatalan disetujui.", "id", ("refund",)),
    Article("en-refund", "Refunds for cancelled orders", "Refunds are issued to your card or bank account within "
            "7 business days after the cancellation is approved.", "en", ("refund",)),
    Article("id-alamat", "Mengubah alamat pengiriman", "Alamat pengiriman bisa diganti selama pesanan belum "
            "dikirim: buka Pesanan Saya, pilih pesanan, lalu ubah alamat.", "id"),
    Article("en-invoice", "Downloading a tax invoice", "Invoices for every payment are under Billing; download "
            "the PDF or have it emailed to your finance team.", "en"),
    Article("id-printer", "Printer struk tidak mencetak", "Jika printer kasir tidak mencetak struk, periksa kabel, "
            "kertas, lalu nyalakan ulang aplikasi kasir.", "id", ("kasir",)),
]  # fmt: skip


@pytest.fixture(scope="module")
def index():
    return json.loads(json.dumps(build_index(ARTICLES)))  # as stored and read back


@pytest.mark.parametrize(
    ("query", "best"),
    [
        ("lupa kata sandi", "id-kata-sandi"),
        ("bagaimana cara mengganti kata sandi saya?", "id-kata-sandi"),
        ("forgot my password", "en-password"),
        ("kapan dana saya dikembalikan?", "id-pengembalian"),
        ("when will I get my refund", "en-refund"),
        ("refunded money for a cancelled order", "en-refund"),
        ("ganti alamat kirim", "id-alamat"),
        ("struk tidak keluar dari printer", "id-printer"),
        ("where can I download invoices", "en-invoice"),
    ],
)
def test_a_realistic_question_finds_the_right_article_first(index, query, best):
    hits = search(index, query)
    assert hits and hits[0].id == best, [(h.id, h.score) for h in hits]


@pytest.mark.parametrize(
    ("query", "best"),
    [("pasword reset", "en-password"), ("pengembalain dana", "id-pengembalian"), ("printr struk", "id-printer")],
)
def test_a_typo_still_finds_the_article(index, query, best):
    hits = search(index, query)
    assert hits and hits[0].id == best, [(h.id, h.score) for h in hits]


def test_an_unrelated_question_finds_nothing_and_an_empty_index_answers_empty(index):
    assert search(index, "zebra xylophone") == []
    assert search(build_index([]), "kata sandi") == []


def test_the_callers_language_orders_equal_matches_without_hiding_the_other(index):
    hits = search(index, "refund", language="en", limit=10)
    assert {h.id for h in hits} >= {"en-refund", "id-pengembalian"}
