"""Replies on platform channels through the Chalice app and the deliver function on moto, against the recording
fakes of the platforms' send APIs: sent with the platform's id, receipts move the status on, a permanent refusal
fails the message, an outage is retried until the delivery DLQ keeps the job, and WhatsApp's window is a 409."""

from __future__ import annotations

import copy
import json
import time
from dataclasses import replace

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from chalice.test import Client

from shared.adapters.secrets import signing_key
from shared.auth import issue_token
from shared.channels.signatures import meta_signature
from shared.settings import get_settings
from tests.integration.conftest import sqs_record
from tests.support import SAMPLES, FakeContext

pytestmark = pytest.mark.integration
DLQ = "https://sqs.us-east-1.amazonaws.com/123456789012/ticketing-delivery-dlq"


@pytest.fixture
def fakes(tmp_path):
    from ticketing.local.channel_fakes import ChannelFakes

    server = ChannelFakes(tmp_path / "channels")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def api(aws, fakes, monkeypatch):
    import functions.deliver.handler as deliver
    from functions.api.app import app
    from shared.services.wiring import build_delivery

    urls = fakes.environment()
    settings = replace(get_settings(), graph_api_base=urls["GRAPH_API_BASE"], instagram_api_base=urls["INSTAGRAM_API_BASE"],
                       telegram_api_base=urls["TELEGRAM_API_BASE"])
    monkeypatch.setattr(deliver, "_built", build_delivery(settings))
    monkeypatch.setattr("shared.adapters.delivery_queue.backoff_seconds", lambda attempt: 0)  # retry at once here
    with Client(app) as client:
        yield client


def bearer(role: str = "agent") -> dict[str, str]:
    return {"Authorization": "Bearer " + issue_token(signing_key(get_settings()), role, "ani")}


def whatsapp_message(api, text: str = "Halo, pesanan saya belum sampai", at: float | None = None, mid: str = "wamid.IN1") -> str:
    payload = json.loads((SAMPLES / "channels" / "whatsapp_text.json").read_text())
    payload["entry"][0]["changes"][0]["value"]["messages"][0].update(
        id=mid, timestamp=str(int(at if at is not None else time.time())), text={"body": text})
    return post_whatsapp(api, payload)["messages"][0]["ticket_id"]


def post_whatsapp(api, payload: dict) -> dict:
    raw = json.dumps(payload).encode()
    response = api.http.post("/webhooks/whatsapp", body=raw, headers={
        "Content-Type": "application/json", "X-Hub-Signature-256": meta_signature(b"test-whatsapp-secret", raw)})  # fmt: skip
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def reply(api, ticket_id: str, text: str):
    return api.http.post(f"/v1/tickets/{ticket_id}/replies", body=json.dumps({"body": text}),
                         headers={**bearer(), "Content-Type": "application/json"})  # fmt: skip


def deliver(aws, rounds: int = 20) -> list[str]:
    """Play the deliver function's event source mapping until the delivery queue is empty; the failed ids."""
    from functions.deliver.handler import lambda_handler

    url = get_settings().delivery_queue_url
    failed: list[str] = []
    for _ in range(rounds):
        got = aws.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])
        messages = got.get("Messages", [])
        if not messages:
            return failed
        event = {"Records": [sqs_record(m, url) for m in messages]}
        try:
            answer = lambda_handler(event, FakeContext(function_name="ticketing-DeliverFunction"))
            failures = {f["itemIdentifier"] for f in answer["batchItemFailures"]}
        except BatchProcessingError:  # every record failed: Lambda retries the whole batch
            failures = {m["MessageId"] for m in messages}
        failed += sorted(failures)
        for message in messages:
            if message["MessageId"] not in failures:
                aws.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    raise AssertionError("the delivery queue did not empty")


def outbound(api, ticket_id: str) -> list[dict]:
    found = json.loads(api.http.get(f"/v1/tickets/{ticket_id}", headers=bearer()).body)
    return [m for m in found["messages"] if m["direction"] == "outbound" and m["kind"] == "agent"]


