"""Moto-backed fixtures: the project's tables, bucket and route queue, fresh for every test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from shared.settings import get_settings


@dataclass
class Aws:
    s3: Any
    sqs: Any
    route_queue_url: str

    def route_messages(self) -> list[dict[str, Any]]:
        out = []
        while True:
            got = self.sqs.receive_message(QueueUrl=self.route_queue_url, MaxNumberOfMessages=10)
            messages = got.get("Messages", [])
            if not messages:
                return out
            for message in messages:
                out.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.route_queue_url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mock_aws():
        from shared.storage.models import ALL_MODELS

        for model in ALL_MODELS:
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
        settings = get_settings()
        s3 = boto3.client("s3", region_name=settings.region)
        s3.create_bucket(Bucket=settings.mail_bucket)
        sqs = boto3.client("sqs", region_name=settings.region)
        url = sqs.create_queue(QueueName="ticketing-route")["QueueUrl"]
        assert url == settings.route_queue_url, url
        yield Aws(s3=s3, sqs=sqs, route_queue_url=url)
