"""What 10,000 tickets cost on AWS, from the requests one ticket's life really makes.

Each ticket lives a typical email life in-process, through the deployed handlers: the customer's mail (SES → S3 →
ingest), routing (priority, SLA, assignment, the acknowledgement by SES), the agent opening it, answering, the
customer writing back once, the agent resolving it, and its scheduled SLA steps firing afterwards (no-ops on a
resolved ticket, as they are for most tickets). Every AWS call is counted by service and operation; DynamoDB
reports the capacity each call consumed (ReturnConsumedCapacity on DynamoDB Local), which is what on-demand
billing charges. Lambda, API Gateway and SES are counted per invocation, request and mail. The per-minute sweep
and agents' console polling do not grow with tickets and are priced on their own.

Prices: us-east-1 on-demand list prices (below, in PRICES) — check the AWS pricing pages before relying on them.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
import time
from collections import Counter
from datetime import datetime, timezone
from typing import Any

from bench.inprocess import fresh_dynamodb, use_fake_aws

TICKETS = int(os.environ.get("BENCH_COST_TICKETS", "20"))
use_fake_aws(DELIVERY_QUEUE_URL="https://sqs.us-east-1.amazonaws.com/123456789012/ticketing-delivery")

PRICES = {  # USD, us-east-1 on-demand
    "dynamodb_write_unit": 0.625 / 1e6,
    "dynamodb_read_unit": 0.125 / 1e6,
    "sqs_request": 0.40 / 1e6,
    "s3_put": 0.005 / 1000,
    "s3_get": 0.0004 / 1000,
    "ses_outbound_mail": 0.10 / 1000,
    "ses_inbound_mail": 0.10 / 1000 + 0.09 / 1000,  # per mail + one 256 KB chunk
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_second": 0.0000133334,  # arm64
    "api_gateway_request": 3.50 / 1e6,
    "eventbridge_event": 1.00 / 1e6,
}
MEMORY_GB = {"ingest": 1.0, "route": 0.5, "escalate": 0.5, "api": 1.0, "authorizer": 0.5, "aggregate": 0.5}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
CAPACITY_OPS = WRITES | {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}


class Meter:
    """AWS calls by service:operation, DynamoDB capacity, Lambda invocations and their seconds."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.read_units = 0.0
        self.write_units = 0.0
        self.invocations: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()
        self.timer_bodies: list[str] = []
        self.units_by: Counter[str] = Counter()  # write and read units by operation and table
        self.paused = False  # the bench's own reads (the stream, standing in for Lambda's poller) are not billed

    @contextlib.contextmanager
    def counting(self) -> Any:
        from botocore.client import BaseClient

        original = BaseClient._make_api_call
        meter = self

        def counted(client: Any, operation: str, params: Any) -> Any:
            if meter.paused:
                return original(client, operation, params)
            service = client.meta.service_model.service_name
            meter.calls[f"{service}:{operation}"] += 1
            if service == "dynamodb" and operation in CAPACITY_OPS:
                params = {**params, "ReturnConsumedCapacity": "TOTAL"}
            if service == "sqs" and operation == "SendMessage" and "escalate" in str(params.get("QueueUrl")):
                meter.timer_bodies.append(str(params["MessageBody"]))
            reply = original(client, operation, params)
            if service == "dynamodb":
                consumed = reply.get("ConsumedCapacity") or []
                for item in consumed if isinstance(consumed, list) else [consumed]:
                    units = float(item.get("CapacityUnits") or 0)
                    meter.units_by[f"{operation} {str(item.get('TableName', '?')).removeprefix('ticketing-')}"] += units
                    if operation in WRITES:
                        meter.write_units += units
                    else:
                        meter.read_units += units
            return reply

        BaseClient._make_api_call = counted  # type: ignore[method-assign]
        try:
            yield self
        finally:
            BaseClient._make_api_call = original  # type: ignore[method-assign]

    def invoke(self, function: str, call: Any) -> Any:
        started = time.perf_counter()
        try:
            return call()
        finally:
            self.invocations[function] += 1
            self.seconds[function] += time.perf_counter() - started


