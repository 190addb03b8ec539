"""Escalate Lambda: ladder-step timers from the escalate queue, and the scheduled safety-net sweep.

Timers are hints: the service re-reads the ticket and records a step under a condition, so duplicates, stale and
early timers change nothing. The sweep (an EventBridge schedule, every minute) reads the minute buckets of the due
index since the last sweep and fires what a lost timer missed; per team it repairs load drift, drains the queue
onto capacity no announcement told of (a shift that began) and plans a drain at the first second of every shift
beginning before the next sweep, reports the backlog age and, inside business hours, sends the digest of alerts
held outside them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from shared.observability import Metric, bind_correlation, gauge, gauge_seconds, log_invocation, logger, metrics
from shared.settings import get_settings
from shared.storage.config import ConfigRepository, read_once
from shared.domain.timefmt import iso, parse_iso, utcnow

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from shared.services.sla import SlaService

_service: SlaService | None = None
MAX_LOOKBACK = timedelta(hours=24)
OVERLAP = timedelta(minutes=1)
SHIFT_LOOKAHEAD = timedelta(minutes=2)  # more than one sweep interval: every shift start is planned at least once
TRIAGE_GRACE = timedelta(minutes=2)  # a new ticket still untriaged after this lost its announcement


def service() -> SlaService:
    """The SLA service and what it drives, imported and built on first use, not at cold start."""
    global _service
    if _service is None:
        from shared.services.wiring import build_sla_service

        _service = build_sla_service()
    return _service


def record_handler(record: SQSRecord) -> dict[str, Any]:
    from shared.contracts.events import parse_escalation_timer  # pydantic with the first timer, not at cold start

    bind_correlation(record.message_id)
    timer = parse_escalation_timer(record.body)  # MalformedEvent: the record fails, then the escalate DLQ
    outcome = service().fire(timer.ticket_id, timer.step, timer.due_at)
    logger.info("escalation timer", extra={"ticket_id": timer.ticket_id, "step": timer.step, "outcome": outcome})
    return {"outcome": outcome}


@metrics.log_metrics(capture_cold_start_metric=True)
@log_invocation
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from shared.adapters.batches import partial_batch

    with read_once():  # policies, calendars and team settings read once per batch
        return partial_batch(event, record_handler, context)


@metrics.log_metrics(capture_cold_start_metric=True)
@log_invocation
def sweep_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """EventBridge schedule: sweep from the last swept minute (less an overlap) to now."""
    from aws_lambda_powertools.utilities.data_classes.event_bridge_event import EventBridgeEvent

    schedule = EventBridgeEvent(event)
    if "id" in schedule:  # a scheduled run's lines carry its event id; a run invoked by hand has none
        bind_correlation(schedule.get_id)
    with read_once():  # settings read once for the whole run
        now = utcnow()
        config = ConfigRepository()
        cursor = config.get("sweep", "cursor") or {}
        since = parse_iso(str(cursor["swept_to"])) - OVERLAP if cursor.get("swept_to") else now - timedelta(minutes=15)
        since = max(since, now - MAX_LOOKBACK)
        result: dict[str, Any] = service().sweep(since, now)
        config.put("sweep", "cursor", {"swept_to": iso(now)}, "system:sweep", now)
        from shared.adapters.route_queue import RouteAnnouncer
        from aws_lambda_powertools.metrics import MetricUnit

        from shared.storage.agents import AgentRepository
        from shared.services.ops_metrics import utilisation
        from shared.storage.folders import FolderCountRepository

        roster = [view.resource() for view in AgentRepository().roster()]
        teams = {str(agent["team"]) for agent in roster} | {get_settings().default_team}
        waiting = FolderCountRepository().counts(sorted(teams))
        announcer = RouteAnnouncer(get_settings())
        for team in sorted(teams):
            result[f"{team}.repaired"] = service().reconcile_load(team)["agents_repaired"]
            result[f"{team}.reannounced"] = service().routing.announce_untriaged(team, now - TRIAGE_GRACE, announcer)
            # capacity that appeared without an announcement (a shift began) is used now; shifts beginning before
            # the next sweep get a drain at their first second
            drained = service().routing.drain(team)
            result[f"{team}.assigned"] = len(drained.assigned)
            for start in service().routing.shift_starts(team, now, SHIFT_LOOKAHEAD):
                announcer.drain_at(team, start, now, "shift starts")
            if drained.retry_at is not None:
                announcer.drain_at(team, drained.retry_at, now, "skill wait ends")
            try:
                result[f"{team}.digests"] = service().alerts.send_deferred(team)  # held overnight, sent once hours begin
            except Exception:  # noqa: BLE001 - one team's digest must not stop the others' repair and gauges
                logger.exception("deferred alerts not sent", extra={"team": team})
            age = service().backlog_age(team, now)
            gauge_seconds(Metric.UNASSIGNED_BACKLOG_AGE, age, team=team)
            gauge(Metric.UNASSIGNED_BACKLOG, waiting.get(team, {}).get("work#unassigned", 0), team=team)
            used = utilisation([agent for agent in roster if agent["team"] == team])
            if used is not None:
                gauge(Metric.AGENT_UTILISATION, used, MetricUnit.Percent, team=team)
            result[f"{team}.backlog_age_s"] = round(age)
        logger.info("sweep", extra=result)
        return result

