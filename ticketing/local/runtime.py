"""Playing the Lambda runtime in-process: handler loading, the context object and async invocation.

moto cannot run Lambda functions without Docker, so the local stack imports each handler named
in the template and calls it with the events AWS would send. Handlers are imported lazily, after the environment
points at the emulator, because table names are read at import time.
"""

from __future__ import annotations

import importlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

# Not under "ticketing": Powertools' Logger(service="ticketing") owns that name and would reformat these lines.
log = logging.getLogger(__name__.replace("ticketing.local", "local_stack"))

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int = 512
    timeout_seconds: int = 30
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic, repr=False)

    def __post_init__(self) -> None:
        if not self.log_group_name:
            self.log_group_name = f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._started + self.timeout_seconds - time.monotonic()) * 1000))


@dataclass(frozen=True)
class FunctionTarget:
    """A handler plus the identity it runs under (what a Lambda function is, for the local stack)."""

    name: str
    arn: str
    handler: Handler
    memory_mb: int = 512
    timeout_seconds: int = 30

    def invoke(self, event: dict[str, Any]) -> Any:
        context = LambdaContext(
            function_name=self.name,
            invoked_function_arn=self.arn,
            memory_limit_in_mb=self.memory_mb,
            timeout_seconds=self.timeout_seconds,
        )
        return self.handler(event, context)


def load_handler(dotted: str) -> Handler:
    """`package.module.function` (a template's Handler) as a callable, imported on first use."""
    module_name, _, attribute = dotted.rpartition(".")
    if not module_name:
        raise ValueError(f"handler {dotted!r} must be <module>.<function>")
    resolved: list[Handler] = []
    lock = threading.Lock()

    def handler(event: dict[str, Any], context: Any) -> Any:
        if not resolved:
            with lock:
                if not resolved:
                    resolved.append(getattr(importlib.import_module(module_name), attribute))
        return resolved[0](event, context)

    handler.__qualname__ = dotted
    return handler


class AsyncInvoker:
    """Lambda's asynchronous invocation (InvocationType Event), as SES uses it for a receipt rule's action.

    The caller gets control back at once; the handler runs on a worker thread, is retried `max_retries` times on
    an exception, and an event that still fails is parked in the function's dead-letter queue, with the same
    message attributes Lambda adds, so it is never silently lost. Each submission's future says whether the
    event is done with (handled, or parked): False when it was not, because the invoker was stopping.
    """

    def __init__(
        self,
        target: FunctionTarget,
        *,
        max_retries: int = 2,
        retry_delays: Sequence[float] = (1.0, 2.0),
        dead_letter: Callable[[dict[str, Any], str, str], None] | None = None,
        workers: int = 4,
    ) -> None:
        self._target = target
        self._max_retries = max_retries
        self._retry_delays = tuple(retry_delays) or (0.0,)
        self._dead_letter = dead_letter
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"invoke-{target.name}")
        self._stopping = threading.Event()
        self._futures: set[Future[bool]] = set()
        self._futures_lock = threading.Lock()

    @property
    def function_arn(self) -> str:
        return self._target.arn

    def submit(self, event: dict[str, Any]) -> Future[bool]:
        future = self._executor.submit(self._run, event)
        with self._futures_lock:
            self._futures.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: Future[bool]) -> None:
        with self._futures_lock:
            self._futures.discard(future)

    def shutdown(self, timeout: float = 10.0) -> bool:
        """Stop taking events: queued ones are cancelled (their futures say so: the caller keeps them for later),
        running ones may finish within `timeout` (retry back-offs are cut short, and a failure while stopping is
        not retried or parked). Returns whether every running invocation finished in time."""
        self._stopping.set()
        self._executor.shutdown(wait=False, cancel_futures=True)
        with self._futures_lock:
            running = set(self._futures)
        _, unfinished = wait(running, timeout=timeout)
        if unfinished:
            log.warning("%s: %d invocation(s) still running after %.0f s; they are kept for the next start",
                        self._target.name, len(unfinished), timeout)  # fmt: skip
        return not unfinished

    def _run(self, event: dict[str, Any]) -> bool:
        request_id = str(uuid.uuid4())
        error: BaseException | None = None
        for attempt in range(self._max_retries + 1):
            if attempt:
                if self._stopping.is_set():
                    log.warning("%s: stopping; the failed event is left for the next start", self._target.name)
                    return False
                delay = self._retry_delays[min(attempt - 1, len(self._retry_delays) - 1)]
                if self._stopping.wait(delay):
                    log.warning("%s: stopping; the failed event is left for the next start", self._target.name)
                    return False
            try:
                self._target.invoke(event)
                return True
            except Exception as exc:  # noqa: BLE001 - any handler failure is what Lambda retries
                error = exc
                log.exception("%s failed (attempt %d of %d)", self._target.name, attempt + 1, self._max_retries + 1)
        assert error is not None
        log.error("%s: giving up after %d attempts; parking the event", self._target.name, self._max_retries + 1)
        if self._dead_letter is not None:
            try:
                self._dead_letter(event, request_id, f"{type(error).__name__}: {error}")
                return True
            except Exception:  # noqa: BLE001
                log.exception("could not park the failed event (request %s) in the DLQ; it stays in the spool", request_id)
        return False


def sqs_dead_letter(sqs_client: Any, queue_url: str) -> Callable[[dict[str, Any], str, str], None]:
    """Park a failed async event in an SQS queue the way Lambda's DeadLetterConfig does."""

    def park(event: dict[str, Any], request_id: str, error_message: str) -> None:
        sqs_client.send_message(
            QueueUrl=queue_url,
            MessageBody=json.dumps(event),
            MessageAttributes={
                "RequestID": {"DataType": "String", "StringValue": request_id},
                "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                "ErrorMessage": {"DataType": "String", "StringValue": error_message[:1000] or "error"},
            },
        )

    return park


class PollingThread:
    """The life of an event source mapping's poller: a daemon thread running `_loop` until asked to stop."""

    name: str
    _stop: threading.Event
    _thread: threading.Thread | None

    def _loop(self) -> None:
        raise NotImplementedError

    def _prepare(self) -> None:
        """Checked before the thread starts, so a missing queue or stream fails the start, not the thread."""

    def _stop_timeout(self) -> float:
        return 10.0

    def start(self) -> None:
        self._prepare()
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=f"poll-{self.name}", daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        """Ask the thread to stop without waiting (stop several pollers at once, then `stop()` each)."""
        self._stop.set()

    def stop(self, timeout: float | None = None) -> None:
        """Stop after the current read and handler call."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout if timeout is not None else self._stop_timeout())
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
