"""`ticketing run` as a user starts it: everything answers on 127.0.0.1, the CLI finds it, mail to the support
address becomes a ticket, its tables are in DynamoDB Local, and SIGTERM stops it cleanly."""

from __future__ import annotations

import json
import smtplib
import time
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import RunningStack, start_local_stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_health_answers_without_a_token(local_stack: RunningStack) -> None:
    assert local_stack.request("GET", "/health") == (200, {"status": "ok"})


def test_the_console_is_served_at_the_root_and_its_dev_sign_in_gives_a_token_the_api_accepts(
    local_stack: RunningStack,
) -> None:
    import urllib.request

    with urllib.request.urlopen(f"{local_stack.api_url}/", timeout=10) as page:
        html = page.read().decode()
        assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
        assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert '<div id="root">' in html and "/assets/" in html
    assert "Console           http://127.0.0.1:" in local_stack.logs()
    request = urllib.request.Request(f"{local_stack.api_url}/local/session", method="POST",
                                     data=b'{"agent": "ani", "role": "agent", "teams": ["support"]}',
                                     headers={"Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as reply:
        session = json.loads(reply.read())
    assert session["agent"] == "ani" and session["teams"] == ["support"]
    assert local_stack.request("GET", "/v1/tickets", token=session["token"])[0] == 200
    assert local_stack.request("GET", "/v1/agents", token=session["token"])[0] == 200


def test_the_state_file_tells_other_commands_where_the_stack_listens(local_stack: RunningStack) -> None:
    state = local_stack.state()
    assert state["api_url"] == local_stack.api_url
    assert state["aws_endpoint_url"] == local_stack.aws_endpoint
    assert state["smtp"] == {"host": "127.0.0.1", "port": local_stack.smtp[1]}
    assert state["env"]["SIGNING_SECRET_NAME"] == "ticketing-local/signing-key"
    assert state["env"]["TICKETS_TABLE"] == "ticketing-local-TicketsTable"
    assert state["dynamodb_endpoint_url"] == local_stack.dynamodb_endpoint
    assert state["env"]["AWS_ENDPOINT_URL_DYNAMODB"] == local_stack.dynamodb_endpoint
    assert state["data_dir"] == str(local_stack.workdir)


def test_the_tables_are_in_dynamodb_local_which_refuses_what_dynamodb_refuses(local_stack: RunningStack) -> None:
    """moto accepts a two-character table name; DynamoDB (and its own emulator) refuses it. Asked directly, or
    through the moto endpoint (AWS_ENDPOINT_URL alone), the answer is DynamoDB Local's."""
    tickets_table = local_stack.state()["env"]["TICKETS_TABLE"]
    direct = boto3.client("dynamodb", endpoint_url=local_stack.dynamodb_endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    for client in (direct, local_stack.aws("dynamodb")):
        with pytest.raises(ClientError) as refused:
            client.create_table(
                TableName="tk", BillingMode="PAY_PER_REQUEST",
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            )  # fmt: skip
        assert refused.value.response["Error"]["Code"] == "ValidationException"
        assert "3" in refused.value.response["Error"]["Message"]  # "... at least 3 characters"
        assert tickets_table in client.list_tables()["TableNames"]


def test_an_agent_token_from_the_cli_is_accepted_by_the_api(local_stack: RunningStack) -> None:
    token = local_stack.token("agent")
    status, body = local_stack.request("GET", "/v1/tickets", token=token)
    assert status == 200, body
    assert "items" in body
    assert local_stack.request("GET", "/v1/tickets")[0] == 401


def test_mail_to_the_support_address_becomes_a_ticket_and_its_raw_copy_is_kept(local_stack: RunningStack) -> None:
    mail = EmailMessage()
    mail["From"] = "Sari Wulandari <sari@pelanggan.co.id>"
    mail["To"] = local_stack.support_address
    mail["Subject"] = "Tidak bisa login ke dashboard"
    mail["Message-ID"] = make_msgid(domain="pelanggan.co.id")
    mail.set_content("Halo, sejak pagi saya tidak bisa login.")
    local_stack.send_mail(mail)

    token = local_stack.token("agent")

    def ticket() -> dict | None:
        items = local_stack.request("GET", "/v1/tickets?limit=50", token=token)[1]["items"]
        return next((t for t in items if t["subject"] == "Tidak bisa login ke dashboard"), None)

    found = local_stack.wait_until(ticket, timeout=30)
    assert found["channel"] == "email"
    assert found["customer"]["email"] == "sari@pelanggan.co.id"

    bucket = local_stack.state()["env"]["MAIL_BUCKET"]
    keys = [o["Key"] for o in local_stack.aws("s3").list_objects_v2(Bucket=bucket, Prefix="inbound/")["Contents"]]
    assert keys, "the raw mail is stored where the SES S3 action puts it"


def test_mail_for_another_domain_is_refused_at_rcpt(local_stack: RunningStack) -> None:
    with smtplib.SMTP(*local_stack.smtp, timeout=10) as client:
        client.ehlo()
        client.mail("sari@pelanggan.co.id")
        code, message = client.rcpt("someone@elsewhere.example")
    assert code == 550
    assert b"example.com" in message


def test_the_quarantine_listing_reads_the_running_stack(local_stack: RunningStack) -> None:
    result = local_stack.cli("quarantine", "list", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["items"] == []


def test_cli_commands_say_clearly_when_no_stack_is_running(tmp_path: Path, local_stack: RunningStack) -> None:
    env = dict(local_stack.env, TICKETING_STATE_FILE=str(tmp_path / "none.json"))
    result = local_stack.cli("token", "--role", "agent", env=env)
    assert result.returncode != 0
    assert "no local stack is running" in result.stderr
    assert "make run" in result.stderr


def test_sigterm_stops_the_stack_cleanly_without_hanging(tmp_path: Path) -> None:
    stack = start_local_stack(tmp_path / "stopping")
    started = time.monotonic()
    status = stack.stop(timeout=60)
    elapsed = time.monotonic() - started
    assert status == 0, stack.logs()[-3000:]
    assert elapsed < 60, f"took {elapsed:.1f}s to stop"  # a bound for hangs; it takes seconds
    assert "Stopped." in stack.logs()
    assert not Path(stack.env["TICKETING_STATE_FILE"]).exists(), "a stopped stack leaves no state file behind"
    assert not stack.cli("reset").returncode, "nor a lock on its data folder"
