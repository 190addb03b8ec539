"""One sender per platform send API, over urllib3 (a pooled, maintained HTTP client; no retries here — the
delivery queue retries, with backoff, what a platform could not take now).

Every sender maps the platform's answer the same way: 2xx → the platform's message id; 429, 5xx, a timeout or a
broken connection → SendDeferred (retried); any other 4xx → SendRefused with the platform's own error (not
retried). Base URLs come from settings, so the local stack points them at its recording fakes.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Callable
from urllib.parse import quote

import urllib3

from shared.adapters.secrets import channel_secret
from shared.domain.errors import SendDeferred, SendRefused
from shared.domain.ports import ChannelDelivery, ChannelSender
from shared.settings import Settings

MAX_TEXT_CHARS = 4096  # WhatsApp's and Telegram's limit on one text message
TIMEOUT = urllib3.Timeout(connect=3.0, read=10.0)


@lru_cache(maxsize=1)
def _pool() -> urllib3.PoolManager:
    return urllib3.PoolManager(num_pools=8, maxsize=4)


def post_json(url: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    """POST JSON and read JSON back, with the platform's refusal or trouble as the domain's send errors."""
    try:
        response = _pool().request("POST", url, body=json.dumps(body).encode(), timeout=TIMEOUT, retries=False,
                                   headers={"Content-Type": "application/json", **(headers or {})})  # fmt: skip
    except urllib3.exceptions.HTTPError as error:
        raise SendDeferred(f"the platform did not answer: {type(error).__name__}") from None
    text = response.data.decode("utf-8", "replace")
    try:
        answer = json.loads(text) if text else {}
    except ValueError:
        answer = {"raw": text[:500]}
    if response.status == 429 or response.status >= 500:
        raise SendDeferred(f"HTTP {response.status}: {platform_error(answer)}")
    if response.status >= 400:
        raise SendRefused(f"HTTP {response.status}: {platform_error(answer)}")
    return answer if isinstance(answer, dict) else {}


def platform_error(answer: Any) -> str:
    """Graph API `{"error": {"code", "message"}}`, Telegram `{"error_code", "description"}`, or what came."""
    if isinstance(answer, dict) and isinstance(answer.get("error"), dict):
        error = answer["error"]
        return f"{error.get('code')}: {error.get('message')}"
    if isinstance(answer, dict) and "description" in answer:
        return f"{answer.get('error_code')}: {answer.get('description')}"
    return json.dumps(answer)[:500]


class WhatsAppSender:
    """Cloud API `POST /{version}/{phone_number_id}/messages`: text, or an approved template outside the window."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, delivery: ChannelDelivery) -> str:
        secret = channel_secret(self.settings, "whatsapp")
        body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": delivery.to.lstrip("+")}
        if delivery.template:
            body |= {"type": "template", "template": {"name": delivery.template, "language": {"code": delivery.language or "en"}}}
        else:
            body |= {"type": "text", "text": {"preview_url": False, "body": delivery.text[:MAX_TEXT_CHARS]}}
        url = f"{self.settings.graph_api_base}/{self.settings.graph_api_version}/{secret.get('phone_number_id', '')}/messages"
        answer = post_json(url, body, {"Authorization": f"Bearer {secret.get('access_token', '')}"})
        try:
            return str(answer["messages"][0]["id"])
        except (KeyError, IndexError, TypeError):
            raise SendRefused(f"WhatsApp answered without a message id: {platform_error(answer)}") from None


class MetaSender:
    """Messenger and Instagram Send API `POST /{version}/me/messages` with the page access token."""

    def __init__(self, settings: Settings, webhook: str) -> None:
        self.settings, self.webhook = settings, webhook

    def send(self, delivery: ChannelDelivery) -> str:
        token = channel_secret(self.settings, self.webhook).get("page_access_token", "")
        base = self.settings.instagram_api_base if self.webhook == "instagram" else self.settings.graph_api_base
        url = f"{base}/{self.settings.graph_api_version}/me/messages?access_token={quote(token)}"
        body = {"recipient": {"id": delivery.to}, "messaging_type": "RESPONSE", "message": {"text": delivery.text[:2000]}}
        answer = post_json(url, body)
        if not answer.get("message_id"):
            raise SendRefused(f"{self.webhook} answered without a message id: {platform_error(answer)}")
        return str(answer["message_id"])


class TelegramSender:
    """Bot API `POST /bot<token>/sendMessage`; the id is `<chat id>:<message id>`, as inbound messages are keyed."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, delivery: ChannelDelivery) -> str:
        token = channel_secret(self.settings, "telegram").get("bot_token", "")
        answer = post_json(f"{self.settings.telegram_api_base}/bot{token}/sendMessage",
                           {"chat_id": delivery.to, "text": delivery.text[:MAX_TEXT_CHARS]})  # fmt: skip
        result = answer.get("result") if answer.get("ok") else None
        if not isinstance(result, dict) or "message_id" not in result:
            raise SendRefused(f"Telegram answered without a message: {platform_error(answer)}")
        return f"{delivery.to}:{result['message_id']}"


class WidgetQueue:
    """Our widget has no send API: a message marked sent is what the widget's signed poll returns."""

    def send(self, delivery: ChannelDelivery) -> str:
        return f"widget:{delivery.message_id}"


def senders(settings: Settings) -> dict[str, Callable[[], ChannelSender]]:
    """Each platform channel's sender (the ticket channel a platform's messages carry)."""
    return {
        "whatsapp": lambda: WhatsAppSender(settings),
        "facebook": lambda: MetaSender(settings, "messenger"),
        "instagram": lambda: MetaSender(settings, "instagram"),
        "telegram": lambda: TelegramSender(settings),
        "chat": WidgetQueue,
    }
