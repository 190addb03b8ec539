"""Ticket refs, deterministic ids and signed reply addresses."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from shared.domain.ids import derived_ulid, find_ref, normalize_ref, ref_candidates
from shared.mail.reply_address import ref_from_address, reply_address
from shared.mail.threading import thread_hints

pytestmark = pytest.mark.unit

KEY = b"k" * 32
AT = datetime(2026, 11, 2, 3, 15, tzinfo=timezone.utc)


def test_ids_from_the_same_key_are_the_same_and_sort_by_time():
    assert derived_ulid(AT, "mid#a") == derived_ulid(AT, "mid#a")
    assert derived_ulid(AT, "mid#a") != derived_ulid(AT, "mid#b")
    later = datetime(2026, 11, 2, 3, 16, tzinfo=timezone.utc)
    assert derived_ulid(AT, "zzz") < derived_ulid(later, "aaa")
    assert len(derived_ulid(AT, "x")) == 26


def test_ref_candidates_are_deterministic_distinct_and_well_formed():
    refs = ref_candidates("mid#support@example.com#<a@b>")
    assert refs == ref_candidates("mid#support@example.com#<a@b>")
    assert len(set(refs)) == len(refs)
    assert all(normalize_ref(r) == r for r in refs)


@pytest.mark.parametrize(
    ("subject", "ref"),
    [
        ("Re: [T-7K3Q9X] Tidak bisa login", "T-7K3Q9X"),
        ("RE: AW: ticket t-7k3q9x still open", "T-7K3Q9X"),
        ("Fwd: (T-ABCDEF)", "T-ABCDEF"),
        ("Order XT-7K3Q9X", None),
        ("T-7K3Q9XY is not a ref", None),
        ("T-OOOOOO has letters refs never use", None),
        ("", None),
    ],
)
def test_refs_are_found_in_subjects(subject, ref):
    assert find_ref(subject) == ref


def test_a_signed_reply_address_round_trips_and_survives_lower_casing():
    address = reply_address(KEY, "T-7K3Q9X", "support@example.com")
    assert address.startswith("support+7k3q9x-") and address.endswith("@example.com")
    assert ref_from_address(KEY, address, "example.com") == "T-7K3Q9X"
    assert ref_from_address(KEY, address.upper(), "EXAMPLE.COM") == "T-7K3Q9X"


@pytest.mark.parametrize(
    "address",
    [
        "support+7k3q9x-aaaaaaaaaa@example.com",  # forged signature
        "support@example.com",
        "support+7k3q9x@example.com",
        "nobody@other.test",
    ],
)
def test_unsigned_or_foreign_addresses_carry_no_ref(address):
    assert ref_from_address(KEY, address, "example.com") is None


def test_a_reply_address_signed_with_another_key_is_refused():
    address = reply_address(b"other-key", "T-7K3Q9X", "support@example.com")
    assert ref_from_address(KEY, address, "example.com") is None


def test_thread_hints_order_token_subject_then_message_ids_newest_reference_first():
    token_address = reply_address(KEY, "T-AAAAAA", "support@example.com")
    hints = thread_hints(
        key=KEY,
        support_domain="example.com",
        recipients=["support@example.com", token_address],
        subject="Re: [T-BBBBBB] help",
        in_reply_to=["<c@x>"],
        references=["<a@x>", "<b@x>", "<c@x>"],
    )
    assert hints.token_ref == "T-AAAAAA"
    assert hints.subject_ref == "T-BBBBBB"
    assert hints.message_ids == ("<c@x>", "<b@x>", "<a@x>")