def _life(meter: Meter, n: int, s3: Any, sqs: Any, api: Any, settings: Any) -> None:
    from functions.ingest.handler import lambda_handler as ingest
    from functions.route.handler import lambda_handler as route
    from tests.integration.conftest import sqs_record
    from tests.support import FakeContext, api_token, compose, ses_record

    def mail(raw: bytes) -> dict[str, Any]:
        delivery = secrets.token_hex(10)
        s3.put_object(Bucket=settings.mail_bucket, Key=f"{settings.raw_mail_prefix}{delivery}", Body=raw)
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        event = {"Records": [ses_record(delivery, timestamp=now)]}
        return dict(meter.invoke("ingest", lambda: ingest(event, FakeContext()))["results"][0])

    def drain() -> None:
        while messages := sqs.receive_message(QueueUrl=settings.route_queue_url, MaxNumberOfMessages=10).get("Messages", []):
            event = {"Records": [sqs_record(m, settings.route_queue_url) for m in messages]}
            meter.invoke("route", lambda: route(event, FakeContext(function_name="ticketing-RouteFunction")))
            sqs.delete_message_batch(QueueUrl=settings.route_queue_url,
                                     Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])  # fmt: skip

    def call(method: str, path: str, body: Any = None) -> Any:
        meter.invocations["authorizer"] += 1  # API Gateway asks the authorizer on every request (no cache)
        headers = {**api_token("agent", "rina"), "Content-Type": "application/json"}
        reply = meter.invoke("api", lambda: getattr(api.http, method.lower())(path, headers=headers,
                                                                              body=json.dumps(body) if body else None))  # fmt: skip
        assert reply.status_code < 300, (path, reply.status_code, reply.body)
        return json.loads(reply.body)

    sender = f"Pelanggan {n} <p{n}@pelanggan.co.id>"
    first = compose(sender=sender, subject=f"Tidak bisa login {n}", message_id=f"<first-{n}@pelanggan.co.id>")
    ticket_id = mail(first)["ticket_id"]
    drain()
    call("GET", f"/v1/tickets/{ticket_id}")
    call("POST", f"/v1/tickets/{ticket_id}/replies", {"body": "Sudah kami reset, silakan coba lagi."})
    drain()
    mail(compose(sender=sender, subject=f"Re: Tidak bisa login {n}", body="Masih belum bisa.",
                 in_reply_to=f"<first-{n}@pelanggan.co.id>"))  # fmt: skip
    drain()
    call("POST", f"/v1/tickets/{ticket_id}/replies", {"body": "Sudah kami perbaiki dari sisi kami."})
    call("PATCH", f"/v1/tickets/{ticket_id}", {"status": "resolved"})
    drain()


