"""The one place that reads the environment.

On AWS the SAM template sets these variables on every function; the local stack sets them from the same
template after provisioning it into the emulator. Endpoints are never configured here: boto3 honours the
standard ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_<SERVICE>`` variables, so moto, LocalStack or a real
account all work unchanged.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"setting {name} must be an integer, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    region: str = "us-east-1"
    stage: str = "local"
    # DynamoDB tables
    tickets_table: str = "ticketing-tickets"
    thread_table: str = "ticketing-thread"
    customers_table: str = "ticketing-customers"
    agents_table: str = "ticketing-agents"
    agent_load_table: str = "ticketing-agent-load"
    markers_table: str = "ticketing-markers"
    quarantine_table: str = "ticketing-quarantine"
    config_table: str = "ticketing-config"
    folder_counts_table: str = "ticketing-folder-counts"
    kpi_table: str = "ticketing-kpi"  # KPI aggregates, per-ticket facts and article counters (derived, rebuildable)
    # S3 and queues
    mail_bucket: str = "ticketing-mail"
    raw_mail_prefix: str = "inbound/"
    attachments_prefix: str = "attachments/"
    route_queue_url: str = ""
    escalate_queue_url: str = ""
    event_bus_name: str = "default"
    # Mail identity
    support_domain: str = "example.com"
    support_address: str = "support@example.com"
    # Signing key for reply-to tokens and API tokens: a literal (tests, local) or a Secrets Manager name.
    signing_secret: str = ""
    signing_secret_name: str = "ticketing/signing-key"
    # Channel webhooks and senders: one Secrets Manager secret per webhook (JSON fields) under this prefix, or all
    # of them literally as JSON {"whatsapp": {"app_secret": ...}, ...} (tests)
    channel_secret_prefix: str = "ticketing/channels/"
    channel_secrets: str = ""
    # Platform send APIs (the local stack points them at its recording fakes) and their delivery queue
    graph_api_base: str = "https://graph.facebook.com"
    graph_api_version: str = "v21.0"
    instagram_api_base: str = "https://graph.facebook.com"  # Instagram messaging goes through the Graph API too
    telegram_api_base: str = "https://api.telegram.org"
    delivery_queue_url: str = ""
    delivery_max_attempts: int = 5  # the delivery queue's maxReceiveCount: after it, a job waits in the DLQ
    # Limits
    max_attachment_bytes: int = 10 * 1024 * 1024
    max_stored_body_chars: int = 100_000
    sender_mails_per_hour: int = 30
    ticket_mails_per_hour: int = 60
    processing_lease_seconds: int = 300
    idempotency_days: int = 30  # how long a stage remembers what it did with a message (and replays it as a duplicate)
    default_team: str = "support"
    max_token_ttl_seconds: int = 12 * 3600  # API bearer tokens live at most this long
    # Deployed: the Cognito user pool agents sign in with (its issuer URL) and the console's app client id.
    # Empty: only the stack's own tokens (`ticketing token`, the local dev sign-in) are accepted.
    cognito_issuer: str = ""
    cognito_client_id: str = ""
    cognito_client_id_parameter: str = ""  # deployed: the SSM parameter holding the client id (read once)
    # Where customers open the help centre and their ticket's portal (the console's origin), and how long a
    # portal link in a customer message stays valid. Deployed, the address is read once from its SSM parameter.
    public_url: str = "http://127.0.0.1:8000"
    public_url_parameter: str = ""
    portal_link_days: int = 30

    @property
    def loop_marker(self) -> str:
        """Value of the X-Loop header on every mail we send; seeing it inbound means a loop."""
        return f"ticketing@{self.support_domain}"

    @classmethod
    def from_env(cls) -> "Settings":
        env = os.environ
        domain = env.get("SUPPORT_DOMAIN", cls.support_domain)
        return cls(
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or cls.region,
            stage=env.get("STAGE", cls.stage),
            tickets_table=env.get("TICKETS_TABLE", cls.tickets_table),
            thread_table=env.get("THREAD_TABLE", cls.thread_table),
            customers_table=env.get("CUSTOMERS_TABLE", cls.customers_table),
            agents_table=env.get("AGENTS_TABLE", cls.agents_table),
            agent_load_table=env.get("AGENT_LOAD_TABLE", cls.agent_load_table),
            markers_table=env.get("MARKERS_TABLE", cls.markers_table),
            quarantine_table=env.get("QUARANTINE_TABLE", cls.quarantine_table),
            config_table=env.get("CONFIG_TABLE", cls.config_table),
            folder_counts_table=env.get("FOLDER_COUNTS_TABLE", cls.folder_counts_table),
            kpi_table=env.get("KPI_TABLE", cls.kpi_table),
            mail_bucket=env.get("MAIL_BUCKET", cls.mail_bucket),
            raw_mail_prefix=env.get("RAW_MAIL_PREFIX", cls.raw_mail_prefix),
            attachments_prefix=env.get("ATTACHMENTS_PREFIX", cls.attachments_prefix),
            route_queue_url=env.get("ROUTE_QUEUE_URL", cls.route_queue_url),
            escalate_queue_url=env.get("ESCALATE_QUEUE_URL", cls.escalate_queue_url),
            event_bus_name=env.get("EVENT_BUS_NAME", cls.event_bus_name),
            support_domain=domain,
            support_address=env.get("SUPPORT_ADDRESS", f"support@{domain}"),
            signing_secret=env.get("SIGNING_SECRET", ""),
            signing_secret_name=env.get("SIGNING_SECRET_NAME", cls.signing_secret_name),
            channel_secret_prefix=env.get("CHANNEL_SECRET_PREFIX", cls.channel_secret_prefix),
            channel_secrets=env.get("CHANNEL_SECRETS", ""),
            graph_api_base=env.get("GRAPH_API_BASE", cls.graph_api_base).rstrip("/"),
            graph_api_version=env.get("GRAPH_API_VERSION", cls.graph_api_version),
            instagram_api_base=env.get("INSTAGRAM_API_BASE", cls.instagram_api_base).rstrip("/"),
            telegram_api_base=env.get("TELEGRAM_API_BASE", cls.telegram_api_base).rstrip("/"),
            delivery_queue_url=env.get("DELIVERY_QUEUE_URL", cls.delivery_queue_url),
            delivery_max_attempts=_int("DELIVERY_MAX_ATTEMPTS", cls.delivery_max_attempts),
            max_attachment_bytes=_int("MAX_ATTACHMENT_BYTES", cls.max_attachment_bytes),
            max_stored_body_chars=_int("MAX_STORED_BODY_CHARS", cls.max_stored_body_chars),
            sender_mails_per_hour=_int("SENDER_MAILS_PER_HOUR", cls.sender_mails_per_hour),
            ticket_mails_per_hour=_int("TICKET_MAILS_PER_HOUR", cls.ticket_mails_per_hour),
            processing_lease_seconds=_int("PROCESSING_LEASE_SECONDS", cls.processing_lease_seconds),
            idempotency_days=_int("IDEMPOTENCY_DAYS", cls.idempotency_days),
            default_team=env.get("DEFAULT_TEAM", cls.default_team),
            max_token_ttl_seconds=_int("MAX_TOKEN_TTL_SECONDS", cls.max_token_ttl_seconds),
            cognito_issuer=env.get("COGNITO_ISSUER", "").rstrip("/"),
            cognito_client_id=env.get("COGNITO_CLIENT_ID", ""),
            cognito_client_id_parameter=env.get("COGNITO_CLIENT_ID_PARAMETER", ""),
            public_url=(env.get("PUBLIC_URL") or cls.public_url).rstrip("/"),
            public_url_parameter=env.get("PUBLIC_URL_PARAMETER", ""),
            portal_link_days=_int("PORTAL_LINK_DAYS", cls.portal_link_days),
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
