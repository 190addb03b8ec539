"""KPIs from per-day aggregates (R14, R16, R21, R23): what each ticket contributes, and the figures, baselines
and flags read back from the sums.

A ticket's *fact* is everything it adds to the counters now, as `{"<dimension>|<day>#<value>|<counter>": n}`:
created on its creation day, first response and its time on the day of the first answer, resolution, SLA
outcome, deflection and survey on the resolution day, the rating on the day it was given, each rise in
escalation level on its own day — each under every dimension (all, channel, priority, team, agent, tier). The
aggregator stores the last fact of each ticket and adds only the difference between the new fact and it, so a
duplicated or late stream record (an older version) changes nothing, and a ticket moved to another team or
agent leaves the old buckets as it joins the new ones. Summing facts from scratch is the rebuild.

Times are business seconds when the ticket has an SLA clock (its calendar's hours only), else wall seconds;
they are kept as histograms — to the minute under an hour, to 5 minutes under a day, to the hour beyond — and a
percentile is the nearest-rank value (the smallest value with at least p % of the measurements at or under it),
reported as its bucket's lower bound. Merged tickets (closed into another) add nothing: their customer's request
lives on in the target.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable

from shared.domain.timefmt import parse_iso

DIMENSIONS = ("channel", "priority", "team", "agent", "tier")
ALL = "all"
NOBODY = "-"  # the agent dimension's value for tickets nobody holds
DONE = ("resolved", "closed")

Fact = dict[str, int]


def scoped(dimension: str, team: str) -> str:
    """The partition of a dimension within one team (`channel@support`): a lead's breakdown of their own team."""
    return f"{dimension}@{team}"


def day_of(at: str | datetime) -> str:
    moment = parse_iso(at) if isinstance(at, str) else at
    return moment.astimezone(timezone.utc).date().isoformat()


