"""SSM Parameter Store values the stack writes at deploy time (the console's Cognito app client id), read once per
container."""

from __future__ import annotations

from functools import lru_cache

import boto3


@lru_cache(maxsize=16)
def parameter_value(name: str) -> str:
    return str(boto3.client("ssm").get_parameter(Name=name)["Parameter"]["Value"])
