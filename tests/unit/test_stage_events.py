"""The messages between stages: every announcement on the route queue and every escalation timer reads back as
what was sent, messages queued before the contracts existed still read, and what is none of them is refused with
the kind and the field at fault (so the record fails and the queue's DLQ keeps it)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from shared.contracts.events import (
    ROUTE_EVENT_KINDS,
    AgentAvailable,
    CapacityFreed,
    EscalationTimer,
    MalformedEvent,
    MessageAdded,
    ReplySent,
    TeamDrain,
    TicketChanged,
    TicketCreated,
    parse_escalation_timer,
    parse_route_event,
    wire,
)
from shared.domain.errors import ValidationFailed
from shared.domain.model import Channel, Status

pytestmark = pytest.mark.unit

SAMPLES = Path(__file__).resolve().parents[2] / "events_samples"
AT = datetime(2026, 11, 2, 3, 15, tzinfo=timezone.utc)
TICKET = "01JB2M0Q8Z7Y1QJ2R5T8N4C6DX"
MESSAGE = "01JB2M0Q8Z4M3C8V0F6W3E9K2A"

ONE_OF_EACH = [
    TicketCreated(ticket_id=TICKET, message_id=MESSAGE, channel=Channel.EMAIL, automated=False,
                  suppress_auto_response=False, at=AT),
    MessageAdded(ticket_id=TICKET, message_id=MESSAGE, channel=Channel.CHAT, automated=True,
                 suppress_auto_response=True, reopened=False, at=AT),
    TicketChanged(ticket_id=TICKET, from_=Status.IN_PROGRESS, to=Status.RESOLVED, at=AT, reason="auto-reply reset"),
    ReplySent(ticket_id=TICKET, message_id=MESSAGE, at=AT),
    CapacityFreed(team="billing", ticket_id=TICKET),
    AgentAvailable(team="support", agent_id="siti"),
    TeamDrain(team="support", due_at=AT + timedelta(hours=2), why="shift starts"),
]  # fmt: skip


def over_the_queue(message: dict[str, Any]) -> Any:
    """What the route stage reads: the announcer's JSON body, decoded."""
    return json.loads(json.dumps(message, sort_keys=True))


def test_there_is_one_example_of_every_route_event_kind():
    assert sorted(e.event for e in ONE_OF_EACH) == sorted(ROUTE_EVENT_KINDS)


@pytest.mark.parametrize("event", ONE_OF_EACH, ids=lambda e: e.event)
def test_every_route_event_reads_back_as_it_was_sent(event):
    assert parse_route_event(over_the_queue(wire(event))) == event


def test_a_new_email_ticket_announced_before_the_contracts_still_routes():
    body = json.loads((SAMPLES / "sqs_route_announcement.json").read_text())["Records"][0]["body"]

    event = parse_route_event(json.loads(body))

    assert isinstance(event, TicketCreated)
    assert (event.ticket_id, event.message_id, event.channel, event.automated) == (TICKET, MESSAGE, Channel.EMAIL, False)
    assert event.at == AT and event.suppress_auto_response is False
    assert wire(event) == json.loads(body)  # and the producers still write exactly this


def test_the_shapes_the_other_producers_wrote_still_read():
    at = "2026-11-02T03:15:00.000Z"
    customer_wrote = {"event": "message.added", "ticket_id": TICKET, "message_id": MESSAGE, "channel": "email",
                      "automated": False, "suppress_auto_response": True, "reopened": True, "at": at}  # fmt: skip
    agent_resolved = {"event": "ticket.changed", "ticket_id": TICKET, "from": "in_progress", "to": "resolved", "at": at,
                      "reason": None}  # fmt: skip
    agent_replied = {"event": "reply.sent", "ticket_id": TICKET, "message_id": MESSAGE, "at": at}
    agent_online = {"event": "agent.available", "team": "support", "agent_id": "siti"}
    skill_wait_shorter = {"event": "capacity.freed", "team": "billing"}
    shift_starts = {"event": "team.drain", "team": "support", "due_at": at, "why": "shift starts"}

    added = parse_route_event(customer_wrote)
    changed = parse_route_event(agent_resolved)

    assert isinstance(added, MessageAdded) and added.reopened and added.suppress_auto_response and not added.automated
    assert isinstance(changed, TicketChanged)
    assert (changed.from_, changed.to, changed.reason, changed.at) == (Status.IN_PROGRESS, Status.RESOLVED, None, AT)
    assert wire(changed) == {k: v for k, v in agent_resolved.items() if v is not None}  # `from` on the wire, not `from_`
    assert parse_route_event(agent_replied) == ReplySent(ticket_id=TICKET, message_id=MESSAGE, at=AT)
    assert parse_route_event(agent_online) == AgentAvailable(team="support", agent_id="siti")
    assert parse_route_event(skill_wait_shorter) == CapacityFreed(team="billing")
    assert parse_route_event(shift_starts) == TeamDrain(team="support", due_at=AT, why="shift starts")


def test_the_ticket_created_builder_writes_the_shape_routing_has_always_read():
    from shared.services.intake import ticket_created

    assert ticket_created(TICKET, MESSAGE, "email", True, "2026-11-02T03:15:00.000Z") == {
        "event": "ticket.created",
        "ticket_id": TICKET,
        "message_id": MESSAGE,
        "channel": "email",
        "automated": True,
        "suppress_auto_response": True,  # automated mail is never answered
        "at": "2026-11-02T03:15:00.000Z",
    }
    # a ticket re-announced by the sweep without a first message leaves the id out instead of sending null
    assert "message_id" not in ticket_created(TICKET, None, "chat", False, "2026-11-02T03:15:00.000Z")


