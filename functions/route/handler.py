"""Route Lambda: the route queue's announcements, one record at a time, with partial batch failures.

A record that fails is reported back to SQS alone and retried; after the queue's maxReceiveCount it lands in the
route DLQ. Handlers stay thin: parse, call the router, let the batch processor shape the reply.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from shared.observability import bind_correlation, log_invocation, logger, metrics
from shared.route_events import Router
from shared.services import build_router
from shared.storage.config import read_once

processor = BatchProcessor(event_type=EventType.SQS)
_router: Router | None = None


def record_handler(record: SQSRecord) -> dict[str, Any]:
    global _router
    if _router is None:
        _router = build_router()
    bind_correlation(record.message_id)
    return _router.handle(json.loads(record.body))


@metrics.log_metrics
@log_invocation
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    with read_once():  # priority rules, policies, templates and team settings read once per batch
        return dict(process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context))
