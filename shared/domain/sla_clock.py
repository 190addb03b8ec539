"""SLA policies and the clock that measures a ticket against one.

A policy says which tickets it covers, how many seconds of business time each metric may take, on which
calendar, and the ladder of warnings and escalations as fractions of those targets (R15, R18, R19). The clock is
plain data stored on the ticket: per metric, business seconds already used plus the instant the current running
stretch began. Storing the running start instead of a deadline means a policy, calendar or pause change never
leaves a stale deadline behind: due times are always computed from the calendar when asked.

Life of a clock: `start_clock` when the ticket is created; `pause` when it goes pending (waiting on the customer)
and `resume` when the customer answers; `meet` when an agent first replies (first_response), replies after a
customer message (next_response) or resolves (resolution); `restart("next_response")` on every customer
message that now awaits an answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Iterable, Mapping

from shared.domain.business_calendar import ALWAYS_OPEN_ID, BusinessCalendar
from shared.domain.errors import ValidationFailed
from shared.domain.model import Priority
from shared.domain.timefmt import iso, parse_iso

METRICS = ("first_response", "next_response", "resolution")
CONDITION_KEYS = ("priority", "tier", "channel", "tags", "team")
ACTIONS = ("warn", "escalate")
NOTIFY_ROLES = ("assignee", "supervisor", "manager")
ESCALATION_TIERS = (1, 2, 3)
WARNING_FRACTION = 0.75
"""A running metric past this share of its target makes the ticket's state "warning"."""

MAX_TARGET_SECONDS = 366 * 24 * 3600
MAX_FRACTION = 10.0


@dataclass(frozen=True)
class LadderStep:
    """One rung: when `metric` has used `at` x its target, `action` fires (escalate moves the ticket to `tier`)."""

    metric: str
    at: float
    action: str
    tier: int | None = None
    notify: tuple[str, ...] = ()

    @property
    def firing_order(self) -> tuple[float, int, int]:
        return (self.at, METRICS.index(self.metric), ACTIONS.index(self.action))


@dataclass(frozen=True)
class SlaPolicy:
    """Which tickets (conditions; an empty tuple matches anything), how fast (targets), on which calendar."""

    id: str
    position: int
    name: str
    conditions: Mapping[str, tuple[str, ...]]
    targets: Mapping[str, int]
    calendar: str = ALWAYS_OPEN_ID
    ladder: tuple[LadderStep, ...] = ()

    def matches(self, *, priority: str, tier: str, channel: str, tags: Iterable[str], team: str) -> bool:
        """Every non-empty condition must contain the ticket's value; for tags any shared tag is enough."""
        values = {"priority": priority, "tier": tier, "channel": channel, "team": team}
        for key, wanted in values.items():
            allowed = self.conditions.get(key, ())
            if allowed and wanted not in allowed:
                return False
        allowed_tags = self.conditions.get("tags", ())
        return not allowed_tags or bool(set(allowed_tags) & {tag.strip().lower() for tag in tags})


def select_policy(
    policies: Iterable[SlaPolicy], *, priority: str, tier: str, channel: str, tags: Iterable[str], team: str
) -> SlaPolicy | None:
    """The first matching policy by position (id breaks ties so the choice never depends on storage order)."""
    tag_list = list(tags)
    for policy in sorted(policies, key=lambda p: (p.position, p.id)):
        if policy.matches(priority=priority, tier=tier, channel=channel, tags=tag_list, team=team):
            return policy
    return None


def policy_from_document(policy_id: str, doc: Mapping[str, Any]) -> SlaPolicy:
    """A policy from its API/stored document; every refusal names the offending field."""
    from shared.contracts.config import SlaPolicyDocument  # pydantic on the first parse, not at cold start
    from shared.contracts.refusals import validated

    checked = validated(SlaPolicyDocument, doc, "SLA policy", context={"stored_as": policy_id})
    conditions = checked.conditions.model_dump() if checked.conditions else {}
    ladder = (
        LadderStep(metric=step.metric, at=step.at, action=step.action, tier=step.tier, notify=tuple(step.notify or ()))
        for step in checked.ladder or ()
    )
    return SlaPolicy(
        id=policy_id.strip(),
        position=checked.position,
        name=checked.name,
        conditions={key: tuple(conditions.get(key) or ()) for key in CONDITION_KEYS},
        targets={metric: checked.targets[metric] for metric in METRICS if metric in checked.targets},
        calendar=checked.calendar,
        ladder=tuple(sorted(ladder, key=lambda step: step.firing_order)),
    )


