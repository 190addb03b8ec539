"""Aggregate Lambda: the tickets table's stream, each new image of a ticket counted into the KPI aggregates.

Each record carries the whole ticket as written (NEW_IMAGE); the aggregator stores what it adds and adds only the
difference, idempotent by the ticket's version, so a retried batch or a duplicated record counts once. A failing
record is reported back (partial batch response) and the shard is retried from it; after the mapping's retries
it goes to the aggregate DLQ and `ticketing kpi rebuild` recounts from the tickets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.observability import log_invocation, logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

    from shared.services.kpis import KpiAggregator

_aggregator: KpiAggregator | None = None


def aggregator() -> KpiAggregator:
    global _aggregator
    if _aggregator is None:
        from shared.services.kpis import KpiAggregator
        from shared.storage.kpi import KpiRepository

        _aggregator = KpiAggregator(KpiRepository())
    return _aggregator


def ticket_of_image(image: dict[str, Any]) -> Any:
    """The domain ticket of a stream image (DynamoDB's attribute-value JSON), with its stored version."""
    from shared.storage.models import TicketModel
    from shared.storage.tickets import to_ticket

    return to_ticket(TicketModel.from_raw_data(image))


def record_handler(record: DynamoDBRecord) -> None:
    raw = record.raw_event.get("dynamodb") or {}
    image = raw.get("NewImage")
    if not image:
        logger.info("stream record without a new image", extra={"event": record.raw_event.get("eventName")})
        return
    ticket = ticket_of_image(image)
    aggregator().apply(ticket)


@metrics.log_metrics(capture_cold_start_metric=True)
@log_invocation
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from shared.adapters.batches import partial_stream_batch

    return partial_stream_batch(event, record_handler, context)
