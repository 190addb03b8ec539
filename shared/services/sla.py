"""SLA clocks and the escalation ladder on tickets: no ticket is forgotten.

Every ticket gets the first matching SLA policy when it is routed; its clock runs in the policy's business
calendar, pauses while the ticket waits on the customer and resumes on their reply. Each ladder step (warn at
75 %, escalate to tier 2 at 100 %, ...) has a timer on the escalate queue; the handler re-reads the ticket and
records the step under a condition (`ladder_done` does not yet contain it), so duplicate, stale and early timers
are no-ops and each step runs once. A sparse, minute-bucketed due index lets the scheduled sweep find what a lost
timer missed without reading tickets that are not due.

Every escalation names its cause, and the ticket comes down again when the cause is gone (an agent answered,
the keyword tag was removed: shared/domain/escalation_causes.py).

What the acknowledgement promised the customer (first answer, resolution) is one more entry in the due index:
when the forecast slips clearly past it, or its time comes unmet, the customer is told once that it takes longer.

Every change is an event on the ticket (`sla.applied`, `sla.paused`, `sla.resumed`, `sla.warning`,
`sla.breached`, `sla.met`, `ticket.escalated`, `ticket.deescalated`, `eta.slipped`) and all but the clock's own
bookkeeping also go to the EventBridge bus for integrations.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Protocol, TypeVar, cast

from shared.domain.business_calendar import ALWAYS_OPEN, ALWAYS_OPEN_ID, BusinessCalendar, calendar_from_document
from shared.domain.errors import Conflict
from shared.domain.ids import derived_ulid
from shared.domain.model import AuditEvent, Status
from shared.domain.escalation_causes import (
    ANSWER_ENDS,
    CauseShift,
    causes_of,
    ended,
    escalation_keyword,
    keyword_cause,
    raised,
    sla_cause,
)
from shared.domain.eta import HANDLE_SECONDS, slipped
from shared.observability import Metric, bind_ticket, count, logger
from shared.domain.sla_clock import (
    DEFAULT_POLICIES,
    SlaClock,
    SlaPolicy,
    due_steps,
    policy_from_document,
    promise_due,
    select_policy,
    start_clock,
)
from shared.domain.ticket import LoadChange, Ticket
from shared.domain.ports import Agents, Config, Tickets
from shared.domain.teams import TeamSettings, team_settings
from shared.services.ops_metrics import record_events
from shared.domain.timefmt import Clock, iso, parse_iso, utcnow

EARLY_TOLERANCE = timedelta(seconds=1)
RETRY_AFTER = timedelta(seconds=1)  # a step that lost a race to another save looks again this much later
IDLE_STEP = -1  # the pseudo-step "nobody touched this active ticket for too long"
PROMISE_STEP = -2  # the pseudo-step "what the acknowledgement promised the customer is due"
BUS_EVENTS = ("sla.warning", "sla.breached", "ticket.escalated", "ticket.deescalated", "eta.slipped")
LOAD_SETTLE = timedelta(seconds=30)  # longer than any index lag: a counter this still is comparable to the index
REOPENS_BEFORE_ESCALATION = 2
UNANSWERED_BEFORE_ESCALATION = 3


class Timers(Protocol):
    def schedule(self, ticket_id: str, step: int, due_at: datetime, now: datetime) -> int: ...


class Publisher(Protocol):
    def publish(self, detail_type: str, detail: dict[str, Any]) -> None: ...


class Alerter(Protocol):
    def alert(self, ticket: Ticket, roles: Iterable[str], subject: str, text: str, urgent: bool) -> None: ...

    def send_deferred(self, team: str) -> int: ...


class Notices(Protocol):
    def forecast_first_answer(self, ticket: Ticket, now: datetime) -> datetime | None: ...

    def tell_delayed(self, ticket: Ticket, first_answer_seconds: int | None, resolution_seconds: int) -> bool: ...


class Drainer(Protocol):
    def drain(self, team: str, include: Ticket | None = None) -> Any: ...

    def shift_starts(self, team: str, now: datetime, within: timedelta) -> list[datetime]: ...

    def announce_untriaged(self, team: str, created_before: datetime, announcer: Any) -> int: ...


def policies(config: Config) -> list[SlaPolicy]:
    """Saved policies first by position; the shipped per-priority defaults catch anything they do not."""
    saved = [policy_from_document(name, doc) for name, doc in config.list("sla-policy").items()]
    return sorted(saved, key=lambda p: (p.position, p.id)) + list(DEFAULT_POLICIES)


def find_policy(config: Config, policy_id: str) -> SlaPolicy | None:
    return next((p for p in policies(config) if p.id == policy_id), None)


def calendar(config: Config, calendar_id: str) -> BusinessCalendar:
    if calendar_id == ALWAYS_OPEN_ID:
        return ALWAYS_OPEN
    doc = config.get("calendar", calendar_id)
    if doc is None:
        logger.warning("calendar missing; counting 24x7", extra={"calendar": calendar_id})
        return ALWAYS_OPEN
    return calendar_from_document(calendar_id, doc)


Read = TypeVar("Read")


class _Reading:
    """The configuration one decision reads — the policy list, each calendar, each team's settings — read and
    parsed once, however many steps of the decision look at them."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._memo: dict[tuple[str, str], Any] = {}

    def _once(self, key: tuple[str, str], read: Callable[[], Read]) -> Read:
        if key not in self._memo:
            self._memo[key] = read()
        return cast(Read, self._memo[key])

    def policies(self) -> list[SlaPolicy]:
        return self._once(("policies", ""), lambda: policies(self.config))

    def policy(self, policy_id: str) -> SlaPolicy | None:
        return next((p for p in self.policies() if p.id == policy_id), None)

    def calendar(self, calendar_id: str) -> BusinessCalendar:
        return self._once(("calendar", calendar_id), lambda: calendar(self.config, calendar_id))

    def team(self, team: str) -> TeamSettings:
        return self._once(("team", team), lambda: team_settings(self.config, team))


