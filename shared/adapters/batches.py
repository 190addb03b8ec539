"""SQS batches with partial failures, through Powertools' batch utility (a record that fails is retried alone).

Its own module so a handler imports Powertools' batch machinery (about 30 ms: data classes for every event
source, asyncio) when its first batch arrives rather than at import.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

_local = threading.local()


def _processor() -> BatchProcessor:
    """One per thread: a BatchProcessor keeps the batch it is working on, and the local stack runs several queues'
    handlers at once in one process (a shared one mixed the route queue's records into the delivery queue's)."""
    processor: BatchProcessor | None = getattr(_local, "processor", None)
    if processor is None:
        processor = _local.processor = BatchProcessor(event_type=EventType.SQS)
    return processor


def partial_batch(event: dict[str, Any], record_handler: Callable[[Any], Any], context: Any) -> dict[str, Any]:
    """Run `record_handler` on each record; the reply lists the records that failed (`batchItemFailures`)."""
    return dict(process_partial_response(event=event, record_handler=record_handler, processor=_processor(), context=context))


def partial_stream_batch(event: dict[str, Any], record_handler: Callable[[Any], Any], context: Any) -> dict[str, Any]:
    """A DynamoDB Streams batch: the reply names the first record that failed (`batchItemFailures` by sequence
    number), so Lambda retries the shard from there and nothing after it is lost."""
    processor: BatchProcessor | None = getattr(_local, "stream_processor", None)
    if processor is None:
        processor = _local.stream_processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
    return dict(process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context))
