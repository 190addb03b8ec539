"""The priority engine (R4, R6-R8, R20): every new ticket gets an explainable priority, a category, an optional
required skill and the reasons behind them, decided the same way every time from plain rules.

How a decision is made, in this order:

1. Content. The keyword rules for the ticket's channel (a rule with no channels applies to every channel) are
   matched against the subject, the body and the tags, each on its own, as whole words after normalisation
   (`shared.domain.textmatch`): "Sistem MACET!!" matches "sistem macet", "urgently" does not match "urgent". The highest
   priority among the matched rules is the content priority; when no rule matched it is `default_priority`.
   Because the matched rules replace the default rather than raise it, a low rule ("saran", "feature request")
   makes a ticket low, but only when no higher rule matched and nothing below raises it again.
2. Floors. The channel floor (a phone call carries urgency) and the importance floor (an e-mail flagged
   Importance: high) raise the priority to at least their level. Floors never lower.
3. Impact. Any impact phrase ("semua pengguna", "production") raises one level, once however many matched:
   breadth is what turns a high problem into an urgent one.
4. Tier. The customer's tier adds its boost in levels, but a boost never lifts a ticket above
   `tier_boost_ceiling` (high by default): who is asking decides how soon we answer, what they report decides
   whether it is urgent. So a plain question from a VIP is high, and a VIP's "sistem macet" is urgent because of
   its keyword. A ticket already at or above the ceiling keeps its priority.
5. Urgent is the top. Steps 2-4 only raise, so the result is never below any floor that applied.

Category and skill come from the deciding rule: the highest-priority matched rule that names a category or a
skill (ties: first in rule order). Rules naming neither (the urgency words) move priority only, so
"URGENT: refund" comes out high, category billing, skill billing. With no deciding rule: `default_category`
and no skill.

Reasons are human-readable, one per contribution in the order above (matched rules in rule order, channel,
importance, impact, tier); "default priority medium" alone when nothing applied. `keywords` lists the matched
phrases (keyword rules in rule order, then impact phrases) as spelled in the rules, each once, for tagging and
keyword-driven escalation.

Rules travel as JSON documents (`rules_to_document` / `rules_from_document`) so support leads can change them
through the API; a document is checked in full and refused with a message that names the offending field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Any, Iterable, Mapping

from shared.domain.model import Channel, Priority, Tier
from shared.domain.textmatch import SearchableText

__all__ = [
    "DEFAULT_RULES",
    "IMPORTANCE_LEVELS",
    "KeywordRule",
    "PriorityDecision",
    "PriorityFacts",
    "PriorityRules",
    "decide_priority",
    "rules_from_document",
    "rules_to_document",
]

# Lowest to highest; a ticket's "level" is its index here.
_LADDER = (Priority.LOW, Priority.MEDIUM, Priority.HIGH, Priority.URGENT)
# What shared.mail.parsing reports from Importance / X-Priority / Priority headers.
IMPORTANCE_LEVELS = ("high", "normal", "low")
_TOP_LEVEL = len(_LADDER) - 1


def _plain(value: str) -> str:
    """Enum members and raw strings compare the same in rules, facts and reasons ("vip", not "Tier.VIP")."""
    return value.value if isinstance(value, Enum) else value


def _level(priority: Priority) -> int:
    return _LADDER.index(priority)


def _frozen_mapping(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType({_plain(key): value for key, value in mapping.items()})


@dataclass(frozen=True)
class KeywordRule:
    """Phrases that, when a customer writes them, say how urgent the ticket is and who should take it."""

    phrases: tuple[str, ...]
    priority: Priority
    category: str | None = None
    skill: str | None = None
    channels: tuple[str, ...] = ()
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "phrases", tuple(self.phrases))
        object.__setattr__(self, "channels", tuple(_plain(channel) for channel in self.channels))

    def applies_to(self, channel: str) -> bool:
        """R4: per-channel keyword lists; no channels means every channel."""
        return not self.channels or channel in self.channels


@dataclass(frozen=True)
class PriorityRules:
    """Everything a support lead can tune about priority; the defaults here decide nothing on their own."""

    default_priority: Priority = Priority.MEDIUM
    default_category: str = "general"
    keyword_rules: tuple[KeywordRule, ...] = ()
    impact_phrases: tuple[str, ...] = ()
    tier_boost: Mapping[str, int] = field(default_factory=dict)
    tier_boost_ceiling: Priority = Priority.HIGH
    channel_floor: Mapping[str, Priority] = field(default_factory=dict)
    importance_floor: Mapping[str, Priority] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "keyword_rules", tuple(self.keyword_rules))
        object.__setattr__(self, "impact_phrases", tuple(self.impact_phrases))
        for name in ("tier_boost", "channel_floor", "importance_floor"):
            object.__setattr__(self, name, _frozen_mapping(getattr(self, name)))


@dataclass(frozen=True)
class PriorityFacts:
    """What is known about a new ticket when its priority is decided."""

    channel: str
    subject: str
    body: str
    tier: str = "standard"
    importance: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class PriorityDecision:
    """The outcome and why, so agents and customers can see the priority was not arbitrary."""

    priority: Priority
    category: str
    skill: str | None
    reasons: tuple[str, ...]
    keywords: tuple[str, ...]


# --- deciding -----------------------------------------------------------------------------------------------


def _quoted(phrases: Iterable[str]) -> str:
    return ", ".join(f"'{phrase}'" for phrase in phrases)


def _rule_reason(rule: KeywordRule, matched: list[str]) -> str:
    noun = "keyword" if len(matched) == 1 else "keywords"
    label = rule.name or rule.category
    suffix = f" ({label})" if label else ""
    return f"{noun} {_quoted(matched)} → {rule.priority.value}{suffix}"


def _levels(count: int) -> str:
    return f"+{count} level" if count == 1 else f"+{count} levels"


@dataclass
class _Reckoning:
    """A priority being worked out: the level so far and what moved it, step by step."""

    level: int
    reasons: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)

    def found(self, phrases: Iterable[str]) -> None:
        self.keywords.extend(phrase for phrase in phrases if phrase not in self.keywords)


def decide_priority(rules: PriorityRules, facts: PriorityFacts) -> PriorityDecision:
    """Priority, category, skill and reasons for a new ticket; the module docstring gives the rule."""
    text = SearchableText(facts.subject, facts.body, *facts.tags)
    reckoning = _Reckoning(level=_level(rules.default_priority))
    deciding = _by_content(rules, text, _plain(facts.channel), reckoning)
    _at_least(rules, _plain(facts.channel), _plain(facts.importance) if facts.importance is not None else None, reckoning)
    _by_impact(rules, text, reckoning)
    _by_tier(rules, _plain(facts.tier), reckoning)
    if not reckoning.reasons:
        reckoning.reasons.append(f"default priority {rules.default_priority.value}")
    if deciding is not None and deciding.skill:
        label = f" ({deciding.name or deciding.category})" if (deciding.name or deciding.category) else ""
        reckoning.reasons.append(f"skill {deciding.skill}{label}: an agent with it first, else the best free agent")
    return PriorityDecision(
        priority=_LADDER[reckoning.level],
        category=(deciding.category if deciding and deciding.category else rules.default_category),
        skill=deciding.skill if deciding else None,
        reasons=tuple(reckoning.reasons),
        keywords=tuple(reckoning.keywords),
    )


def _by_content(rules: PriorityRules, text: SearchableText, channel: str, reckoning: _Reckoning) -> KeywordRule | None:
    """1. The highest priority among the keyword rules that match; the highest of those with a category or skill
    decides them (the first of equals)."""
    deciding: KeywordRule | None = None
    content: Priority | None = None
    for rule in rules.keyword_rules:
        matched = text.find(rule.phrases) if rule.applies_to(channel) else None
        if not matched:
            continue
        reckoning.reasons.append(_rule_reason(rule, matched))
        reckoning.found(matched)
        if content is None or _level(rule.priority) > _level(content):
            content = rule.priority
        if (rule.category or rule.skill) and (deciding is None or _level(rule.priority) > _level(deciding.priority)):
            deciding = rule
    if content is not None:
        reckoning.level = _level(content)
    return deciding


def _at_least(rules: PriorityRules, channel: str, importance: str | None, reckoning: _Reckoning) -> None:
    """2. Floors: a channel, or the sender's marked importance, may hold the priority up."""
    channel_floor = rules.channel_floor.get(channel)
    if channel_floor is not None:
        reckoning.reasons.append(f"channel {channel} → at least {channel_floor.value}")
        reckoning.level = max(reckoning.level, _level(channel_floor))
    importance_floor = rules.importance_floor.get(importance) if importance is not None else None
    if importance_floor is not None:
        reckoning.reasons.append(f"importance {importance} → at least {importance_floor.value}")
        reckoning.level = max(reckoning.level, _level(importance_floor))