def test_an_agents_whatsapp_reply_reaches_the_platform_and_its_receipts_move_the_status_on(api, aws, fakes):
    ticket_id = whatsapp_message(api)
    response = reply(api, ticket_id, "Baik Pak Budi, kami cek ke kurir")
    assert response.status_code == 201, response.body
    assert outbound(api, ticket_id)[0]["delivery"]["status"] == "queued"
    assert deliver(aws) == []
    [sent] = fakes.sent("whatsapp")
    assert sent["request"]["to"] == "628123456789" and sent["request"]["text"]["body"] == "Baik Pak Budi, kami cek ke kurir"
    [message] = outbound(api, ticket_id)
    platform_id = sent["response"]["messages"][0]["id"]
    assert message["delivery"]["status"] == "sent" and message["delivery"]["platform_message_id"] == platform_id
    statuses = json.loads((SAMPLES / "channels" / "whatsapp_statuses.json").read_text())
    statuses["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = platform_id
    statuses["entry"][0]["changes"][0]["value"]["statuses"][0]["timestamp"] = str(int(time.time()))
    assert post_whatsapp(api, statuses)["receipts"] == 1
    assert outbound(api, ticket_id)[0]["delivery"]["status"] == "delivered"


def test_a_permanent_refusal_marks_the_reply_failed_with_the_platforms_error_and_is_not_retried(api, aws, fakes):
    ticket_id = whatsapp_message(api)
    fakes.fail("whatsapp", 400, 1, {"error": {"code": 131026, "message": "Message undeliverable"}})
    assert reply(api, ticket_id, "Halo").status_code == 201
    assert deliver(aws) == []
    [message] = outbound(api, ticket_id)
    assert message["delivery"]["status"] == "failed"
    assert message["delivery"]["error"] == "HTTP 400: 131026: Message undeliverable"
    assert len(fakes.sent("whatsapp")) == 1


def test_an_outage_is_retried_then_succeeds(api, aws, fakes):
    ticket_id = whatsapp_message(api)
    fakes.fail("whatsapp", 503, 2)
    assert reply(api, ticket_id, "Halo").status_code == 201
    assert len(deliver(aws)) == 2  # two failed attempts, the third went through
    assert outbound(api, ticket_id)[0]["delivery"]["status"] == "sent"
    assert [r["status"] for r in fakes.sent("whatsapp")] == [503, 503, 200]


def test_a_persistent_outage_ends_in_the_delivery_dlq_with_the_message_still_queued(api, aws, fakes):
    ticket_id = whatsapp_message(api)
    fakes.fail("whatsapp", 502, 50)
    assert reply(api, ticket_id, "Halo").status_code == 201
    failed = deliver(aws)
    attempts = get_settings().delivery_max_attempts
    assert len(failed) == attempts and len(fakes.sent("whatsapp")) == attempts
    kept = aws.sqs.receive_message(QueueUrl=DLQ, MaxNumberOfMessages=10).get("Messages", [])
    assert len(kept) == 1 and json.loads(kept[0]["Body"])["ticket_id"] == ticket_id
    [message] = outbound(api, ticket_id)
    assert message["delivery"]["status"] == "queued" and "delivery DLQ" in message["delivery"]["error"]


def test_a_free_text_reply_outside_whatsapps_24_hour_window_is_a_409(api, aws, fakes):
    ticket_id = whatsapp_message(api, at=time.time() - 25 * 3600)
    response = reply(api, ticket_id, "Maaf baru sempat membalas")
    assert response.status_code == 409
    assert "24-hour" in json.loads(response.body)["error"]["message"]
    assert outbound(api, ticket_id) == [] and deliver(aws) == [] and fakes.sent("whatsapp") == []


def test_a_telegram_reply_goes_to_the_chat(api, aws, fakes):
    update = json.loads((SAMPLES / "channels" / "telegram_message.json").read_text())
    update["message"]["date"] = int(time.time())
    response = api.http.post("/webhooks/telegram", body=json.dumps(update), headers={
        "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": "test-telegram-token"})  # fmt: skip
    ticket_id = json.loads(response.body)["messages"][0]["ticket_id"]
    assert reply(api, ticket_id, "Coba update ke versi 2.4.1").status_code == 201
    assert deliver(aws) == []
    [sent] = fakes.sent("telegram")
    assert sent["request"] == {"chat_id": "512345678", "text": "Coba update ke versi 2.4.1"}
    assert outbound(api, ticket_id)[0]["delivery"]["platform_message_id"] == f"512345678:{sent['response']['result']['message_id']}"


def test_the_widget_polls_our_replies_to_its_visitor_with_a_signed_request(api, aws, fakes):
    from shared.channels.signatures import own_signature

    def signed(path: str, payload: dict):
        raw = json.dumps(payload).encode()
        header = own_signature(b"test-widget-secret", raw, int(time.time()))
        return api.http.post(path, body=raw, headers={"Content-Type": "application/json", "X-Ticketing-Signature": header})

    message = {"id": "wgt_1", "visitor": {"id": "vis_7f3a9c", "name": "Rina"}, "text": "Ganti alamat", "sent_at": int(time.time())}
    ticket_id = json.loads(signed("/webhooks/widget", {"messages": [message]}).body)["messages"][0]["ticket_id"]
    assert reply(api, ticket_id, "Alamat baru sudah kami catat").status_code == 201
    assert deliver(aws) == []
    polled = signed("/webhooks/widget/replies", {"visitor": "vis_7f3a9c"})
    assert polled.status_code == 200, polled.body
    assert [m["text"] for m in json.loads(polled.body)["messages"]] == ["Alamat baru sudah kami catat"]
    assert outbound(api, ticket_id)[0]["delivery"]["status"] == "delivered"
    raw = json.dumps({"visitor": "vis_7f3a9c"}).encode()
    forged = api.http.post("/webhooks/widget/replies", body=raw, headers={
        "Content-Type": "application/json", "X-Ticketing-Signature": own_signature(b"guess", raw, int(time.time()))})  # fmt: skip
    assert forged.status_code == 401


def test_a_messenger_reply_goes_through_the_send_api(api, aws, fakes):
    payload = json.loads((SAMPLES / "channels" / "messenger_message.json").read_text())
    payload["entry"][0]["messaging"] = payload["entry"][0]["messaging"][:1]
    payload["entry"][0]["messaging"][0]["timestamp"] = int(time.time() * 1000)
    raw = json.dumps(payload).encode()
    response = api.http.post("/webhooks/messenger", body=raw, headers={
        "Content-Type": "application/json", "X-Hub-Signature-256": meta_signature(b"test-messenger-secret", raw)})  # fmt: skip
    ticket_id = json.loads(response.body)["messages"][0]["ticket_id"]
    assert reply(api, ticket_id, "Refund diproses 3 hari kerja").status_code == 201
    assert deliver(aws) == []
    [sent] = fakes.sent("messenger")
    assert sent["request"]["recipient"] == {"id": "6543210987654321"} and sent["request"]["message"]["text"] == "Refund diproses 3 hari kerja"
    assert outbound(api, ticket_id)[0]["delivery"]["platform_message_id"] == sent["response"]["message_id"]


def test_each_platform_answer_maps_to_sent_retried_or_refused(fakes):
    from shared.adapters.channel_senders import post_json
    from shared.domain.errors import SendDeferred, SendRefused

    url = f"{fakes.url}/telegram/bot123:abc/sendMessage"
    assert post_json(url, {"chat_id": "1", "text": "x"})["ok"] is True
    fakes.fail("telegram", 429, 1, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 5"})
    with pytest.raises(SendDeferred, match="429: Too Many Requests"):
        post_json(url, {"chat_id": "1", "text": "x"})
    fakes.fail("telegram", 403, 1, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"})
    with pytest.raises(SendRefused, match="bot was blocked"):
        post_json(url, {"chat_id": "1", "text": "x"})
    with pytest.raises(SendRefused, match="404"):
        post_json(f"{fakes.url}/nowhere", {})
    closed = fakes.url.rsplit(":", 1)[0] + ":9"  # nothing listens on the discard port
    with pytest.raises(SendDeferred, match="did not answer"):
        post_json(closed, {})
