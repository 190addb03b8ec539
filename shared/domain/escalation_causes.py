"""Why a ticket is escalated, and when it comes down again (R18, R19; de-escalation when the cause is gone).

Every escalation names its cause. A ticket's required tier is the highest tier any live cause asks for, and its
escalation level is that tier minus one. A cause ends when what raised it is gone; when the highest one ends,
the ticket de-escalates to what the remaining causes ask for:

    cause                  raised by                                         gone when
    sla:first_response     a ladder step on the first-response clock         an agent answers (the metric is met)
    sla:next_response      a ladder step on the next-response clock          an agent answers
    sla:resolution         a ladder step on the resolution clock             never: late until resolved
    unanswered             the customer wrote N times without an answer      an agent answers
    idle                   a VIP ticket nobody touched for N minutes         an agent answers
    keyword:<phrase>       an escalation keyword in the message or tags      the tag is removed
    reopened               reopened N times                                  never
    manual                 a supervisor                                      a supervisor lowers the level

A supervisor's level overrules the causes asking for more: they stay recorded as OVERRULED (0) and are not raised
again until they end and come back (the customer's next unanswered message does not undo the lead's call; an
answer, and three new unanswered messages after it, do).

A resolved ticket keeps its level (reports count escalations by it; a reopened ticket picks up where it was).
Whoever holds a de-escalated ticket keeps it; only a ticket still waiting in the queue becomes open to the
lower tier. Pure: no I/O, so the rules are tested without AWS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from shared.domain.textmatch import normalize

ESCALATION_KEYWORDS = ("sistem macet", "system down", "server down", "data loss", "kehilangan data", "outage")
KEYWORD_TIER = 2
ANSWER_ENDS = ("sla:first_response", "sla:next_response", "unanswered", "idle")
LEGACY = "earlier"  # a level set before causes were recorded: only a supervisor lowers it
OVERRULED = 0  # the tier of a cause a supervisor overruled: it asks for nothing until it ends


def sla_cause(metric: str) -> str:
    return f"sla:{metric}"


def keyword_cause(phrase: str) -> str:
    return f"keyword:{normalize(phrase)}"


def escalation_keyword(tag: str) -> str | None:
    """The escalation keyword a tag is (case and accents aside), or None."""
    wanted = normalize(tag)
    return next((k for k in ESCALATION_KEYWORDS if normalize(k) == wanted), None)


def causes_of(stored: Mapping[str, object] | None, required_tier: int) -> dict[str, int]:
    """The live causes as stored on the ticket; a ticket escalated before causes were kept has one `earlier`."""
    causes = {str(k): int(float(str(v))) for k, v in (stored or {}).items()}
    if not causes and required_tier > 1:
        causes[LEGACY] = required_tier
    return causes


def tier_of(causes: Mapping[str, int]) -> int:
    return max([1, *causes.values()])


def live(causes: Mapping[str, int]) -> list[str]:
    """The causes that ask for a tier now (not overruled), sorted."""
    return sorted(c for c, t in causes.items() if t != OVERRULED)


def raised(causes: Mapping[str, int], cause: str, tier: int) -> dict[str, int]:
    """`cause` asks for `tier` (a cause raised again keeps the higher of the two tiers; an overruled one stays
    overruled until it ends)."""
    if causes.get(cause) == OVERRULED:
        return dict(causes)
    return {**causes, cause: max(tier, causes.get(cause, 0))}


def ended(causes: Mapping[str, int], gone: Iterable[str]) -> dict[str, int]:
    gone = set(gone)
    return {c: t for c, t in causes.items() if c not in gone}


def set_by_hand(causes: Mapping[str, int], level: int) -> dict[str, int]:
    """A supervisor sets the level: causes asking for more are overruled; the level itself becomes `manual`."""
    tier = level + 1
    kept = {c: (t if t <= tier else OVERRULED) for c, t in causes.items() if c != "manual"}
    return {**kept, "manual": tier} if tier > tier_of(kept) else kept


def retagged(causes: Mapping[str, int], before: Iterable[str], after: Iterable[str]) -> dict[str, int]:
    """Keyword causes follow the tags an agent adds and removes (R10: tagging "system down" hands the ticket to
    a more experienced tier; removing the tag says the emergency is over). Tags left alone change nothing."""
    old = {escalation_keyword(t) for t in before} - {None}
    new = {escalation_keyword(t) for t in after} - {None}
    out = ended(causes, [keyword_cause(str(k)) for k in old - new])
    for phrase in sorted(str(k) for k in new - old):
        out = raised(out, keyword_cause(phrase), KEYWORD_TIER)
    return out


@dataclass(frozen=True)
class CauseShift:
    """What a change of causes does to the ticket's tier."""

    before: dict[str, int]
    after: dict[str, int]

    @property
    def tier_before(self) -> int:
        return tier_of(self.before)

    @property
    def tier(self) -> int:
        return tier_of(self.after)

    @property
    def kind(self) -> str | None:
        """`ticket.escalated`, `ticket.deescalated`, or None when the tier stays."""
        if self.tier > self.tier_before:
            return "ticket.escalated"
        if self.tier < self.tier_before:
            return "ticket.deescalated"
        return None

    def event(self, reason: str) -> dict[str, object]:
        return {
            "from_level": self.tier_before - 1,
            "to_level": self.tier - 1,
            "tier": self.tier,
            "reason": reason,
            "causes": live(self.after),
        }

    def values(self) -> dict[str, object]:
        """The ticket fields this shift writes."""
        return {"escalation_causes": dict(self.after) or None, "required_tier": self.tier, "escalation_level": self.tier - 1}
