"""boto3 clients, created once per process and reused across invocations (connection reuse on warm starts)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=3, read_timeout=10)


@lru_cache(maxsize=None)
def client(service: str, region: str) -> Any:
    return boto3.session.Session().client(service, region_name=region, config=_CONFIG)


def aws_errors() -> tuple[type[Exception], ...]:
    """What an AWS call raises when the service or the network fails: worth a retry at the edge."""
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError)
