"""CPython's 48 email test messages over SMTP into the local stack (DynamoDB Local's real validation included):
every one ends as a message on a ticket, a duplicate delivery recorded on its ticket, or a quarantine entry with
its reason — the same accounting tests/integration/test_mail_corpora.py makes on moto."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import MAILS
from tests.e2e.conftest import RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CPYTHON = sorted((MAILS / "cpython").glob("msg_*.txt"))


def traces(stack: RunningStack, lead: str) -> dict[str, list[Any]]:
    status, listing = stack.request("GET", "/v1/tickets?limit=100", token=lead)
    assert status == 200, listing
    messages, duplicates = [], []
    for item in listing["items"]:
        detail = stack.request("GET", f"/v1/tickets/{item['id']}", token=lead)[1]
        messages += [m for m in detail["messages"] if m["direction"] == "inbound"]
        duplicates += [e for e in detail["events"] if e["type"] == "message.duplicate"]
    status, quarantine = stack.request("GET", "/v1/quarantine?limit=200", token=lead)
    assert status == 200, quarantine
    return {"messages": messages, "duplicates": duplicates, "quarantined": quarantine["items"]}


def test_every_cpython_test_mail_sent_over_smtp_is_accounted_for(local_stack: RunningStack) -> None:
    assert len(CPYTHON) == 48
    for path in CPYTHON:  # on the wire, as any mail server sends it: CRLF line ends
        wire = re.sub(rb"\r?\n", b"\r\n", path.read_bytes())
        local_stack.send_mail(wire, mail_from="corpus@pelanggan.co.id", to=["support@example.com"])
    lead = local_stack.token("supervisor")

    def all_in() -> dict[str, list[Any]] | None:
        found = traces(local_stack, lead)
        return found if sum(len(v) for v in found.values()) >= len(CPYTHON) else None

    found = local_stack.wait_until(all_in, timeout=90)
    keys = (
        [m["raw_key"] for m in found["messages"]]
        + [e["data"]["raw_key"] for e in found["duplicates"]]
        + [q["raw_key"] for q in found["quarantined"]]
    )
    assert len(keys) == len(set(keys)) == len(CPYTHON)  # each mail exactly once
    assert all(q["reason"] for q in found["quarantined"])
    assert "ERROR" not in local_stack.logs(), local_stack.logs()[-3000:]
