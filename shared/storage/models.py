"""DynamoDB tables as pynamodb models.

The key schemas and indexes here must match `infra/template.yaml` (a test compares them). Table names come from
settings, which the template passes to every function.

Tables
- tickets: one item per ticket, with GSIs for the work queue (team+status by priority, and by age), assignee,
  customer, channel, ref, and an all-tickets listing by creation time.
- thread: a ticket's messages (`MSG#...`) and audit events (`EVT#...`) under the ticket id, oldest first; a GSI
  maps email Message-IDs (inbound and the ones we send) back to their ticket.
- customers, agents, agent_load: people; agent_load holds the counters assignment updates conditionally.
- markers: send-once markers, Powertools' idempotency records, rate-limit windows and ref reservations (TTL on
  `expires_at`).
- quarantine: inbound items that did not become tickets, with reason and raw object key.
- folder_counts: the agent's folder counters, sharded, moved in the transactions that change tickets.
- kpi: KPI aggregates per day and dimension, kept from the tickets table's stream (rebuildable), and article counts.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    VersionAttribute,
)
from pynamodb.constants import STREAM_NEW_IMAGE
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from shared.settings import get_settings

_settings = get_settings()

LISTING = "all"  # constant partition of the listing indexes; ticket creation rates stay far below one partition's limit


class _Meta:
    region = _settings.region


def _gsi(index: str) -> type:
    """A GSI Meta class; the attributes themselves are declared on the index below."""

    class Meta:
        index_name = index
        projection = AllProjection()

    return Meta


class QueueByPriorityIndex(GlobalSecondaryIndex["TicketModel"]):
    Meta = _gsi("queue-by-priority")
    queue_key = UnicodeAttribute(hash_key=True)
    queue_priority_sort = UnicodeAttribute(range_key=True)


class QueueByArrivalIndex(GlobalSecondaryIndex["TicketModel"]):
    """FIFO order with VIP customers first inside it (R8)."""

    Meta = _gsi("queue-by-arrival")
    queue_key = UnicodeAttribute(hash_key=True)
    queue_fifo_sort = UnicodeAttribute(range_key=True)


class ByAssigneeIndex(GlobalSecondaryIndex["TicketModel"]):
    Meta = _gsi("by-assignee")
    assignee = UnicodeAttribute(hash_key=True)
    created_sort = UnicodeAttribute(range_key=True)


class ByCustomerIndex(GlobalSecondaryIndex["TicketModel"]):
    Meta = _gsi("by-customer")
    customer_id = UnicodeAttribute(hash_key=True)
    created_sort = UnicodeAttribute(range_key=True)


class ByChannelIndex(GlobalSecondaryIndex["TicketModel"]):
    Meta = _gsi("by-channel")
    channel = UnicodeAttribute(hash_key=True)
    created_sort = UnicodeAttribute(range_key=True)


class ByStatusIndex(GlobalSecondaryIndex["TicketModel"]):
    Meta = _gsi("by-status")
    status = UnicodeAttribute(hash_key=True)
    created_sort = UnicodeAttribute(range_key=True)


class ByRefIndex(GlobalSecondaryIndex["TicketModel"]):
    Meta = _gsi("by-ref")
    ref = UnicodeAttribute(hash_key=True)


class DueIndex(GlobalSecondaryIndex["TicketModel"]):
    """Sparse and time-bucketed: only tickets with an escalation step pending, keyed by the minute it falls due,
    so the sweep reads what is due — never the open tickets that are not."""

    Meta = _gsi("by-due")
    due_bucket = UnicodeAttribute(hash_key=True)
    due_sort = UnicodeAttribute(range_key=True)


class AllTicketsIndex(GlobalSecondaryIndex["TicketModel"]):
    Meta = _gsi("all-by-created")
    listing = UnicodeAttribute(hash_key=True)
    created_sort = UnicodeAttribute(range_key=True)


class ByTeamChangedIndex(GlobalSecondaryIndex["TicketModel"]):
    """A team's tickets in the order storage last wrote them: the console's polling (`updated_since`)."""

    Meta = _gsi("by-team-changed")
    team = UnicodeAttribute(hash_key=True)
    changed_sort = UnicodeAttribute(range_key=True)


class ByTeamCreatedIndex(GlobalSecondaryIndex["TicketModel"]):
    """A team's tickets, newest first: the team-scoped list without a filter over every team's tickets."""

    Meta = _gsi("by-team-created")
    team = UnicodeAttribute(hash_key=True)
    created_sort = UnicodeAttribute(range_key=True)


class AllByChangedIndex(GlobalSecondaryIndex["TicketModel"]):
    Meta = _gsi("all-by-changed")
    listing = UnicodeAttribute(hash_key=True)
    changed_sort = UnicodeAttribute(range_key=True)


class EscalatedIndex(GlobalSecondaryIndex["TicketModel"]):
    """Sparse: only open escalated work, keyed `<team>#<level>`, oldest escalation first (the overview, R21)."""

    Meta = _gsi("escalated")
    escalation_key = UnicodeAttribute(hash_key=True)
    escalated_at = UnicodeAttribute(range_key=True)


class CustomerSnapshot(MapAttribute):  # type: ignore[type-arg]
    id = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    handle = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    tier = UnicodeAttribute(default="standard")


class TicketModel(Model):
    class Meta(_Meta):
        table_name = _settings.tickets_table
        stream_view_type = STREAM_NEW_IMAGE  # the KPI aggregator reads every write (infra/template.yaml: the same)

    id = UnicodeAttribute(hash_key=True)
    ref = UnicodeAttribute()
    subject = UnicodeAttribute(default="")
    channel = UnicodeAttribute()
    status = UnicodeAttribute(default="open")
    priority = UnicodeAttribute(default="medium")
    priority_reasons = ListAttribute(of=UnicodeAttribute, default=list)
    category = UnicodeAttribute(null=True)
    team = UnicodeAttribute(default="support")
    customer_id = UnicodeAttribute()
    customer = CustomerSnapshot()
    assignee = UnicodeAttribute(null=True)
    escalation_level = NumberAttribute(default=0)
    tags = UnicodeSetAttribute(default=set)
    mailbox = UnicodeAttribute(null=True)
    automated = BooleanAttribute(default=False)
    automation_reasons = ListAttribute(of=UnicodeAttribute, default=list)
    follow_up_of = UnicodeAttribute(null=True)
    related_to = UnicodeAttribute(null=True)  # a ticket whose mail this one referenced but may not join
    merged_into = UnicodeAttribute(null=True)  # closed by a merge into this ticket
    merged_from = ListAttribute(of=UnicodeAttribute, default=list)
    links = JSONAttribute(null=True)  # related tickets of other teams (shared/domain/links.py)
    reopen_count = NumberAttribute(default=0)
    message_count = NumberAttribute(default=0)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    first_responded_at = UnicodeAttribute(null=True)
    resolved_at = UnicodeAttribute(null=True)
    closed_at = UnicodeAttribute(null=True)
    last_customer_message_at = UnicodeAttribute(null=True)
    sla = MapAttribute(null=True)  # type: ignore[var-annotated]
    sla_clock = JSONAttribute(null=True)  # the clock's own state (shared/domain/sla_clock.py); `sla` is its summary for readers
    ladder_done = ListAttribute(of=NumberAttribute, default=list)
    due_bucket = UnicodeAttribute(null=True)
    due_sort = UnicodeAttribute(null=True)
    customer_waiting_count = NumberAttribute(default=0)  # customer messages since the last agent reply
    idle_flagged_at = UnicodeAttribute(null=True)  # the `updated_at` of the quiet spell already flagged idle
    escalation_causes = JSONAttribute(null=True)  # cause -> tier it asks for (shared/domain/escalation_causes.py)
    eta_promise = JSONAttribute(null=True)  # what the acknowledgement promised, in business seconds per metric
    csat = JSONAttribute(null=True)  # the customer's rating after resolution
    resolved_by_article = UnicodeAttribute(null=True)  # closed by the customer from the portal: an article answered
    escalation_log = JSONAttribute(null=True)  # each rise in escalation level, written by storage (KPIs read it)
    # routing
    required_skill = UnicodeAttribute(null=True)
    required_tier = NumberAttribute(default=1)
    preferred_agent = UnicodeAttribute(null=True)  # who had it before it went back to the queue
    assigned_at = UnicodeAttribute(null=True)
    assignment_reason = UnicodeAttribute(null=True)  # why the current assignee (shared/domain/assignment.py)
    priority_source = UnicodeAttribute(null=True)  # "rules" once the engine decided, "agent" after a manual change
    keywords = ListAttribute(of=UnicodeAttribute, default=list)
    search_text = UnicodeAttribute(default="")
    version = VersionAttribute()  # optimistic lock: every save is conditional on the version it read
    # index attributes
    listing = UnicodeAttribute(default=LISTING)
    created_sort = UnicodeAttribute()
    queue_key = UnicodeAttribute()
    queue_priority_sort = UnicodeAttribute()
    queue_fifo_sort = UnicodeAttribute()
    changed_sort = UnicodeAttribute(null=True)  # `<when storage last wrote it>#<id>`
    escalation_key = UnicodeAttribute(null=True)  # `<team>#<level>` while escalated and not resolved/closed
    escalated_at = UnicodeAttribute(null=True)  # when the level last rose from 0 (storage's own fact)

    queue_by_priority = QueueByPriorityIndex()
    queue_by_arrival = QueueByArrivalIndex()
    by_assignee = ByAssigneeIndex()
    by_customer = ByCustomerIndex()
    by_channel = ByChannelIndex()
    by_status = ByStatusIndex()
    by_ref = ByRefIndex()
    all_by_created = AllTicketsIndex()
    by_due = DueIndex()
    by_team_created = ByTeamCreatedIndex()
    by_team_changed = ByTeamChangedIndex()
    all_by_changed = AllByChangedIndex()
    escalated = EscalatedIndex()


class ByEmailMessageIdIndex(GlobalSecondaryIndex["ThreadItemModel"]):
    class Meta:
        index_name = "by-email-message-id"
        projection = AllProjection()

    email_message_id = UnicodeAttribute(hash_key=True)


class ThreadItemModel(Model):
    """Messages (`MSG#<at>#<id>`) and audit events (`EVT#<at>#<id>`) of one ticket."""

    class Meta(_Meta):
        table_name = _settings.thread_table

    ticket_id = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    item_type = UnicodeAttribute()  # message | event
    at = UnicodeAttribute()
    # message
    message_id = UnicodeAttribute(null=True)
    direction = UnicodeAttribute(null=True)
    kind = UnicodeAttribute(null=True)
    channel = UnicodeAttribute(null=True)
    author = MapAttribute(null=True)  # type: ignore[var-annotated]
    subject = UnicodeAttribute(null=True)
    body = UnicodeAttribute(null=True)
    body_full = UnicodeAttribute(null=True)
    body_truncated = BooleanAttribute(default=False)
    body_key = UnicodeAttribute(null=True)
    raw_key = UnicodeAttribute(null=True)
    attachments = ListAttribute(of=MapAttribute, default=list)
    email_message_id = UnicodeAttribute(null=True)
    in_reply_to = ListAttribute(of=UnicodeAttribute, default=list)
    recipients = ListAttribute(of=UnicodeAttribute, default=list)
    automated = BooleanAttribute(default=False)
    automation_reasons = ListAttribute(of=UnicodeAttribute, default=list)
    suppressed = BooleanAttribute(default=False)
    defects = ListAttribute(of=UnicodeAttribute, default=list)
    importance = UnicodeAttribute(null=True)  # "high" / "low" from the mail's Importance or X-Priority
    merged_from = UnicodeAttribute(null=True)  # copied from this ticket when it was merged
    delivery = MapAttribute(null=True)  # type: ignore[var-annotated]  # platform channels: status and the platform's id
    # event
    type = UnicodeAttribute(null=True)
    actor = UnicodeAttribute(null=True)
    data = MapAttribute(null=True)  # type: ignore[var-annotated]

    by_email_message_id = ByEmailMessageIdIndex()


class CustomerModel(Model):
    class Meta(_Meta):
        table_name = _settings.customers_table

    id = UnicodeAttribute(hash_key=True)
    contact_key = UnicodeAttribute()
    channel = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    handle = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    tier = UnicodeAttribute(default="standard")
    bouncing = BooleanAttribute(default=False)
    bounced_at = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()


class AgentModel(Model):
    class Meta(_Meta):
        table_name = _settings.agents_table

    id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    team = UnicodeAttribute(default="support")
    presence = UnicodeAttribute(default="offline")
    capacity = NumberAttribute(default=5)
    skills = UnicodeSetAttribute(default=set)
    channels = UnicodeSetAttribute(default=set)
    tier = NumberAttribute(default=1)
    timezone = UnicodeAttribute(default="UTC")
    working_hours = MapAttribute(null=True)  # type: ignore[var-annotated]
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()


class LoadByTeamIndex(GlobalSecondaryIndex["AgentLoadModel"]):
    Meta = _gsi("by-team")
    team = UnicodeAttribute(hash_key=True)


class AgentLoadModel(Model):
    """The counter assignment increments under `presence = online and load < capacity`, so nobody is ever
    overfilled. It mirrors the agent's routing facts, so one Query per team gives every candidate."""

    class Meta(_Meta):
        table_name = _settings.agent_load_table

    agent_id = UnicodeAttribute(hash_key=True)
    team = UnicodeAttribute(default="support")
    load = NumberAttribute(default=0)
    capacity = NumberAttribute(default=0)
    presence = UnicodeAttribute(default="offline")
    skills = UnicodeSetAttribute(default=set)
    channels = UnicodeSetAttribute(default=set)
    tier = NumberAttribute(default=1)
    timezone = UnicodeAttribute(default="UTC")
    working_hours = MapAttribute(null=True)  # type: ignore[var-annotated]
    last_assigned_at = UnicodeAttribute(null=True)
    load_changed_at = UnicodeAttribute(null=True)  # the last assign or release (the sweep lets indexes settle)

    by_team = LoadByTeamIndex()


