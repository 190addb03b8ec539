"""The event sources the local stack plays, against a real moto server.

SQS pollers behave like Lambda's SQS event source mapping (partial batch failures, redrive to the DLQ, message
delays, a prompt stop); the SMTP intake behaves like SES inbound with a Lambda action (raw mail stored first,
the handler invoked asynchronously with Lambda's retries and dead-letter queue).
"""

from __future__ import annotations

import copy
import json
import smtplib
import socket
import sys
import threading
import time
import types
import uuid
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import boto3
import pytest

from tests.support import SAMPLES
from ticketing.local.emulator import AwsEmulator
from ticketing.local.queue_pollers import SqsPoller, pollers_from_template
from ticketing.local.template import load_template

pytestmark = pytest.mark.integration

REFERENCE_EVENTS = SAMPLES / "aws"  # AWS's own sample events, kept in the project (events_samples/aws)
REFERENCE_SQS_EVENT = REFERENCE_EVENTS / "sqsEvent.json"


@pytest.fixture
def sqs(emulator: AwsEmulator) -> Any:
    return boto3.client("sqs", endpoint_url=emulator.endpoint_url, region_name="us-east-1")


def _queue_with_dlq(sqs: Any, *, max_receives: int, visibility: int = 1) -> tuple[str, str]:
    suffix = uuid.uuid4().hex[:8]
    dlq_url = sqs.create_queue(QueueName=f"dlq-{suffix}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(
        QueueName=f"work-{suffix}",
        Attributes={
            "VisibilityTimeout": str(visibility),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receives}),
        },
    )["QueueUrl"]
    return url, dlq_url


class Recorder:
    """A handler that remembers every record it saw and fails the ones `fails(body)` picks."""

    def __init__(self, fails: Callable[[str], bool] = lambda body: False, raises: bool = False) -> None:
        self.records: list[dict[str, Any]] = []
        self.batches: list[list[str]] = []
        self.seen_at: dict[str, float] = {}
        self._fails = fails
        self._raises = raises
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        assert context.get_remaining_time_in_millis() > 0
        with self._lock:
            self.records.extend(event["Records"])
            self.batches.append([r["body"] for r in event["Records"]])
            for record in event["Records"]:
                self.seen_at.setdefault(record["body"], time.monotonic())
        if self._raises:
            raise RuntimeError("handler crashed")
        return {
            "batchItemFailures": [
                {"itemIdentifier": r["messageId"]} for r in event["Records"] if self._fails(r["body"])
            ]
        }

    def bodies(self) -> list[str]:
        with self._lock:
            return [r["body"] for r in self.records]


def _wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    return sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])


def _collect(sqs: Any, url: str, into: list[dict[str, Any]]) -> int:
    """Receive what is in the queue now into `into`; how many have been collected so far."""
    into.extend(_drain(sqs, url))
    return len(into)


def test_a_reported_failure_is_retried_alone_and_lands_in_the_dlq_after_max_receives(sqs: Any) -> None:
    url, dlq_url = _queue_with_dlq(sqs, max_receives=2)
    handler = Recorder(fails=lambda body: body == "bad")
    sqs.send_message(QueueUrl=url, MessageBody="good-1", MessageAttributes={
        "tier": {"DataType": "String", "StringValue": "vip"}})  # fmt: skip
    sqs.send_message(QueueUrl=url, MessageBody="bad")
    sqs.send_message(QueueUrl=url, MessageBody="good-2")
    poller = SqsPoller(url, handler, batch_size=10, batching_window_seconds=1, sqs_client=sqs)
    poller.start()
    try:
        assert _wait_for(lambda: handler.bodies().count("bad") >= 2, timeout=10)
        dead: list[dict[str, Any]] = []
        assert _wait_for(lambda: _collect(sqs, dlq_url, dead) >= 1, timeout=10)
    finally:
        poller.stop()

    bodies = handler.bodies()
    assert bodies.count("good-1") == 1 and bodies.count("good-2") == 1, "good records must be deleted"
    assert handler.batches[0] == ["good-1", "bad", "good-2"], "one batch within the batching window"
    assert bodies.count("bad") == 2, "retried until maxReceiveCount, then redriven"
    assert [m["Body"] for m in dead] == ["bad"]
    retries = [r for r in handler.records if r["body"] == "bad"]
    assert [r["attributes"]["ApproximateReceiveCount"] for r in retries] == ["1", "2"]
    assert _drain(sqs, url) == []


