"""The folder counters on moto: after a day of creates, assignments, resolves, reopens, escalations, team moves,
a conflicting concurrent write and retried transactions, every counter equals a recount of the tickets — and a
team's folders are read with one Query."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalice.test import Client

from shared.adapters.secrets import signing_key
from shared.auth import issue_token
from shared.domain.errors import Conflict
from shared.domain.folders import recount
from shared.settings import get_settings
from shared.storage.folders import FolderCountRepository
from shared.storage.models import LISTING, TicketModel
from shared.storage.tickets import TicketRepository, to_ticket
from tests.support import compose, deliver

pytestmark = pytest.mark.integration


def call(method: str, path: str, body: Any = None, role: str = "supervisor", agent: str = "sari") -> tuple[int, Any]:
    from functions.api.app import app

    token = issue_token(signing_key(get_settings()), role, agent, teams=("support", "billing"))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with Client(app) as client:
        response = getattr(client.http, method.lower())(path, headers=headers, body=json.dumps(body) if body is not None else None)
    return response.status_code, json.loads(response.body) if response.body else None


def stored_counts() -> dict[tuple[str, str], int]:
    counts = FolderCountRepository().counts(None)
    return {(team, folder): n for team, folders in counts.items() for folder, n in folders.items() if n}


def true_counts() -> dict[tuple[str, str], int]:
    return recount(to_ticket(item).state() for item in TicketModel.all_by_created.query(LISTING))


def ok(status_reply: tuple[int, Any]) -> Any:
    status, reply = status_reply
    assert status in (200, 201), reply
    return reply


def test_a_days_changes_leave_every_counter_equal_to_a_recount(aws):
    for n, sender in enumerate(("budi@pelanggan.co.id", "ani@toko.id", "wati@kantor.id")):
        deliver(aws.s3, compose(sender=sender, subject=f"Masalah nomor {n}"))
    aws.route()
    assert stored_counts() == true_counts() and true_counts()[("support", "work#unassigned")] == 3

    ok(call("PUT", "/v1/agents/ani", {"team": "support", "capacity": 2, "presence": "online"}))
    aws.route()  # the queue drains onto ani: two in progress, one still waiting
    tickets = ok(call("GET", "/v1/tickets"))["items"]
    held = [t for t in tickets if t["assignee"] == "ani"]
    assert len(held) == 2 and stored_counts() == true_counts()

    ok(call("PATCH", f"/v1/tickets/{held[0]['id']}", {"status": "resolved"}))
    ok(call("PATCH", f"/v1/tickets/{held[0]['id']}", {"status": "open"}))  # reopened into the queue
    ok(call("PATCH", f"/v1/tickets/{held[1]['id']}", {"escalation_level": 1}))
    aws.route()
    assert stored_counts() == true_counts()

    repository = TicketRepository()
    moved = repository.get(held[1]["id"])
    assert moved is not None
    moved.team = "billing"
    repository.save(moved)
    assert stored_counts() == true_counts() and true_counts()[("billing", "work#escalated")] == 1

    first, second = repository.get(tickets[0]["id"]), repository.get(tickets[0]["id"])
    assert first is not None and second is not None
    first.status, second.status = "pending", "resolved"
    repository.save(first)
    with pytest.raises(Conflict):
        repository.save(second)  # the loser's counter moves are cancelled with its change
    assert stored_counts() == true_counts()


def test_a_retried_create_or_message_moves_no_counter_twice(aws):
    deliver(aws.s3, compose(subject="Tagihan ganda"))
    aws.route()
    before = stored_counts()
    repository = TicketRepository()
    [item] = list(TicketModel.all_by_created.query(LISTING))
    ticket = to_ticket(item)
    first, _ = repository.thread(ticket.id)
    assert repository.create(ticket, first[0], [], [ticket.ref]) is False  # a retried intake write
    ticket.status = "pending"
    assert repository.add_message(ticket, first[0], []) is False  # the message is there: nothing is written
    assert stored_counts() == before == true_counts()


def test_repair_adds_what_drifted_and_a_teams_folders_are_one_query(aws):
    deliver(aws.s3, compose(subject="Tidak bisa login"))
    aws.route()
    from shared.storage.models import FolderCountModel

    drift = [FolderCountModel.n.add(7), FolderCountModel.listing.set(LISTING)]
    FolderCountModel(team="support", counter="status#open#5").update(actions=drift)
    assert stored_counts() != true_counts()
    corrections = FolderCountRepository().repair()
    assert corrections == {("support", "status#open"): -7}
    assert stored_counts() == true_counts()

    reader = FolderCountRepository()
    counts = reader.counts(["support"])
    assert counts["support"]["status#open"] == 1 and counts["support"]["channel#email"] == 1
    assert reader.reads <= 8  # one Query: a handful of small items, whatever the number of tickets


def test_tickets_stored_before_the_polling_index_are_given_their_index_attributes_once(aws):
    from shared.domain.ports import TicketFilters

    deliver(aws.s3, compose(subject="Tidak bisa login"))
    aws.route()
    [item] = list(TicketModel.all_by_created.query(LISTING))
    item.update(actions=[TicketModel.changed_sort.remove()])  # as a ticket written by the earlier code
    repository = TicketRepository()
    polled = TicketFilters(updated_since="2000-01-01T00:00:00.000Z", teams=("support",))
    assert repository.list(polled).items == []
    assert repository.backfill_index_attributes() == 1
    assert [t.id for t in repository.list(polled).items] == [item.id]
    assert repository.backfill_index_attributes() == 0
