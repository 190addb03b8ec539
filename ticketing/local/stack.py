"""`ticketing run`: the whole system on 127.0.0.1 with no AWS account.

Order matters: DynamoDB Local and the moto emulator start and the environment points at them before any handler
module is imported; the template's data plane is provisioned (tables in DynamoDB Local, reused when they exist)
and its resolved function environment exported; what the last run left is put back (bucket objects, queued
messages, the signing key's value); then the queue pollers, the schedules, the SMTP intake (which first replays
accepted mail it had not ingested) and finally the API start, so `GET /health` answering means everything is up.
Stopping runs the same steps backwards: the SMTP intake stops accepting before the pipeline stops, and what is
still in the queues and the bucket is saved, all into the data folder (ticketing/local/persistence.py).
"""

from __future__ import annotations

import importlib
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from ticketing.local.dynamodb_local import DynamoDBLocal, DynamoDBLocalError
from ticketing.local.emulator import LOCAL_HOST, AwsEmulator, point_environment_at
from ticketing.local.persistence import (
    BucketMirror,
    DataFolder,
    DataFolderInUse,
    KeptSecrets,
    resend_pending_messages,
    save_pending_messages,
)
from ticketing.local.stack_state import remove_state, state_file, write_state
from ticketing.local.template import TEMPLATE_PATH, functions, load_template

# Not under "ticketing": Powertools' Logger(service="ticketing") owns that name and would reformat these lines.
log = logging.getLogger(__name__.replace("ticketing.local", "local_stack"))

# The deployed API's Cognito user pool: locally agents sign in through the dev sign-in (the stack's own tokens).
CLOUD_ONLY_VARIABLES = ("COGNITO_ISSUER", "COGNITO_CLIENT_ID", "COGNITO_CLIENT_ID_PARAMETER", "PUBLIC_URL_PARAMETER")

_FORWARDED_ENV = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_DYNAMODB_STREAMS",
                  "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_ACCOUNT_ID_ENDPOINT_MODE")  # fmt: skip