def policy_to_document(policy: SlaPolicy) -> dict[str, Any]:
    """The policy as the API shows and the table stores it; `policy_from_document` reads it back unchanged."""
    return {
        "id": policy.id,
        "position": policy.position,
        "name": policy.name,
        "conditions": {key: list(policy.conditions.get(key, ())) for key in CONDITION_KEYS},
        "targets": {metric: policy.targets[metric] for metric in METRICS if metric in policy.targets},
        "calendar": policy.calendar,
        "ladder": [_step_document(step) for step in policy.ladder],
    }


def _step_document(step: LadderStep) -> dict[str, Any]:
    out: dict[str, Any] = {"metric": step.metric, "at": step.at, "action": step.action}
    if step.tier is not None:
        out["tier"] = step.tier
    out["notify"] = list(step.notify)
    return out


def _default_policy(priority: Priority, first_response: int, next_response: int, resolution: int) -> SlaPolicy:
    return SlaPolicy(
        id=f"default-{priority.value}",
        position=1000 + priority.rank,
        name=f"Default {priority.value}",
        conditions={key: ((priority.value,) if key == "priority" else ()) for key in CONDITION_KEYS},
        targets={"first_response": first_response, "next_response": next_response, "resolution": resolution},
        calendar=ALWAYS_OPEN_ID,
        ladder=(
            LadderStep("first_response", 0.75, "warn", notify=("assignee",)),
            LadderStep("resolution", 0.75, "warn", notify=("assignee",)),
            LadderStep("first_response", 1.0, "escalate", tier=2, notify=("supervisor",)),
            LadderStep("resolution", 1.5, "escalate", tier=3, notify=("manager",)),
        ),
    )


_MINUTE, _HOUR = 60, 3600
DEFAULT_POLICIES: tuple[SlaPolicy, ...] = (
    _default_policy(Priority.URGENT, 15 * _MINUTE, 1 * _HOUR, 4 * _HOUR),
    _default_policy(Priority.HIGH, 1 * _HOUR, 4 * _HOUR, 24 * _HOUR),
    _default_policy(Priority.MEDIUM, 4 * _HOUR, 8 * _HOUR, 48 * _HOUR),
    _default_policy(Priority.LOW, 8 * _HOUR, 24 * _HOUR, 72 * _HOUR),
)
"""Shipped behind any configured policy (positions 1001-1004), round the clock, one per priority."""


