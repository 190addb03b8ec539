"""Two queues' batches handled at the same moment in one process (the local stack polls every queue in its own
thread) each see only their own records."""

from __future__ import annotations

import json
import threading

import pytest

from shared.adapters.batches import partial_batch
from tests.support import FakeContext

pytestmark = pytest.mark.unit


def batch(queue: str, count: int) -> dict:
    return {"Records": [{
        "messageId": f"{queue}-{n}", "receiptHandle": f"h-{queue}-{n}", "body": json.dumps({"queue": queue, "n": n}),
        "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{queue}", "awsRegion": "us-east-1",
    } for n in range(count)]}  # fmt: skip


def test_concurrent_batches_of_two_queues_do_not_mix_their_records():
    both_inside = threading.Barrier(2, timeout=30)
    seen: dict[str, list[str]] = {"route": [], "delivery": []}

    def handler_for(queue: str):
        def handle(record) -> None:
            if record.message_id.endswith("-0"):
                both_inside.wait()  # each thread is mid-batch while the other one starts and runs
            seen[queue].append(record.json_body["queue"])

        return handle

    replies: dict[str, dict] = {}

    def run(queue: str, count: int) -> None:
        replies[queue] = partial_batch(batch(queue, count), handler_for(queue), FakeContext(function_name=queue))

    threads = [threading.Thread(target=run, args=("route", 3)), threading.Thread(target=run, args=("delivery", 2))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert seen == {"route": ["route"] * 3, "delivery": ["delivery"] * 2}
    assert replies == {"route": {"batchItemFailures": []}, "delivery": {"batchItemFailures": []}}
