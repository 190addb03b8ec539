"""Lambda's SQS event source mapping, played by a thread per queue.

Semantics follow AWS: a batch of up to BatchSize messages (gathered for at most MaximumBatchingWindowInSeconds)
becomes one SQS event; records the handler does not list in `batchItemFailures` are deleted; failed records are
left to become visible again, so the queue's own RedrivePolicy moves them to the DLQ after maxReceiveCount
receives; a handler exception deletes nothing. Message delays are SQS's own business (moto honours them).
"""

from __future__ import annotations

import base64
import logging
import math
import threading
import time
from collections.abc import Mapping
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ticketing.local.runtime import FunctionTarget, Handler, PollingThread
from ticketing.local.template import functions

# Not under "ticketing": Powertools' Logger(service="ticketing") owns that name and would reformat these lines.
log = logging.getLogger(__name__.replace("ticketing.local", "local_stack"))

_MAX_RECEIVE = 10  # SQS ReceiveMessage limit per call


def _message_attributes(attributes: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """ReceiveMessage's attribute shape → the lower-camel shape of a Lambda SQS record."""
    converted: dict[str, dict[str, Any]] = {}
    for name, value in attributes.items():
        record: dict[str, Any] = {
            "stringListValues": list(value.get("StringListValues") or []),
            "binaryListValues": [base64.b64encode(item).decode() for item in value.get("BinaryListValues") or []],
            "dataType": value.get("DataType", "String"),
        }
        if "StringValue" in value:
            record["stringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            record["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
        converted[name] = record
    return converted


def sqs_record(message: Mapping[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One record of an SQS Lambda event, shaped like events_samples/aws/sqsEvent.json."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": dict(message.get("Attributes") or {}),
        "messageAttributes": _message_attributes(message.get("MessageAttributes") or {}),
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


class SqsPoller(PollingThread):
    """Long-polls one queue and feeds batches to a handler, like a Lambda SQS event source mapping."""

    def __init__(
        self,
        queue_url: str,
        handler: Handler | FunctionTarget,
        *,
        batch_size: int = 10,
        batching_window_seconds: float = 0.0,
        report_batch_item_failures: bool = True,
        wait_seconds: int = 1,
        sqs_client: Any | None = None,
        name: str | None = None,
    ) -> None:
        self.queue_url = queue_url
        self.name = name or queue_url.rstrip("/").rsplit("/", 1)[-1]
        self._target = (
            handler
            if isinstance(handler, FunctionTarget)
            else FunctionTarget(name=self.name, arn=f"arn:aws:lambda:local:000000000000:function:{self.name}",
                                handler=handler)
        )  # fmt: skip
        self._batch_size = max(1, batch_size)
        self._window = max(0.0, batching_window_seconds)
        self._report_failures = report_batch_item_failures
        self._wait_seconds = max(0, min(wait_seconds, 20))
        self._sqs = sqs_client or boto3.client("sqs")
        self._region = self._sqs.meta.region_name
        self._queue_arn: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _prepare(self) -> None:
        self._arn()  # fail here, not in the thread, if the queue does not exist

    def _stop_timeout(self) -> float:
        return self._wait_seconds + 5  # a long poll ends within `wait_seconds`

    # -------------------------------------------------------------------------------------- one batch

    def _arn(self) -> str:
        if self._queue_arn is None:
            attributes = self._sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
            self._queue_arn = str(attributes["Attributes"]["QueueArn"])
        return self._queue_arn

    def poll_once(self) -> int:
        """Receive one batch and hand it to the handler; returns how many records the handler saw."""
        messages = self._receive_batch()
        if messages:
            self._process(messages)
        return len(messages)

    def _receive_batch(self) -> list[dict[str, Any]]:
        batch: list[dict[str, Any]] = []
        deadline = 0.0
        while len(batch) < self._batch_size and not self._stop.is_set():
            if batch:
                # The batching window opens with the first message; keep gathering until it closes.
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                wait = min(self._wait_seconds, math.ceil(remaining))
            else:
                wait = self._wait_seconds
            received = self._sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(_MAX_RECEIVE, self._batch_size - len(batch)),
                WaitTimeSeconds=wait,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages") or []
            if not batch:
                if not received:
                    break  # an idle long poll: give the loop a chance to see stop()
                deadline = time.monotonic() + self._window
            batch.extend(received)
            if self._window <= 0:
                break  # without a window Lambda invokes with whatever one poll returned
        return batch

    def _process(self, messages: list[dict[str, Any]]) -> None:
        queue_arn = self._arn()
        event = {"Records": [sqs_record(m, queue_arn, self._region) for m in messages]}
        try:
            response = self._target.invoke(event)
        except Exception:  # noqa: BLE001 - a failing handler fails the whole batch, as on AWS
            log.exception("%s: handler raised; %d message(s) will be retried", self.name, len(messages))
            return
        failed = self._failed_ids(response, {m["MessageId"] for m in messages})
        done = [m for m in messages if m["MessageId"] not in failed]
        if failed:
            log.warning("%s: %d of %d message(s) reported failed", self.name, len(failed), len(messages))
        self._delete(done)

    def _failed_ids(self, response: Any, batch_ids: set[str]) -> set[str]:
        """The message ids to keep; an unusable failure report fails the whole batch, as Lambda does."""
        if not self._report_failures or not isinstance(response, Mapping):
            return set()  # no report (None, {}) means every record succeeded
        failures = response.get("batchItemFailures")
        if not failures:
            return set()
        ids: set[str] = set()
        for failure in failures:
            identifier = failure.get("itemIdentifier") if isinstance(failure, Mapping) else None
            if not identifier or identifier not in batch_ids:
                log.error("%s: invalid batchItemFailures entry %r; retrying the whole batch", self.name, failure)
                return set(batch_ids)
            ids.add(identifier)
        return ids

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        for start in range(0, len(messages), _MAX_RECEIVE):
            chunk = messages[start : start + _MAX_RECEIVE]
            result = self._sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
            for failure in result.get("Failed") or []:
                log.error("%s: could not delete a message: %s", self.name, failure.get("Message"))

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except (BotoCoreError, ClientError):
                if self._stop.is_set():
                    break
                log.exception("%s: polling failed; retrying shortly", self.name)
                self._stop.wait(1.0)


def pollers_from_template(stack: Any, sqs_client: Any | None = None) -> list[SqsPoller]:
    """A poller for every `Type: SQS` event of every serverless function in the provisioned template.

    `stack` is a `ticketing.local.provision.ProvisionedStack`; functions added to the template later (route,
    escalate) are picked up with no change here.
    """
    pollers: list[SqsPoller] = []
    for spec in functions(stack.template).values():
        target = stack.function_target(spec)
        for source in spec.sqs_events:
            if not source.enabled:
                continue
            pollers.append(
                SqsPoller(
                    stack.queue_url(source.queue_logical_id),
                    target,
                    batch_size=source.batch_size,
                    batching_window_seconds=source.batching_window_seconds,
                    report_batch_item_failures=source.report_batch_item_failures,
                    sqs_client=sqs_client,
                    name=f"{spec.logical_id}.{source.name}",
                )
            )
    return pollers
