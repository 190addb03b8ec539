"""The channel intake on the in-memory fakes: a signed platform message becomes a ticket through the same intake
as email, a conversation continues its ticket, replays and forgeries create nothing, malformed payloads are kept."""

from __future__ import annotations

import copy
import json
from datetime import timedelta

import pytest

from shared.channels.inbound import MalformedWebhook
from shared.channels.signatures import meta_signature, own_signature
from shared.domain.access import Forbidden, Unauthorized
from shared.domain.ticket import Message
from shared.services.channel_intake import ChannelIntake, WebhookCall, verify_token
from tests.fakes import T0, World
from tests.support import SAMPLES

pytestmark = pytest.mark.unit
SECRETS = {
    "whatsapp": {"app_secret": "wa-secret"},
    "telegram": {"secret_token": "tg-token"},
    "widget": {"signing_secret": "widget-secret"},
    "phone": {"signing_secret": "phone-secret"},
    "messenger": {"app_secret": "fb-secret", "verify_token": "fb-verify"},
}


def sample(name: str) -> dict:
    return json.loads((SAMPLES / "channels" / name).read_text())


class Channels:
    def __init__(self) -> None:
        self.world = World(now=T0 + timedelta(days=400))  # after the samples' timestamps
        self.intake = ChannelIntake(
            intake=lambda: self.world.intake, tickets=self.world.tickets, quarantine=self.world,  # type: ignore[arg-type]
            bodies=self.world.out, bucket="mail", secrets=lambda name: SECRETS.get(name, {}), now=self.world.clock,
        )  # fmt: skip

    def whatsapp(self, payload: dict, secret: str = "wa-secret"):
        raw = json.dumps(payload, ensure_ascii=False).encode()
        return self.intake.receive(WebhookCall("whatsapp", raw, {"x-hub-signature-256": meta_signature(secret.encode(), raw)}))

    def telegram(self, payload: dict, token: str = "tg-token"):
        raw = json.dumps(payload).encode()
        return self.intake.receive(WebhookCall("telegram", raw, {"x-telegram-bot-api-secret-token": token}))

    def own(self, webhook: str, payload: dict, secret: str):
        raw = json.dumps(payload).encode()
        header = own_signature(secret.encode(), raw, int(self.world.clock().timestamp()))
        return self.intake.receive(WebhookCall(webhook, raw, {"x-ticketing-signature": header}))


def whatsapp_text(text: str, message_id: str, at: int = 1764736800) -> dict:
    payload = copy.deepcopy(sample("whatsapp_text.json"))
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message.update(id=message_id, timestamp=str(at), text={"body": text})
    return payload


def test_a_whatsapp_message_becomes_a_whatsapp_ticket_for_the_contact_and_is_announced_for_routing():
    ch = Channels()
    outcome = ch.whatsapp(sample("whatsapp_text.json"))
    [result] = outcome.messages
    assert result["outcome"] == "created"
    ticket = ch.world.ticket(result["ticket_id"])
    assert ticket.channel == "whatsapp" and ticket.customer.handle == "+628123456789" and ticket.customer.name == "Budi Santoso"
    [message] = ch.world.tickets.thread(ticket.id)[0]
    assert message.body == "Halo, pesanan saya belum sampai 📦"
    assert message.delivery == {"platform_message_id": result["platform_message_id"]}
    assert message.raw_key is not None and message.raw_key in ch.world.out.blobs
    assert ch.world.out.kinds() == ["ticket.created"]


def test_a_replayed_webhook_creates_nothing_new():
    ch = Channels()
    first = ch.whatsapp(sample("whatsapp_text.json")).messages[0]
    again = ch.whatsapp(sample("whatsapp_text.json")).messages[0]
    assert again["outcome"] == "duplicate" and again["ticket_id"] == first["ticket_id"]
    assert len(ch.world.tickets.items) == 1 and len(ch.world.tickets.thread(first["ticket_id"])[0]) == 1


def test_a_forged_signature_is_refused_before_anything_is_written():
    ch = Channels()
    with pytest.raises(Unauthorized):
        ch.whatsapp(sample("whatsapp_text.json"), secret="guessed")
    with pytest.raises(Unauthorized):
        ch.telegram(sample("telegram_message.json"), token="guessed")
    assert ch.world.tickets.items == {} and ch.world.out.blobs == {} and ch.world.quarantined == []


def test_a_signed_but_malformed_payload_is_refused_and_quarantined_with_its_raw_copy():
    ch = Channels()
    broken = sample("whatsapp_text.json")
    del broken["entry"][0]["changes"][0]["value"]["messages"][0]["from"]
    with pytest.raises(MalformedWebhook, match="from is missing"):
        ch.whatsapp(broken)
    [(reason, detail)] = ch.world.quarantined
    assert reason == "malformed_webhook" and "from is missing" in detail
    [raw] = ch.world.out.blobs.values()
    assert json.loads(raw) == broken
    assert ch.world.tickets.items == {}


