"""Deliver Lambda: the delivery queue's jobs, one platform send per record, with partial batch failures.

A send the platform could not take now fails its record alone, held back longer after each attempt (the
record's visibility); after the queue's maxReceiveCount it lands in the delivery DLQ. A permanent refusal is
not a failure here: the message is marked failed with the platform's error and the job is done.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.domain.errors import SendDeferred
from shared.observability import bind_correlation, log_invocation, logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from shared.adapters.delivery_queue import DeliveryQueue
    from shared.services.delivery import DeliveryService

_built: tuple[DeliveryService, DeliveryQueue] | None = None


def _services() -> tuple[DeliveryService, DeliveryQueue]:
    global _built
    if _built is None:
        from shared.services.wiring import build_delivery

        _built = build_delivery()
    return _built


def record_handler(record: SQSRecord) -> str:
    service, queue = _services()
    bind_correlation(record.message_id)
    attempt = int(record.attributes.approximate_receive_count or 1)
    try:
        return service.deliver(record.json_body, attempt)
    except SendDeferred:
        try:
            queue.back_off(record.receipt_handle, attempt)
        except Exception:  # noqa: BLE001 - without the backoff SQS still retries after the visibility timeout
            logger.exception("could not hold the delivery job back")
        raise


@metrics.log_metrics(capture_cold_start_metric=True)
@log_invocation
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from shared.adapters.batches import partial_batch

    return partial_batch(event, record_handler, context)
