"""Channel webhooks: public routes (no bearer token — each platform signs its own way, checked on the raw body by
shared/services/channel_intake.py). A platform retries anything but a quick 2xx, so the reply is the intake's
outcome per message, never a wait on routing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response

from shared.domain.errors import ValidationFailed

from functions.api.gateway import operation
from functions.api.http import MAX_BODY_BYTES, PayloadTooLarge
from functions.api.services import channel_intake

if TYPE_CHECKING:
    from shared.contracts.api import WebhookVerification
    from shared.services.channel_intake import WebhookCall

routes = Blueprint(__name__)
TAG = "webhooks"
META = (("X-Hub-Signature-256", "sha256=<hex HMAC-SHA256 of the raw body with the app secret>"),)
TELEGRAM = (("X-Telegram-Bot-Api-Secret-Token", "the secret_token given to setWebhook"),)
OWN = (("X-Ticketing-Signature", "t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.<raw body>'> (docs/channels.md)"),)
SIGNED = (400, 401, 413, 415)


def _call(webhook: str) -> WebhookCall:
    """The request as the channel intake checks it: the raw bytes (what the platform signed) and the headers."""
    from shared.services.channel_intake import WebhookCall

    request = routes.current_request
    assert request is not None, "Chalice sets the request before a view runs"
    raw = request.raw_body or b""
    raw = raw.encode("utf-8") if isinstance(raw, str) else raw
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body is {len(raw)} bytes; at most {MAX_BODY_BYTES} are accepted")
    return WebhookCall(webhook, raw, {name.lower(): value for name, value in (request.headers or {}).items()})


def _receive(webhook: str) -> dict[str, Any]:
    outcome = channel_intake().receive(_call(webhook))
    return {"messages": outcome.messages, "receipts": outcome.receipts, "ignored": outcome.ignored}


def _challenge(webhook: str, query: WebhookVerification) -> Response:
    if not query.hub_challenge:
        raise ValidationFailed("hub.challenge is missing")
    answer = channel_intake().verify_subscription(webhook, query.hub_mode, query.hub_verify_token, query.hub_challenge)
    return Response(body=answer, status_code=200, headers={"Content-Type": "text/plain"})


# webhook -> (what it takes in, the header that proves it), in the order /openapi.json lists them
WEBHOOKS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "whatsapp": ("WhatsApp Business Cloud API: customer messages (text, media, button replies) and statuses of ours.", META),
    "messenger": ("Facebook Messenger (`object: page`): messages, postbacks, delivery and read receipts.", META),
    "instagram": ("Instagram messaging (`object: instagram`): direct messages and receipts.", META),
    "telegram": ("Telegram Bot API updates: a message becomes intake; edits and other updates are noted, not taken in.", TELEGRAM),
    "widget": ("Our chat widget and web form (`source`: chat or web), signed with a timestamp (300 s tolerance).", OWN),
    "phone": ("The telephony integration: call notes and voicemail transcripts, signed as the widget is.", OWN),
}
VERIFIED_BY_GET = ("whatsapp", "messenger", "instagram")  # Meta checks a subscription with a GET first


def _declare(webhook: str, what: str, headers: tuple[tuple[str, str], ...]) -> None:
    """The POST route of one webhook and, for Meta's, its verification GET (each view named for /openapi.json)."""

    def receive() -> dict[str, Any]:
        return _receive(webhook)

    receive.__name__, receive.__doc__ = f"{webhook}_webhook", what
    operation(routes, "POST", f"/webhooks/{webhook}", tag=TAG, role=None, raw_body="WebhookPayload",
              response="WebhookAccepted", errors=SIGNED, headers=headers)(receive)  # fmt: skip
    if webhook not in VERIFIED_BY_GET:
        return

    def verify(query: WebhookVerification) -> Response:
        return _challenge(webhook, query)

    verify.__name__ = f"{webhook}_verification"
    verify.__doc__ = "Meta's subscription check: answers hub.challenge as text when hub.verify_token is ours (else 403)."
    operation(routes, "GET", f"/webhooks/{webhook}", tag=TAG, role=None, query="WebhookVerification", text=True,
              errors=(400, 403))(verify)  # fmt: skip


for _webhook, (_what, _headers) in WEBHOOKS.items():
    _declare(_webhook, _what, _headers)


@operation(routes, "POST", "/webhooks/widget/replies", tag=TAG, role=None, raw_body="WidgetPoll",
           response="WidgetReplies", errors=SIGNED, headers=OWN)  # fmt: skip
def widget_replies() -> dict[str, Any]:
    """The widget's poll for our replies to its visitor (signed as the widget's messages are); each is then delivered."""
    return {"messages": channel_intake().widget_replies(_call("widget"))}
