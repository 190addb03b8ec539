"""Each platform's webhook, read the platform's own way: signatures on the raw bytes, payloads in their own format
(the sample files are shaped like the platforms' documentation), and refusals that say what is wrong."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from shared.channels.inbound import MalformedWebhook
from shared.channels.meta import parse_meta_messaging
from shared.channels.own import parse_phone, parse_widget
from shared.channels.signatures import meta_signature, own_signature, verify_meta, verify_own, verify_telegram
from shared.channels.telegram import parse_telegram
from shared.channels.whatsapp import parse_whatsapp
from shared.domain.access import Unauthorized
from shared.domain.delivery import next_delivery
from tests.support import SAMPLES

pytestmark = pytest.mark.unit
NOW = datetime(2026, 12, 3, 4, 40, tzinfo=UTC)


def sample(name: str) -> bytes:
    return (SAMPLES / "channels" / name).read_bytes()


# ---------------------------------------------------------------- signatures


def test_a_meta_signature_over_the_exact_raw_bytes_passes_and_any_other_byte_fails():
    raw = sample("whatsapp_text.json")
    verify_meta(b"app-secret", raw, meta_signature(b"app-secret", raw))
    verify_meta(b"app-secret", raw, meta_signature(b"app-secret", raw).upper().replace("SHA256=", "sha256="))
    reformatted = json.dumps(json.loads(raw)).encode()  # same JSON, other bytes: not what Meta signed
    for header in (meta_signature(b"app-secret", reformatted), meta_signature(b"other", raw), "sha256=", None, "garbage"):
        with pytest.raises(Unauthorized):
            verify_meta(b"app-secret", raw, header)


def test_the_telegram_secret_token_must_match_exactly():
    verify_telegram(b"s3cret-token", "s3cret-token")
    for header in ("s3cret-tokeN", "", None, "s3cret-token "):
        with pytest.raises(Unauthorized):
            verify_telegram(b"s3cret-token", header)


def test_our_timestamped_signature_passes_within_300_seconds_and_is_stale_after():
    raw = sample("widget_message.json")
    stamp = int(NOW.timestamp())
    verify_own(b"widget-secret", raw, own_signature(b"widget-secret", raw, stamp), NOW)
    verify_own(b"widget-secret", raw, own_signature(b"widget-secret", raw, stamp - 300), NOW)
    with pytest.raises(Unauthorized, match="stale"):
        verify_own(b"widget-secret", raw, own_signature(b"widget-secret", raw, stamp - 301), NOW)
    with pytest.raises(Unauthorized, match="stale"):
        verify_own(b"widget-secret", raw, own_signature(b"widget-secret", raw, stamp + 301), NOW)


def test_our_signature_refuses_a_forgery_a_moved_timestamp_and_a_mangled_header():
    raw = sample("widget_message.json")
    stamp = int(NOW.timestamp())
    good = own_signature(b"widget-secret", raw, stamp)
    moved = good.replace(f"t={stamp}", f"t={stamp + 1}")
    for header in (own_signature(b"guess", raw, stamp), moved, "v1=abc", "t=abc,v1=00", "", None, good + ",t=1"):
        with pytest.raises(Unauthorized):
            verify_own(b"widget-secret", raw, header, NOW)
    rotated = f"{good},v1={'0' * 64}"  # a second v1 while a secret is rotated
    verify_own(b"widget-secret", raw, rotated, NOW)


# ---------------------------------------------------------------- WhatsApp


def test_a_whatsapp_text_message_with_its_profile_name_in_unicode():
    batch = parse_whatsapp(sample("whatsapp_text.json"))
    [message] = batch.messages
    assert message.channel == "whatsapp" and message.sender == "+628123456789" and message.name == "Budi Santoso"
    assert message.text == "Halo, pesanan saya belum sampai 📦"
    assert message.platform_message_id.startswith("wamid.")
    assert message.sent_at == datetime.fromtimestamp(1764736800, UTC)
    assert batch.receipts == []


def test_several_whatsapp_messages_in_one_payload_each_with_its_sender_media_and_button_reply():
    batch = parse_whatsapp(sample("whatsapp_media_batch.json"))
    image, document, audio, button = batch.messages
    assert (image.sender, image.name, image.text) == ("+628119876543", "Siti Rahma", "Paketnya rusak")
    assert image.media[0].media_id == "1003383421387256" and image.media[0].content_type == "image/jpeg"
    assert document.media[0].name == "invoice-8812.pdf" and document.text == "(document: invoice-8812.pdf)"
    assert audio.kind == "media" and audio.media[0].kind == "audio" and audio.name == "Budi Santoso"
    assert (button.kind, button.text) == ("interactive", "Masih bermasalah")
    assert len({m.platform_message_id for m in batch.messages}) == 4


def test_a_status_only_whatsapp_payload_is_receipts_with_the_platform_error():
    batch = parse_whatsapp(sample("whatsapp_statuses.json"))
    assert batch.messages == []
    delivered, failed = batch.receipts
    assert (delivered.platform_message_id, delivered.status) == ("wamid.OUTBOUND-1", "delivered")
    assert failed.status == "failed" and failed.error == "131047: Re-engagement message"


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"object": "page", "entry": []}', "whatsapp_business_account"),
        (b'{"object": "whatsapp_business_account"}', "entry is missing"),
        (b'{"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {"messages": [{"id": "w1", "type": "text", "timestamp": "1"}]}}]}]}', "from is missing"),
        (b'{"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {"messages": [{"from": "62", "id": "w1", "type": "text", "timestamp": "soon", "text": {"body": "x"}}]}}]}]}', "Unix timestamp"),
        (b'{"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {"statuses": [{"id": "w1", "status": "lost", "timestamp": "1"}]}}]}]}', "status must be"),
        (b'\xff\xfe', "not JSON"),
    ],
)
def test_a_malformed_whatsapp_payload_is_refused_with_where_and_why(body, reason):
    with pytest.raises(MalformedWebhook, match=reason):
        parse_whatsapp(body)


def test_a_whatsapp_type_we_do_not_model_is_still_taken_in_described():
    payload = json.loads(sample("whatsapp_text.json"))
    payload["entry"][0]["changes"][0]["value"]["messages"][0] = {
        "from": "628123456789", "id": "wamid.R", "timestamp": "1764736800", "type": "reaction",
        "reaction": {"message_id": "wamid.X", "emoji": "👍"},
    }  # fmt: skip
    [message] = parse_whatsapp(json.dumps(payload).encode()).messages
    assert message.text == "(a WhatsApp reaction message)"


# ---------------------------------------------------------------- Messenger and Instagram


def test_messenger_messages_and_an_attachment_are_taken_in_and_the_page_echo_is_not():
    batch = parse_meta_messaging(sample("messenger_message.json"), "facebook")
    text, picture = batch.messages
    assert (text.channel, text.sender, text.text) == ("facebook", "6543210987654321", "Kapan refund saya diproses?")
    assert text.sent_at == datetime.fromtimestamp(1764736800, UTC)  # Meta's milliseconds
    assert picture.media[0].kind == "image" and picture.text == "(image)"
    assert batch.ignored == ["entry[0].messaging[2]: an echo of a message the page sent"]


def test_messenger_delivery_receipts_name_our_message_ids_and_a_bare_read_watermark_is_noted():
    batch = parse_meta_messaging(sample("messenger_delivery.json"), "facebook")
    [receipt] = batch.receipts
    assert (receipt.platform_message_id, receipt.status) == ("m_OUTBOUND-1", "delivered")
    assert "watermark" in batch.ignored[0]


def test_an_instagram_message_and_the_wrong_object_for_the_route():
    [message] = parse_meta_messaging(sample("instagram_message.json"), "instagram").messages
    assert message.channel == "instagram" and message.text == "Apakah ukuran L masih ada?"
    with pytest.raises(MalformedWebhook, match="'page'"):
        parse_meta_messaging(sample("instagram_message.json"), "facebook")


# ---------------------------------------------------------------- Telegram


def test_a_telegram_message_is_keyed_by_chat_and_message_id_and_replies_go_to_the_chat():
    [message] = parse_telegram(sample("telegram_message.json")).messages
    assert (message.platform_message_id, message.sender, message.name) == ("512345678:4521", "512345678", "Dewi Lestari")
    assert message.text.startswith("Selamat siang")


def test_a_telegram_photo_keeps_its_caption_and_the_largest_size():
    [message] = parse_telegram(sample("telegram_photo.json")).messages
    assert message.text == "Ini tampilan errornya" and message.media[0].media_id == "AgACAgUAAxkBAAIBsmVlarge"


def test_telegram_edits_service_messages_and_other_updates_are_noted_not_taken_in():
    assert "edit" in parse_telegram(sample("telegram_edited.json")).ignored[0]
    joined = {"update_id": 5, "message": {"message_id": 9, "chat": {"id": 7, "type": "group"}, "date": 1, "new_chat_members": []}}
    batch = parse_telegram(json.dumps(joined).encode())
    assert batch.messages == [] and "service message" in batch.ignored[0]
    batch = parse_telegram(b'{"update_id": 6, "callback_query": {"id": "1"}}')
    assert batch.messages == [] and "callback_query" in batch.ignored[0]
    with pytest.raises(MalformedWebhook, match="update_id"):
        parse_telegram(b'{"message": {}}')
    with pytest.raises(MalformedWebhook, match="chat"):
        parse_telegram(b'{"update_id": 7, "message": {"message_id": 1, "text": "hi", "date": 1}}')


# ---------------------------------------------------------------- our widget, web form and phone


def test_a_widget_chat_message_and_a_web_form():
    [chat] = parse_widget(sample("widget_message.json")).messages
    assert (chat.channel, chat.sender, chat.name) == ("chat", "vis_7f3a9c", "Rina")
    assert chat.sent_at == datetime(2025, 12, 3, 4, 40, tzinfo=UTC)
    form = {"messages": [{"id": "f1", "visitor": {"id": "v"}, "text": "x", "sent_at": 1764736800, "source": "web", "subject": "Retur"}]}
    [web] = parse_widget(json.dumps(form).encode()).messages
    assert (web.channel, web.subject) == ("web", "Retur")
    with pytest.raises(MalformedWebhook, match="source must be"):
        parse_widget(json.dumps({"messages": [{**form["messages"][0], "source": "fax"}]}).encode())
    with pytest.raises(MalformedWebhook, match="visitor"):
        parse_widget(b'{"messages": [{"id": "f1", "text": "x", "sent_at": 1}]}')


def test_a_voicemail_transcript_from_the_telephony_webhook():
    [call] = parse_phone(sample("phone_voicemail.json")).messages
    assert (call.channel, call.kind, call.sender, call.name) == ("phone", "voicemail", "+62215550123", "PT Maju Jaya")
    assert call.subject == "Voicemail from +62215550123 (42 s)" and "kasir" in call.text
    with pytest.raises(MalformedWebhook, match="kind must be"):
        parse_phone(b'{"calls": [{"call_id": "c", "from": "1", "kind": "fax", "text": "x", "at": 1}]}')


# ---------------------------------------------------------------- delivery status


def test_delivery_status_only_moves_forward_whatever_order_the_receipts_come_in():
    sent = next_delivery({"status": "queued"}, "sent", "t1")
    assert sent is not None and sent["status"] == "sent"
    read = next_delivery(sent, "read", "t3")
    assert read is not None and read["status"] == "read"
    assert next_delivery(read, "delivered", "t2") is None  # late, says nothing new
    failed = next_delivery(sent, "failed", "t2", "131047: Re-engagement message")
    assert failed is not None and failed["error"] == "131047: Re-engagement message"
    assert next_delivery(read, "failed", "t4") is None
