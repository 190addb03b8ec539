"""The environment in-process benchmarks run in: fake credentials and fixed resource names, set before anything
from `shared` is imported (pynamodb models read table names at import).

DynamoDB is DynamoDB Local (AWS's own emulator, in memory, one per bench process) so the figures measure our
code rather than moto's DynamoDB, which serialises nothing, copies whole tables per transaction and walks every
item for an index query; the other services stay on moto in-process (`mock_aws` passes calls to the
AWS_ENDPOINT_URL_DYNAMODB endpoint through). The endpoint is fixed at import, before any client exists, and the
emulator starts on first use.
"""

from __future__ import annotations

import atexit
import os
from typing import Any

QUEUES = "https://sqs.us-east-1.amazonaws.com/123456789012/"

_dynamodb: Any = None
_endpoint: str | None = None


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
    global _endpoint
    if _endpoint is None:  # chosen once per process, never taken from the caller's environment: it gets wiped
        from ticketing.local.dynamodb_local import free_port

        _endpoint = f"http://127.0.0.1:{free_port('127.0.0.1')}"
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = _endpoint


def fresh_dynamodb() -> str:
    """DynamoDB Local at AWS_ENDPOINT_URL_DYNAMODB, started on first use, with no tables; its endpoint."""
    global _dynamodb
    from urllib.parse import urlsplit

    import boto3

    from ticketing.local.dynamodb_local import DynamoDBLocal

    if _endpoint is None:
        raise RuntimeError("call use_fake_aws() before anything from shared is imported")
    endpoint = os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = _endpoint
    if _dynamodb is None:
        _dynamodb = DynamoDBLocal(port=urlsplit(endpoint).port or 0, data_dir=None)
        _dynamodb.start()
        atexit.register(_dynamodb.stop)
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=os.environ["AWS_DEFAULT_REGION"])
    for name in client.list_tables()["TableNames"]:
        client.delete_table(TableName=name)
    return endpoint
