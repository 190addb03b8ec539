"""How a support lead expects new tickets to be prioritised (R4, R6-R8, R20), with the shipped default rules."""

from __future__ import annotations

import copy
import json
import time
from decimal import Decimal
from pathlib import Path

import pytest

from shared.domain.errors import ValidationFailed
from shared.domain.model import Channel, Priority, Tier
from shared.mail.parsing import parse_email
from shared.domain.priority import (
    DEFAULT_RULES,
    KeywordRule,
    PriorityFacts,
    PriorityRules,
    decide_priority,
    rules_from_document,
    rules_to_document,
)

pytestmark = pytest.mark.unit

MAILS = Path(__file__).resolve().parents[1] / "mails"


def decide(subject="", body="", *, channel="email", tier="standard", importance=None, tags=(), rules=DEFAULT_RULES):
    facts = PriorityFacts(channel=channel, subject=subject, body=body, tier=tier, importance=importance, tags=tags)
    return decide_priority(rules, facts)


# --- the acceptance scenarios ---------------------------------------------------------------------------------


def test_vip_email_saying_sistem_macet_is_urgent_outage_and_says_why():
    decision = decide("Sistem macet", "Tolong dibantu, kasir tidak jalan.", tier="vip")
    assert decision.priority is Priority.URGENT
    assert decision.category == "outage"
    assert decision.keywords == ("sistem macet",)
    assert decision.reasons == (
        "keyword 'sistem macet' → urgent (outage keywords)",
        "customer tier vip: +2 levels (already urgent)",
    )


def test_shouted_keyword_with_punctuation_still_marks_an_outage():
    decision = decide("Sistem MACET!!", "")
    assert decision.priority is Priority.URGENT
    assert decision.category == "outage"


def test_standard_customer_who_cannot_log_in_is_high_access():
    decision = decide("Bantuan", "Saya tidak bisa login sejak pagi.")
    assert decision.priority is Priority.HIGH
    assert decision.category == "access"
    assert decision.skill is None
    assert decision.reasons == ("keyword 'tidak bisa login' → high (access keywords)",)


def test_plain_question_from_a_vip_is_high_but_not_urgent():
    decision = decide("Question", "How do I export last month's report?", tier="vip")
    assert decision.priority is Priority.HIGH
    assert decision.category == "general"
    assert decision.reasons == ("customer tier vip: +2 levels (medium → high, capped at high)",)


def test_premium_customers_are_raised_one_level():
    assert decide("Question", "How do I export a report?", tier="premium").priority is Priority.HIGH
    assert decide("Saran", "Tambahkan mode gelap.", tier="premium").priority is Priority.MEDIUM


def test_standard_plain_question_keeps_the_default_and_says_so():
    decision = decide("Question", "How do I export a report?")
    assert decision.priority is Priority.MEDIUM
    assert decision.category == "general"
    assert decision.skill is None
    assert decision.reasons == ("default priority medium",)
    assert decision.keywords == ()


def test_a_vip_who_is_already_high_is_not_made_urgent_by_tier_alone():
    decision = decide("Login", "I cannot log in", tier="vip")
    assert decision.priority is Priority.HIGH
    assert decision.reasons[-1] == "customer tier vip: +2 levels (already high, tier boosts stop at high)"


def test_a_phone_call_is_at_least_high():
    decision = decide("Call from customer", "Asks about opening hours", channel="phone")
    assert decision.priority is Priority.HIGH
    assert decision.reasons == ("channel phone → at least high",)


def test_an_email_flagged_importance_high_is_at_least_high():
    decision = decide("Pertanyaan", "Kapan invoice dikirim?", importance="high")
    assert decision.priority is Priority.HIGH
    assert decision.category == "billing"
    assert "importance high → at least high" in decision.reasons


def test_low_importance_never_lowers_a_ticket():
    assert decide("Question", "How do I export?", importance="low").priority is Priority.MEDIUM
    assert decide("Sistem macet", "", importance="low").priority is Priority.URGENT


def test_impact_on_every_user_raises_one_level():
    decision = decide("Tidak bisa login", "Semua pengguna di kantor kami tidak bisa login.")
    assert decision.priority is Priority.URGENT
    assert decision.category == "access"
    assert decision.reasons == (
        "keyword 'tidak bisa login' → high (access keywords)",
        "impact 'semua pengguna': +1 level (high → urgent)",
    )
    assert decision.keywords == ("tidak bisa login", "semua pengguna")


def test_impact_counts_once_however_many_impact_phrases_match():
    decision = decide("Refund", "All users in production are affected, semua cabang juga.")
    assert decision.priority is Priority.HIGH
    assert decision.reasons[-2] == "impact 'semua cabang', 'all users', 'production': +1 level (medium → high)"


