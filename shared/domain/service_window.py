"""WhatsApp's customer-service window: a business may send free text only within 24 hours of the customer's last
message; outside it, only a message template WhatsApp approved (which also reopens the conversation when the
customer answers). Other channels have no such window here."""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.domain.errors import InvalidTransition
from shared.domain.timefmt import parse_iso

WINDOW = timedelta(hours=24)
WINDOWED_CHANNELS = frozenset({"whatsapp"})


class WindowClosed(InvalidTransition):
    code = "service_window_closed"


def free_text_allowed(channel: str, last_customer_message_at: str | None, now: datetime) -> bool:
    """True when free text may go out on `channel` now (always, on a channel without a window)."""
    if channel not in WINDOWED_CHANNELS:
        return True
    if not last_customer_message_at:
        return False
    return now - parse_iso(last_customer_message_at) < WINDOW


def require_open_window(channel: str, last_customer_message_at: str | None, now: datetime) -> None:
    """An agent's free-text reply outside the window is refused (409) rather than silently failing later."""
    if not free_text_allowed(channel, last_customer_message_at, now):
        since = f" (the customer last wrote at {last_customer_message_at})" if last_customer_message_at else ""
        raise WindowClosed(
            f"WhatsApp's 24-hour customer-service window is closed{since}: free text cannot be sent; an approved "
            "WhatsApp template can (a notice with one is sent as it), or the customer writes again"
        )
