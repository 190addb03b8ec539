"""`ticketing run`: the whole system on 127.0.0.1 with no AWS account.

Order matters: the emulator starts and the environment points at it before any handler module is imported;
the template's data plane is provisioned and its resolved function environment exported; then the queue pollers,
the schedules, the SMTP intake and finally the API start, so `GET /health` answering means everything is up.
Stopping runs the same steps backwards, letting in-flight invocations finish.
"""

from __future__ import annotations

import importlib
import logging
import os
import signal
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from ticketing.local.emulator import LOCAL_HOST, AwsEmulator, point_environment_at
from ticketing.local.stack_state import remove_state, state_file, write_state
from ticketing.local.template import TEMPLATE_PATH, functions, load_template

# Not under "ticketing": Powertools' Logger(service="ticketing") owns that name and would reformat these lines.
log = logging.getLogger(__name__.replace("ticketing.local", "local_stack"))

_FORWARDED_ENV = ("AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_ACCOUNT_ID_ENDPOINT_MODE")


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
    host: str = LOCAL_HOST
    stack_name: str = "ticketing-local"
    stage: str = "local"
    support_domain: str | None = None
    template_path: Path = TEMPLATE_PATH
    state_path: Path = field(default_factory=state_file)

    @classmethod
    def from_env(cls) -> LocalStackConfig:
        return cls(
            api_port=_port("TICKETING_API_PORT", cls.api_port),
            smtp_port=_port("TICKETING_SMTP_PORT", cls.smtp_port),
            aws_port=_port("TICKETING_AWS_PORT", cls.aws_port),
            support_domain=os.environ.get("TICKETING_SUPPORT_DOMAIN") or None,
        )


class LocalStack:
    """Emulator, provisioned data plane, queue pollers, schedules, SMTP intake and API, started and stopped
    together."""

    def __init__(self, config: LocalStackConfig) -> None:
        self.config = config
        self.emulator = AwsEmulator(config.aws_port, config.host)
        self.provisioned: Any = None
        self.pollers: list[Any] = []
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
        self.emulator.start()
        self._started.append("emulator")
        point_environment_at(self.emulator.endpoint_url)

        # Imported only now: moto and the handlers' dependencies read the environment at import.
        from ticketing.local.api_server import ApiServer
        from ticketing.local.provision import provision
        from ticketing.local.queue_pollers import pollers_from_template
        from ticketing.local.schedules import Scheduler
        from ticketing.local.smtp_intake import SmtpIntake, receipt_rules_from_template

        template = load_template(self.config.template_path)
        parameters = {"Stage": self.config.stage}
        if self.config.support_domain:
            parameters["SupportDomain"] = self.config.support_domain
        self.provisioned = provision(template, stack_name=self.config.stack_name, parameters=parameters)
        self.environment = self.provisioned.function_environment()
        for spec in functions(template).values():
            for name, value in self.provisioned.function_environment(spec).items():
                if self.environment.setdefault(name, value) != value:
                    log.warning(
                        "%s sets %s differently; in-process handlers share one environment", spec.logical_id, name
                    )
        os.environ.update(self.environment)
        self._warm_handlers(template)

        self.pollers = pollers_from_template(self.provisioned)
        self._started.append("pollers")
        for poller in self.pollers:
            poller.start()

        # After the pollers, so what a scheduled run enqueues is picked up; stopped before them for the same reason.
        self.scheduler = Scheduler.from_template(self.provisioned)
        self._started.append("schedules")
        self.scheduler.start()

        from ticketing.local.outbox import Outbox

        self.outbox = Outbox(self.config.state_path.parent / "outbox", self.provisioned.region)
        self.outbox.start()
        self._started.append("outbox")

        self.smtp = SmtpIntake(receipt_rules_from_template(self.provisioned), port=self.config.smtp_port,
                               host=self.config.host)  # fmt: skip
        self.smtp.start()
        self._started.append("smtp")

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
            "pollers": self._stop_pollers,
            "outbox": lambda: self.outbox.stop(),
            "emulator": self.emulator.stop,
        }
        while self._started:
            name = self._started.pop()
            try:
                steps[name]()
            except Exception:  # noqa: BLE001
                log.exception("stopping %s failed", name)

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
            "outbox": str(self.config.state_path.parent / "outbox"),
            "env": env,
        }

    def banner(self) -> str:
        api = self.api.url
        console = next((f"{api}{path}" for path in ("/console", "/console/", "/") if self.api.has_route(path)), None)
        exports = " ".join(
            f"{name}={os.environ[name]}"
            for name in ("AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
            if name in os.environ
        )
        pollers = ", ".join(poller.name for poller in self.pollers) or "none (no function has an SQS event yet)"
        schedules = self.scheduler.banner_lines() if self.scheduler is not None else ["none"]
        lines = [
            "",
            f"Ticketing local stack is up (stack {self.config.stack_name}, stage {self.config.stage})",
            "",
            f"  API               {api}   (GET /health, /openapi.json, /v1/...)",
            f"  Console           {console or 'not served yet (no console route in the API)'}",
            f"  SMTP intake       {self.config.host}:{self.config.smtp_port}   "
            f"mail to {self.support_address} (any address @{self.support_address.split('@')[1]})",
            f"  AWS emulator      {self.emulator.endpoint_url}   (moto, region {os.environ.get('AWS_DEFAULT_REGION')})",
            f"  Queue pollers     {pollers}",
            f"  Schedules         {schedules[0]}",
            *[f"                    {line}" for line in schedules[1:]],
            f"  State file        {self.config.state_path}",
            "",
            "  A bearer token for the API:",
            "    .venv/bin/ticketing token --role agent",
            f'    curl -H "Authorization: Bearer $(.venv/bin/ticketing token --role agent)" {api}/v1/tickets',
            "  Point the aws CLI or boto3 at the emulator:",
            f"    export {exports}",
            *[f"    export {name}={value}" for name, value in sorted(self.environment.items())
              if name.endswith(("_TABLE", "_QUEUE_URL")) or name in ("MAIL_BUCKET", "SIGNING_SECRET_NAME")],
            "",
            "Press Ctrl-C to stop.",
            "",
        ]  # fmt: skip
        return "\n".join(lines)


def run(config: LocalStackConfig | None = None) -> int:
    """Start everything, print where it listens, block until SIGINT/SIGTERM, stop cleanly; the exit status."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
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
        except OSError as exc:
            print(f"ticketing run: cannot start the local stack: {exc}", file=sys.stderr)
            print("Is another local stack running? Ports: TICKETING_API_PORT, TICKETING_SMTP_PORT, "
                  "TICKETING_AWS_PORT.", file=sys.stderr)  # fmt: skip
            return 1
        except Exception as exc:  # noqa: BLE001 - report and exit non-zero instead of a bare traceback
            log.exception("the local stack failed to start")
            print(f"ticketing run: cannot start the local stack: {exc}", file=sys.stderr)
            return 1
        print(stack.banner(), flush=True)
        while not stopping.wait(0.5):
            pass
        print("Stopping the local stack...", flush=True)
        stack.stop()
        print("Stopped.", flush=True)
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