def test_urgently_is_not_the_keyword_urgent():
    decision = decide("Reply", "Please get back to me urgently about the colour of the logo.")
    assert decision.priority is Priority.MEDIUM
    assert decision.keywords == ()


def test_accented_keyword_still_matches():
    decision = decide("DARÚRAT", "")
    assert decision.priority is Priority.URGENT
    assert decision.keywords == ("darurat",)


def test_complaint_keywords_apply_on_chat_and_social_but_not_on_email():
    on_social = decide("", "Saya sangat kecewa dengan pelayanan kalian", channel="facebook")
    on_email = decide("", "Saya sangat kecewa dengan pelayanan kalian", channel="email")
    assert (on_social.priority, on_social.category) == (Priority.HIGH, "complaint")
    assert (on_email.priority, on_email.category) == (Priority.MEDIUM, "general")
    assert on_email.reasons == ("default priority medium",)


def test_enum_channel_and_tier_are_read_like_their_values():
    decision = decide("", "komplain: my order is late", channel=Channel.WHATSAPP, tier=Tier.VIP)
    assert decision.priority is Priority.HIGH
    assert decision.reasons[-1].startswith("customer tier vip:")


def test_a_suggestion_alone_is_low_feedback():
    decision = decide("Saran", "Bagaimana kalau ada mode gelap?")
    assert (decision.priority, decision.category) == (Priority.LOW, "feedback")
    assert decision.reasons == ("keyword 'saran' → low (feedback keywords)",)


def test_a_suggestion_mentioning_a_failed_payment_is_not_low():
    decision = decide("Saran", "Pembayaran gagal tiga kali, mungkin tombolnya perlu diperbaiki.")
    assert (decision.priority, decision.category, decision.skill) == (Priority.HIGH, "billing", "billing")


def test_urgency_words_raise_priority_but_leave_the_category_to_the_topic():
    decision = decide("URGENT", "I need a refund for last month.")
    assert decision.priority is Priority.HIGH
    assert (decision.category, decision.skill) == ("billing", "billing")
    assert decision.reasons == (
        "keyword 'urgent' → high (urgency words)",
        "keyword 'refund' → medium (billing keywords)",
        "skill billing (billing keywords): an agent with it first, else the best free agent",
    )


def test_the_most_urgent_topic_decides_the_category():
    decision = decide("Server down", "Also, my invoice is wrong.")
    assert (decision.priority, decision.category, decision.skill) == (Priority.URGENT, "outage", None)


def test_several_phrases_of_one_rule_give_one_reason():
    decision = decide("Emergency", "System down, kehilangan data!")
    assert decision.reasons == ("keywords 'system down', 'emergency', 'kehilangan data' → urgent (outage keywords)",)


def test_tags_are_matched_too():
    decision = decide("Follow-up", "Any news?", tags=("sistem-macet",))
    assert decision.priority is Priority.URGENT
    assert decision.keywords == ("sistem macet",)


def test_a_phrase_does_not_run_from_the_subject_into_the_body():
    assert decide("Laporan sistem", "macet sejak pagi? tidak, semuanya lancar").keywords == ()


def test_the_real_indonesian_login_mail_is_urgent_with_every_reason():
    mail = parse_email((MAILS / "customer_id_login_urgent.eml").read_bytes())
    decision = decide(mail.subject, mail.text, importance=mail.importance, tier="premium")
    assert decision.priority is Priority.URGENT
    assert decision.category == "outage"
    assert decision.keywords == ("sistem macet", "segera", "tidak bisa login")
    assert decision.reasons == (
        "keyword 'sistem macet' → urgent (outage keywords)",
        "keyword 'segera' → high (urgency words)",
        "keyword 'tidak bisa login' → high (access keywords)",
        "importance high → at least high",
        "customer tier premium: +1 level (already urgent)",
    )


def test_the_same_ticket_always_gets_the_same_decision():
    args = ("URGENT: sistem macet", "Semua pengguna terdampak, tolong segera. Refund juga ya.")
    first = decide(*args, channel="chat", tier="vip", importance="high")
    for _ in range(5):
        assert decide(*args, channel="chat", tier="vip", importance="high") == first
    assert first.reasons == (
        "keyword 'sistem macet' → urgent (outage keywords)",
        "keywords 'urgent', 'segera' → high (urgency words)",
        "keyword 'refund' → medium (billing keywords)",
        "importance high → at least high",
        "impact 'semua pengguna': +1 level (already urgent)",
        "customer tier vip: +2 levels (already urgent)",
    )


def test_a_200_kb_body_is_decided_quickly():
    body = "Berikut log dari aplikasi kasir — café Ünter, Jl. Merdeka. " * 3500 + "Sekarang mati total."
    assert len(body.encode()) > 200_000
    started = time.perf_counter()
    decision = decide("Log", body)
    assert decision.priority is Priority.URGENT
    assert decision.keywords == ("mati total",)
    assert time.perf_counter() - started < 1.0


