"""The local stack as a user runs it: `python -m ticketing run` in a subprocess on free 127.0.0.1 ports.

`local_stack` (module-scoped) yields a `RunningStack`:
  api_url        "http://127.0.0.1:<port>"
  smtp           ("127.0.0.1", <port>)
  aws_endpoint   "http://127.0.0.1:<port>" (the moto server; it relays DynamoDB calls to DynamoDB Local)
  dynamodb_endpoint "http://127.0.0.1:<port>" (DynamoDB Local itself)
  workdir        the stack's data folder (state file, DynamoDB Local's files, spool, outbox ...)
  support_address "support@example.com"
  env            the environment the stack and CLI subprocesses run with (incl. TICKETING_STATE_FILE)
  token(role="agent", agent=None) -> str     a bearer token from `python -m ticketing token`
  cli(*args, env=None) -> CompletedProcess[str]  any `python -m ticketing ...` against this stack
  state() -> dict                            the state file: endpoints and resolved env (state()["env"]["MAIL_BUCKET"])
  request(method, path, token=None, body=None) -> (status, json)
  send_mail(message, *, mail_from=None, to=None) -> None    via SMTP, like a customer's mail server
  aws(service) -> boto3 client aimed at the emulator
  wait_until(condition, timeout=15.0) -> value   polls until condition() is truthy
  logs() -> str                                  the stack's stdout+stderr so far
  stop(timeout=10.0) -> int                      SIGTERM and the exit status
  restart() -> RunningStack                      stop, then a new `ticketing run` on the same data folder
`start_local_stack(workdir)` starts a private one (for tests that stop it); started again on the same workdir,
it finds the data the last one kept.
"""

from __future__ import annotations

import json
import os
import re
import signal
import smtplib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any, TypeVar

import pytest

REPO = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
STARTUP_SECONDS = 90.0
T = TypeVar("T")

# Set by tests/conftest.py for in-process tests; the stack must get its own values from the template instead.
_TEST_ONLY_VARIABLES = ("SIGNING_SECRET", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB",
                        "AWS_ENDPOINT_URL_DYNAMODB_STREAMS", "ROUTE_QUEUE_URL", "ESCALATE_QUEUE_URL", "MAIL_BUCKET",
                        "SIGNING_SECRET_NAME", "EVENT_BUS_NAME", "SUPPORT_DOMAIN", "STAGE")  # fmt: skip


def customer_mail(subject: str, body: str, sender: str, **headers: str) -> EmailMessage:
    """A customer's mail to the support address; keyword headers use '_' for '-' (In_Reply_To=...)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "support@example.com"
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="pelanggan.co.id")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def portal_link(text: str) -> tuple[str, str]:
    """(ticket id, token) of the portal link in a message to a customer."""
    found = re.search(r"/#/portal/([0-9A-Z]+)/([A-Za-z0-9_\-.]+)", text)
    assert found, text
    return found.group(1), found.group(2)


def free_ports(count: int) -> list[int]:
    """Distinct free ports on 127.0.0.1 (all held open while choosing, so none repeats)."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((HOST, 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass
class RunningStack:
    api_url: str
    smtp: tuple[str, int]
    aws_endpoint: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log_path: Path
    workdir: Path
    dynamodb_endpoint: str = ""
    support_address: str = "support@example.com"
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    def cli(self, *args: str, env: dict[str, str] | None = None, timeout: float = 60.0
            ) -> subprocess.CompletedProcess[str]:  # fmt: skip
        return subprocess.run(
            [sys.executable, "-m", "ticketing", *args],
            cwd=REPO, env=env or self.env, capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip

    def state(self) -> dict[str, Any]:
        """The stack's `.local/stack.json`: endpoints and the resolved function environment (table names...)."""
        return dict(json.loads(Path(self.env["TICKETING_STATE_FILE"]).read_text()))

    def token(self, role: str = "agent", agent: str | None = None, *teams: str) -> str:
        args = ["token", "--role", role] + (["--agent", agent] if agent else [])
        for team in teams:
            args += ["--team", team]
        result = self.cli(*args)
        assert result.returncode == 0, f"ticketing token failed:\n{result.stderr}"
        return result.stdout.strip()

    def request(
        self, method: str, path: str, token: str | None = None, body: Any = None
    ) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.api_url}{path}", data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode(errors="replace")

    def portal(self, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
        """A request as the customer's portal page makes it: the link's token in X-Portal-Token, no bearer."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.api_url}{path}", data=data, method=method,
                                         headers={"X-Portal-Token": token, "Content-Type": "application/json"})  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def mails_to(self, address: str) -> list[dict[str, Any]]:
        """What the stack's outbox holds for one address, oldest first (with each mail's text)."""
        result = self.cli("outbox", "--json", "--to", address)
        assert result.returncode == 0, result.stderr
        return list(json.loads(result.stdout)["items"])

    def send_mail(self, message: EmailMessage | bytes, *, mail_from: str | None = None,
                  to: list[str] | None = None) -> None:  # fmt: skip
        with smtplib.SMTP(*self.smtp, timeout=30) as client:
            if isinstance(message, EmailMessage):
                client.send_message(message, from_addr=mail_from, to_addrs=to)
            else:
                assert mail_from is not None and to, "raw bytes need an envelope sender and recipients"
                client.sendmail(mail_from, to, message)

    def aws(self, service: str) -> Any:
        """A client aimed at the stack as a user would aim one: AWS_ENDPOINT_URL only (DynamoDB is relayed)."""
        if service not in self._clients:
            import boto3

            self._clients[service] = boto3.client(
                service, endpoint_url=self.aws_endpoint, region_name="us-east-1",
                aws_access_key_id="testing", aws_secret_access_key="testing",
            )  # fmt: skip
        return self._clients[service]

    def wait_until(self, condition: Callable[[], T], timeout: float = 15.0, interval: float = 0.2) -> T:
        """Poll until `condition()` is truthy. Timeouts are upper bounds on a shared, noisy machine, never timing
        assertions: TICKETING_E2E_TIMEOUT_SCALE (default 2) stretches them all."""
        timeout *= float(os.environ.get("TICKETING_E2E_TIMEOUT_SCALE", "2"))
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {timeout}s; stack log tail:\n{self.logs()[-3000:]}")
            time.sleep(interval)

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout: float = 10.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
            raise AssertionError(f"the local stack did not stop within {timeout}s:\n{self.logs()[-3000:]}") from None

    def restart(self, stop_timeout: float = 60.0) -> RunningStack:
        """Stop this stack (it must exit cleanly) and start `ticketing run` again on the same data folder."""
        status = self.stop(timeout=stop_timeout)
        assert status == 0, f"the stack exited with {status}:\n{self.logs()[-3000:]}"
        runs = len(list(self.workdir.glob("stack*.log")))
        return start_local_stack(self.workdir, log_name=f"stack-{runs + 1}.log")


def stack_environment(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _TEST_ONLY_VARIABLES and not k.endswith("_TABLE")}
    api_port, smtp_port, aws_port, dynamodb_port = free_ports(4)
    env.update(
        TICKETING_API_PORT=str(api_port),
        TICKETING_SMTP_PORT=str(smtp_port),
        TICKETING_AWS_PORT=str(aws_port),
        TICKETING_DYNAMODB_PORT=str(dynamodb_port),
        TICKETING_STATE_FILE=str(workdir / "stack.json"),
        PYTHONUNBUFFERED="1",
    )
    return env


def start_local_stack(workdir: Path, log_name: str = "stack.log") -> RunningStack:
    """Start `python -m ticketing run` with its data in `workdir` and return once GET /health answers 200."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = stack_environment(workdir)
    log_path = workdir / log_name
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "ticketing", "run"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    stack = RunningStack(
        api_url=f"http://{HOST}:{env['TICKETING_API_PORT']}",
        smtp=(HOST, int(env["TICKETING_SMTP_PORT"])),
        aws_endpoint=f"http://{HOST}:{env['TICKETING_AWS_PORT']}",
        dynamodb_endpoint=f"http://{HOST}:{env['TICKETING_DYNAMODB_PORT']}",
        env=env,
        process=process,
        log_path=log_path,
        workdir=workdir,
    )
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        if process.poll() is not None:
            raise AssertionError(f"`ticketing run` exited with {process.returncode}:\n{stack.logs()[-5000:]}")
        try:
            if stack.request("GET", "/health")[0] == 200:
                return stack
        except OSError:
            pass
        if time.monotonic() > deadline:
            stack.stop()
            raise AssertionError(f"GET /health never answered 200:\n{stack.logs()[-5000:]}")
        time.sleep(0.25)


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    stack = start_local_stack(tmp_path_factory.mktemp("local-stack"))
    try:
        yield stack
    finally:
        stack.stop()