def _fire_timers(meter: Meter, settings: Any) -> None:
    """The SLA steps scheduled during the tickets' lives, as the escalate queue hands them over when due."""
    from functions.escalate.handler import lambda_handler as escalate
    from tests.support import FakeContext

    bodies, meter.timer_bodies = meter.timer_bodies, []
    for start in range(0, len(bodies), 10):
        records = [{"messageId": f"t{start + i}", "receiptHandle": "r", "body": body, "attributes": {},
                    "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs", "awsRegion": "us-east-1",
                    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:ticketing-escalate"}
                   for i, body in enumerate(bodies[start:start + 10])]  # fmt: skip
        meter.invoke("escalate", lambda: escalate({"Records": records}, FakeContext(function_name="ticketing-EscalateFunction")))
        meter.calls["sqs:ReceiveMessage"] += 1  # the event source mapping's receive and delete of that batch
        meter.calls["sqs:DeleteMessageBatch"] += 1


def _aggregate(meter: Meter, settings: Any) -> None:
    """The KPI aggregator's share: every tickets-table stream record, handed to the aggregate function ten at a
    time (Lambda reads the stream itself, at no request charge, so the reads here are not counted)."""
    import boto3

    from functions.aggregate.handler import lambda_handler as aggregate
    from tests.support import FakeContext

    meter.paused = True
    try:
        arn = boto3.client("dynamodb", region_name=settings.region).describe_table(TableName=settings.tickets_table)["Table"]["LatestStreamArn"]
        streams = boto3.client("dynamodbstreams", region_name=settings.region, endpoint_url=os.environ["AWS_ENDPOINT_URL_DYNAMODB"])
        records: list[dict[str, Any]] = []
        for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            while iterator:
                got = streams.get_records(ShardIterator=iterator)
                records += [{**r, "eventSourceARN": arn} for r in got["Records"]]
                iterator = got.get("NextShardIterator") if got["Records"] else None
    finally:
        meter.paused = False
    for start in range(0, len(records), 10):
        batch = {"Records": records[start : start + 10]}
        meter.invoke("aggregate", lambda: aggregate(batch, FakeContext(function_name="ticketing-AggregateFunction")))


def _setup(settings: Any) -> tuple[Any, Any]:
    import boto3

    from shared.domain.model import AgentProfile
    from shared.domain.timefmt import utcnow
    from shared.storage.agents import AgentRepository
    from shared.storage.models import ALL_MODELS

    for model in ALL_MODELS:
        model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    s3 = boto3.client("s3", region_name=settings.region)
    s3.create_bucket(Bucket=settings.mail_bucket)
    sqs = boto3.client("sqs", region_name=settings.region)
    for name in ("ticketing-route", "ticketing-escalate", "ticketing-delivery"):
        sqs.create_queue(QueueName=name)
    boto3.client("ses", region_name=settings.region).verify_domain_identity(Domain=settings.support_domain)
    AgentRepository().save(AgentProfile(id="rina", team="support", presence="online", capacity=TICKETS + 5), utcnow())
    return s3, sqs


def run() -> dict[str, Any]:
    from chalice.test import Client
    from moto import mock_aws

    fresh_dynamodb()
    with mock_aws():
        from functions.api.app import app
        from functions.escalate.handler import sweep_handler
        from shared.settings import get_settings
        from tests.support import FakeContext, api_token

        settings = get_settings()
        s3, sqs = _setup(settings)
        meter = Meter()
        with Client(app) as api, meter.counting(), contextlib.redirect_stdout(io.StringIO()):
            for n in range(TICKETS):
                _life(meter, n, s3, sqs, api, settings)
            _fire_timers(meter, settings)
            _aggregate(meter, settings)
            lifecycle = _plain(meter)
            sweep = Meter()
        with sweep.counting(), contextlib.redirect_stdout(io.StringIO()):
            sweep.invoke("escalate", lambda: sweep_handler({}, FakeContext(function_name="ticketing-SweepFunction")))
        poll = Meter()
        with Client(app) as api, poll.counting(), contextlib.redirect_stdout(io.StringIO()):
            since = datetime.now(timezone.utc).isoformat()
            headers = api_token("agent", "rina")
            poll.invocations["authorizer"] += 1
            poll.invoke("api", lambda: api.http.get(f"/v1/tickets?updated_since={since}&limit=100", headers=headers))
    return {"tickets": TICKETS, "lifecycle": lifecycle, "sweep": _plain(sweep), "poll": _plain(poll)}


def _plain(meter: Meter) -> dict[str, Any]:
    return {"calls": Counter(meter.calls), "read_units": meter.read_units, "write_units": meter.write_units,
            "invocations": Counter(meter.invocations), "seconds": Counter(meter.seconds),
            "units_by": Counter(meter.units_by)}  # fmt: skip


def dollars(measured: dict[str, Any], per: float) -> dict[str, float]:
    """Cost of `measured` scaled by `per` (e.g. 10,000 / tickets measured), by service."""
    calls, p = measured["calls"], PRICES
    sqs = sum(v for k, v in calls.items() if k.startswith("sqs:"))
    s3_put = sum(v for k, v in calls.items() if k in ("s3:PutObject", "s3:CopyObject"))
    s3_get = sum(v for k, v in calls.items() if k in ("s3:GetObject", "s3:HeadObject"))
    ses_out = calls.get("ses:SendRawEmail", 0) + calls.get("sesv2:SendEmail", 0)
    inbound = measured["invocations"].get("ingest", 0)
    lambda_requests = sum(measured["invocations"].values())
    gb_seconds = sum(seconds * MEMORY_GB.get(fn, 0.5) for fn, seconds in measured["seconds"].items())
    gb_seconds += measured["invocations"].get("authorizer", 0) * 0.02 * MEMORY_GB["authorizer"]  # ~20 ms each
    api = measured["invocations"].get("api", 0)
    events = calls.get("events:PutEvents", 0)
    cost = {
        "DynamoDB": measured["write_units"] * p["dynamodb_write_unit"] + measured["read_units"] * p["dynamodb_read_unit"],
        "Lambda": lambda_requests * p["lambda_request"] + gb_seconds * p["lambda_gb_second"],
        "SQS": sqs * p["sqs_request"],
        "S3": s3_put * p["s3_put"] + s3_get * p["s3_get"],
        "SES": ses_out * p["ses_outbound_mail"] + inbound * p["ses_inbound_mail"],
        "API Gateway": api * p["api_gateway_request"],
        "EventBridge": events * p["eventbridge_event"],
    }
    return {name: value * per for name, value in cost.items()}


def report(figures: dict[str, Any]) -> str:
    life, tickets = figures["lifecycle"], figures["tickets"]
    per_ticket = {k: v / tickets for k, v in sorted(life["calls"].items())}
    cost = dollars(life, 10_000 / tickets)
    sweep_month = dollars(figures["sweep"], 43_200)  # one run a minute
    poll_hour = dollars(figures["poll"], 1_800)  # one poll every 2 s, per agent with the console open
    lines = [
        f"{tickets} tickets each living an email life through the handlers in-process (mail in, routed and "
        "acknowledged, opened, answered, a customer reply, answered again, resolved, its SLA steps firing "
        "later as no-ops, every write counted into the KPIs from the tickets stream); DynamoDB capacity as DynamoDB Local reports it. Lambda seconds are this machine's, "
        "so Lambda's share is an upper bound. Prices are us-east-1 on-demand list prices (bench/cost_per_ticket.py).",
        "",
        f"Per ticket: {sum(life['calls'].values()) / tickets:.1f} AWS calls, "
        f"{life['write_units'] / tickets:.1f} DynamoDB write units, {life['read_units'] / tickets:.1f} read units, "
        f"{sum(life['invocations'].values()) / tickets:.1f} Lambda invocations "
        f"({', '.join(f'{k} {v / tickets:.1f}' for k, v in sorted(life['invocations'].items()))}).",
        "",
        "| per 10,000 tickets | USD |",
        "| --- | ---: |",
        *[f"| {name} | {value:.2f} |" for name, value in cost.items()],
        f"| **total** | **{sum(cost.values()):.2f}** |",
        "",
        f"Independent of tickets: the every-minute sweep ≈ USD {sum(sweep_month.values()):.2f} a month; an agent with "
        f"the console open (a poll every 2 s) ≈ USD {sum(poll_hour.values()):.4f} an hour "
        f"(≈ USD {sum(poll_hour.values()) * 8 * 22:.2f} per agent-month of 8-hour days). Not included: CloudWatch "
        "(logs ingestion $0.50/GB, custom metrics, the dashboard $3/month, alarms $0.10 each), storage (S3, "
        "DynamoDB) and CloudFront's data transfer.",
        "",
        "AWS calls per ticket: " + ", ".join(f"{k} {v:.1f}" for k, v in per_ticket.items()),
        "",
        "DynamoDB capacity units per ticket, largest first: "
        + ", ".join(f"{k} {v / tickets:.1f}" for k, v in life["units_by"].most_common(8)),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(run()))