def _by_impact(rules: PriorityRules, text: SearchableText, reckoning: _Reckoning) -> None:
    """3. Impact words ("semua pelanggan", "all users") raise it one level."""
    impact = text.find(rules.impact_phrases)
    if impact:
        raised = min(reckoning.level + 1, _TOP_LEVEL)
        reckoning.reasons.append(f"impact {_quoted(impact)}: +1 level{_movement(reckoning.level, raised)}")
        reckoning.level = raised
        reckoning.found(impact)


def _by_tier(rules: PriorityRules, tier: str, reckoning: _Reckoning) -> None:
    """4. The customer's tier raises it, up to the boost ceiling."""
    boost = rules.tier_boost.get(tier, 0)
    if boost <= 0:
        return
    level = reckoning.level
    raised = max(level, min(level + boost, _level(rules.tier_boost_ceiling)))
    note = ""
    if level < raised < level + boost:
        note = f", capped at {rules.tier_boost_ceiling.value}"
    elif raised == level < _TOP_LEVEL:
        note = f", tier boosts stop at {rules.tier_boost_ceiling.value}"
    reckoning.reasons.append(f"customer tier {tier}: {_levels(boost)}{_movement(level, raised, note)}")
    reckoning.level = raised


def _movement(before: int, after: int, note: str = "") -> str:
    if after == before:
        return f" (already {_LADDER[before].value}{note})"
    return f" ({_LADDER[before].value} → {_LADDER[after].value}{note})"