def test_records_are_shaped_like_lambdas_sqs_event(sqs: Any) -> None:
    url, _ = _queue_with_dlq(sqs, max_receives=5)
    handler = Recorder()
    sqs.send_message(QueueUrl=url, MessageBody='{"ticket_id": "T1"}', MessageAttributes={
        "tier": {"DataType": "String", "StringValue": "vip"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}})  # fmt: skip
    poller = SqsPoller(url, handler, sqs_client=sqs)
    poller.start()
    try:
        assert _wait_for(lambda: len(handler.records) == 1, timeout=10)
    finally:
        poller.stop()

    record = handler.records[0]
    reference = json.loads(REFERENCE_SQS_EVENT.read_text())["Records"][0]
    assert set(record) == set(reference)
    assert set(reference["attributes"]) <= set(record["attributes"])
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == queue_arn
    assert record["awsRegion"] == "us-east-1"
    assert record["body"] == '{"ticket_id": "T1"}'
    assert record["messageAttributes"]["tier"]["stringValue"] == "vip"
    assert record["messageAttributes"]["tier"]["dataType"] == "String"
    assert record["messageAttributes"]["blob"]["binaryValue"] == "AAE="
    assert len(record["md5OfBody"]) == 32


def test_a_handler_that_raises_deletes_nothing(sqs: Any) -> None:
    url, dlq_url = _queue_with_dlq(sqs, max_receives=2)
    handler = Recorder(raises=True)
    for body in ("one", "two"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    poller = SqsPoller(url, handler, batching_window_seconds=1, sqs_client=sqs)
    poller.start()
    try:
        dead: list[dict[str, Any]] = []
        assert _wait_for(lambda: _collect(sqs, dlq_url, dead) >= 2, timeout=12)
    finally:
        poller.stop()
    assert sorted(m["Body"] for m in dead) == ["one", "two"]
    assert sorted(handler.bodies()) == ["one", "one", "two", "two"]


def test_a_delayed_message_is_delivered_only_after_its_delay(sqs: Any) -> None:
    url, _ = _queue_with_dlq(sqs, max_receives=5)
    handler = Recorder()
    poller = SqsPoller(url, handler, sqs_client=sqs)
    poller.start()
    try:
        sent = time.monotonic()
        sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=2)
        sqs.send_message(QueueUrl=url, MessageBody="now")
        assert _wait_for(lambda: "later" in handler.seen_at, timeout=10)
    finally:
        poller.stop()
    assert handler.seen_at["now"] - sent < 1.5
    assert handler.seen_at["later"] - sent >= 1.9


def test_stop_returns_promptly_while_long_polling_an_empty_queue(sqs: Any) -> None:
    url, _ = _queue_with_dlq(sqs, max_receives=5)
    poller = SqsPoller(url, Recorder(), wait_seconds=1, sqs_client=sqs)
    poller.start()
    time.sleep(0.3)
    started = time.monotonic()
    poller.stop()
    assert time.monotonic() - started < 2.5
    assert not poller.running


def test_a_function_added_to_the_template_with_an_sqs_event_is_polled_without_code_changes(
    emulator: AwsEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ticketing.local.provision import provision

    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator.endpoint_url)
    received: list[dict[str, Any]] = []
    fake_module = types.ModuleType("fake_route_handler")
    fake_module.lambda_handler = lambda event, context: received.append({"event": event, "context": context})
    monkeypatch.setitem(sys.modules, "fake_route_handler", fake_module)

    template = copy.deepcopy(load_template())
    for name, resource in list(template["Resources"].items()):  # only the function added below polls
        if resource["Type"] == "AWS::Serverless::Function":
            del template["Resources"][name]
    template["Resources"]["RouteFunction"] = {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "CodeUri": "../",
            "Handler": "fake_route_handler.lambda_handler",
            "Events": {
                "RouteJobs": {
                    "Type": "SQS",
                    "Properties": {
                        "Queue": {"Fn::GetAtt": ["RouteQueue", "Arn"]},
                        "BatchSize": 5,
                        "FunctionResponseTypes": ["ReportBatchItemFailures"],
                    },
                }
            },
        },
    }
    stack = provision(template, stack_name="pollers-test", parameters={"Stage": "test"})
    (poller,) = pollers_from_template(stack)
    assert poller.name == "RouteFunction.RouteJobs"
    assert poller.queue_url == stack.refs["RouteQueue"]

    boto3.client("sqs").send_message(QueueUrl=stack.refs["RouteQueue"], MessageBody='{"ticket_id": "T-1"}')
    poller.start()
    try:
        assert _wait_for(lambda: bool(received), timeout=10)
    finally:
        poller.stop()
    assert received[0]["event"]["Records"][0]["body"] == '{"ticket_id": "T-1"}'
    assert received[0]["context"].function_name == "pollers-test-RouteFunction"
    assert boto3.client("sqs").receive_message(QueueUrl=stack.refs["RouteQueue"], WaitTimeSeconds=0).get(
        "Messages"
    ) is None