def test_times_are_held_in_utc_and_written_as_the_tables_carry_them():
    drain = parse_route_event({"event": "team.drain", "team": "support", "due_at": "2026-11-02T10:15:00.5+07:00", "why": ""})

    assert isinstance(drain, TeamDrain) and drain.due_at == AT + timedelta(milliseconds=500)
    assert drain.due_at.tzinfo == timezone.utc
    assert wire(drain)["due_at"] == "2026-11-02T03:15:00.500Z"


def test_a_field_a_newer_producer_adds_is_ignored_rather_than_sending_the_message_to_the_dlq():
    event = parse_route_event({"event": "capacity.freed", "team": "billing", "ticket_id": TICKET, "freed_by": "budi"})

    assert event == CapacityFreed(team="billing", ticket_id=TICKET)


def test_an_unknown_kind_is_refused_by_name():
    with pytest.raises(MalformedEvent, match=r"unknown route event 'ticket\.merged'"):
        parse_route_event({"event": "ticket.merged", "ticket_id": TICKET})


@pytest.mark.parametrize(
    ("message", "says"),
    [
        ({"ticket_id": TICKET}, "without an 'event' kind"),
        (["ticket.created"], "a JSON object, not list"),
        ({"event": "team.drain", "due_at": "2026-11-02T03:15:00.000Z", "why": "x"},
         r"team\.drain route event: team: Field required"),
        ({"event": "capacity.freed", "team": ""}, r"capacity\.freed route event: team: String should have at least 1"),
        ({"event": "ticket.created", "ticket_id": "NOPE", "message_id": "x"},
         r"ticket\.created route event: at: Field required; channel: Field required"),
        ({"event": "ticket.changed", "ticket_id": TICKET, "from": "open", "to": "gone", "at": "2026-11-02T03:15:00Z"},
         r"ticket\.changed route event: to: Input should be 'open'"),
        ({"event": "reply.sent", "ticket_id": TICKET, "message_id": MESSAGE, "at": "yesterday"},
         r"reply\.sent route event: at: Input should be a valid datetime"),
    ],
    ids=["no kind", "not an object", "drain without team", "empty team", "created without its fields", "unknown status",
         "not a time"],
)  # fmt: skip
def test_a_malformed_announcement_is_refused_naming_the_kind_and_the_field(message, says):
    with pytest.raises(MalformedEvent, match=says) as refused:
        parse_route_event(message)

    assert isinstance(refused.value, ValidationFailed)  # a domain error: the record fails and is retried, then the DLQ


def test_an_escalation_timer_reads_back_and_keeps_the_bytes_the_escalate_queue_always_carried():
    timer = EscalationTimer(ticket_id=TICKET, step=1, due_at=AT)

    body = json.dumps(wire(timer))

    assert body == json.dumps({"ticket_id": TICKET, "step": 1, "due_at": "2026-11-02T03:15:00.000Z"})
    assert parse_escalation_timer(body) == timer
    assert parse_escalation_timer(body.replace('"step": 1', '"step": -2')).step == -2  # the promise's pseudo-step


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ('{"ticket_id": "T1", "step": 1}', "due_at: Field required"),
        ('{"ticket_id": "T1", "step": "first", "due_at": "2026-11-02T03:15:00.000Z"}',
         "step: Input should be a valid integer"),
        ("step", "message: Invalid JSON"),
    ],
    ids=["no due time", "step not a number", "not JSON"],
)
def test_a_malformed_escalation_timer_is_refused_naming_the_field(body, says):
    with pytest.raises(MalformedEvent, match=f"malformed escalation timer: {says}"):
        parse_escalation_timer(body)


class _Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def once(self, *args: Any, **kwargs: Any) -> None:
        self.calls.append(("once", *args))

    def drain_at(self, team: str, due_at: datetime, now: datetime, why: str) -> None:
        self.calls.append(("drain_at", team, due_at, why))


def _router(recorder: _Recorder) -> Any:
    from shared.services.route_stage import Router

    return Router(tickets=None, idempotency=recorder, routing=None, messenger=None, changes=None, sla=None,
                  announcer=recorder)  # fmt: skip


def test_the_router_refuses_a_malformed_announcement_before_it_claims_or_touches_anything():
    recorder = _Recorder()

    with pytest.raises(MalformedEvent, match="ticket_id: Field required"):
        _router(recorder).handle({"event": "message.added", "message_id": MESSAGE, "channel": "email",
                                  "automated": False, "suppress_auto_response": False, "reopened": False,
                                  "at": "2026-11-02T03:15:00.000Z"})  # fmt: skip

    assert recorder.calls == []


def test_a_drain_that_arrives_early_hops_on_with_its_reason():
    recorder = _Recorder()
    due = datetime.now(timezone.utc) + timedelta(hours=2)

    reply = _router(recorder).handle(wire(TeamDrain(team="support", due_at=due, why="skill wait ends")))

    assert reply == {"hop": True}
    to_the_millisecond = due.replace(microsecond=due.microsecond // 1000 * 1000)  # as the queue carries it
    assert recorder.calls == [("drain_at", "support", to_the_millisecond, "skill wait ends")]
