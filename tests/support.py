"""Building blocks for scenarios: compose a mail, deliver it the way SES does, call the ingest handler."""

from __future__ import annotations

import copy
import json
import secrets
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "events_samples"


def compose(
    *,
    sender: str = "Budi Santoso <budi@pelanggan.co.id>",
    to: str = "support@example.com",
    subject: str = "Tidak bisa login ke dashboard",
    body: str = "Halo, saya tidak bisa login sejak pagi.",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    headers: dict[str, str] | None = None,
    attachments: list[tuple[str, str, bytes]] | None = None,
) -> bytes:
    msg = EmailMessage()
    if sender:
        msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime(2026, 11, 2, 10, 0, tzinfo=timezone.utc))
    msg["Message-ID"] = message_id or make_msgid(domain="pelanggan.co.id")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    for filename, content_type, data in attachments or []:
        maintype, subtype = content_type.split("/", 1)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def ses_record(
    delivery_id: str,
    *,
    recipients: list[str] | None = None,
    timestamp: str = "2026-11-02T03:15:00.000Z",
    spam: str = "PASS",
    virus: str = "PASS",
) -> dict[str, Any]:
    event = json.loads((SAMPLES / "ses_inbound.json").read_text())
    record = copy.deepcopy(event["Records"][0])
    record["ses"]["mail"]["messageId"] = delivery_id
    record["ses"]["mail"]["timestamp"] = timestamp
    record["ses"]["receipt"]["timestamp"] = timestamp
    record["ses"]["receipt"]["recipients"] = recipients or ["support@example.com"]
    record["ses"]["receipt"]["spamVerdict"]["status"] = spam
    record["ses"]["receipt"]["virusVerdict"]["status"] = virus
    return record


@dataclass
class FakeContext:  # noqa: D101 - a Lambda context with the fields Powertools reads
    function_name: str = "ticketing-IngestFunction"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:ticketing-IngestFunction"
    aws_request_id: str = "test-request"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def deliver(s3: Any, raw: bytes, *, delivery_id: str | None = None, **record_kwargs: Any) -> dict[str, Any]:
    """Store the raw mail where the SES S3 action puts it, then invoke ingest with the SES event."""
    from functions.ingest.handler import lambda_handler
    from shared.settings import get_settings

    settings = get_settings()
    delivery_id = delivery_id or secrets.token_hex(10)
    s3.put_object(Bucket=settings.mail_bucket, Key=f"{settings.raw_mail_prefix}{delivery_id}", Body=raw)
    result = lambda_handler({"Records": [ses_record(delivery_id, **record_kwargs)]}, FakeContext())
    return dict(result["results"][0])


def api_token(role: str, agent: str | None, *teams: str) -> dict[str, str]:
    """Request headers with a bearer token for `role` (teams: default support), as `ticketing token` issues it."""
    from shared.adapters.secrets import signing_key
    from shared.auth import issue_token
    from shared.settings import get_settings

    issued = issue_token(signing_key(get_settings()), role, agent, teams=teams or ("support",))
    return {"Authorization": f"Bearer {issued}", "Content-Type": "application/json"}


def api_call(api: Any, method: str, path: str, headers: dict[str, str], body: object = None) -> tuple[int, Any]:
    """(status, JSON body or None) of one request through the Chalice test client."""
    response = getattr(api.http, method.lower())(path, headers=headers, body=json.dumps(body) if body is not None else None)
    return response.status_code, json.loads(response.body) if response.body else None
