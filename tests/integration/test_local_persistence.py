"""What the local stack keeps between runs, piece by piece (the whole restart is in tests/e2e/test_restart.py):
the bucket mirror, queued messages with their remaining delay, the SMTP spool of accepted mail, the outbox's
numbering, and the data folder's lock that `ticketing reset` respects."""

from __future__ import annotations

import json
import os
import smtplib
import socket
import threading
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ticketing.local.emulator import AwsEmulator
from ticketing.local.persistence import (
    BucketMirror,
    DataFolder,
    DataFolderInUse,
    resend_pending_messages,
    save_pending_messages,
)

pytestmark = pytest.mark.integration

REGION = "us-east-1"


def _wait_for(condition: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Upper bound only: the machine is shared."""
    deadline = time.monotonic() + timeout * float(os.environ.get("TICKETING_E2E_TIMEOUT_SCALE", "2"))
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    return condition()


def test_raw_mail_and_attachments_come_back_in_a_fresh_emulator(tmp_path: Path) -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="ticketing-local-mailbucket")
        s3.put_object(Bucket="ticketing-local-mailbucket", Key="inbound/abc", Body=b"From: a@b\r\n\r\nhi\r\n")
        s3.put_object(Bucket="ticketing-local-mailbucket", Key="attachments/T1/faktur mei.pdf", Body=b"%PDF",
                      ContentType="application/pdf", Metadata={"ticket": "T1"})  # fmt: skip
        s3.put_object(Bucket="ticketing-local-mailbucket", Key="inbound/gone", Body=b"x")
        mirror = BucketMirror(tmp_path / "s3", ["ticketing-local-mailbucket"])
        assert mirror.sync() == 3
        assert mirror.sync() == 0  # nothing changed since
        s3.delete_object(Bucket="ticketing-local-mailbucket", Key="inbound/gone")
        assert mirror.sync() == 1
    assert len(list((tmp_path / "s3" / "ticketing-local-mailbucket").glob("*.json"))) == 2

    with mock_aws():  # the next start: an empty emulator
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="ticketing-local-mailbucket")
        assert BucketMirror(tmp_path / "s3", ["ticketing-local-mailbucket"]).restore(s3) == 2
        raw = s3.get_object(Bucket="ticketing-local-mailbucket", Key="inbound/abc")
        assert raw["Body"].read() == b"From: a@b\r\n\r\nhi\r\n"
        pdf = s3.get_object(Bucket="ticketing-local-mailbucket", Key="attachments/T1/faktur mei.pdf")
        assert (pdf["Body"].read(), pdf["ContentType"], pdf["Metadata"]) == (b"%PDF", "application/pdf",
                                                                             {"ticket": "T1"})  # fmt: skip
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="ticketing-local-mailbucket")["Contents"]]
        assert sorted(keys) == ["attachments/T1/faktur mei.pdf", "inbound/abc"]


def test_queued_timers_come_back_with_what_is_left_of_their_delay(tmp_path: Path) -> None:
    path = tmp_path / "sqs-pending.json"
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="ticketing-local-EscalateQueue")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody='{"ticket_id": "T1", "step": 1}', DelaySeconds=600)
        sqs.send_message(QueueUrl=url, MessageBody='{"ticket_id": "T2", "step": 0}',
                         MessageAttributes={"hop": {"DataType": "Number", "StringValue": "2"}})  # fmt: skip
        assert save_pending_messages(path, {"EscalateQueue": "ticketing-local-EscalateQueue"}, REGION) == 2
    saved = json.loads(path.read_text())["queues"]["EscalateQueue"]
    assert sorted(round(m["wait_seconds"] / 100) for m in saved) == [0, 6]

    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="ticketing-local-EscalateQueue")["QueueUrl"]
        assert resend_pending_messages(path, {"EscalateQueue": url}, sqs) == 2
        assert not path.exists()
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert (attributes["ApproximateNumberOfMessages"], attributes["ApproximateNumberOfMessagesDelayed"]) == (
            "1", "1")  # fmt: skip
        (due,) = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
        assert json.loads(due["Body"])["ticket_id"] == "T2"
        assert due["MessageAttributes"]["hop"]["StringValue"] == "2"


def test_a_timer_that_fell_due_while_the_stack_was_down_is_delivered_at_once(tmp_path: Path) -> None:
    path = tmp_path / "sqs-pending.json"
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="q-escalate")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="step", DelaySeconds=900)
        save_pending_messages(path, {"EscalateQueue": "q-escalate"}, REGION)
    document = json.loads(path.read_text())
    document["saved_at"] -= 3600  # stopped an hour ago
    path.write_text(json.dumps(document))
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="q-escalate")["QueueUrl"]
        resend_pending_messages(path, {"EscalateQueue": url}, sqs)
        assert [m["Body"] for m in sqs.receive_message(QueueUrl=url).get("Messages", [])] == ["step"]


def test_one_stack_per_data_folder_and_reset_waits_for_it_to_stop(tmp_path: Path) -> None:
    folder = DataFolder(tmp_path)
    for name in ("dynamodb", "s3/bucket", "spool", "outbox"):
        (tmp_path / name).mkdir(parents=True)
    (tmp_path / "secrets.json").write_text("{}")
    (tmp_path / "stack.log").write_text("a test's own file")
    folder.acquire()
    try:
        assert folder.in_use() == str(os.getpid())
        with pytest.raises(DataFolderInUse, match="already running"):
            DataFolder(tmp_path).acquire()
        with pytest.raises(DataFolderInUse, match="stop it"):
            DataFolder(tmp_path).reset()
        assert (tmp_path / "dynamodb").is_dir()
    finally:
        folder.release()
    assert folder.in_use() is None
    removed = {path.name for path in DataFolder(tmp_path).reset()}
    assert {"dynamodb", "s3", "spool", "outbox", "secrets.json"} <= removed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stack.log"]


def test_the_outbox_numbers_on_after_what_earlier_runs_sent(tmp_path: Path) -> None:
    from ticketing.local.outbox import Outbox

    folder = tmp_path / "outbox"
    folder.mkdir()
    (folder / "00007-earlier.eml").write_bytes(b"Subject: before the restart\r\n\r\n.\r\n")
    with mock_aws():
        ses = boto3.client("ses", region_name=REGION)
        ses.verify_domain_identity(Domain="example.com")
        outbox = Outbox(folder, REGION, interval=60)
        outbox.start()
        ses.send_raw_email(RawMessage={"Data": b"From: support@example.com\r\nTo: a@b.c\r\nSubject: after\r\n\r\n.\r\n"})
        outbox.stop()
    names = sorted(p.name for p in folder.glob("*.eml"))
    assert names[0] == "00007-earlier.eml" and names[1].startswith("00008-") and len(names) == 2


# ------------------------------------------------------------------------------------------------ the SMTP spool


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _mail(subject: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "budi@pelanggan.co.id"
    mail["To"] = "support@example.com"
    mail["Subject"] = subject
    mail.set_content("Halo.")
    return mail


def test_accepted_mail_is_journalled_before_250_and_replayed_when_its_ingest_did_not_finish(
    emulator: AwsEmulator, tmp_path: Path
) -> None:
    from ticketing.local.runtime import AsyncInvoker, FunctionTarget
    from ticketing.local.smtp_intake import ReceiptRule, SmtpIntake

    s3 = boto3.client("s3", endpoint_url=emulator.endpoint_url, region_name=REGION)
    s3.create_bucket(Bucket="spool-test-mail")
    arn = "arn:aws:lambda:us-east-1:123456789012:function:ingest"
    spool = tmp_path / "spool"
    release = threading.Event()
    started: list[str] = []

    def slow_ingest(event: dict[str, Any], context: Any) -> None:
        started.append(event["Records"][0]["ses"]["mail"]["commonHeaders"]["subject"])
        release.wait(30)

    def intake_with(handler: Any) -> SmtpIntake:
        invoker = AsyncInvoker(FunctionTarget(name="ingest", arn=arn, handler=handler), workers=1)
        rule = ReceiptRule(("example.com",), "spool-test-mail", "inbound/", arn, invoker)
        return SmtpIntake([rule], port=_free_port(), s3_client=s3, spool=spool)

    first = intake_with(slow_ingest)
    first.start()
    try:
        with smtplib.SMTP(first.host, first.port, timeout=10) as client:
            client.send_message(_mail("running when the stack stops"))
            client.send_message(_mail("still queued when the stack stops"))
        # Both were answered 250, so both are journalled; one is being ingested, the other waits for the worker.
        assert len(list(spool.glob("*.json"))) == 2
        assert _wait_for(lambda: started == ["running when the stack stops"])
        first.stop(timeout=0.2)  # the running ingest does not finish in time; the queued one never starts
    finally:
        release.set()
    time.sleep(0.2)  # the first ingest now returns, after its stack stopped waiting: its entry stays
    assert len(list(spool.glob("*.json"))) == 2
    assert started == ["running when the stack stops"]

    # The raw copies are gone too (a fresh emulator), and come back with the replay.
    for obj in s3.list_objects_v2(Bucket="spool-test-mail").get("Contents", []):
        s3.delete_object(Bucket="spool-test-mail", Key=obj["Key"])
    ingested: list[dict[str, Any]] = []
    second = intake_with(lambda event, context: ingested.append(event))
    second.start()
    try:
        assert second.replayed == 2
        assert _wait_for(lambda: len(ingested) == 2 and not list(spool.glob("*.json")))
    finally:
        second.stop()
    subjects = sorted(e["Records"][0]["ses"]["mail"]["commonHeaders"]["subject"] for e in ingested)
    assert subjects == ["running when the stack stops", "still queued when the stack stops"]
    for event in ingested:
        key = "inbound/" + event["Records"][0]["ses"]["mail"]["messageId"]
        assert b"Halo." in s3.get_object(Bucket="spool-test-mail", Key=key)["Body"].read()