# ------------------------------------------------------------------------------------------------ SES inbound


def _key_paths(value: Any, prefix: str = "") -> set[str]:
    """Every key path of a JSON document (first element of lists), to compare event shapes."""
    paths: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            paths.add(f"{prefix}/{key}")
            paths |= _key_paths(item, f"{prefix}/{key}")
    elif isinstance(value, list) and value and isinstance(value[0], dict):
        paths |= _key_paths(value[0], f"{prefix}[]")
    return paths


def test_mail_for_the_support_domain_is_stored_then_handed_to_the_handler_as_an_ses_event(
    emulator: AwsEmulator, sqs: Any
) -> None:
    from ticketing.local.runtime import AsyncInvoker, FunctionTarget
    from ticketing.local.smtp_intake import ReceiptRule, SmtpIntake

    s3 = boto3.client("s3", endpoint_url=emulator.endpoint_url, region_name="us-east-1")
    bucket = f"mail-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    events: list[dict[str, Any]] = []
    arn = "arn:aws:lambda:us-east-1:123456789012:function:ingest"
    invoker = AsyncInvoker(FunctionTarget(name="ingest", arn=arn, handler=lambda event, _: events.append(event)))
    (port,) = _free_ports(1)
    intake = SmtpIntake(
        [ReceiptRule(("example.com",), bucket, "inbound/", arn, invoker)], port=port, s3_client=s3
    )
    intake.start()
    try:
        mail = EmailMessage()
        mail["From"] = "Budi Santoso <budi@pelanggan.co.id>"
        mail["To"] = "support@example.com"
        mail["Subject"] = "=?utf-8?q?Pesanan_belum_sampai_=E2=9C=93?="
        mail["Message-ID"] = "<order-42@pelanggan.co.id>"
        mail["Date"] = "Mon, 2 Nov 2026 10:00:00 +0700"
        mail.set_content("Pesanan saya belum sampai.")
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.send_message(mail, from_addr="bounce@pelanggan.co.id", to_addrs=["support+abc@example.com"])
            client.ehlo()
            client.mail("budi@pelanggan.co.id")
            refused = client.rcpt("someone@elsewhere.example")
        assert _wait_for(lambda: bool(events), timeout=10)
    finally:
        intake.stop()

    assert refused[0] == 550
    ((record,),) = [event["Records"] for event in events]
    reference = json.loads((REFERENCE_EVENTS / "sesEvent.json").read_text())["Records"][0]
    assert _key_paths(record) == _key_paths(reference)
    ses_mail, receipt = record["ses"]["mail"], record["ses"]["receipt"]
    assert len(ses_mail["messageId"]) == 20 and ses_mail["messageId"].isalnum()
    assert ses_mail["source"] == "bounce@pelanggan.co.id"
    assert ses_mail["destination"] == receipt["recipients"] == ["support+abc@example.com"]
    assert ses_mail["commonHeaders"]["subject"] == "Pesanan belum sampai ✓"
    assert ses_mail["commonHeaders"]["from"] == ["Budi Santoso <budi@pelanggan.co.id>"]
    assert ses_mail["commonHeaders"]["messageId"] == "<order-42@pelanggan.co.id>"
    assert receipt["action"] == {"type": "Lambda", "invocationType": "Event", "functionArn": arn}

    raw = s3.get_object(Bucket=bucket, Key=f"inbound/{ses_mail['messageId']}")["Body"].read()
    assert raw.startswith(b"Return-Path: <bounce@pelanggan.co.id>\r\nReceived: ")
    assert b"Pesanan saya belum sampai." in raw


