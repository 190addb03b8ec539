"""Each mail is taken in once and each route announcement handled once, through Powertools' idempotency utility
on the markers table: a redelivery is a duplicate, a failed attempt is run again by the retry, and an attempt
that crashed holds its message only as long as its invocation could still have run."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from shared.settings import get_settings
from shared.storage.models import TicketModel
from tests.integration.conftest import sqs_record
from tests.support import FakeContext, compose, ses_record

pytestmark = pytest.mark.integration


class Crash(BaseException):
    """The runtime killing an invocation midway (a timeout, out of memory): nothing below gets to clean up."""


@dataclass
class ShortLivedContext(FakeContext):
    """An invocation with `remaining_ms` left: what it holds is free again once that time has passed."""

    remaining_ms: int = 300

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def take_in(aws: Any, raw: bytes, delivery_id: str, context: FakeContext | None = None) -> dict[str, Any]:
    from functions.ingest.handler import lambda_handler

    aws.s3.put_object(Bucket=get_settings().mail_bucket, Key=f"inbound/{delivery_id}", Body=raw)
    return dict(lambda_handler({"Records": [ses_record(delivery_id)]}, context or FakeContext())["results"][0])


def announcements(aws: Any) -> list[dict[str, Any]]:
    """The route queue's messages, left on the queue so the same record can be handed over again."""
    return list(aws.sqs.receive_message(QueueUrl=aws.route_queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0)["Messages"])


def route(aws: Any, messages: list[dict[str, Any]], context: FakeContext | None = None) -> set[str]:
    """One route batch, as the event source mapping hands it over; the ids of the records that failed."""
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    from functions.route.handler import lambda_handler

    event = {"Records": [sqs_record(m, aws.route_queue_url) for m in messages]}
    try:
        reply = lambda_handler(event, context or FakeContext(function_name="ticketing-RouteFunction"))
    except BatchProcessingError:  # every record failed: Lambda hands the whole batch back
        return {m["MessageId"] for m in messages}
    return {f["itemIdentifier"] for f in reply["batchItemFailures"]}