def _port(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        port = int(raw)
    except ValueError as exc:
        raise SystemExit(f"{name} must be a port number, got {raw!r}") from exc
    if not 0 <= port <= 65535:
        raise SystemExit(f"{name} must be a port number, got {raw!r}")
    return port


@dataclass(frozen=True)
class LocalStackConfig:
    """Where everything listens; each port is overridable by environment variable."""

    api_port: int = 8000
    smtp_port: int = 2525
    aws_port: int = 4566
    dynamodb_port: int = 4567
    host: str = LOCAL_HOST
    stack_name: str = "ticketing-local"
    stage: str = "local"
    support_domain: str | None = None
    template_path: Path = TEMPLATE_PATH
    state_path: Path = field(default_factory=state_file)

    @property
    def data_dir(self) -> Path:
        """Everything the stack keeps between runs lives next to its state file (`.local/` by default)."""
        return self.state_path.parent

    @classmethod
    def from_env(cls) -> LocalStackConfig:
        return cls(
            api_port=_port("TICKETING_API_PORT", cls.api_port),
            smtp_port=_port("TICKETING_SMTP_PORT", cls.smtp_port),
            aws_port=_port("TICKETING_AWS_PORT", cls.aws_port),
            dynamodb_port=_port("TICKETING_DYNAMODB_PORT", cls.dynamodb_port),
            support_domain=os.environ.get("TICKETING_SUPPORT_DOMAIN") or None,
        )


class LocalStack:
    """Emulator, provisioned data plane, queue pollers, schedules, SMTP intake and API, started and stopped
    together."""

    def __init__(self, config: LocalStackConfig) -> None:
        self.config = config
        self.data = DataFolder(config.data_dir)
        self.dynamodb = DynamoDBLocal(config.dynamodb_port, self.data.dynamodb, config.host,
                                      log_path=self.data.dynamodb_log)  # fmt: skip
        self.emulator = AwsEmulator(config.aws_port, config.host, dynamodb_url=self.dynamodb.endpoint_url)
        self.provisioned: Any = None
        self.mirror: BucketMirror | None = None
        self.restored: dict[str, int] = {}
        self._queues: dict[str, str] = {}  # logical id -> queue URL
        self.pollers: list[Any] = []
        self.stream_pollers: list[Any] = []
        self.scheduler: Any = None
        self.smtp: Any = None
        self.api: Any = None
        self.environment: dict[str, str] = {}
        self._started: list[str] = []

    # -------------------------------------------------------------------------------------- start

    def start(self) -> None:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        self.data.acquire()  # one stack per data folder; `ticketing reset` checks the same lock
        self._started.append("lock")
        self.dynamodb.launch()  # the JVM takes seconds to start: the emulator starts and modules load meanwhile
        self._started.append("dynamodb")
        self.emulator.start()
        self._started.append("emulator")
        point_environment_at(self.emulator.endpoint_url, dynamodb_url=self.dynamodb.endpoint_url)

        # Imported only now: moto and the handlers' dependencies read the environment at import.
        import boto3

        from ticketing.local.api_server import ApiServer
        from ticketing.local.outbox import Outbox
        from ticketing.local.provision import BUCKET, QUEUE, provision
        from ticketing.local.queue_pollers import pollers_from_template
        from ticketing.local.schedules import Scheduler
        from ticketing.local.smtp_intake import SmtpIntake, receipt_rules_from_template

        template = load_template(self.config.template_path)
        parameters = {"Stage": self.config.stage}
        if self.config.support_domain:
            parameters["SupportDomain"] = self.config.support_domain
        self.provisioned = provision(template, stack_name=self.config.stack_name, parameters=parameters,
                                     secret_values=KeptSecrets(self.data.secrets),
                                     before_direct=self.dynamodb.wait_ready)  # fmt: skip
        self.environment = self.provisioned.function_environment(cloud_only=CLOUD_ONLY_VARIABLES)
        # The platforms' send APIs, faked and recording; before the handlers import settings, which read their URLs
        from ticketing.local.channel_fakes import ChannelFakes

        self.channel_fakes = ChannelFakes(self.data.channels, host=self.config.host, callback=self._post_webhook)
        self.channel_fakes.start()
        self._started.append("channel-fakes")
        self.environment.update(self.channel_fakes.environment())
        for spec in functions(template).values():
            for name, value in self.provisioned.function_environment(spec, cloud_only=CLOUD_ONLY_VARIABLES).items():
                if self.environment.setdefault(name, value) != value:
                    log.warning(
                        "%s sets %s differently; in-process handlers share one environment", spec.logical_id, name
                    )
        # the help centre and customers' portal links: this stack's own console (PUBLIC_URL set outside wins)
        host = "127.0.0.1" if self.config.host in ("0.0.0.0", "::", "") else self.config.host
        self.environment["PUBLIC_URL"] = os.environ.get("PUBLIC_URL") or f"http://{host}:{self.config.api_port}"
        os.environ.update(self.environment)
        self._warm_handlers(template)

        resources = template["Resources"]
        refs = self.provisioned.refs
        buckets = [refs[name] for name, r in resources.items() if r.get("Type") == BUCKET and name in refs]
        self._queues = {name: refs[name] for name, r in resources.items() if r.get("Type") == QUEUE and name in refs}
        self.mirror = BucketMirror(self.data.s3, buckets)
        self.restored["objects"] = self.mirror.restore(boto3.client("s3"))
        self.mirror.start()
        self._started.append("s3-mirror")

        # Before the pollers, so its last flush (at stop) comes after their last invocation.
        self.outbox = Outbox(self.data.outbox, self.provisioned.region)
        self.outbox.start()
        self._started.append("outbox")

        self.restored["messages"] = resend_pending_messages(self.data.pending_messages, self._queues,
                                                            boto3.client("sqs"))  # fmt: skip
        self._started.append("sqs-pending")

        self.pollers = pollers_from_template(self.provisioned)
        self._started.append("pollers")
        for poller in self.pollers:
            poller.start()
        from ticketing.local.stream_pollers import stream_pollers_from_template

        self.stream_pollers = stream_pollers_from_template(self.provisioned)
        self._started.append("stream-pollers")
        for stream_poller in self.stream_pollers:
            stream_poller.start()

        # After the pollers, so what a scheduled run enqueues is picked up; stopped before them for the same reason.
        self.scheduler = Scheduler.from_template(self.provisioned)
        self._started.append("schedules")
        self.scheduler.start()

        self.smtp = SmtpIntake(receipt_rules_from_template(self.provisioned), port=self.config.smtp_port,
                               host=self.config.host, spool=self.data.spool)  # fmt: skip
        self._started.append("smtp")
        self.smtp.start()
        self.restored["mails"] = self.smtp.replayed
        if any(self.restored.values()):
            log.info("kept from the last run: %d bucket object(s), %d queued message(s), %d mail(s) to ingest",
                     self.restored["objects"], self.restored["messages"], self.restored["mails"])  # fmt: skip

        self.api = ApiServer(port=self.config.api_port, host=self.config.host)
        # The state file goes first: once GET /health answers, `ticketing token` must already find the stack.
        write_state(self.state(), self.config.state_path)
        self._started.append("state")
        self.api.start()
        self._started.append("api")

    @staticmethod
    def _warm_handlers(template: dict[str, Any]) -> None:
        """Import every handler now, so a broken one shows at start-up rather than on the first event."""
        for spec in functions(template).values():
            module = spec.handler.rpartition(".")[0]
            try:
                importlib.import_module(module)
            except Exception:  # noqa: BLE001 - keep the rest of the stack usable
                log.exception("handler %s of %s cannot be imported yet; its events will fail", module, spec.logical_id)

    # -------------------------------------------------------------------------------------- stop

    def stop(self) -> None:
        """Stop in reverse order; each step runs even if an earlier one failed."""
        steps = {
            "state": lambda: remove_state(os.getpid(), self.config.state_path),
            "api": lambda: self.api.stop(),
            "smtp": lambda: self.smtp.stop(),
            "schedules": lambda: self.scheduler.stop(),
            "stream-pollers": self._stop_stream_pollers,
            "pollers": self._stop_pollers,
            "sqs-pending": self._save_pending_messages,
            "outbox": lambda: self.outbox.stop(),
            "channel-fakes": lambda: self.channel_fakes.stop(),
            "s3-mirror": lambda: self.mirror.stop() if self.mirror is not None else None,
            "emulator": self.emulator.stop,
            "dynamodb": self.dynamodb.stop,
            "lock": self.data.release,
        }
        while self._started:
            name = self._started.pop()
            began = time.monotonic()
            try:
                steps[name]()
            except Exception:  # noqa: BLE001
                log.exception("stopping %s failed", name)
            took = time.monotonic() - began
            if took > 1.0:
                log.info("stopping %s took %.1f s", name, took)

    def _post_webhook(self, webhook: str, payload: dict[str, Any]) -> int:
        """What a platform's callback does: its payload, signed with the channel's secret, to our webhook; how
        many receipts it applied."""
        from ticketing.local.dev_webhooks import post_signed

        status, body = post_signed(self.api.url, webhook, payload)
        return int(body.get("receipts", 0)) if status == 200 and isinstance(body, dict) else 0

    def _save_pending_messages(self) -> None:
        names = {logical_id: url.rstrip("/").rsplit("/", 1)[-1] for logical_id, url in self._queues.items()}
        saved = save_pending_messages(self.data.pending_messages, names, self.provisioned.region)
        if saved:
            log.info("%d queued message(s) saved for the next start", saved)

    def _stop_stream_pollers(self) -> None:
        for poller in self.stream_pollers:
            poller.request_stop()
        for poller in self.stream_pollers:
            poller.stop()

    def _stop_pollers(self) -> None:
        for poller in self.pollers:
            poller.request_stop()  # all at once, then join: shutdown takes one poll, not one per queue
        for poller in self.pollers:
            poller.stop()

    # -------------------------------------------------------------------------------------- reporting

    @property
    def support_address(self) -> str:
        return f"support@{self.environment.get('SUPPORT_DOMAIN', 'example.com')}"

    def state(self) -> dict[str, Any]:
        """What other CLI commands need to reach this stack (no credentials unless they are the fake ones)."""
        env = {name: os.environ[name] for name in _FORWARDED_ENV if name in os.environ}
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            if os.environ.get(name) == "testing":
                env[name] = "testing"
        env.update(self.environment)
        return {
            "pid": os.getpid(),
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "stack_name": self.config.stack_name,
            "api_url": self.api.url,
            "smtp": {"host": self.config.host, "port": self.config.smtp_port},
            "support_address": self.support_address,
            "aws_endpoint_url": self.emulator.endpoint_url,
            "dynamodb_endpoint_url": self.dynamodb.endpoint_url,
            "data_dir": str(self.data.root),
            "outbox": str(self.data.outbox),
            "channels": str(self.data.channels),
            "env": env,
        }

    def banner(self) -> str:
        api = self.api.url
        console = self.api.console_url
        exports = " ".join(
            f"{name}={os.environ[name]}"
            for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID",
                         "AWS_SECRET_ACCESS_KEY")  # fmt: skip
            if name in os.environ
        )
        started = f", started in {self.dynamodb.started_in:.1f} s" if self.dynamodb.started_in else ""
        pollers = ", ".join(poller.name for poller in self.pollers) or "none (no function has an SQS event yet)"
        schedules = self.scheduler.banner_lines() if self.scheduler is not None else ["none"]
        lines = [
            "",
            f"Ticketing local stack is up (stack {self.config.stack_name}, stage {self.config.stage})",
            "",
            f"  API               {api}   (GET /health, /openapi.json, /v1/...)",
            f"  Console           {console or 'not built: run `make console`'}   (dev sign-in: pick an agent)",
            f"  Channel fakes     {self.channel_fakes.url}   (WhatsApp, Messenger, Instagram, Telegram send APIs; "
            f"`ticketing outbox --channel whatsapp`; webhooks: `ticketing webhook whatsapp \"Halo\"`)",
            f"  SMTP intake       {self.config.host}:{self.config.smtp_port}   "
            f"mail to {self.support_address} (any address @{self.support_address.split('@')[1]})",
            f"  AWS emulator      {self.emulator.endpoint_url}   (moto: S3, SQS, SES, Secrets Manager, EventBridge; "
            f"region {os.environ.get('AWS_DEFAULT_REGION')}; DynamoDB calls are relayed to DynamoDB Local)",
            f"  DynamoDB          {self.dynamodb.endpoint_url}   (DynamoDB Local{started})",
            f"  Queue pollers     {pollers}",
            f"  Schedules         {schedules[0]}",
            *[f"                    {line}" for line in schedules[1:]],
            f"  State file        {self.config.state_path}",
            f"  Data              {self.data.root}   (kept across restarts; `.venv/bin/ticketing reset` clears it)",
            "",
            "  A bearer token for the API:",
            "    .venv/bin/ticketing token --role agent",
            f'    curl -H "Authorization: Bearer $(.venv/bin/ticketing token --role agent)" {api}/v1/tickets',
            "  Point the aws CLI or boto3 at the emulator (AWS_ENDPOINT_URL alone also reaches the tables):",
            f"    export {exports}",
            *[f"    export {name}={value}" for name, value in sorted(self.environment.items())
              if name.endswith(("_TABLE", "_QUEUE_URL")) or name in ("MAIL_BUCKET", "SIGNING_SECRET_NAME")],
            "",
            "Press Ctrl-C to stop.",
            "",
        ]  # fmt: skip
        return "\n".join(lines)


