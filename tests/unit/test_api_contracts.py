"""The resource shapes the API answers with (shared/representation.py) are the ones its contracts declare, for
a ticket as intake, routing and a reply leave it; and request contracts refuse in words a client can act on."""

from __future__ import annotations

import pytest

from shared.contracts.api import (
    AgentResource,
    CustomerResource,
    EventResource,
    MessageResource,
    TicketIntake,
    TicketPatch,
    TicketResource,
)
from shared.contracts.refusals import validated
from shared.domain.errors import ValidationFailed
from shared.representation import customer_resource, event_resource, message_resource, ticket_resource
from tests.fakes import World

pytestmark = pytest.mark.unit


def test_a_routed_and_answered_ticket_is_shaped_as_its_contract_says():
    world = World()
    world.agents.add("rina", name="Rina")
    created = world.mail("Pembayaran gagal", "Sudah tiga kali gagal")
    world.pump()
    ticket = world.ticket(str(created.ticket_id))
    messages, events = world.tickets.thread(ticket.id)
    TicketResource.model_validate(ticket_resource(ticket), strict=False)
    for message in messages:
        MessageResource.model_validate(message_resource(message))
    for event in events:
        EventResource.model_validate(event_resource(event))
    view = world.agents.get("rina")
    assert view is not None
    AgentResource.model_validate(view.resource())
    customer = world.customers.get(ticket.customer_id)
    assert customer is not None
    CustomerResource.model_validate(customer_resource(customer))


@pytest.mark.parametrize(
    ("model", "body", "words"),
    [
        (TicketIntake, {"channel": "email", "customer": {"email": "a@b.c"}, "body": "x"}, "email arrives through SES"),
        (TicketIntake, {"channel": "chat", "customer": {}, "body": "x"}, "customer: needs an email or a handle"),
        (TicketIntake, {"channel": "chat", "customer": {"handle": "v"}, "body": "x" * 100_001}, "body: is 100001 bytes"),
        (TicketIntake, {"channel": "chat", "customer": {"handle": "v"}, "body": " "}, "body: must be a non-empty"),
        (TicketPatch, {"status": "done"}, "status"),
        (TicketPatch, {"escalation_level": 3}, "escalation_level: must be at most 2"),
        (TicketPatch, {"tags": ["ok", "two\nlines"]}, "tags[1]"),
        (TicketPatch, {"colour": "red"}, "unknown field(s) colour"),
    ],
)
def test_a_bad_request_is_refused_naming_the_field(model, body, words):
    with pytest.raises(ValidationFailed) as refusal:
        validated(model, body, "body")
    assert words in refusal.value.message
