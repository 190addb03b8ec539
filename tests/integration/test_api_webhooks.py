"""Channel webhooks through the Chalice app on moto: each platform's signed payload becomes a ticket of its
channel, forgeries are 401 with nothing created, replays create nothing new, malformed payloads are 400 with
their raw copy in quarantine, and a conversation continues its ticket."""

from __future__ import annotations

import copy
import json
import time

import pytest
from chalice.test import Client

from shared.adapters.secrets import signing_key
from shared.auth import issue_token
from shared.channels.signatures import meta_signature, own_signature
from shared.settings import get_settings
from tests.support import SAMPLES

pytestmark = pytest.mark.integration


def sample(name: str) -> dict:
    return json.loads((SAMPLES / "channels" / name).read_text())


def bearer(role: str = "supervisor") -> dict[str, str]:
    return {"Authorization": "Bearer " + issue_token(signing_key(get_settings()), role, "lead-1")}


@pytest.fixture
def api(aws):
    from functions.api.app import app

    with Client(app) as client:
        yield client


def post(api, webhook: str, payload: dict | bytes, headers: dict[str, str]):
    raw = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    response = api.http.post(f"/webhooks/{webhook}", body=raw, headers={"Content-Type": "application/json", **headers})
    return response.status_code, json.loads(response.body or b"null")


def whatsapp(api, payload: dict | bytes, secret: bytes = b"test-whatsapp-secret"):
    raw = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    return post(api, "whatsapp", raw, {"X-Hub-Signature-256": meta_signature(secret, raw)})


def own(api, webhook: str, payload: dict, secret: bytes, at: float | None = None):
    raw = json.dumps(payload).encode()
    header = own_signature(secret, raw, int(at if at is not None else time.time()))
    return post(api, webhook, raw, {"X-Ticketing-Signature": header})


def tickets(api, **query: str) -> list[dict]:
    path = "/v1/tickets" + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    return json.loads(api.http.get(path, headers=bearer()).body)["items"]


def ticket(api, ticket_id: str) -> dict:
    return json.loads(api.http.get(f"/v1/tickets/{ticket_id}", headers=bearer()).body)


def test_a_signed_whatsapp_message_is_a_whatsapp_ticket_announced_for_routing(api, aws):
    status, body = whatsapp(api, sample("whatsapp_text.json"))
    assert status == 200, body
    [result] = body["messages"]
    assert result["outcome"] == "created"
    found = ticket(api, result["ticket_id"])
    assert found["channel"] == "whatsapp" and found["customer"]["name"] == "Budi Santoso"
    assert found["messages"][0]["body"] == "Halo, pesanan saya belum sampai 📦"
    assert found["messages"][0]["delivery"]["platform_message_id"] == result["platform_message_id"]
    assert [m["event"] for m in aws.route_messages()] == ["ticket.created"]
    assert [t["id"] for t in tickets(api, channel="whatsapp")] == [result["ticket_id"]]


def test_a_forged_or_missing_signature_is_401_and_creates_nothing(api, aws):
    assert whatsapp(api, sample("whatsapp_text.json"), secret=b"guessed")[0] == 401
    status, body = post(api, "whatsapp", sample("whatsapp_text.json"), {})
    assert status == 401 and body["error"]["code"] == "unauthorized"
    assert post(api, "telegram", sample("telegram_message.json"), {"X-Telegram-Bot-Api-Secret-Token": "nope"})[0] == 401
    assert own(api, "widget", sample("widget_message.json"), b"test-widget-secret", at=time.time() - 301)[0] == 401
    assert tickets(api) == [] and aws.route_messages() == []
    assert json.loads(api.http.get("/v1/quarantine", headers=bearer()).body)["items"] == []


def test_a_replayed_webhook_creates_nothing_new(api, aws):
    first = whatsapp(api, sample("whatsapp_text.json"))[1]["messages"][0]
    status, again = whatsapp(api, sample("whatsapp_text.json"))
    assert status == 200 and again["messages"][0]["outcome"] == "duplicate"
    assert again["messages"][0]["ticket_id"] == first["ticket_id"]
    assert len(tickets(api)) == 1 and len(ticket(api, first["ticket_id"])["messages"]) == 1