# --- rules as documents -------------------------------------------------------------------------------------


def test_rules_survive_a_round_trip_through_json():
    document = json.loads(json.dumps(rules_to_document(DEFAULT_RULES)))
    assert rules_from_document(document) == DEFAULT_RULES


def test_numbers_read_back_from_dynamodb_as_decimal_are_accepted():
    document = rules_to_document(DEFAULT_RULES)
    document["tier_boost"] = {tier: Decimal(boost) for tier, boost in document["tier_boost"].items()}
    assert rules_from_document(document).tier_boost == {"vip": 2, "premium": 1, "standard": 0}


def test_missing_fields_mean_no_rules_rather_than_the_shipped_defaults():
    rules = rules_from_document({"keyword_rules": [{"phrases": ["printer"], "priority": "low"}]})
    assert rules.tier_boost == {} and rules.channel_floor == {} and rules.impact_phrases == ()
    assert decide("Printer", "jammed", tier="vip", rules=rules).priority is Priority.LOW


def test_rules_written_in_code_with_enums_and_lists_equal_their_document_form():
    rules = PriorityRules(
        keyword_rules=(KeywordRule(phrases=("down",), priority=Priority.URGENT, channels=(Channel.CHAT,)),),
        tier_boost={Tier.VIP: 1},
        channel_floor={Channel.PHONE: Priority.HIGH},
    )
    document = rules_to_document(rules)
    assert document["keyword_rules"][0]["channels"] == ["chat"]
    assert document["tier_boost"] == {"vip": 1}
    assert rules_from_document(document) == rules


def _broken(change):
    document = copy.deepcopy(rules_to_document(DEFAULT_RULES))
    change(document)
    return document


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(default_priority="extreme"), "default_priority: 'extreme' is not a priority"),
        (lambda d: d["keyword_rules"][2].update(priority="p1"), "keyword_rules[2].priority: 'p1' is not a priority"),
        (lambda d: d["keyword_rules"][0].update(phrases=[]), "keyword_rules[0].phrases: must list at least 1 item"),
        (lambda d: d["keyword_rules"][0]["phrases"].append("  "), "keyword_rules[0].phrases[15]: '  ' has no letters"),
        (lambda d: d["keyword_rules"][1]["phrases"].append(7), "keyword_rules[1].phrases[8]: must be a string"),
        (lambda d: d["keyword_rules"][1]["phrases"].append("URGENT"), "keyword_rules[1].phrases[8]: 'URGENT' repeats"),
        (lambda d: d["keyword_rules"][0].pop("priority"), "keyword_rules[0].priority: is required"),
        (lambda d: d["keyword_rules"][0].update(colour="red"), "keyword_rules[0]: unknown field(s) colour"),
        (lambda d: d["keyword_rules"][5].update(channels=["pigeon"]), "keyword_rules[5].channels[0]: 'pigeon'"),
        (lambda d: d["keyword_rules"][3].update(category=""), "keyword_rules[3].category: must be a non-empty"),
        (lambda d: d["keyword_rules"].append("outage"), "keyword_rules[7]: must be an object"),
        (lambda d: d.update(keyword_rules={"a": 1}), "keyword_rules: must be a list"),
        (lambda d: d.update(impact_phrases="production"), "impact_phrases: must be a list"),
        (lambda d: d["tier_boost"].update(gold=1), "tier_boost: 'gold' is not a valid tier"),
        (lambda d: d["tier_boost"].update(vip="2"), "tier_boost.vip: must be a whole number; got '2'"),
        (lambda d: d["tier_boost"].update(vip=True), "tier_boost.vip: must be a whole number; got True"),
        (lambda d: d["tier_boost"].update(vip=-1), "tier_boost.vip: must be at least 0; got -1"),
        (lambda d: d["channel_floor"].update(fax="high"), "channel_floor: 'fax' is not a valid channel"),
        (lambda d: d["channel_floor"].update(phone="asap"), "channel_floor.phone: 'asap' is not a priority"),
        (lambda d: d["importance_floor"].update(top="high"), "importance_floor: 'top' is not a valid importance"),
        (lambda d: d.update(tier_boost_ceiling=None), "tier_boost_ceiling: None is not a priority"),
        (lambda d: d.update(vip_first=True), "priority rules: unknown field(s) vip_first"),
    ],
)
def test_a_bad_rules_document_is_refused_naming_the_field(change, message):
    with pytest.raises(ValidationFailed) as error:
        rules_from_document(_broken(change))
    assert message in error.value.message
    assert error.value.code == "validation_failed"


def test_a_document_that_is_not_an_object_is_refused():
    with pytest.raises(ValidationFailed, match="must be an object"):
        rules_from_document(["urgent"])  # type: ignore[arg-type]