@dataclass(frozen=True)
class MetricClock:
    """One metric's stopwatch in business seconds.

    `elapsed` is what earlier running stretches used; `running_since` starts the current stretch (None while
    paused, stopped or waiting). `started` is False until the metric first starts: next_response waits for a
    customer message after the first reply.
    """

    target: int
    elapsed: float = 0.0
    running_since: datetime | None = None
    met_at: datetime | None = None
    started: bool = True

    @property
    def outstanding(self) -> bool:
        """Started and not yet met: counts towards warning and breach."""
        return self.started and self.met_at is None

    def used(self, now: datetime, calendar: BusinessCalendar) -> float:
        """Business seconds used by `now`."""
        if self.running_since is None:
            return self.elapsed
        return self.elapsed + calendar.between(self.running_since, now)

    def due(self, calendar: BusinessCalendar) -> datetime | None:
        """When the target runs out if the clock keeps running; None when not running."""
        return self.at_fraction(1.0, calendar)

    def at_fraction(self, fraction: float, calendar: BusinessCalendar) -> datetime | None:
        """When `fraction` x target is used if the clock keeps running; None when not running.

        A fraction already used up in an earlier stretch is due at the start of the current one: it is overdue,
        and the exact past instant is not kept.
        """
        return self.at_used(fraction * self.target, calendar)

    def at_used(self, seconds: float, calendar: BusinessCalendar) -> datetime | None:
        """When `seconds` of business time are used if the clock keeps running; None when not running."""
        if self.running_since is None or self.met_at is not None:
            return None
        return calendar.add(self.running_since, max(0.0, seconds - self.elapsed))

    def _stopped(self, at: datetime, calendar: BusinessCalendar) -> MetricClock:
        if self.running_since is None:
            return self
        return replace(self, elapsed=self.used(at, calendar), running_since=None)

    def _running(self, at: datetime) -> MetricClock:
        return replace(self, running_since=at) if self.outstanding and self.running_since is None else self

    def to_document(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "elapsed": self.elapsed,
            "running_since": iso(self.running_since) if self.running_since else None,
            "met_at": iso(self.met_at) if self.met_at else None,
            "started": self.started,
        }

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> MetricClock:
        return cls(
            target=int(doc["target"]),
            elapsed=float(doc.get("elapsed") or 0),
            running_since=parse_iso(doc["running_since"]) if doc.get("running_since") else None,
            met_at=parse_iso(doc["met_at"]) if doc.get("met_at") else None,
            started=bool(doc.get("started", True)),
        )


