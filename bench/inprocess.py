"""The environment in-process benchmarks run in: fake credentials and fixed resource names, set before anything
from `shared` is imported (pynamodb models read table names at import)."""

from __future__ import annotations

import os

QUEUES = "https://sqs.us-east-1.amazonaws.com/123456789012/"


def use_fake_aws(**extra: str) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "SIGNING_SECRET": "bench-signing-secret",
        "ROUTE_QUEUE_URL": QUEUES + "ticketing-route",
        "ESCALATE_QUEUE_URL": QUEUES + "ticketing-escalate",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        **extra,
    }.items():
        os.environ.setdefault(name, value)
    os.environ.pop("AWS_ENDPOINT_URL", None)