def test_a_signed_malformed_payload_is_400_with_a_reason_and_its_raw_copy_is_quarantined(api, aws):
    raw = b'{"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {"messages": [{"id": "wamid.X"}]}}]}]}'
    status, body = whatsapp(api, raw)
    assert status == 400 and body["error"]["code"] == "malformed_webhook" and "from is missing" in body["error"]["message"]
    [entry] = json.loads(api.http.get("/v1/quarantine", headers=bearer()).body)["items"]
    assert entry["reason"] == "malformed_webhook"
    kept = aws.s3.get_object(Bucket=get_settings().mail_bucket, Key=entry["raw_key"])["Body"].read()
    assert kept == raw
    assert tickets(api) == []


def test_a_whatsapp_conversation_continues_its_ticket_until_it_is_closed(api, aws):
    payload = sample("whatsapp_text.json")
    first = whatsapp(api, payload)[1]["messages"][0]
    follow = copy.deepcopy(payload)
    follow["entry"][0]["changes"][0]["value"]["messages"][0].update(id="wamid.second", timestamp="1764736900",
                                                                    text={"body": "Nomor resi JP123"})  # fmt: skip
    second = whatsapp(api, follow)[1]["messages"][0]
    assert second["outcome"] == "threaded" and second["ticket_id"] == first["ticket_id"]
    for status in ("resolved", "closed"):
        reply = api.http.patch(f"/v1/tickets/{first['ticket_id']}", body=json.dumps({"status": status}),
                               headers={**bearer(), "Content-Type": "application/json"})  # fmt: skip
        assert reply.status_code == 200, reply.body
    follow["entry"][0]["changes"][0]["value"]["messages"][0].update(id="wamid.third", timestamp="1764737000")
    third = whatsapp(api, follow)[1]["messages"][0]
    assert third["outcome"] == "follow_up" and third["ticket_id"] != first["ticket_id"]


def test_telegram_messenger_instagram_widget_and_phone_each_land_in_their_own_folder(api, aws):
    assert post(api, "telegram", sample("telegram_message.json"), {"X-Telegram-Bot-Api-Secret-Token": "test-telegram-token"})[0] == 200
    raw = json.dumps(sample("messenger_message.json")).encode()
    status, body = post(api, "messenger", raw, {"X-Hub-Signature-256": meta_signature(b"test-messenger-secret", raw)})
    assert status == 200 and len(body["messages"]) == 2 and body["ignored"]
    raw = json.dumps(sample("instagram_message.json")).encode()
    assert post(api, "instagram", raw, {"X-Hub-Signature-256": meta_signature(b"test-instagram-secret", raw)})[0] == 200
    assert own(api, "widget", sample("widget_message.json"), b"test-widget-secret")[0] == 200
    assert own(api, "phone", sample("phone_voicemail.json"), b"test-phone-secret")[0] == 200
    for channel in ("telegram", "facebook", "instagram", "chat", "phone"):
        assert len(tickets(api, channel=channel)) == 1, channel


def test_the_whatsapp_verification_get_answers_the_challenge_as_text(api):
    response = api.http.get("/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=test-verify&hub.challenge=1158201444")
    assert response.status_code == 200 and response.body == b"1158201444"
    assert response.headers["Content-Type"].startswith("text/plain")
    wrong = api.http.get("/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1")
    assert wrong.status_code == 403


def test_an_agent_still_posts_a_phone_note_through_the_ticket_api(api, aws):
    body = {"channel": "phone", "customer": {"handle": "+62215550123", "name": "PT Maju Jaya"},
            "subject": "Call: kasir mati", "body": "Called at 09:10, POS down since morning."}  # fmt: skip
    response = api.http.post("/v1/tickets", body=json.dumps(body), headers={**bearer("agent"), "Content-Type": "application/json"})
    assert response.status_code == 201, response.body
    assert json.loads(response.body)["channel"] == "phone"