@dataclass(frozen=True)
class SlaClock:
    """A ticket's SLA clock. Invariant: while neither paused nor finished, every open metric is running;
    while paused or finished, none is."""

    policy_id: str
    calendar_id: str
    metrics: Mapping[str, MetricClock] = field(default_factory=dict)
    paused: bool = False

    @property
    def finished(self) -> bool:
        """Resolution met (or, without a resolution target, every started metric met): nothing runs any more."""
        resolution = self.metrics.get("resolution")
        if resolution is not None:
            return resolution.met_at is not None
        return not any(m.outstanding for m in self.metrics.values())

    def pause(self, at: datetime, calendar: BusinessCalendar) -> SlaClock:
        """Waiting on the customer (pending): running metrics bank their business time and stop."""
        if self.paused:
            return self
        return self._with({name: m._stopped(at, calendar) for name, m in self.metrics.items()}, paused=True)

    def resume(self, at: datetime, calendar: BusinessCalendar) -> SlaClock:
        """The customer answered: open metrics run again from `at`, so deadlines move by the paused time."""
        if not self.paused:
            return self
        return replace(self, paused=False)._run_open(at)

    def meet(self, metric: str, at: datetime, calendar: BusinessCalendar) -> SlaClock:
        """The metric's goal happened at `at`. Meeting resolution stops every other metric: the work is done.

        Meeting a metric that is not open (untracked, waiting, already met) changes nothing, so callers may
        report every agent reply without checking first.
        """
        current = self.metrics.get(metric)
        if current is None or not current.outstanding:
            return self
        metrics = dict(self.metrics)
        metrics[metric] = replace(current._stopped(at, calendar), met_at=at)
        clock = self._with(metrics)
        if clock.finished:
            clock = clock._with({name: m._stopped(at, calendar) for name, m in clock.metrics.items()})
        return clock

    def restart(self, metric: str, at: datetime) -> SlaClock:
        """A new wait begins at `at` (next_response: a customer message now awaits an answer).

        An open metric keeps running from the earlier message: the customer has been waiting since then.
        next_response does not start while first_response is still open, which already covers that wait.
        Restarting a met resolution (a reopened ticket) starts it afresh and lets the other open metrics run.
        """
        current = self.metrics.get(metric)
        if current is None or current.outstanding:
            return self
        first = self.metrics.get("first_response")
        if metric == "next_response" and first is not None and first.outstanding:
            return self
        metrics = dict(self.metrics)
        metrics[metric] = MetricClock(target=current.target)
        clock = self._with(metrics)
        return clock if self.paused else clock._run_open(at)

    def state(self, now: datetime, calendar: BusinessCalendar) -> str:
        """met > breached > paused > warning > ok: a breach stays visible while the ticket waits on the customer."""
        if self.finished:
            return "met"
        open_metrics = [m for m in self.metrics.values() if m.outstanding]
        used = [(m, m.used(now, calendar)) for m in open_metrics]
        if any(seconds >= m.target for m, seconds in used):
            return "breached"
        if self.paused:
            return "paused"
        if any(seconds >= WARNING_FRACTION * m.target for m, seconds in used):
            return "warning"
        return "ok"

    def due(self, metric: str, calendar: BusinessCalendar) -> datetime | None:
        clock = self.metrics.get(metric)
        return clock.due(calendar) if clock else None

    def to_document(self, calendar: BusinessCalendar, now: datetime) -> dict[str, Any]:
        """JSON-ready, with the API's `sla` fields (policy, <metric>_due, state) computed for `now`."""
        doc: dict[str, Any] = {"policy": self.policy_id, "calendar": self.calendar_id}
        for metric in METRICS:
            due = self.due(metric, calendar)
            doc[f"{metric}_due"] = iso(due) if due else None
        doc["state"] = self.state(now, calendar)
        doc["paused"] = self.paused
        doc["metrics"] = {name: m.to_document() for name, m in self.metrics.items()}
        return doc

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> SlaClock:
        """Reads what `to_document` wrote; the computed fields (due times, state) are ignored."""
        try:
            return cls(
                policy_id=str(doc["policy"]),
                calendar_id=str(doc.get("calendar") or ALWAYS_OPEN_ID),
                metrics={name: MetricClock.from_document(m) for name, m in dict(doc.get("metrics") or {}).items()},
                paused=bool(doc.get("paused", False)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationFailed(f"sla: not a stored SLA clock ({exc})") from exc

    def _with(self, metrics: Mapping[str, MetricClock], *, paused: bool | None = None) -> SlaClock:
        return replace(self, metrics=metrics, paused=self.paused if paused is None else paused)

    def _run_open(self, at: datetime) -> SlaClock:
        if self.paused or self.finished:
            return self
        return self._with({name: m._running(at) for name, m in self.metrics.items()})


def start_clock(policy: SlaPolicy, at: datetime) -> SlaClock:
    """first_response and resolution run from `at`; next_response waits for its first restart()."""
    metrics = {
        metric: MetricClock(target=target, running_since=at, started=True)
        if metric != "next_response"
        else MetricClock(target=target, started=False)
        for metric, target in policy.targets.items()
    }
    return SlaClock(policy_id=policy.id, calendar_id=policy.calendar, metrics=metrics)


def due_steps(
    policy: SlaPolicy, clock: SlaClock, calendar: BusinessCalendar, done: Iterable[int]
) -> list[tuple[int, LadderStep, datetime]]:
    """Ladder steps not yet fired (`done` holds indexes into policy.ladder), with when each falls due, soonest
    first. Steps of metrics that are paused, waiting, met or untracked have no due time and are left out."""
    fired = set(done)
    out: list[tuple[int, LadderStep, datetime]] = []
    for index, step in enumerate(policy.ladder):
        metric = clock.metrics.get(step.metric)
        if index in fired or metric is None:
            continue
        when = metric.at_fraction(step.at, calendar)
        if when is not None:
            out.append((index, step, when))
    return sorted(out, key=lambda item: (item[2], item[0]))


def promise_due(clock: SlaClock, calendar: BusinessCalendar, promised: Mapping[str, Any]) -> tuple[str, datetime] | None:
    """When the clock reaches what the customer was promised (business seconds per metric, as the acknowledgement
    said them), for the soonest metric still outstanding. Like a ladder step it follows pauses and the calendar:
    time the ticket waits on the customer does not count against the promise."""
    soonest: tuple[datetime, str] | None = None
    for metric, seconds in promised.items():
        stopwatch = clock.metrics.get(metric)
        if stopwatch is None or not stopwatch.outstanding or seconds is None:
            continue
        when = stopwatch.at_used(float(seconds), calendar)
        if when is not None and (soonest is None or when < soonest[0]):
            soonest = (when, metric)
    return (soonest[1], soonest[0]) if soonest else None