# --- documents ----------------------------------------------------------------------------------------------

def rules_to_document(rules: PriorityRules) -> dict[str, Any]:
    """JSON-ready form for the rules table and the API; `rules_from_document` reads it back unchanged."""
    return {
        "default_priority": rules.default_priority.value,
        "default_category": rules.default_category,
        "keyword_rules": [
            {
                "name": rule.name,
                "phrases": list(rule.phrases),
                "priority": rule.priority.value,
                "category": rule.category,
                "skill": rule.skill,
                "channels": [_plain(channel) for channel in rule.channels],
            }
            for rule in rules.keyword_rules
        ],
        "impact_phrases": list(rules.impact_phrases),
        "tier_boost": {_plain(tier): int(boost) for tier, boost in rules.tier_boost.items()},
        "tier_boost_ceiling": rules.tier_boost_ceiling.value,
        "channel_floor": {_plain(key): floor.value for key, floor in rules.channel_floor.items()},
        "importance_floor": {_plain(key): floor.value for key, floor in rules.importance_floor.items()},
    }


def rules_from_document(doc: Mapping[str, Any]) -> PriorityRules:
    """Rules from a stored or submitted document, refused whole if any field is wrong.

    Missing top-level fields take the neutral `PriorityRules()` defaults (no keywords, no boosts), not
    `DEFAULT_RULES`: a document describes the whole rule set. Numbers may arrive as Decimal (DynamoDB).
    """
    from shared.contracts.config import PriorityRulesDocument  # pydantic on the first parse, not at cold start
    from shared.contracts.refusals import validated

    checked = validated(PriorityRulesDocument, doc, "priority rules")
    return PriorityRules(
        default_priority=Priority(checked.default_priority),
        default_category=checked.default_category,
        keyword_rules=tuple(
            KeywordRule(
                phrases=tuple(rule.phrases),
                priority=Priority(rule.priority),
                category=rule.category,
                skill=rule.skill,
                channels=tuple(rule.channels),
                name=rule.name,
            )
            for rule in checked.keyword_rules
        ),
        impact_phrases=tuple(checked.impact_phrases),
        tier_boost=dict(checked.tier_boost),
        tier_boost_ceiling=Priority(checked.tier_boost_ceiling),
        channel_floor={channel: Priority(floor) for channel, floor in checked.channel_floor.items()},
        importance_floor={level: Priority(floor) for level, floor in checked.importance_floor.items()},
    )


