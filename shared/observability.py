"""Logger and Metrics, created once for every function.

JSON logs carry the invocation's function name and request id, the correlation id and, once known, the ticket id
— all kept per thread, so handlers running side by side in one process (the local stack) each log under their
own name. Logs never hold customer addresses, signed reply addresses or tokens: the formatter replaces every
email address with a short hash of it (the same address always gives the same hash, so lines still correlate) and
every JWT with `<token>`. Metrics go out as CloudWatch Embedded Metric Format on stdout, so no PutMetricData call
sits on the hot path. Tracer is deliberately not created here: it costs ~0.6 s of cold-start import.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from typing import Any, Callable, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics import MetricUnit, single_metric

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "ticketing")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Ticketing")

_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")


def _plain_support_address(address: str) -> bool:
    """The support mailbox itself (no +token) names no customer and opens no ticket: it may stay readable."""
    domain = os.environ.get("SUPPORT_DOMAIN", "example.com").lower()
    local, _, at = address.lower().rpartition("@")
    return at == domain and "+" not in local


def redact(text: str) -> str:
    """`text` with email addresses as `<email:hash>` and JWTs as `<token>`."""
    if "@" in text:
        text = _EMAIL.sub(
            lambda m: m.group(0)
            if _plain_support_address(m.group(0))
            else "<email:" + hashlib.sha256(m.group(0).lower().encode()).hexdigest()[:10] + ">",
            text,
        )
    if "eyJ" in text:
        text = _JWT.sub("<token>", text)
    return text


class RedactingFormatter(LambdaPowertoolsFormatter):
    def serialize(self, log: Any) -> str:
        return redact(super().serialize(log))


logger = Logger(service=SERVICE, logger_formatter=RedactingFormatter())
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
_cold = {"start": True}
Handler = TypeVar("Handler", bound=Callable[..., Any])


def log_invocation(handler: Handler) -> Handler:
    """What Powertools' inject_lambda_context adds to every line (function name, request id, cold start), kept for
    this thread and this invocation only."""

    @functools.wraps(handler)
    def wrapped(event: Any, context: Any, *args: Any, **kwargs: Any) -> Any:
        bind_invocation(context)
        try:
            return handler(event, context, *args, **kwargs)
        finally:
            logger.thread_safe_clear_keys()

    return wrapped  # type: ignore[return-value]


def bind_invocation(context: Any) -> None:
    cold, _cold["start"] = _cold["start"], False
    logger.thread_safe_clear_keys()
    logger.thread_safe_append_keys(
        cold_start=cold,
        function_name=getattr(context, "function_name", None),
        function_memory_size=getattr(context, "memory_limit_in_mb", None),
        function_arn=getattr(context, "invoked_function_arn", None),
        function_request_id=getattr(context, "aws_request_id", None),
    )


def bind_correlation(correlation_id: str) -> None:
    """A new record (mail, queue message) of the invocation: its id, and no ticket until one is known."""
    logger.thread_safe_remove_keys(["ticket_id"])
    logger.thread_safe_append_keys(correlation_id=correlation_id)


class Metric:
    """Metric names (nouns, counted)."""

    TICKETS_CREATED = "TicketsCreated"
    MESSAGES_THREADED = "MessagesThreaded"
    AUTOMATED_SUPPRESSED = "AutomatedMailsSuppressed"
    MAILS_QUARANTINED = "MailsQuarantined"
    DUPLICATES_DROPPED = "DuplicatesDropped"
    BOUNCES_RECORDED = "BouncesRecorded"
    TICKETS_ASSIGNED = "TicketsAssigned"
    ASSIGNMENT_CONFLICTS = "AssignmentConflicts"
    ACKNOWLEDGEMENTS_SENT = "AcknowledgementsSent"
    DELAY_NOTICES_SENT = "DelayNoticesSent"
    AUTO_REPLIES_SENT = "AutoRepliesSent"
    SLA_EVENTS = "SlaEvents"
    ALERTS_SENT = "AlertsSent"
    LOAD_DRIFT_REPAIRED = "LoadDriftRepaired"
    PLATFORM_MESSAGES_SENT = "PlatformMessagesSent"
    PLATFORM_SENDS_REFUSED = "PlatformSendsRefused"
    PLATFORM_SENDS_DEFERRED = "PlatformSendsDeferred"
    SLA_APPLIED = "SlaApplied"  # by priority: the tickets the SLA clock started for (the dashboard's by-priority)
    ESCALATIONS = "Escalations"  # by level (the tier the ticket went to)
    # KPIs, from the aggregator's changes (shared/services/kpis.py): each measurement once
    SLA_TARGETS_MET = "SlaTargetsMet"  # first-response and resolution targets met ...
    SLA_TARGETS_MEASURED = "SlaTargetsMeasured"  # ... out of those finished (compliance = met / measured)
    CSAT_RESPONSES = "CsatResponses"  # ratings given ...
    CSAT_SURVEYED = "CsatSurveyed"  # ... out of resolved tickets whose customer was asked
    DEFLECTIONS = "Deflections"  # tickets the customer closed because an article answered them
    ARTICLE_VIEWS = "ArticleViews"  # help-centre article pages opened
    PORTAL_REPLIES = "PortalReplies"  # customer replies through the ticket portal
    # gauges
    FIRST_RESPONSE_TIME = "FirstResponseTime"  # seconds from created to the first agent reply, by priority
    RESOLUTION_TIME = "ResolutionTime"  # seconds from created to resolved, by priority
    UNASSIGNED_BACKLOG = "UnassignedBacklog"  # tickets waiting for an agent, by team (the sweep, every minute)
    UNASSIGNED_BACKLOG_AGE = "UnassignedBacklogAge"  # seconds the oldest of them has waited, by team
    AGENT_UTILISATION = "AgentUtilisation"  # percent of online agents' capacity in use, by team
    CSAT_SCORE = "CsatScore"  # one rating, 1-5 (the dashboard's average)


def count(name: str, value: int = 1, **dimensions: str) -> None:
    """Add to the invocation's total and, with dimensions (e.g. channel), to a per-dimension series in its own EMF
    blob, so dimensions never leak onto other metrics and the total needs no metric math."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    if dimensions:
        with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=NAMESPACE) as metric:
            metric.add_dimension(name="service", value=SERVICE)
            for key, dim in dimensions.items():
                metric.add_dimension(name=key, value=dim)


def gauge_seconds(name: str, value: float, **dimensions: str) -> None:
    gauge(name, value, MetricUnit.Seconds, **dimensions)


def gauge(name: str, value: float, unit: MetricUnit = MetricUnit.Count, **dimensions: str) -> None:
    """One value of a measurement (an age, a level, a percentage), in its own EMF blob with its dimensions."""
    with single_metric(name=name, unit=unit, value=value, namespace=NAMESPACE) as metric:
        metric.add_dimension(name="service", value=SERVICE)
        for key, dim in dimensions.items():
            metric.add_dimension(name=key, value=dim)


def bind_ticket(ticket_id: str) -> None:
    logger.thread_safe_append_keys(ticket_id=ticket_id)
