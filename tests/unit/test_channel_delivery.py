"""Replies and notices on platform channels: queued for the deliver function, sent once, failed for good on a
permanent refusal, retried on trouble; WhatsApp's 24-hour window refuses free text and lets approved templates by."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.domain.errors import SendDeferred, SendRefused
from shared.domain.ports import ChannelDelivery
from shared.domain.service_window import WindowClosed, free_text_allowed, require_open_window
from shared.domain.timefmt import iso
from shared.services.delivery import DeliveryService
from shared.services.intake import InboundMessage
from shared.domain.model import Channel, Contact
from tests.fakes import T0, World

pytestmark = pytest.mark.unit


class Platform:
    """A platform send API as the delivery service sees it: answers with ids, or fails as told."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.sent: list[ChannelDelivery] = []

    def send(self, delivery: ChannelDelivery) -> str:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(delivery)
        return f"wamid.{len(self.sent)}"


def whatsapp_ticket(world: World, minutes: float = 0) -> str:
    message = InboundMessage(
        channel=Channel.WHATSAPP, key=f"whatsapp#wamid.in{minutes}", received_at=T0 + timedelta(minutes=minutes),
        contact=Contact(Channel.WHATSAPP, "+628123456789", "Budi"), subject="Pesanan", body="Pesanan saya belum sampai",
        body_full="Pesanan saya belum sampai", continues_conversation=True,
    )  # fmt: skip
    world.clock.now = max(world.clock.now, message.received_at)
    result = world.intake.accept(message)
    assert result.ticket_id is not None
    return result.ticket_id


def outbound(world: World, ticket_id: str):
    return [m for m in world.tickets.thread(ticket_id)[0] if m.direction == "outbound"]


def test_the_window_is_24_hours_from_the_customers_last_message_and_only_on_whatsapp():
    last = iso(T0)
    assert free_text_allowed("whatsapp", last, T0 + timedelta(hours=23, minutes=59))
    assert not free_text_allowed("whatsapp", last, T0 + timedelta(hours=24))
    assert not free_text_allowed("whatsapp", None, T0)
    assert free_text_allowed("telegram", last, T0 + timedelta(days=9))
    with pytest.raises(WindowClosed, match="24-hour"):
        require_open_window("whatsapp", last, T0 + timedelta(hours=25))


def test_an_agents_whatsapp_reply_is_queued_then_sent_with_the_platforms_id():
    world = World()
    ticket_id = whatsapp_ticket(world)
    world.desk().reply(ticket_id, _reply("Baik, kami cek dulu"), _agent())
    [reply] = outbound(world, ticket_id)
    assert reply.delivery is not None and reply.delivery["status"] == "queued"
    [job] = world.out.deliveries
    platform = Platform()
    service = DeliveryService(world.tickets, {"whatsapp": lambda: platform}, clock=world.clock)
    assert service.deliver(job) == "sent"
    assert platform.sent[0].to == "+628123456789" and platform.sent[0].text == "Baik, kami cek dulu"
    stored = world.tickets.message(ticket_id, reply.message_id)
    assert stored is not None and stored.delivery is not None
    assert (stored.delivery["status"], stored.delivery["platform_message_id"]) == ("sent", "wamid.1")
    assert world.tickets.message_for_platform_id("whatsapp", "wamid.1") is not None
    assert service.deliver(job) == "skipped" and len(platform.sent) == 1  # a redelivered job sends nothing again


def test_a_permanent_refusal_marks_the_message_failed_and_trouble_is_retried():
    world = World()
    ticket_id = whatsapp_ticket(world)
    world.desk().reply(ticket_id, _reply("Halo"), _agent())
    [job] = world.out.deliveries
    platform = Platform(SendDeferred("HTTP 503: try later"), SendRefused("HTTP 400: 131026: Message undeliverable"))
    service = DeliveryService(world.tickets, {"whatsapp": lambda: platform}, clock=world.clock)
    with pytest.raises(SendDeferred):
        service.deliver(job, attempt=1)
    [queued] = outbound(world, ticket_id)
    assert queued.delivery is not None and queued.delivery["status"] == "queued" and "503" in queued.delivery["error"]
    assert service.deliver(job, attempt=2) == "failed"
    [failed] = outbound(world, ticket_id)
    assert failed.delivery is not None and failed.delivery["status"] == "failed"
    assert failed.delivery["error"] == "HTTP 400: 131026: Message undeliverable"


def test_outside_the_window_an_agents_free_text_is_refused_and_nothing_is_written():
    world = World()
    ticket_id = whatsapp_ticket(world)
    world.later(hours=25)
    with pytest.raises(WindowClosed):
        world.desk().reply(ticket_id, _reply("Maaf terlambat"), _agent())
    assert outbound(world, ticket_id) == [] and world.out.deliveries == []


def test_outside_the_window_a_notice_goes_as_its_approved_template_or_is_failed_with_the_reason():
    world = World()
    ticket_id = whatsapp_ticket(world)
    world.later(hours=30)
    assert world.messenger.notify_once(world.ticket(ticket_id), "resolved")
    [notice] = outbound(world, ticket_id)
    assert notice.delivery is not None and notice.delivery["status"] == "failed"
    assert "24-hour" in notice.delivery["error"] and world.out.deliveries == []
    world.config.put("template", "resolved/id/whatsapp", {
        "id": "resolved", "language": "id", "channel": "whatsapp", "text": "Tiket {{ ref }} selesai.",
        "whatsapp_template": "ticket_resolved",
    }, "lead", world.clock())  # fmt: skip
    ticket = world.ticket(ticket_id)
    ticket.reopen_count = 1
    assert world.messenger.notify_once(ticket, "resolved")
    [job] = world.out.deliveries
    platform = Platform()
    assert DeliveryService(world.tickets, {"whatsapp": lambda: platform}, clock=world.clock).deliver(job) == "sent"
    assert (platform.sent[0].template, platform.sent[0].language) == ("ticket_resolved", "id")


def test_a_telegram_reply_has_no_window():
    world = World()
    message = InboundMessage(
        channel=Channel.TELEGRAM, key="telegram#1:1", received_at=T0, contact=Contact(Channel.TELEGRAM, "512345678", "Dewi"),
        subject="Aplikasi", body="Tidak bisa dibuka", body_full="Tidak bisa dibuka", continues_conversation=True,
    )  # fmt: skip
    ticket_id = world.intake.accept(message).ticket_id
    assert ticket_id is not None
    world.later(days=3)
    world.desk().reply(ticket_id, _reply("Sudah kami perbaiki"), _agent())
    [job] = world.out.deliveries
    assert job["ticket_id"] == ticket_id


def _reply(text: str):
    from shared.contracts.api import Reply

    return Reply(body=text)


def _agent():
    from shared.domain.access import Principal
    from shared.domain.model import Role

    return Principal(subject="agent-1", role=Role.AGENT, agent_id="ani", teams=("support",))