# --- shipped defaults ---------------------------------------------------------------------------------------

_CHAT_AND_SOCIAL = (
    Channel.CHAT.value,
    Channel.WHATSAPP.value,
    Channel.FACEBOOK.value,
    Channel.INSTAGRAM.value,
    Channel.TWITTER.value,
    Channel.TELEGRAM.value,
)

DEFAULT_RULES = PriorityRules(
    default_priority=Priority.MEDIUM,
    default_category="general",
    keyword_rules=(
        KeywordRule(
            name="outage keywords",
            priority=Priority.URGENT,
            category="outage",
            phrases=(
                "sistem macet", "sistem down", "system down", "server down", "server mati", "website down",
                "tidak bisa diakses", "aplikasi error total", "mati total", "outage", "darurat", "emergency",
                "data loss", "kehilangan data", "data hilang",
            ),
        ),
        KeywordRule(
            # No category: urgency words say how soon, not what about, so "urgent refund" stays billing.
            # Note "asap" is also Indonesian for smoke; a smoking device is worth a fast answer too.
            name="urgency words",
            priority=Priority.HIGH,
            phrases=(
                "urgent", "mendesak", "segera", "asap", "penting sekali", "sangat penting", "critical", "kritis",
            ),
        ),
        KeywordRule(
            name="access keywords",
            priority=Priority.HIGH,
            category="access",
            phrases=(
                "tidak bisa login", "tidak bisa masuk", "gagal login", "lupa password", "lupa kata sandi",
                "akun terkunci", "akun diblokir", "cannot login", "cannot log in", "can't login", "can't log in",
                "unable to log in", "password reset", "reset password", "account locked", "locked out",
            ),
        ),
        KeywordRule(
            name="payment failures",
            priority=Priority.HIGH,
            category="billing",
            skill="billing",
            phrases=(
                "double charge", "charged twice", "tagihan ganda", "salah tagih", "pembayaran gagal",
                "payment failed", "saldo terpotong",
            ),
        ),
        KeywordRule(
            name="billing keywords",
            priority=Priority.MEDIUM,
            category="billing",
            skill="billing",
            phrases=("refund", "pengembalian dana", "tagihan", "invoice", "faktur", "billing", "pembayaran"),
        ),
        KeywordRule(
            # A public complaint on chat or social media is seen by others; answer it before it spreads.
            name="public complaints",
            priority=Priority.HIGH,
            category="complaint",
            channels=_CHAT_AND_SOCIAL,
            phrases=("komplain", "kecewa", "mengecewakan", "complaint", "disappointed", "terrible service"),
        ),
        KeywordRule(
            name="feedback keywords",
            priority=Priority.LOW,
            category="feedback",
            phrases=(
                "feature request", "suggestion", "just a question", "saran", "usulan", "pertanyaan umum",
                "sekadar bertanya",
            ),
        ),
    ),
    impact_phrases=(
        "semua pengguna", "seluruh pengguna", "semua user", "seluruh kantor", "semua cabang", "semua pelanggan",
        "produksi", "all users", "all customers", "whole company", "every user", "production",
    ),
    tier_boost={Tier.VIP.value: 2, Tier.PREMIUM.value: 1, Tier.STANDARD.value: 0},
    tier_boost_ceiling=Priority.HIGH,
    channel_floor={Channel.PHONE.value: Priority.HIGH},
    importance_floor={"high": Priority.HIGH},
)