@pytest.fixture
def handlings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ticket announcements the route stage really handled (not replayed), in order."""
    from shared.services.route_stage import Router

    handled: list[str] = []
    real = Router._handle_ticket_event

    def counted(self: Router, event: Any) -> dict[str, Any]:
        handled.append(event.event)
        return real(self, event)

    monkeypatch.setattr(Router, "_handle_ticket_event", counted)
    return handled


# ------------------------------------------------------------------------------------------------ intake


def test_a_mail_delivered_again_after_a_failure_midway_is_taken_in_then_and_only_once(aws, monkeypatch):
    """The ticket was written but announcing it failed: SES's retry takes the mail in again (the failed attempt
    left nothing behind that would call it a duplicate), and still there is one ticket and one announcement."""
    from functions.ingest import handler
    from shared.adapters.route_queue import RouteAnnouncer

    real_announce = RouteAnnouncer.announce
    failures = iter([ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "SQS is down"}}, "SendMessage")])

    def announce_or_fail(self: RouteAnnouncer, event: dict[str, Any]) -> None:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        real_announce(self, event)

    monkeypatch.setattr(RouteAnnouncer, "announce", announce_or_fail)
    raw = compose(message_id="<fails-once@pelanggan.co.id>")
    with pytest.raises(handler.IngestRetry, match="ClientError"):
        take_in(aws, raw, "ses-retry")
    assert len(list(TicketModel.scan())) == 1 and aws.route_messages() == []  # written, not announced

    retried = take_in(aws, raw, "ses-retry")
    again = take_in(aws, raw, "ses-retry")

    assert retried["outcome"] == "created"
    assert again["outcome"] == "duplicate" and again["ticket_id"] == retried["ticket_id"]
    assert [t.id for t in TicketModel.scan()] == [retried["ticket_id"]]
    assert [m["event"] for m in aws.route_messages()] == ["ticket.created"]


def test_a_mail_whose_intake_crashed_is_held_until_that_invocation_would_have_ended_then_taken_in(aws, monkeypatch):
    """The invocation died after writing the ticket: a copy arriving while it could still be running is retried
    later (not a duplicate: nothing was announced yet); once its time is up the next copy finishes the work."""
    from functions.ingest import handler
    from shared.adapters.route_queue import RouteAnnouncer

    real_announce = RouteAnnouncer.announce
    crashes = iter([Crash()])

    def crash_once(self: RouteAnnouncer, event: dict[str, Any]) -> None:
        crash = next(crashes, None)
        if crash is not None:
            raise crash
        real_announce(self, event)

    monkeypatch.setattr(RouteAnnouncer, "announce", crash_once)
    monkeypatch.setattr("shared.services.intake.IN_FLIGHT_PAUSES", (0.01,))
    raw = compose(message_id="<crashes@pelanggan.co.id>")
    with pytest.raises(Crash):
        take_in(aws, raw, "ses-crash", ShortLivedContext(remaining_ms=1000))

    with pytest.raises(handler.IngestRetry, match="InFlight"):
        take_in(aws, raw, "ses-crash")  # the crashed invocation might still be running
    time.sleep(1.1)
    taken = take_in(aws, raw, "ses-crash")

    assert taken["outcome"] == "created"
    assert [t.id for t in TicketModel.scan()] == [taken["ticket_id"]]
    assert [m["event"] for m in aws.route_messages()] == ["ticket.created"]
    assert take_in(aws, raw, "ses-crash")["outcome"] == "duplicate"


def test_what_a_mail_became_is_remembered_for_the_configured_days_then_left_to_the_markers_ttl(aws):
    taken = take_in(aws, compose(message_id="<kept@pelanggan.co.id>"), "ses-kept")

    items = boto3.client("dynamodb").scan(TableName=get_settings().markers_table)["Items"]
    [record] = [i for i in items if i["key"]["S"].startswith("idempotency#inbound#")]
    assert record["status"]["S"] == "COMPLETED"
    assert taken["ticket_id"] in record["data"]["S"] and "inbound/ses-kept" in record["data"]["S"]
    days = (int(record["expires_at"]["N"]) - time.time()) / 86_400
    assert get_settings().idempotency_days - 0.01 < days <= get_settings().idempotency_days


# ------------------------------------------------------------------------------------------------ route stage


def test_the_same_route_announcement_delivered_twice_is_handled_once(aws, handlings):
    take_in(aws, compose(message_id="<routed-once@pelanggan.co.id>"), "ses-route-once")
    [announcement] = announcements(aws)

    assert route(aws, [announcement]) == set()
    assert route(aws, [announcement]) == set()  # SQS delivered it again: a duplicate, dropped

    assert handlings == ["ticket.created"]
    assert len(aws.sent_mail()) == 1  # one acknowledgement


def test_a_route_announcement_that_failed_midway_is_handled_again_by_the_retry(aws, monkeypatch, handlings):
    from shared.services.customer_messages import CustomerMessenger

    take_in(aws, compose(message_id="<route-fails@pelanggan.co.id>"), "ses-route-fails")
    [announcement] = announcements(aws)
    real_acknowledge = CustomerMessenger.acknowledge
    failures = iter([RuntimeError("SES throttled")])

    def acknowledge_or_fail(self: CustomerMessenger, *args: Any, **kwargs: Any) -> Any:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return real_acknowledge(self, *args, **kwargs)

    monkeypatch.setattr(CustomerMessenger, "acknowledge", acknowledge_or_fail)

    assert route(aws, [announcement]) == {announcement["MessageId"]}  # reported back to SQS alone
    assert route(aws, [announcement]) == set()  # the retry
    assert route(aws, [announcement]) == set()  # and a late duplicate

    assert handlings == ["ticket.created", "ticket.created"]
    assert len(aws.sent_mail()) == 1


def test_a_route_announcement_whose_handling_crashed_is_handled_once_that_invocation_would_have_ended(
    aws, monkeypatch, handlings
):
    from shared.services.route_stage import Router

    take_in(aws, compose(message_id="<route-crash@pelanggan.co.id>"), "ses-route-crash")
    [announcement] = announcements(aws)
    counted = Router._handle_ticket_event
    crashes = iter([Crash()])

    def crash_once(self: Router, event: Any) -> dict[str, Any]:
        crash = next(crashes, None)
        if crash is not None:
            raise crash
        return counted(self, event)

    monkeypatch.setattr(Router, "_handle_ticket_event", crash_once)
    with pytest.raises(Crash):
        route(aws, [announcement], ShortLivedContext(function_name="ticketing-RouteFunction", remaining_ms=1000))

    assert route(aws, [announcement]) == {announcement["MessageId"]}  # the crashed one might still be running
    time.sleep(1.1)
    assert route(aws, [announcement]) == set()

    assert handlings == ["ticket.created"]
    assert len(aws.sent_mail()) == 1


# ------------------------------------------------------------------------------------------------ the table failing


def test_a_mail_is_retried_not_quarantined_when_the_idempotency_table_fails(aws, monkeypatch):
    """DynamoDB throttling the in-progress write is an infrastructure error like any other: SES retries the mail."""
    from functions.ingest import handler
    from shared.adapters.aws import client

    dynamodb = client("dynamodb", get_settings().region)

    def throttled(**kwargs: Any) -> None:
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}, "PutItem")

    monkeypatch.setattr(dynamodb, "put_item", throttled)
    raw = compose(message_id="<throttled@pelanggan.co.id>")
    with pytest.raises(handler.IngestRetry, match="ProvisionedThroughputExceeded"):
        take_in(aws, raw, "ses-throttled")
    assert list(TicketModel.scan()) == []
    monkeypatch.undo()

    assert take_in(aws, raw, "ses-throttled")["outcome"] == "created"


def test_a_failure_the_table_could_not_forget_still_reaches_the_edge_as_itself(aws, monkeypatch):
    """The work failed and deleting its record failed too: the caller sees the work's own error (a bug is
    quarantined as before), and the record is taken over when its lease ends."""
    from shared.adapters.aws import client
    from shared.storage.models import QuarantineModel

    dynamodb = client("dynamodb", get_settings().region)

    def unavailable(**kwargs: Any) -> None:
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "try again"}}, "DeleteItem")

    def announce_bug(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("announcement bug")

    monkeypatch.setattr(dynamodb, "delete_item", unavailable)
    monkeypatch.setattr("shared.adapters.route_queue.RouteAnnouncer.announce", announce_bug)
    result = take_in(aws, compose(message_id="<bug@pelanggan.co.id>"), "ses-bug")

    assert result["outcome"] == "quarantined"
    [entry] = list(QuarantineModel.scan())
    assert entry.reason == "processing_error" and "announcement bug" in entry.detail