def test_several_messages_in_one_payload_each_become_their_own_intake_and_a_contact_keeps_one_conversation():
    ch = Channels()
    results = ch.whatsapp(sample("whatsapp_media_batch.json")).messages
    assert [r["outcome"] for r in results] == ["created", "threaded", "created", "threaded"]
    siti, budi = ch.world.ticket(results[0]["ticket_id"]), ch.world.ticket(results[2]["ticket_id"])
    assert siti.customer.name == "Siti Rahma" and budi.customer.name == "Budi Santoso"
    image, document = ch.world.tickets.thread(siti.id)[0]
    assert image.attachments[0]["media_id"] == "1003383421387256" and document.attachments[0]["name"] == "invoice-8812.pdf"


def test_a_closed_conversation_is_followed_up_by_a_new_linked_ticket():
    ch = Channels()
    first = ch.whatsapp(whatsapp_text("Halo", "wamid.1")).messages[0]
    ticket = ch.world.ticket(first["ticket_id"])
    ticket.status = "closed"
    ch.world.tickets.save_unguarded(ticket)
    later = ch.whatsapp(whatsapp_text("Pesanan baru juga bermasalah", "wamid.2", at=1764740000)).messages[0]
    assert later["outcome"] == "follow_up" and later["ticket_id"] != first["ticket_id"]
    assert ch.world.ticket(later["ticket_id"]).follow_up_of == first["ticket_id"]


def test_the_same_handle_on_another_channel_is_another_conversation():
    ch = Channels()
    whatsapp = ch.whatsapp(sample("whatsapp_text.json")).messages[0]
    call = sample("phone_voicemail.json")
    call["calls"][0]["from"] = "+628123456789"
    phone = ch.own("phone", call, "phone-secret").messages[0]
    assert phone["outcome"] == "created" and phone["ticket_id"] != whatsapp["ticket_id"]
    assert ch.world.ticket(phone["ticket_id"]).subject == "Voicemail from +628123456789 (42 s)"


def test_a_telegram_update_and_an_edit_of_it():
    ch = Channels()
    [created] = ch.telegram(sample("telegram_message.json")).messages
    assert ch.world.ticket(created["ticket_id"]).channel == "telegram"
    edited = ch.telegram(sample("telegram_edited.json"))
    assert edited.messages == [] and "edit" in edited.ignored[0]


def test_a_stale_widget_signature_is_refused():
    ch = Channels()
    raw = json.dumps(sample("widget_message.json")).encode()
    header = own_signature(b"widget-secret", raw, int(ch.world.clock().timestamp()) - 600)
    with pytest.raises(Unauthorized, match="stale"):
        ch.intake.receive(WebhookCall("widget", raw, {"x-ticketing-signature": header}))
    assert ch.own("widget", sample("widget_message.json"), "widget-secret").messages[0]["outcome"] == "created"


def test_a_webhook_without_a_configured_secret_accepts_nothing():
    ch = Channels()
    with pytest.raises(Unauthorized, match="no secret"):
        ch.intake.receive(WebhookCall("instagram", b"{}", {"x-hub-signature-256": meta_signature(b"", b"{}")}))


def test_status_callbacks_move_the_delivery_status_of_our_message_on():
    ch = Channels()
    created = ch.whatsapp(sample("whatsapp_text.json")).messages[0]
    ours = Message(ticket_id=created["ticket_id"], message_id="m-out", at="2027-12-07T03:00:00Z", direction="outbound",
                   kind="agent", channel="whatsapp", body="Baik", delivery={"status": "sent"})  # fmt: skip
    ch.world.tickets.add_messages([ours])
    ch.world.tickets.remember_platform_id("whatsapp", "wamid.OUTBOUND-1", ours)
    outcome = ch.whatsapp(sample("whatsapp_statuses.json"))
    assert outcome.receipts == 1  # the failed one names a message we do not know
    stored = ch.world.tickets.message(created["ticket_id"], "m-out")
    assert stored is not None and stored.delivery is not None and stored.delivery["status"] == "delivered"


def test_the_meta_subscription_check_answers_the_challenge_only_for_our_verify_token():
    ch = Channels()
    assert ch.intake.verify_subscription("messenger", "subscribe", "fb-verify", "1158201444") == "1158201444"
    with pytest.raises(Forbidden):
        ch.intake.verify_subscription("messenger", "subscribe", "wrong", "1158201444")
    derived = verify_token(SECRETS["whatsapp"])
    assert ch.intake.verify_subscription("whatsapp", "subscribe", derived, "42") == "42"
    with pytest.raises(Forbidden):
        ch.intake.verify_subscription("whatsapp", "unsubscribe", derived, "42")
