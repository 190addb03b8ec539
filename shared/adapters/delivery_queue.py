"""The delivery queue: platform sends waiting for the deliver function, and the backoff between its attempts."""

from __future__ import annotations

import json
from typing import Any

from shared.adapters.aws import client
from shared.settings import Settings

MAX_VISIBILITY = 900  # a retry at most 15 minutes later


def backoff_seconds(attempt: int) -> int:
    """10 s, 20 s, 40 s ... after each failed attempt, capped at 15 minutes."""
    return int(min(MAX_VISIBILITY, 10 * 2 ** max(0, attempt - 1)))


class DeliveryQueue:
    def __init__(self, settings: Settings) -> None:
        self.queue_url = settings.delivery_queue_url
        self._sqs = client("sqs", settings.region)

    def enqueue(self, job: dict[str, Any]) -> None:
        if not self.queue_url:
            raise RuntimeError("DELIVERY_QUEUE_URL is not set; the template passes it to every function")
        self._sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(job, sort_keys=True))

    def back_off(self, receipt_handle: str, attempt: int) -> None:
        """Hold a job that failed for a while before SQS offers it again (its visibility timeout)."""
        self._sqs.change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=backoff_seconds(attempt)
        )