def test_an_event_the_handler_keeps_failing_on_is_retried_twice_then_parked_in_the_dlq(sqs: Any) -> None:
    from ticketing.local.runtime import AsyncInvoker, FunctionTarget, sqs_dead_letter

    _, dlq_url = _queue_with_dlq(sqs, max_receives=5)
    attempts: list[float] = []

    def failing(event: dict[str, Any], context: Any) -> None:
        attempts.append(time.monotonic())
        raise ValueError("cannot parse this mail")

    invoker = AsyncInvoker(
        FunctionTarget(name="ingest", arn="arn:aws:lambda:us-east-1:123456789012:function:ingest", handler=failing),
        max_retries=2,
        retry_delays=(0.1, 0.1),
        dead_letter=sqs_dead_letter(sqs, dlq_url),
    )
    invoker.submit({"Records": [{"eventSource": "aws:ses"}]}).result(timeout=10)
    invoker.shutdown()

    assert len(attempts) == 3
    (parked,) = sqs.receive_message(QueueUrl=dlq_url, MessageAttributeNames=["All"], WaitTimeSeconds=1)["Messages"]
    assert json.loads(parked["Body"]) == {"Records": [{"eventSource": "aws:ses"}]}
    assert "cannot parse this mail" in parked["MessageAttributes"]["ErrorMessage"]["StringValue"]
    assert parked["MessageAttributes"]["RequestID"]["StringValue"]


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


# --- DynamoDB Streams ----------------------------------------------------------------------------------------


def _streamed_table(emulator: AwsEmulator) -> tuple[dict[str, Any], str]:
    clients = {name: boto3.client(name, endpoint_url=emulator.endpoint_url, region_name="us-east-1")
               for name in ("dynamodb", "dynamodbstreams", "sqs")}  # fmt: skip
    table = f"streamed-{uuid.uuid4().hex[:8]}"
    clients["dynamodb"].create_table(
        TableName=table, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )  # fmt: skip
    return clients, table


def test_the_stream_poller_hands_records_in_order_and_retries_from_the_first_failure(emulator: AwsEmulator) -> None:
    from ticketing.local.runtime import FunctionTarget
    from ticketing.local.stream_pollers import StreamPoller
    from ticketing.local.template import StreamEventSource

    clients, table = _streamed_table(emulator)
    seen: list[str] = []
    failed_once: set[str] = set()

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        for record in event["Records"]:
            key = record["dynamodb"]["NewImage"]["id"]["S"]
            if key == "b" and key not in failed_once:  # fails the first time: b and what follows come again
                failed_once.add(key)
                return {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]}
            seen.append(key)
        return {"batchItemFailures": []}

    source = StreamEventSource("Items", "Table", 100, True, 5, None, True)
    poller = StreamPoller(table, FunctionTarget(name="f", arn="arn:f", handler=handler), source, clients=clients)
    for key in ("a", "b", "c"):
        clients["dynamodb"].put_item(TableName=table, Item={"id": {"S": key}})
    poller._prepare()
    deadline = time.monotonic() + 10
    while seen != ["a", "b", "c"] and time.monotonic() < deadline:
        poller.poll_once()
    assert seen == ["a", "b", "c"] and failed_once == {"b"}


def test_a_batch_that_fails_every_retry_is_described_in_the_failure_queue_and_the_stream_moves_on(emulator: AwsEmulator) -> None:
    from ticketing.local.runtime import FunctionTarget
    from ticketing.local.stream_pollers import StreamPoller
    from ticketing.local.template import StreamEventSource

    clients, table = _streamed_table(emulator)
    failures = clients["sqs"].create_queue(QueueName=f"failures-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    calls: list[int] = []

    def handler(event: dict[str, Any], context: Any) -> None:
        calls.append(len(event["Records"]))
        raise RuntimeError("broken")

    source = StreamEventSource("Items", "Table", 100, True, 2, "Failures", True)
    poller = StreamPoller(table, FunctionTarget(name="f", arn="arn:f", handler=handler), source,
                          failure_queue_url=failures, clients=clients)  # fmt: skip
    clients["dynamodb"].put_item(TableName=table, Item={"id": {"S": "x"}})
    poller._prepare()
    import ticketing.local.stream_pollers as module

    module.RETRY_SECONDS = 0.01
    try:
        poller.poll_once()
    finally:
        module.RETRY_SECONDS = 1.0
    assert calls == [1, 1, 1]  # the first try and two retries
    got = clients["sqs"].receive_message(QueueUrl=failures).get("Messages", [])
    assert len(got) == 1 and json.loads(got[0]["Body"])["DDBStreamBatchInfo"]["batchSize"] == 1
    assert poller.poll_once() == 0  # moved on: nothing is handed again


def test_the_template_gives_the_aggregate_function_the_tickets_stream() -> None:
    from ticketing.local.template import functions

    source = functions(load_template())["AggregateFunction"].stream_events[0]
    assert (source.table_logical_id, source.report_batch_item_failures, source.on_failure_queue_logical_id) == (
        "TicketsTable", True, "AggregateDLQ")
