"""Outgoing mail through Amazon SES (moto locally)."""

from __future__ import annotations

from shared.adapters.aws import client
from shared.settings import Settings


def ses_header_message_id(ses_message_id: str, region: str) -> str:
    """SES replaces our Message-ID with <its id@region's amazonses domain>; replies quote that one."""
    domain = "email.amazonses.com" if region == "us-east-1" else f"{region}.amazonses.com"
    return f"<{ses_message_id}@{domain}>"


class SesMailer:
    def __init__(self, settings: Settings) -> None:
        self.region = settings.region
        self._ses = client("ses", settings.region)

    def send(self, raw: bytes, source: str, destinations: list[str]) -> str:
        """Send raw RFC 5322 bytes; returns the Message-ID header the recipient will see."""
        response = self._ses.send_raw_email(Source=source, Destinations=destinations, RawMessage={"Data": raw})
        return ses_header_message_id(str(response["MessageId"]), self.region)
