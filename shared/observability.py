"""Logger and Metrics, created once for every function.

JSON logs carry the Lambda request id (correlation id) and, once known, the ticket id; metrics go out as
CloudWatch Embedded Metric Format on stdout, so no PutMetricData call sits on the hot path.
Tracer is deliberately not created here: it costs ~0.6 s of cold-start import (measured when the observability module was written).
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "ticketing")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Ticketing")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


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
    with single_metric(name=name, unit=MetricUnit.Seconds, value=value, namespace=NAMESPACE) as metric:
        metric.add_dimension(name="service", value=SERVICE)
        for key, dim in dimensions.items():
            metric.add_dimension(name=key, value=dim)


def bind_ticket(ticket_id: str) -> None:
    logger.append_keys(ticket_id=ticket_id)
