"""Test-wide settings: fake AWS credentials and fixed resource names, set before any project module is imported
(pynamodb models read their table names at import time)."""

from __future__ import annotations

import os
from pathlib import Path

for name, value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "SIGNING_SECRET": "test-signing-secret",
    "CHANNEL_SECRETS": '{"whatsapp": {"app_secret": "test-whatsapp-secret", "verify_token": "test-verify"}, '
    '"messenger": {"app_secret": "test-messenger-secret"}, "instagram": {"app_secret": "test-instagram-secret"}, '
    '"telegram": {"secret_token": "test-telegram-token"}, "widget": {"signing_secret": "test-widget-secret"}, '
    '"phone": {"signing_secret": "test-phone-secret"}}',
    "ROUTE_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/ticketing-route",
    "ESCALATE_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/ticketing-escalate",
    "DELIVERY_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/ticketing-delivery",
    "POWERTOOLS_METRICS_NAMESPACE": "TicketingTest",
    "POWERTOOLS_DEV": "false",
}.items():
    os.environ[name] = value
for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_DYNAMODB_STREAMS"):
    os.environ.pop(name, None)
os.environ.pop("AWS_PROFILE", None)

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
MAILS = Path(__file__).resolve().parent / "mails"