_current = threading.local()
Decision = TypeVar("Decision", bound=Callable[..., Any])


def one_reading(method: Decision) -> Decision:
    """The decorated decision (and everything it calls) reads the configuration once: see `_Reading`."""

    @functools.wraps(method)
    def decide(self: SlaService, *args: Any, **kwargs: Any) -> Any:
        if getattr(_current, "reading", None) is not None:
            return method(self, *args, **kwargs)
        _current.reading = _Reading(self.config)
        try:
            with self.config.read_once():
                return method(self, *args, **kwargs)
        finally:
            _current.reading = None

    return cast(Decision, decide)


def _set(ticket: Ticket, values: dict[str, Any]) -> None:
    for name, value in values.items():
        if not hasattr(ticket, name):
            raise AttributeError(f"a ticket has no {name!r}")
        setattr(ticket, name, value)


@dataclass
class SlaService:
    tickets: Tickets
    agents: Agents
    config: Config
    timers: Timers
    bus: Publisher
    alerts: Alerter
    routing: Drainer
    notices: Notices | None = None
    clock: Clock = utcnow

    def _rules(self) -> _Reading:
        reading: _Reading | None = getattr(_current, "reading", None)
        return reading if reading is not None else _Reading(self.config)

    # ------------------------------------------------------------------ the clock follows the ticket

    @one_reading
    def apply(self, ticket: Ticket) -> Ticket:
        """Choose the policy and start the clock at the ticket's creation (once)."""
        if ticket.sla_clock:
            return ticket
        policy = select_policy(
            self._rules().policies(),
            priority=ticket.priority,
            tier=ticket.customer.tier,
            channel=ticket.channel,
            tags=sorted(ticket.tags or ()),
            team=ticket.team,
        )
        if policy is None:
            return ticket
        started = parse_iso(ticket.created_at)
        clock = start_clock(policy, started)
        return self._save(ticket, clock, [("sla.applied", {"policy": policy.id, "name": policy.name, "calendar": policy.calendar})])

    @one_reading
    def on_status(self, ticket: Ticket, before: str, after: str, at: datetime) -> Ticket:
        clock, cal = self._clock(ticket)
        if clock is None:
            return ticket
        if after == Status.PENDING.value and not clock.paused:
            return self._save(ticket, clock.pause(at, cal), [("sla.paused", {"reason": "waiting on the customer"})])
        if before == Status.PENDING.value and after in (Status.OPEN.value, Status.IN_PROGRESS.value) and clock.paused:
            return self._save(ticket, clock.resume(at, cal), [("sla.resumed", {"reason": f"status {after}"})])
        if after in (Status.RESOLVED.value, Status.CLOSED.value) and not clock.finished:
            met = clock.meet("resolution", at, cal)
            kept = {} if (ticket.eta_promise or {}).get("slipped_at") else {"eta_promise": {**(ticket.eta_promise or {}), "kept_at": iso(at)}}
            return self._save(ticket, met, [("sla.met", {"metric": "resolution", "state": clock.state(at, cal)})], extra=kept)
        if before == Status.RESOLVED.value and after == Status.OPEN.value:
            return self._save(ticket, clock.restart("resolution", at), [("sla.resumed", {"reason": "reopened"})])
        return ticket

    @one_reading
    def on_customer_message(self, ticket: Ticket, at: datetime) -> Ticket:
        clock, cal = self._clock(ticket)
        if clock is None:
            return ticket
        events: list[tuple[str, dict[str, Any]]] = []
        if clock.paused:
            clock = clock.resume(at, cal)
            events.append(("sla.resumed", {"reason": "customer replied"}))
        restarted = clock.restart("next_response", at)
        if restarted != clock or events:
            return self._save(ticket, restarted, events)
        return ticket

    @one_reading
    def on_agent_reply(self, ticket: Ticket, at: datetime) -> Ticket:
        """First/next response met; escalations caused by the wait (SLA, unanswered, idle) come down again."""
        clock, cal = self._clock(ticket)
        events: list[tuple[str, dict[str, Any]]] = []
        for metric in ("first_response", "next_response"):
            m = clock.metrics.get(metric) if clock else None
            if clock is not None and m is not None and m.outstanding and m.running_since is not None:
                events.append(("sla.met", {"metric": metric, "late": m.used(at, cal) > m.target}))
                clock = clock.meet(metric, at, cal)
        values: dict[str, Any] = {}
        if ticket.status not in (Status.RESOLVED.value, Status.CLOSED.value):  # a resolved ticket keeps its level
            events += self._deescalation(ticket, ANSWER_ENDS, "an agent answered", values)
        if not events and not values:
            return ticket
        saved = self._save(ticket, clock, events, extra=values) if clock else self._plain_save(ticket, events, values)
        self._after_escalation(saved, values)
        self._announce(saved, events, ())
        return saved

    # ------------------------------------------------------------------ the ladder

    @one_reading
    def fire(self, ticket_id: str, step: int, due_at: datetime | None = None) -> str:
        """Run ladder step `step` if it is due now and not yet done. Returns what happened, for logs and tests."""
        ticket = self.tickets.get(ticket_id)
        if ticket is None:
            return "missing"
        bind_ticket(ticket.id)
        clock, cal = self._clock(ticket)
        policy = self._rules().policy(clock.policy_id) if clock else None
        if clock is None or policy is None:
            return "no-sla"
        now = self.clock()
        if step == IDLE_STEP:
            return self._fire_idle(ticket, clock, now)
        if step == PROMISE_STEP:
            return self._fire_promise(ticket, clock, cal, now)
        already = list(ticket.ladder_done)
        pending = {index: (s, when) for index, s, when in due_steps(policy, clock, cal, already)}
        if step not in pending:
            return "stale"  # already done, or its metric is paused or met
        ladder_step, when = pending[step]
        if when - now > EARLY_TOLERANCE:
            self.timers.schedule(ticket.id, step, when, now)  # a hop of a long wait, or the due time moved later
            return "rescheduled"
        events: list[tuple[str, dict[str, Any]]] = []
        info = {"step": step, "metric": ladder_step.metric, "at": ladder_step.at, "due": iso(when)}
        values: dict[str, Any] = {}
        if ladder_step.at >= 1.0 and not any(
            s.metric == ladder_step.metric and s.at >= 1.0 for i, s in enumerate(policy.ladder) if i in already
        ):
            events.append(("sla.breached", info))
        if ladder_step.action == "warn":
            events.append(("sla.warning", info))
        if ladder_step.action == "escalate" and ladder_step.tier:
            reason = f"sla {ladder_step.metric} at {ladder_step.at:.0%}"
            events += self._escalation(ticket, sla_cause(ladder_step.metric), ladder_step.tier, reason, values)
        done = sorted({*already, step})
        try:
            self._save(ticket, clock, events, extra=values, ladder_done=done, guard_step=step)
        except Conflict:
            self.timers.schedule(ticket.id, step, now + RETRY_AFTER, now)  # if it still is due then, it runs then
            return "raced"  # someone else ran it, or the ticket changed meanwhile
        self._after_escalation(ticket, values)
        self._announce(ticket, events, ladder_step.notify)
        if ticket.eta_promise and not ticket.eta_promise.get("slipped_at"):  # no acknowledged promise: the target stands
            self.check_promise(ticket.id, f"sla {ladder_step.metric} at {ladder_step.at:.0%}")
        return "fired"

    def idle_threshold(self, ticket: Ticket) -> timedelta:
        team = self._rules().team(ticket.team)
        return timedelta(minutes=team.vip_idle_minutes if ticket.customer.tier == "vip" else team.idle_minutes)

    def _idle_at(self, ticket: Ticket) -> datetime | None:
        """When the ticket counts as idle: the team's idle time in the business hours of its SLA calendar, so a
        ticket left on Friday evening is not idle before Monday."""
        if ticket.status not in (Status.OPEN.value, Status.IN_PROGRESS.value) or ticket.idle_flagged_at == ticket.updated_at:
            return None  # not active, or this quiet spell was already flagged
        cal = self._rules().calendar(str((ticket.sla_clock or {}).get("calendar") or ALWAYS_OPEN_ID))
        return cal.add(parse_iso(ticket.updated_at), self.idle_threshold(ticket).total_seconds())

    def _fire_idle(self, ticket: Ticket, clock: SlaClock, now: datetime) -> str:
        """Idle tickets (R10): a VIP's goes to tier 2 at once (R18); any other is flagged and its people alerted.
        Whatever touches the ticket moves `updated_at`, so a ticket that was worked on meanwhile is rescheduled."""
        idle_at = self._idle_at(ticket)
        if idle_at is None:
            return "stale"
        if idle_at - now > EARLY_TOLERANCE:
            try:
                self._save(ticket, clock, [])  # worked on since: the due index moves to the new idle time
            except Conflict:
                return "raced"
            return "rescheduled"
        idle_minutes = round((now - parse_iso(ticket.updated_at)).total_seconds() / 60)
        values: dict[str, Any] = {"idle_flagged_at": ticket.updated_at}
        events: list[tuple[str, dict[str, Any]]] = [("ticket.idle", {"idle_minutes": idle_minutes})]
        if ticket.customer.tier == "vip":
            events += self._escalation(ticket, "idle", 2, f"VIP ticket idle for {idle_minutes} minutes", values)
        try:
            self._save(ticket, clock, events, extra=values)
        except Conflict:
            return "raced"
        self._after_escalation(ticket, values)
        self._announce(ticket, events, ("assignee", "supervisor"))
        return "fired"

    @one_reading
    def escalate_now(self, ticket: Ticket, cause: str, tier: int, reason: str, **extra: Any) -> Ticket:
        """Keyword and criteria escalation (R10, R18): move the ticket to a more experienced tier at once. A cause
        already recorded changes nothing; one that asks for no more than the ticket has is recorded quietly."""
        before = causes_of(ticket.escalation_causes, int(ticket.required_tier or 1))
        if raised(before, cause, tier) == before:
            return ticket
        values: dict[str, Any] = dict(extra)
        events = self._escalation(ticket, cause, tier, reason, values)
        clock, _ = self._clock(ticket)
        saved = self._save(ticket, clock, events, extra=values) if clock else self._plain_save(ticket, events, values)
        self._after_escalation(saved, values)
        self._announce(saved, events, ("supervisor",))
        return saved

    @one_reading
    def criteria_escalation(self, ticket: Ticket, reopened: bool = False) -> Ticket:
        """R18 criteria beyond time: reopened again and again (judged when it reopens, so a supervisor who lowered
        the level is not overruled by the next message), or a customer writing without an answer."""
        if reopened and int(ticket.reopen_count or 0) >= REOPENS_BEFORE_ESCALATION:
            ticket = self.escalate_now(ticket, "reopened", 2, f"reopened {int(ticket.reopen_count or 0)} times")
        if int(ticket.customer_waiting_count or 0) >= UNANSWERED_BEFORE_ESCALATION:
            waiting = int(ticket.customer_waiting_count or 0)
            ticket = self.escalate_now(ticket, "unanswered", 2, f"customer wrote {waiting} times without an answer")
        return ticket

    @one_reading
    def keyword_escalation(self, ticket: Ticket) -> Ticket:
        """An escalation keyword in the message escalates at once and becomes a tag: agents see why, and removing
        the tag (PATCH) says the emergency is over."""
        hits = [k for k in (escalation_keyword(str(w)) for w in ticket.keywords or []) if k]
        if not hits:
            return ticket
        tags = {*(ticket.tags or ()), hits[0]}
        return self.escalate_now(ticket, keyword_cause(hits[0]), 2, f"keyword '{hits[0]}'", tags=tags)

    # ------------------------------------------------------------------ the customer's promise

    @one_reading
    def promise(self, ticket_id: str, first_response_seconds: int, resolution_seconds: int) -> None:
        """Keep what the acknowledgement told the customer (business seconds on the ticket's own clock) and put
        its due time in the due index, so a slip is noticed even if nobody looks."""
        for _ in range(3):
            ticket = self.tickets.get(ticket_id)
            if ticket is None or ticket.eta_promise:
                return
            clock, _ = self._clock(ticket)
            if clock is None:
                return
            doc = {"made_at": iso(self.clock()), "first_response": first_response_seconds, "resolution": resolution_seconds}
            try:
                self._save(ticket, clock, [], extra={"eta_promise": doc})
                return
            except Conflict:
                continue  # routing or an agent moved it meanwhile: read it again
        logger.warning("promise not recorded: the ticket kept changing", extra={"ticket_id": ticket_id})

    @one_reading
    def check_promise(self, ticket_id: str, reason: str) -> str:
        """Ask the live queue again when the first answer is likely; tell the customer now if that lands clearly
        past the promise, instead of waiting for the promise to break."""
        ticket = self.tickets.get(ticket_id)
        if ticket is None or self.notices is None:
            return "missing"
        clock, cal = self._clock(ticket)
        due = self._promise_due(ticket, clock, cal, metrics=("first_response",)) if clock else None
        if clock is None or due is None:
            return "none"
        now = self.clock()
        forecast = self.notices.forecast_first_answer(ticket, now)
        made_at = parse_iso(str((ticket.eta_promise or {}).get("made_at") or ticket.created_at))
        if not slipped(now, due[1], due[1] - made_at, forecast):
            return "on time"
        return self._break_promise(ticket, clock, now, due, forecast, reason)

    def _promise_due(
        self, ticket: Ticket, clock: SlaClock, cal: BusinessCalendar, metrics: Iterable[str] = ("first_response", "resolution")
    ) -> tuple[str, datetime] | None:
        """When what the customer was promised falls due. Without an acknowledgement's promise (an auto-reply
        answered instead, or it could not be recorded) the SLA targets are what "usual" means. A first reply the
        API already recorded counts even before its routing has met the clock."""
        promise = dict(ticket.eta_promise or {})
        if ticket.automated or promise.get("slipped_at") or promise.get("kept_at"):
            return None
        if ticket.status not in (Status.OPEN.value, Status.IN_PROGRESS.value):
            return None
        if not promise:
            promise = {name: m.target for name, m in clock.metrics.items()}
        wanted = [m for m in metrics if not (m == "first_response" and ticket.first_responded_at)]
        return promise_due(clock, cal, {m: promise.get(m) for m in wanted})

    def _fire_promise(self, ticket: Ticket, clock: SlaClock, cal: BusinessCalendar, now: datetime) -> str:
        due = self._promise_due(ticket, clock, cal)
        if due is None:
            if ticket.due_step == PROMISE_STEP:
                try:
                    self._save(ticket, clock, [])  # the index still points here: move it on to the next step
                except Conflict:
                    return "raced"  # changed meanwhile: that save moved the index
            return "stale"  # answered, resolved, paused, or the customer was already told
        if due[1] - now > EARLY_TOLERANCE:
            self.timers.schedule(ticket.id, PROMISE_STEP, due[1], now)
            return "rescheduled"
        forecast = self.notices.forecast_first_answer(ticket, now) if self.notices else None
        outcome = self._break_promise(ticket, clock, now, due, forecast, "the promised time came")
        if outcome == "raced":
            self.timers.schedule(ticket.id, PROMISE_STEP, now + RETRY_AFTER, now)
        return outcome

    def _break_promise(
        self, ticket: Ticket, clock: SlaClock, now: datetime, due: tuple[str, datetime], forecast: datetime | None, reason: str
    ) -> str:
        """Tell the customer once that it takes longer, with a new estimate, then close the promise. The notice
        goes first: it is sent at most once (a marker), so a lost race only repeats this, never the mail."""
        metric, promised_at = due
        cal = self._rules().calendar(clock.calendar_id)
        first_response, resolution = clock.metrics.get("first_response"), clock.metrics.get("resolution")
        unanswered = first_response is not None and first_response.outstanding and not ticket.first_responded_at
        first_at = max(forecast, now) if unanswered and forecast is not None else None
        # the new resolution, on the customer's clock: what is left of the target, and never sooner than one
        # handling time (in business hours) after the first answer, or after now once answered
        left = max(0.0, resolution.target - resolution.used(now, cal)) if resolution is not None else 0.0
        resolution_at = max(cal.add(now, left), cal.add(first_at or now, HANDLE_SECONDS))
        if self.notices is not None:
            first_seconds = int((first_at - now).total_seconds()) if first_at else None
            self.notices.tell_delayed(ticket, first_seconds, int((resolution_at - now).total_seconds()))
        event = {"metric": metric, "promised": iso(promised_at), "forecast": iso(forecast) if forecast else None, "reason": reason}
        values = {"eta_promise": {**(ticket.eta_promise or {}), "slipped_at": iso(now)}}
        try:
            self._save(ticket, clock, [("eta.slipped", event)], extra=values)
        except Conflict:
            return "raced"
        self._announce(ticket, [("eta.slipped", event)], ())
        return "fired"

    # ------------------------------------------------------------------ the sweep

    @one_reading
    def sweep(self, since: datetime, now: datetime) -> dict[str, int]:
        """Fire every step due in the minute buckets from `since` to `now` that its timer missed; the policies,
        calendars and team settings are read once for the whole sweep."""
        fired = stale = 0
        bucket_time = since.replace(second=0, microsecond=0)
        buckets = 0
        while bucket_time <= now:
            buckets += 1
            for ticket_id in self.tickets.due(bucket_time, now):
                for _ in range(20):  # several steps may be overdue at once; each firing moves the index on
                    ticket = self.tickets.get(ticket_id)
                    if ticket is None or ticket.due_sort is None or ticket.due_step is None or ticket.due_sort > iso(now):
                        break
                    result = self.fire(ticket.id, ticket.due_step)
                    fired += result == "fired"
                    stale += result in ("stale", "raced")
                    if result != "fired":
                        break
            bucket_time += timedelta(minutes=1)
        return {"buckets": buckets, "fired": fired, "stale": stale}

    def reconcile_load(self, team: str) -> dict[str, int]:
        """Repair drift between each agent's load counter and the tickets they hold in progress — every ticket they
        hold, whatever its team, so an agent helping another team is still bound by their capacity.

        An agent whose counter moved in the last LOAD_SETTLE is left for the next sweep (the by-assignee index may
        not show that assignment or release yet); a mismatch is set right under a condition on the counter and its
        last change as read, so a concurrent assignment is never overwritten."""
        settled_before = self.clock() - LOAD_SETTLE
        repaired = 0
        for item in self.agents.load_items(team):
            if item.load_changed_at and parse_iso(item.load_changed_at) > settled_before:
                continue
            held = self.tickets.count_held(item.agent_id)
            if int(item.load or 0) == held:
                continue
            if self.agents.set_load(item, held):
                repaired += 1
                logger.warning("load drift repaired", extra={"agent": item.agent_id, "was": int(item.load or 0), "now": held})
            else:
                logger.info("load changed while reconciling", extra={"agent": item.agent_id})
        if repaired:
            count(Metric.LOAD_DRIFT_REPAIRED, repaired)
        return {"agents_repaired": repaired}

    def backlog_age(self, team: str, now: datetime) -> float:
        """Seconds the oldest waiting ticket of the team has waited (0 when none): an alarm on this catches a queue
        nobody is draining."""
        oldest = self.tickets.oldest_waiting(team)
        return max(0.0, (now - parse_iso(oldest.created_at)).total_seconds()) if oldest is not None else 0.0

    # ------------------------------------------------------------------ internals

    def _clock(self, ticket: Ticket) -> tuple[SlaClock | None, BusinessCalendar]:
        if not ticket.sla_clock:
            return None, ALWAYS_OPEN
        clock = SlaClock.from_document(ticket.sla_clock)
        return clock, self._rules().calendar(clock.calendar_id)

    def _escalation(
        self, ticket: Ticket, cause: str, tier: int, reason: str, values: dict[str, Any]
    ) -> list[tuple[str, dict[str, Any]]]:
        """Record `cause` asking for `tier`. If that raises the ticket's tier and its agent's tier is too low, the
        ticket goes back to the queue (in the same transaction that gives the agent's slot back)."""
        before = causes_of(ticket.escalation_causes, int(ticket.required_tier or 1))
        shift = CauseShift(before, raised(before, cause, tier))
        values.update(shift.values())
        if shift.kind != "ticket.escalated":
            return []
        holder = self.agents.candidate(ticket.assignee) if ticket.assignee and ticket.status == Status.IN_PROGRESS.value else None
        if holder is not None and holder.tier < shift.tier:
            values["release_from"] = ticket.assignee  # back to the queue for a tier-`tier` agent
            values["status"] = Status.OPEN.value
            values["assignee"] = None
        return [("ticket.escalated", {**shift.event(reason), "previous_assignee": values.get("release_from")})]

    def _deescalation(
        self, ticket: Ticket, gone: Iterable[str], reason: str, values: dict[str, Any]
    ) -> list[tuple[str, dict[str, Any]]]:
        """The causes in `gone` ended; if the highest did, the ticket comes down to what the rest ask for. Whoever
        holds it keeps it; a ticket still in the queue becomes open to the lower tier (drained after saving)."""
        before = causes_of(ticket.escalation_causes, int(ticket.required_tier or 1))
        shift = CauseShift(before, ended(before, gone))
        if shift.after == before:
            return []
        values.update(shift.values())
        return [("ticket.deescalated", shift.event(reason))] if shift.kind == "ticket.deescalated" else []

    def _after_escalation(self, ticket: Ticket, values: dict[str, Any]) -> None:
        """A tier change on a ticket waiting in the queue: drain, so an agent of the right tier takes it now."""
        if "required_tier" in values and ticket.status == Status.OPEN.value:
            self.routing.drain(ticket.team, include=ticket)

    def _plain_save(self, ticket: Ticket, events: list[tuple[str, dict[str, Any]]], values: dict[str, Any]) -> Ticket:
        release_from = values.pop("release_from", None)
        _set(ticket, values)
        self.tickets.save(ticket, self._events(ticket, events), load=LoadChange(release_from=release_from))
        return ticket

    def _save(
        self,
        ticket: Ticket,
        clock: SlaClock,
        events: list[tuple[str, dict[str, Any]]],
        *,
        extra: dict[str, Any] | None = None,
        ladder_done: list[int] | None = None,
        guard_step: int | None = None,
    ) -> Ticket:
        """Write the clock, its summary, the next due step (index + timer) and the events in one guarded update."""
        now = self.clock()
        cal = self._rules().calendar(clock.calendar_id)
        policy = self._rules().policy(clock.policy_id)
        done = ladder_done if ladder_done is not None else list(ticket.ladder_done)
        upcoming = [(index, when) for index, _, when in (due_steps(policy, clock, cal, done) if policy else [])]
        summary = clock.to_document(cal, now)
        values: dict[str, Any] = dict(extra or {})
        release_from = values.pop("release_from", None)
        values.update(
            sla_clock=summary,
            sla={k: summary[k] for k in ("policy", "first_response_due", "next_response_due", "resolution_due", "state")},
            ladder_done=done,
        )  # updated_at is left alone: it marks people's activity, which idleness is measured from
        _set(ticket, values)  # the idle time counts in this clock's calendar, from the status it has now
        idle_at = self._idle_at(ticket)
        if idle_at is not None:
            upcoming.append((IDLE_STEP, idle_at))
        promised = self._promise_due(ticket, clock, cal)
        if promised is not None:
            upcoming.append((PROMISE_STEP, promised[1]))
        upcoming.sort(key=lambda item: (item[1], item[0] < 0, item[0]))  # ladder steps before pseudo-steps due alike
        head_before = ticket.due_sort
        ticket.due_at, ticket.due_step = (iso(upcoming[0][1]), upcoming[0][0]) if upcoming else (None, None)
        self.tickets.save(
            ticket, self._events(ticket, events), load=LoadChange(release_from=release_from), unless_step_done=guard_step
        )
        timed = [(index, when) for index, when in upcoming if index != IDLE_STEP]  # idleness needs no second-precision
        head_due = bool(timed) and timed[0][1] - now <= EARLY_TOLERANCE
        if timed and (ticket.due_sort != head_before or upcoming[0][0] == IDLE_STEP or head_due):
            index, when = timed[0]  # an unchanged future head already has its timer; a due one gets another
            self.timers.schedule(ticket.id, index, when, now)
        for type_, data in events:
            if type_.startswith("sla."):
                count(Metric.SLA_EVENTS, kind=type_)
        record_events(ticket, events, self.clock())
        return ticket

    def _events(self, ticket: Ticket, events: list[tuple[str, dict[str, Any]]]) -> list[AuditEvent]:
        now = self.clock()
        return [
            AuditEvent(
                type=type_,
                at=now,
                actor="system:sla",
                data={k: v for k, v in data.items() if v is not None},
                id=derived_ulid(now, f"{ticket.id}#{type_}#{seq}#{ticket.version}"),
                seq=seq,
            )
            for seq, (type_, data) in enumerate(events)
        ]

    def _announce(self, ticket: Ticket, events: list[tuple[str, dict[str, Any]]], notify: Iterable[str]) -> None:
        urgent = ticket.priority == "urgent"
        for type_, data in events:
            if type_ in BUS_EVENTS:
                self.bus.publish(type_, {"ticket_id": ticket.id, "ref": ticket.ref, "priority": ticket.priority, **data})
        if events and notify:
            summary = ", ".join(t for t, _ in events)
            try:
                self.alerts.alert(
                    ticket,
                    notify,
                    f"[{ticket.ref}] {summary}: {ticket.subject}",
                    f"Ticket {ticket.ref} ({ticket.priority}) — {summary}.\nSubject: {ticket.subject}\n"
                    + "\n".join(f"- {t}: {d}" for t, d in events),
                    urgent,
                )
            except Exception:  # noqa: BLE001 - the step is recorded and on the bus; a retry would not alert again
                count(Metric.ALERTS_SENT, outcome="failed")
                logger.exception("alert failed", extra={"ticket_id": ticket.id, "events": [t for t, _ in events]})
        logger.info("sla events", extra={"ticket_id": ticket.id, "events": [t for t, _ in events]})
