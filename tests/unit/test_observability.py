"""What the logs may hold: ids and hashes, never customer addresses, reply tokens or bearer tokens; and each
handler's lines carry its own function name even when handlers run side by side in one process."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from shared.observability import bind_ticket, log_invocation, logger, redact

pytestmark = pytest.mark.unit

@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What the product's logger writes, through its own formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger._logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger._logger.removeHandler(handler)


TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbi1jbGkiLCJyb2xlIjoiYWRtaW4ifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


def test_addresses_become_stable_hashes_and_tokens_disappear():
    text = redact(f"from Budi@Pelanggan.co.id via support+T-ABC123.x9f2@example.com to support@example.com {TOKEN}")
    assert "pelanggan" not in text.lower() and "support+" not in text and "eyJ" not in text
    assert "support@example.com" in text  # the support mailbox itself names nobody
    assert redact("budi@pelanggan.co.id") == redact("BUDI@pelanggan.co.id")  # lines about one customer correlate
    assert redact("budi@pelanggan.co.id") != redact("rina@pelanggan.co.id")


def test_a_log_line_never_carries_an_address_even_in_extra_keys_or_exceptions(log_lines):
    try:
        raise ValueError("no agent for rina@pelanggan.co.id")
    except ValueError:
        logger.exception("failed", extra={"address": "budi@pelanggan.co.id", "reply_to": "support+tok@example.com"})
    out = log_lines.getvalue()
    assert "failed" in out and "@pelanggan" not in out and "support+tok" not in out


@dataclass
class Context:
    function_name: str
    aws_request_id: str
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:x"


def test_handlers_running_side_by_side_each_log_under_their_own_name(log_lines):
    barrier = threading.Barrier(2)

    @log_invocation
    def handler(event: dict, context: Context) -> None:
        bind_ticket(event["ticket"])
        barrier.wait()
        for n in range(20):
            logger.info("working", extra={"n": n, "expect": context.function_name})
            if n == 10:
                barrier.wait(timeout=5)

    threads = [
        threading.Thread(target=handler, args=({"ticket": name}, Context(name, f"req-{name}")))
        for name in ("ticketing-IngestFunction", "ticketing-RouteFunction")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    lines = [json.loads(line) for line in log_lines.getvalue().splitlines() if '"working"' in line]
    assert len(lines) == 40
    assert all(line["function_name"] == line["expect"] == line["ticket_id"] for line in lines)
    assert all(line["function_request_id"] == "req-" + line["expect"] for line in lines)