class MarkerModel(Model):
    """Send-once markers (`ack#...`, `notice#...`, `auto-reply#...`), rate windows (`rate#...`), ref reservations
    (`ref#...`) and the alerts each team's calendar held back (`alerts-deferred#<team>`, `hits` counting the
    appends). Powertools' idempotency records (`idempotency#<stage>#<hash>`: status, data, in_progress_expiration,
    expires_at) share the table; this model never reads them."""

    class Meta(_Meta):
        table_name = _settings.markers_table

    key = UnicodeAttribute(hash_key=True)
    state = UnicodeAttribute(null=True)
    lease_until = NumberAttribute(null=True)
    hits = NumberAttribute(null=True)
    members = UnicodeSetAttribute(null=True)  # rate windows: what was counted, once each (markers.hit)
    ticket_id = UnicodeAttribute(null=True)
    result = MapAttribute(null=True)  # type: ignore[var-annotated]
    deferred = ListAttribute(null=True)  # type: ignore[var-annotated]  # alerts held outside business hours
    expires_at = NumberAttribute(null=True)


class FolderCountsOfAllTeamsIndex(GlobalSecondaryIndex["FolderCountModel"]):
    Meta = _gsi("all-teams")
    listing = UnicodeAttribute(hash_key=True)


class FolderCountModel(Model):
    """The folder counters (shared/domain/folders.py): one item per team, folder and shard (`<folder>#<shard>`),
    moved by the same transaction as the ticket change they count; a team's counts are one Query, summed."""

    class Meta(_Meta):
        table_name = _settings.folder_counts_table

    team = UnicodeAttribute(hash_key=True)
    counter = UnicodeAttribute(range_key=True)
    n = NumberAttribute(default=0)
    listing = UnicodeAttribute(default=LISTING)

    all_teams = FolderCountsOfAllTeamsIndex()