def duration_bucket(seconds: float) -> int:
    """The histogram bucket (its lower bound in seconds) a duration falls in."""
    minutes = max(0, int(seconds // 60))
    if minutes < 60:
        return minutes * 60
    if minutes < 24 * 60:
        return (minutes // 5) * 5 * 60
    return (minutes // 60) * 3600


def _metric(ticket: Any, name: str) -> Mapping[str, Any] | None:
    clock = ticket.sla_clock or {}
    metric = (clock.get("metrics") or {}).get(name)
    return metric if metric and metric.get("met_at") else None


def _duration(ticket: Any, name: str, start: str, end: str) -> tuple[float, bool | None]:
    """Seconds the metric took (business time on its SLA clock, else wall time) and whether it met its target
    (None without an SLA)."""
    metric = _metric(ticket, name)
    if metric is not None:
        used = float(metric.get("elapsed") or 0)
        return used, used <= float(metric.get("target") or 0)
    return max(0.0, (parse_iso(end) - parse_iso(start)).total_seconds()), None


def ticket_fact(ticket: Any) -> Fact:
    """What one ticket (a shared/domain/ticket.py Ticket) adds to the aggregates now."""
    if ticket.merged_into:
        return {}
    values = {
        "channel": ticket.channel,
        "priority": ticket.priority,
        "team": ticket.team,
        "agent": ticket.assignee or NOBODY,
        "tier": (ticket.customer.tier if ticket.customer else None) or "standard",
    }
    buckets = [(ALL, NOBODY), *values.items()]
    buckets += [(scoped(name, ticket.team), value) for name, value in values.items() if name != "team"]
    fact: dict[str, int] = defaultdict(int)

    def add(at: str, counter: str, amount: int = 1) -> None:
        day = day_of(at)
        for dimension, value in buckets:
            fact[f"{dimension}|{day}#{value}|{counter}"] += amount

    created = ticket.created_at
    add(created, "created")
    add(created, "open_delta")
    add(created, "open_age", int(parse_iso(created).timestamp()))
    if ticket.first_responded_at:
        _first_response(ticket, add)
    finished = ticket.resolved_at or ticket.closed_at
    if ticket.status in DONE and finished:
        _resolution(ticket, finished, add)
    if ticket.csat and ticket.csat.get("at"):
        score = int(ticket.csat["score"])
        add(ticket.csat["at"], "csat_n")
        add(ticket.csat["at"], "csat_sum", score)
        add(ticket.csat["at"], f"csat@{score}")
    for rise in ticket.escalation_log or ():
        add(rise["at"], "esc")
        add(rise["at"], f"esc_l{int(rise['level'])}")
        for cause in rise.get("causes") or ():
            add(rise["at"], f"esc_c:{cause}")
    return {key: amount for key, amount in fact.items() if amount}


Add = Callable[..., None]


def _first_response(ticket: Any, add: Add) -> None:
    """Answered (on the creation day, for the response rate); the time and SLA outcome on the answer's day."""
    add(ticket.created_at, "answered")
    seconds, met = _duration(ticket, "first_response", ticket.created_at, ticket.first_responded_at)
    add(ticket.first_responded_at, "frt_n")
    add(ticket.first_responded_at, "frt_sum", int(seconds))
    add(ticket.first_responded_at, f"frt@{duration_bucket(seconds)}")
    if met is not None:
        add(ticket.first_responded_at, "sla_n")
        add(ticket.first_responded_at, "sla_met", int(met))


def _resolution(ticket: Any, finished: str, add: Add) -> None:
    """Out of the backlog, the resolution time and SLA outcome, deflection and the survey, on the day it ended."""
    add(finished, "resolved")
    add(finished, "open_delta", -1)
    add(finished, "open_age", -int(parse_iso(ticket.created_at).timestamp()))
    seconds, met = _duration(ticket, "resolution", ticket.created_at, finished)
    add(finished, "res_n")
    add(finished, "res_sum", int(seconds))
    add(finished, f"res@{duration_bucket(seconds)}")
    if met is not None:
        add(finished, "sla_n")
        add(finished, "sla_met", int(met))
    if ticket.resolved_by_article:
        add(finished, "deflected")
    if not ticket.automated:
        add(finished, "surveyed")
        if ticket.csat:
            add(finished, "rated")


def difference(old: Mapping[str, int], new: Mapping[str, int]) -> Fact:
    """What to add to the aggregates so they hold `new` instead of `old`."""
    keys = set(old) | set(new)
    return {key: new.get(key, 0) - old.get(key, 0) for key in sorted(keys) if new.get(key, 0) != old.get(key, 0)}


def by_item(fact: Mapping[str, int]) -> dict[tuple[str, str], dict[str, int]]:
    """A fact (or a difference) as the counter additions of each aggregate item (pk, sk)."""
    items: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for key, amount in fact.items():
        pk, sk, counter = key.split("|", 2)
        items[(pk, sk)][counter] = amount
    return dict(items)


def total(facts: Iterable[Mapping[str, int]]) -> Fact:
    summed: dict[str, int] = defaultdict(int)
    for fact in facts:
        for key, amount in fact.items():
            summed[key] += amount
    return {key: amount for key, amount in summed.items() if amount}


# --- reading the sums back --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: date  # inclusive
    end: date  # exclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def baseline(self) -> Period:
        return Period(self.start - timedelta(days=self.days), self.start)

    def document(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}

    @classmethod
    def of(cls, start: date | datetime, end: date | datetime) -> Period:
        """Whole UTC days covering [start, end)."""
        first = start.astimezone(timezone.utc).date() if isinstance(start, datetime) else start
        if isinstance(end, datetime):
            utc = end.astimezone(timezone.utc)
            last = utc.date() + timedelta(days=1 if utc.time() != datetime.min.time() else 0)
        else:
            last = end
        return cls(first, max(last, first + timedelta(days=1)))

    @classmethod
    def week_of(cls, day: date) -> Period:
        monday = day - timedelta(days=day.weekday())
        return cls(monday, monday + timedelta(days=7))

    @classmethod
    def month_of(cls, day: date) -> Period:
        first = day.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return cls(first, following)


def percentile(histogram: Mapping[int, int], p: float) -> int | None:
    """Nearest rank: the smallest bucket with at least p % of the measurements at or under it."""
    n = sum(histogram.values())
    if n <= 0:
        return None
    rank = max(1, math.ceil(p / 100 * n))
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            return bucket
    return max(histogram)


def histogram(counters: Mapping[str, int], prefix: str) -> dict[int, int]:
    return {int(k[len(prefix) + 1 :]): v for k, v in counters.items() if k.startswith(prefix + "@") and v > 0}


def ratio(part: int, whole: int, scale: float = 100.0) -> float | None:
    return round(scale * part / whole, 1) if whole > 0 else None


def figures(counters: Mapping[str, int]) -> dict[str, Any]:
    """The period's figures from its summed counters."""
    c = defaultdict(int, counters)
    frt, res = histogram(c, "frt"), histogram(c, "res")
    csat = {score: c[f"csat@{score}"] for score in range(1, 6)}
    return {
        "volume": c["created"],
        "resolved": c["resolved"],
        "response_rate": ratio(c["answered"], c["created"]),
        "first_response_median": percentile(frt, 50),
        "first_response_p90": percentile(frt, 90),
        "first_response_count": c["frt_n"],
        "resolution_median": percentile(res, 50),
        "resolution_p90": percentile(res, 90),
        "resolution_count": c["res_n"],
        "sla_compliance": ratio(c["sla_met"], c["sla_n"]),
        "sla_measured": c["sla_n"],
        "csat_average": round(c["csat_sum"] / c["csat_n"], 2) if c["csat_n"] else None,
        "csat_responses": c["csat_n"],
        "csat_distribution": {str(k): v for k, v in csat.items()},
        "csat_response_rate": ratio(c["rated"], c["surveyed"]),
        "deflected": c["deflected"],
        "deflection_rate": ratio(c["deflected"], c["resolved"]),
        "escalations": c["esc"],
    }


# (kpi, what "worse" is, relative change, absolute change, the sample size counter, min sample)
@dataclass(frozen=True)
class Watch:
    kpi: str
    worse: str  # "up" or "down"
    relative: float | None  # a change of at least this share of the baseline ...
    absolute: float  # ... and at least this much
    sample: str
    unit: str


WATCHES = (
    Watch("volume", "up", 0.25, 5, "volume", ""),
    Watch("response_rate", "down", None, 5.0, "volume", "points"),
    Watch("first_response_median", "up", 0.20, 60, "first_response_count", "s"),
    Watch("first_response_p90", "up", 0.20, 60, "first_response_count", "s"),
    Watch("resolution_median", "up", 0.20, 600, "resolution_count", "s"),
    Watch("resolution_p90", "up", 0.20, 600, "resolution_count", "s"),
    Watch("sla_compliance", "down", None, 5.0, "sla_measured", "points"),
    Watch("csat_average", "down", None, 0.3, "csat_responses", ""),
    Watch("csat_response_rate", "down", None, 10.0, "resolved", "points"),
    Watch("deflection_rate", "down", None, 5.0, "resolved", "points"),
    Watch("escalations", "up", 0.25, 3, "volume", ""),
    Watch("backlog", "up", 0.20, 5, "backlog", ""),
    Watch("backlog_age_average", "up", 0.25, 3600, "backlog", "s"),
)
MIN_SAMPLE = 5
RULE = (
    "A change is flagged worth acting on when it moved the bad way (longer waits, fewer answered or within SLA, "
    "lower satisfaction, fewer deflections, more tickets, escalations or backlog) by at least the KPI's "
    "threshold against the baseline — the equal period just before — and both periods have at least "
    f"{MIN_SAMPLE} measurements: volume, escalations +25 % (and +5 tickets, +3 escalations); first-response and "
    "resolution median/p90 +20 % (and +1 min / +10 min); response rate, SLA compliance and deflection −5 "
    "points; CSAT average −0.3; survey response rate −10 points; backlog +20 % (and +5); backlog age +25 % (and "
    "+1 h)."
)


def compare(current: Mapping[str, Any], baseline: Mapping[str, Any]) -> dict[str, Any]:
    """Each KPI beside its baseline with the change and, where the rule says so, a flag."""
    out: dict[str, Any] = {}
    for name, value in current.items():
        base = baseline.get(name)
        entry: dict[str, Any] = {"value": value, "baseline": base}
        if isinstance(value, (int, float)) and isinstance(base, (int, float)) and not isinstance(value, bool):
            entry["change"] = round(value - base, 2)
            entry["change_percent"] = round(100 * (value - base) / base, 1) if base else None
        out[name] = entry
    for watch in WATCHES:
        if watch.kpi not in out:
            continue
        entry = out[watch.kpi]
        entry["worse_when"] = watch.worse
        entry["flag"] = flag(watch, entry["value"], entry["baseline"], current.get(watch.sample), baseline.get(watch.sample))
    return out


def flag(watch: Watch, value: Any, base: Any, sample: Any, base_sample: Any) -> str | None:
    """"act" when the rule holds, "improved" when it moved as far the good way, "too_few" when a period has
    fewer than MIN_SAMPLE measurements, else None."""
    if value is None or base is None:
        return None
    if int(sample or 0) < MIN_SAMPLE or int(base_sample or 0) < MIN_SAMPLE:
        return "too_few"
    change = float(value) - float(base)
    size = abs(change)
    if size < watch.absolute or (watch.relative is not None and (not base or size < watch.relative * abs(float(base)))):
        return None
    bad = change > 0 if watch.worse == "up" else change < 0
    return "act" if bad else "improved"


def summed(rows: Iterable[tuple[str, Mapping[str, int]]]) -> dict[str, dict[str, int]]:
    """Rows (group value, counters) summed per group value."""
    groups: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for value, counters in rows:
        for name, amount in counters.items():
            groups[value][name] += int(amount)
    return {value: dict(counters) for value, counters in groups.items()}


def backlog(open_delta: int, open_age: int, at: date, now: datetime | None = None) -> dict[str, Any]:
    """Open tickets at the start of day `at` and their average age then, from the running sums; for a period
    that has not ended yet (`now` before `at`), the tickets open now and their age now."""
    instant = datetime(at.year, at.month, at.day, tzinfo=timezone.utc)
    if now is not None and now < instant:
        instant = now
    seconds = int(instant.timestamp())
    average = (seconds * open_delta - open_age) / open_delta if open_delta > 0 else None
    return {"backlog": max(0, open_delta), "backlog_age_average": int(average) if average is not None else None}


def escalation_breakdown(counters: Mapping[str, int]) -> dict[str, Any]:
    levels = {k.removeprefix("esc_l"): v for k, v in counters.items() if k.startswith("esc_l") and v}
    causes = {k.removeprefix("esc_c:"): v for k, v in counters.items() if k.startswith("esc_c:") and v}
    return {"total": int(counters.get("esc", 0)), "by_level": dict(sorted(levels.items())),
            "by_cause": dict(sorted(causes.items(), key=lambda kv: (-kv[1], kv[0])))}  # fmt: skip


def days(period: Period) -> list[str]:
    return [(period.start + timedelta(days=i)).isoformat() for i in range(period.days)]
