"""Keyword matching as customers really type: shouting, accents, punctuation, whole words only."""

from __future__ import annotations

import time

import pytest

from shared.domain.textmatch import SearchableText, find_phrases, normalize

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "spelling", ["darurat", "Darurat", "DARURAT", "darúrat", "DÀRÙRAT", "ｄａｒｕｒａｔ", "darura\u0301t"]
)
def test_case_accents_and_full_width_letters_all_normalise_alike(spelling):
    assert normalize(spelling) == "darurat"


def test_punctuation_and_runs_of_whitespace_become_single_spaces():
    assert normalize("  Sistem\t\tMACET!!\n(lagi)...  ") == "sistem macet lagi"
    assert normalize("snake_case-and/slashes") == "snake case and slashes"
    assert normalize("") == ""
    assert normalize("?!…") == ""


def test_a_shouted_phrase_with_extra_spaces_still_matches():
    assert find_phrases("Sistem   MACET!!", ["sistem macet"]) == ["sistem macet"]


def test_a_phrase_matches_in_the_middle_of_a_sentence():
    assert find_phrases("saya tidak bisa login sejak pagi", ["tidak bisa login"]) == ["tidak bisa login"]


@pytest.mark.parametrize(
    ("text", "phrase"),
    [("please reply urgently", "urgent"), ("open the loginpage", "login"), ("relogin failed", "login")],
)
def test_only_whole_words_match(text, phrase):
    assert find_phrases(text, [phrase]) == []


def test_words_in_another_order_or_split_by_other_words_do_not_match():
    assert find_phrases("macet sistem", ["sistem macet"]) == []
    assert find_phrases("sistem kami macet", ["sistem macet"]) == []


def test_phrases_come_back_as_spelled_in_the_rule_in_rule_order_each_once():
    text = "URGENT: we can’t log in, the server is DOWN, urgent!"
    phrases = ["server is down", "can't log in", "urgent", "Urgent", "urgent", "refund"]
    assert find_phrases(text, phrases) == ["server is down", "can't log in", "urgent"]


def test_a_phrase_without_letters_or_digits_never_matches():
    assert find_phrases("!!! ???", ["!!!", "", "   "]) == []


def test_a_phrase_does_not_span_two_separate_parts():
    text = SearchableText("Laporan sistem", "macet sejak pagi")
    assert text.find(["sistem macet"]) == []
    assert text.find(["laporan sistem", "macet sejak pagi"]) == ["laporan sistem", "macet sejak pagi"]
    assert text.contains("sistem") and not text.contains("sistem macet")


def test_a_long_body_is_searched_quickly():
    body = ("Halo tim, berikut log lengkap dari server kami. " * 4000) + "Akhirnya: sistem macet total."
    assert len(body) > 190_000
    started = time.perf_counter()
    found = find_phrases(body, ["sistem macet", "tidak bisa login", "server", "darurat"] * 20)
    assert found == ["sistem macet", "server"]
    assert time.perf_counter() - started < 0.5