class KpiModel(Model):
    """KPI aggregates and what feeds them (shared/storage/kpi.py): `<dimension>` / `<day>#<value>` counter items,
    `fact#<ticket id>` / `fact` (what one ticket contributes now), `article` / `<id>` (views, votes). The counters
    have attributes named by what they count, so they are written with the low-level client."""

    class Meta(_Meta):
        table_name = _settings.kpi_table

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class ConfigModel(Model):
    """Settings a support lead edits through the API: priority rules, teams, templates, auto-reply rules."""

    class Meta(_Meta):
        table_name = _settings.config_table

    kind = UnicodeAttribute(hash_key=True)  # e.g. "priority-rules", "team", "template", "auto-reply"
    name = UnicodeAttribute(range_key=True)
    body = JSONAttribute()
    updated_at = UnicodeAttribute()
    updated_by = UnicodeAttribute(null=True)
    version = VersionAttribute()


class QuarantineByReceivedIndex(GlobalSecondaryIndex["QuarantineModel"]):
    Meta = _gsi("by-received")
    listing = UnicodeAttribute(hash_key=True)
    received_sort = UnicodeAttribute(range_key=True)


class QuarantineModel(Model):
    class Meta(_Meta):
        table_name = _settings.quarantine_table

    id = UnicodeAttribute(hash_key=True)
    reason = UnicodeAttribute()
    detail = UnicodeAttribute(null=True)
    source = UnicodeAttribute(default="email")
    raw_bucket = UnicodeAttribute(null=True)
    raw_key = UnicodeAttribute(null=True)
    sender = UnicodeAttribute(null=True)
    subject = UnicodeAttribute(null=True)
    received_at = UnicodeAttribute()
    listing = UnicodeAttribute(default=LISTING)
    received_sort = UnicodeAttribute()

    by_received = QuarantineByReceivedIndex()


ALL_MODELS: tuple[type[Model], ...] = (
    TicketModel,
    ThreadItemModel,
    CustomerModel,
    AgentModel,
    AgentLoadModel,
    MarkerModel,
    QuarantineModel,
    ConfigModel,
    FolderCountModel,
    KpiModel,
)