class _RedactingFormatter(logging.Formatter):
    """Email addresses (a customer's, a signed reply address) as short hashes and tokens as <token>, as the
    product's own logger writes them (shared.observability.redact)."""

    def format(self, record: logging.LogRecord) -> str:
        from shared.observability import redact

        return redact(super().format(record))


def run(config: LocalStackConfig | None = None) -> int:
    """Start everything, print where it listens, block until SIGINT/SIGTERM, stop cleanly; the exit status."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:  # the stack's own lines follow the product's rule: no addresses
        handler.setFormatter(_RedactingFormatter(handler.formatter._fmt if handler.formatter else None))
    for chatty in ("botocore", "boto3", "pynamodb", "mail.log"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    stack = LocalStack(config or LocalStackConfig.from_env())
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        if stopping.is_set():
            print("\nforced exit", file=sys.stderr, flush=True)
            os._exit(1)
        stopping.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            stack.start()
        except (DataFolderInUse, DynamoDBLocalError) as exc:
            print(f"ticketing run: cannot start the local stack: {exc}", file=sys.stderr)
            return 1
        except OSError as exc:
            print(f"ticketing run: cannot start the local stack: {exc}", file=sys.stderr)
            print("Is another local stack running? Ports: TICKETING_API_PORT, TICKETING_SMTP_PORT, "
                  "TICKETING_AWS_PORT, TICKETING_DYNAMODB_PORT.", file=sys.stderr)  # fmt: skip
            return 1
        except Exception as exc:  # noqa: BLE001 - report and exit non-zero instead of a bare traceback
            log.exception("the local stack failed to start")
            print(f"ticketing run: cannot start the local stack: {exc}", file=sys.stderr)
            return 1
        print(stack.banner(), flush=True)
        while not stopping.wait(0.5):
            pass
        print("Stopping the local stack...", flush=True)
        began = time.monotonic()
        stack.stop()
        print(f"Stopped. ({time.monotonic() - began:.1f} s)", flush=True)
        return 0
    finally:
        for sig, previous_handler in previous.items():
            signal.signal(sig, previous_handler)
