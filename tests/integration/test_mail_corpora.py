"""Real-world mail through the whole intake: every message ends as a ticket, a message on a ticket, or a
quarantine entry with its reason — none is dropped as a "duplicate" of somebody else's mail.

CPython's own email test messages (tests/mails/cpython, copied into the project) share Message-IDs between
different mails, lack senders, carry delivery reports and broken MIME: the shapes that once made five of them
vanish.
"""

from __future__ import annotations


import pytest

from shared.storage.models import QuarantineModel, ThreadItemModel, TicketModel
from tests.conftest import MAILS
from tests.support import deliver

pytestmark = pytest.mark.integration

CPYTHON = sorted((MAILS / "cpython").glob("msg_*.txt"))


def test_the_cpython_corpus_is_in_the_project():
    assert len(CPYTHON) == 48


def test_every_cpython_test_mail_is_accounted_for(aws):
    results = {path.name: deliver(aws.s3, path.read_bytes(), delivery_id=f"cpython-{path.stem}") for path in CPYTHON}

    outcomes = {name: result["outcome"] for name, result in results.items()}
    assert set(outcomes.values()) <= {"created", "threaded", "follow_up", "quarantined", "duplicate"}, outcomes
    items = list(ThreadItemModel.scan())
    inbound = [m for m in items if m.item_type == "message" and m.direction == "inbound"]
    duplicates = [e for e in items if e.item_type == "event" and e.type == "message.duplicate"]
    quarantined = list(QuarantineModel.scan())
    traces = [m.raw_key for m in inbound] + [e.data.as_dict()["raw_key"] for e in duplicates] + [q.raw_key for q in quarantined]
    assert sorted(traces) == sorted(f"inbound/cpython-{path.stem}" for path in CPYTHON)  # each mail exactly once
    assert all(q.reason and q.detail for q in quarantined)
    # one sender's five mails under <15090.61304.110929.45684@aaa.zzz.org>: four are the same mail with other
    # headers (one ticket, three duplicate deliveries recorded on it), one says something else (its own ticket)
    shared_id = [m for m in inbound if m.email_message_id == "<15090.61304.110929.45684@aaa.zzz.org>"]
    assert len(shared_id) == 2 and len({m.ticket_id for m in shared_id}) == 2
    assert sum(1 for e in duplicates if e.ticket_id in {m.ticket_id for m in shared_id}) == 3
    assert len(list(TicketModel.scan())) == len({m.ticket_id for m in inbound})

