"""Route Lambda: the route queue's announcements, one record at a time, with partial batch failures.

A record that fails is reported back to SQS alone and retried; after the queue's maxReceiveCount it lands in the
route DLQ. Handlers stay thin: parse, call the router, let the batch processor shape the reply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.observability import bind_correlation, log_invocation, metrics
from shared.storage.config import read_once

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from shared.services.route_stage import Router

_router: Router | None = None


def build_router() -> Router:
    """The router and everything it drives, imported and built on the first record, not at cold start."""
    from shared.services.wiring import build_router as build

    return build()


def record_handler(record: SQSRecord) -> dict[str, Any]:
    global _router
    if _router is None:
        _router = build_router()
    bind_correlation(record.message_id)
    return _router.handle(record.json_body)  # the router parses it into its route event (shared.contracts.events)


@metrics.log_metrics(capture_cold_start_metric=True)
@log_invocation
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from shared.adapters.batches import partial_batch  # Powertools' batch utility, imported when the first batch comes
    from shared.adapters.idempotency import lambda_invocation

    # rules, policies, templates and team settings read once per batch; an announcement being handled is held for
    # as long as this invocation may still run
    with read_once(), lambda_invocation(context):
        return partial_batch(event, record_handler, context)
