"""Moto-backed fixtures: the project's tables, bucket and route queue, fresh for every test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto import mock_aws

from shared.settings import get_settings
from ticketing.local.emulator import AwsEmulator


@dataclass
class Aws:
    s3: Any
    sqs: Any
    route_queue_url: str
    stream_positions: dict[str, Any] = field(default_factory=dict)

    def route(self, rounds: int = 10) -> list[dict[str, Any]]:
        """Play the route function's event source mapping until the route queue is empty; returns the replies."""
        from functions.route.handler import lambda_handler
        from tests.support import FakeContext

        replies = []
        for _ in range(rounds):
            got = self.sqs.receive_message(QueueUrl=self.route_queue_url, MaxNumberOfMessages=10, AttributeNames=["All"])
            messages = got.get("Messages", [])
            if not messages:
                return replies
            event = {"Records": [sqs_record(m, self.route_queue_url) for m in messages]}
            reply = lambda_handler(event, FakeContext(function_name="ticketing-RouteFunction"))
            failed = {f["itemIdentifier"] for f in reply["batchItemFailures"]}
            assert not failed, f"route records failed: {failed}"
            for message in messages:
                self.sqs.delete_message(QueueUrl=self.route_queue_url, ReceiptHandle=message["ReceiptHandle"])
            replies.append(reply)
        raise AssertionError("the route queue did not empty")

    def aggregate(self) -> int:
        """Play the aggregate function's stream mapping: every tickets-table record not yet handed over goes to
        the handler as a DynamoDB Streams event; returns how many records went."""
        from functions.aggregate.handler import lambda_handler
        from tests.support import FakeContext

        streams = boto3.client("dynamodbstreams", region_name=get_settings().region)
        arn = boto3.client("dynamodb", region_name=get_settings().region).describe_table(
            TableName=get_settings().tickets_table)["Table"]["LatestStreamArn"]  # fmt: skip
        handed = 0
        for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            shard_id = shard["ShardId"]
            iterator = self.stream_positions.get(shard_id) or streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]  # fmt: skip
            while iterator:
                got = streams.get_records(ShardIterator=iterator, Limit=100)
                records = [{**r, "eventSourceARN": arn} for r in got["Records"]]
                if records:
                    reply = lambda_handler({"Records": records}, FakeContext(function_name="ticketing-AggregateFunction"))
                    assert reply["batchItemFailures"] == [], reply
                    handed += len(records)
                self.stream_positions[shard_id] = got.get("NextShardIterator")
                if not records:
                    break
                iterator = got.get("NextShardIterator")
        return handed

    def sent_mail(self) -> list[Any]:
        """What SES (moto) sent, oldest first."""
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ses.models import ses_backends

        return list(ses_backends[DEFAULT_ACCOUNT_ID][get_settings().region].sent_messages)

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


def sqs_record(message: dict[str, Any], queue_url: str) -> dict[str, Any]:
    """An SQS message as the Lambda event source mapping hands it over (events_samples/sqs_route_announcement.json)."""
    name = queue_url.rsplit("/", 1)[-1]
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{name}",
        "awsRegion": "us-east-1",
    }


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
        escalate = sqs.create_queue(QueueName="ticketing-escalate")["QueueUrl"]
        assert escalate == settings.escalate_queue_url, escalate
        dlq = sqs.create_queue(QueueName="ticketing-delivery-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": settings.delivery_max_attempts})
        delivery = sqs.create_queue(QueueName="ticketing-delivery", Attributes={"RedrivePolicy": redrive})["QueueUrl"]
        assert delivery == settings.delivery_queue_url, delivery
        boto3.client("ses", region_name=settings.region).verify_domain_identity(Domain=settings.support_domain)
        yield Aws(s3=s3, sqs=sqs, route_queue_url=url)


@pytest.fixture(scope="module")
def emulator() -> Iterator[AwsEmulator]:
    """A moto server on a free port, as the local stack runs it (one per test module)."""
    server = AwsEmulator(port=0)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def api(aws: Aws) -> Iterator[Any]:
    """The API app through Chalice's test client, on this test's moto."""
    from chalice.test import Client

    from functions.api.app import app

    with Client(app) as client:
        yield client
