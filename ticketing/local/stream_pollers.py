"""Lambda's DynamoDB Streams event source mapping, played by a thread per stream (DynamoDB Local's streams).

Semantics follow AWS: records of each shard in order, batches of up to BatchSize; with ReportBatchItemFailures
the batch is retried from the first failed record (its sequence number), else from its start; after
MaximumRetryAttempts the batch's description goes to the OnFailure queue and the shard moves on. Each start
reads from the trim horizon: the aggregate handler is idempotent by ticket version, so records seen before a
restart count nothing twice, and records that arrived while the stack was down are not missed.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ticketing.local.runtime import FunctionTarget, PollingThread
from ticketing.local.template import StreamEventSource, functions

log = logging.getLogger(__name__.replace("ticketing.local", "local_stack"))

IDLE_SECONDS = 0.5
RETRY_SECONDS = 1.0


class StreamPoller(PollingThread):
    def __init__(self, table: str, target: FunctionTarget, source: StreamEventSource, *, failure_queue_url: str | None = None,
                 name: str | None = None, clients: dict[str, Any] | None = None) -> None:  # fmt: skip
        self.table = table
        self.name = name or f"{table}-stream"
        self._target = target
        self._source = source
        self._failure_queue_url = failure_queue_url
        clients = clients or {}
        self._db = clients.get("dynamodb") or boto3.client("dynamodb")
        self._streams = clients.get("dynamodbstreams") or boto3.client("dynamodbstreams")
        self._sqs = clients.get("sqs") or boto3.client("sqs")
        self._iterators: dict[str, str | None] = {}  # shard id -> next iterator (None: closed and read)
        self._last: dict[str, str] = {}  # shard id -> sequence number of the last record handed over
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._arn: str | None = None

    def _prepare(self) -> None:
        self._arn = self._stream_arn()  # fail here, not in the thread, if the table has no stream

    def _stream_arn(self) -> str:
        table = self._db.describe_table(TableName=self.table)["Table"]
        arn = table.get("LatestStreamArn")
        if not arn:
            raise RuntimeError(f"table {self.table} has no stream: the template's StreamSpecification was not applied")
        return str(arn)

    def poll_once(self) -> int:
        """Read every open shard once; returns how many records went to the handler."""
        assert self._arn is not None
        handed = 0
        for shard in self._streams.describe_stream(StreamArn=self._arn)["StreamDescription"]["Shards"]:
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self._iterator(shard_id, "TRIM_HORIZON")
            iterator = self._iterators[shard_id]
            if iterator is None or self._stop.is_set():
                continue
            try:
                got = self._streams.get_records(ShardIterator=iterator, Limit=min(self._source.batch_size, 1000))
            except ClientError as error:
                if error.response["Error"]["Code"] not in ("TrimmedDataAccessException", "ExpiredIteratorException"):
                    raise
                # an iterator DynamoDB no longer honours: start again after the last record handed over
                last = self._last.get(shard_id)
                self._iterators[shard_id] = self._iterator(shard_id, "AFTER_SEQUENCE_NUMBER", last) if last else self._iterator(shard_id, "TRIM_HORIZON")
                continue
            records = [{**r, "eventSourceARN": self._arn} for r in got.get("Records", [])]
            next_iterator = got.get("NextShardIterator")
            if records:
                if not self._deliver(shard_id, records):
                    continue  # retried from its failure next round
                handed += len(records)
                self._last[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
            self._iterators[shard_id] = next_iterator
        return handed

    def _iterator(self, shard_id: str, kind: str, sequence: str | None = None) -> str:
        request: dict[str, Any] = {"StreamArn": self._arn, "ShardId": shard_id, "ShardIteratorType": kind}
        if sequence is not None:
            request["SequenceNumber"] = sequence
        return str(self._streams.get_shard_iterator(**request)["ShardIterator"])

    def _deliver(self, shard_id: str, records: list[dict[str, Any]]) -> bool:
        """True when the batch is done with (handled, or given up on and sent to the failure queue)."""
        attempts = 0
        batch = records
        while not self._stop.is_set():
            failed_from = self._invoke(batch)
            if failed_from is None:
                return True
            attempts += 1
            if 0 <= self._source.max_retries < attempts:
                self._give_up(shard_id, batch[failed_from:])
                return True
            batch = batch[failed_from:]
            self._stop.wait(RETRY_SECONDS)
        # stopping mid-retry: read this batch again from its first unfinished record next time
        self._iterators[shard_id] = self._iterator(shard_id, "AT_SEQUENCE_NUMBER", batch[0]["dynamodb"]["SequenceNumber"])
        return False

    def _invoke(self, batch: list[dict[str, Any]]) -> int | None:
        """None when the whole batch succeeded, else the index to retry from."""
        try:
            response = self._target.invoke({"Records": batch})
        except Exception:  # noqa: BLE001 - a failing handler fails the whole batch, as on AWS
            log.exception("%s: handler raised; the batch of %d will be retried", self.name, len(batch))
            return 0
        failures = (response or {}).get("batchItemFailures") if self._source.report_batch_item_failures else None
        if not failures:
            return None
        sequences = [r["dynamodb"]["SequenceNumber"] for r in batch]
        first = failures[0].get("itemIdentifier") if isinstance(failures[0], dict) else None
        return sequences.index(first) if first in sequences else 0

    def _give_up(self, shard_id: str, batch: list[dict[str, Any]]) -> None:
        description = {
            "requestContext": {"condition": "RetryAttemptsExhausted", "functionArn": self._target.arn},
            "DDBStreamBatchInfo": {"shardId": shard_id, "streamArn": self._arn, "batchSize": len(batch),
                                   "startSequenceNumber": batch[0]["dynamodb"]["SequenceNumber"],
                                   "endSequenceNumber": batch[-1]["dynamodb"]["SequenceNumber"]},
        }  # fmt: skip
        log.error("%s: %d record(s) failed every retry; described in the failure queue", self.name, len(batch))
        if self._failure_queue_url:
            self._sqs.send_message(QueueUrl=self._failure_queue_url, MessageBody=json.dumps(description))

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if not self.poll_once():
                    self._stop.wait(IDLE_SECONDS)
            except (BotoCoreError, ClientError):
                if self._stop.is_set():
                    break
                log.exception("%s: reading the stream failed; retrying shortly", self.name)
                self._stop.wait(RETRY_SECONDS)


def stream_pollers_from_template(stack: Any) -> list[StreamPoller]:
    """A poller for every `Type: DynamoDB` event of every serverless function in the provisioned template."""
    pollers = []
    for spec in functions(stack.template).values():
        for source in spec.stream_events:
            if not source.enabled:
                continue
            queue = stack.queue_url(source.on_failure_queue_logical_id) if source.on_failure_queue_logical_id else None
            pollers.append(StreamPoller(stack.refs[source.table_logical_id], stack.function_target(spec), source,
                                        failure_queue_url=queue, name=f"{spec.logical_id}.{source.name}"))  # fmt: skip
    return pollers
