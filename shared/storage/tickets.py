"""Tickets, their thread and their audit trail in DynamoDB.

Every multi-item change is one TransactWrite with conditions, so a retry after a crash either finds the whole
change already there or none of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, cast

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition

from shared.domain.errors import Conflict, ValidationFailed
from shared.domain.model import AuditEvent, Priority, Status
from shared.storage.cursor import decode_cursor, encode_cursor
from shared.storage.transactions import failed_conditions, transaction
from shared.storage.models import LISTING, MarkerModel, ThreadItemModel, TicketModel
from shared.timefmt import iso


def index_keys(ticket: TicketModel) -> None:
    """Recompute the denormalised index attributes after any change to team, status, priority or creation."""
    ticket.created_sort = f"{ticket.created_at}#{ticket.id}"
    # a new ticket waits in triage until routing has decided its priority, SLA and tier: only then may a drain
    # (triggered by any other ticket) hand it to an agent
    triage = ticket.status == "open" and ticket.priority_source is None
    ticket.queue_key = f"{ticket.team}#triage" if triage else f"{ticket.team}#{ticket.status}"
    ticket.queue_priority_sort = f"{Priority(ticket.priority).rank}#{ticket.created_at}#{ticket.id}"
    vip_first = 0 if ticket.customer is not None and ticket.customer.tier == "vip" else 1
    ticket.queue_fifo_sort = f"{vip_first}#{ticket.created_at}#{ticket.id}"
    ticket.listing = LISTING
    customer = ticket.customer
    ticket.search_text = " ".join(
        part.lower()
        for part in (ticket.subject, ticket.ref, customer.email if customer else None, customer.name if customer else None)
        if part
    )


def event_item(ticket_id: str, event: AuditEvent, event_id: str, seq: int = 0) -> ThreadItemModel:
    """`seq` orders events written in the same millisecond by one change."""
    at = iso(event.at)
    return ThreadItemModel(
        ticket_id=ticket_id,
        sk=f"EVT#{at}#{seq:03d}#{event_id}",
        item_type="event",
        at=at,
        type=event.type,
        actor=event.actor,
        data=event.data,
    )


@dataclass
class TicketFilters:
    status: str | None = None
    priority: str | None = None
    channel: str | None = None
    assignee: str | None = None
    tag: str | None = None
    tier: str | None = None
    escalation_level: int | None = None
    customer_id: str | None = None
    q: str | None = None


@dataclass
class Page:
    items: list[TicketModel] = field(default_factory=list)
    next_cursor: str | None = None


class TicketRepository:
    def get(self, ticket_id: str) -> TicketModel | None:
        try:
            return TicketModel.get(ticket_id, consistent_read=True)
        except TicketModel.DoesNotExist:
            return None

    def by_ref(self, ref: str) -> TicketModel | None:
        for item in TicketModel.by_ref.query(ref, limit=1):
            return self.get(item.id)
        return None

    def message_for_email_message_id(self, message_id: str) -> ThreadItemModel | None:
        """The thread message (inbound, or one we sent) that carried this email Message-ID."""
        for item in ThreadItemModel.by_email_message_id.query(message_id, limit=1):
            return item
        return None

    def create(
        self,
        ticket: TicketModel,
        message: ThreadItemModel,
        events: Iterable[ThreadItemModel],
        ref_candidates: list[str],
    ) -> bool:
        """Write a new ticket with its first message, events and a unique ref, all or nothing.

        Returns False when this exact ticket already exists (a retried delivery), True when it was written.
        """
        events = list(events)
        for ref in ref_candidates:
            ticket.ref = ref
            index_keys(ticket)
            marker = MarkerModel(key=f"ref#{ref}", ticket_id=ticket.id, state="taken")
            try:
                with transaction() as tx:
                    tx.save(ticket, condition=TicketModel.id.does_not_exist())
                    tx.save(
                        marker,
                        condition=MarkerModel.key.does_not_exist() | (MarkerModel.ticket_id == ticket.id),
                    )
                    tx.save(message, condition=ThreadItemModel.sk.does_not_exist())
                    for event in events:
                        tx.save(event)
                return True
            except TransactWriteError as error:
                failed = failed_conditions(error)
                if not any(failed):
                    raise
                if failed[0]:
                    return False  # the ticket is already there: this is a retry of a completed write
                if failed[1]:
                    continue  # the ref belongs to another ticket: take the next candidate
                return False
        raise Conflict("could not reserve a unique ticket ref after several attempts")

    def add_message(
        self,
        ticket: TicketModel,
        message: ThreadItemModel,
        events: Iterable[ThreadItemModel],
    ) -> bool:
        """Append a message and save the changed ticket, guarded on the version read before the change.

        Returns False when the message is already on the thread (a retry). Raises Conflict when the ticket moved
        underneath (the caller re-reads and decides again).
        """
        index_keys(ticket)
        try:
            with transaction() as tx:
                tx.save(message, condition=ThreadItemModel.sk.does_not_exist())
                tx.save(ticket)  # the version attribute makes this conditional on what was read
                for event in events:
                    tx.save(event)
            return True
        except TransactWriteError as error:
            failed = failed_conditions(error)
            if failed and failed[0]:
                return False
            if len(failed) > 1 and failed[1]:
                raise Conflict(f"ticket {ticket.id} changed while a message was being added") from error
            raise

    def message(self, ticket_id: str, message_id: str) -> ThreadItemModel | None:
        """A message by its id (its sort key starts with its time, so this reads the ticket's messages)."""
        for item in ThreadItemModel.query(ticket_id, ThreadItemModel.sk.startswith("MSG#"), consistent_read=True):
            if item.message_id == message_id:
                return item
        return None

    def first_message(self, ticket_id: str) -> ThreadItemModel | None:
        for item in ThreadItemModel.query(ticket_id, ThreadItemModel.sk.startswith("MSG#"), limit=1, consistent_read=True):
            return item
        return None

    def waiting(self, team: str, strategy: str, limit: int = 50) -> list[TicketModel]:
        """The team's queue head: open (unassigned) tickets in the order the team's strategy serves them."""
        index = TicketModel.queue_by_arrival if strategy == "fifo" else TicketModel.queue_by_priority
        return list(index.query(f"{team}#open", limit=limit))

    def untriaged(self, team: str, created_before: str, limit: int = 100) -> list[TicketModel]:
        """New tickets of `team` that routing has not triaged yet, created before `created_before` (ISO)."""
        return [t for t in TicketModel.queue_by_priority.query(f"{team}#triage", limit=limit) if t.created_at < created_before]

    def waiting_ahead(self, ticket: TicketModel, strategy: str, limit: int = 500) -> list[TicketModel]:
        """The waiting tickets the team's queue serves before this one, first first (at most `limit`)."""
        if strategy == "fifo":
            condition = TicketModel.queue_fifo_sort < ticket.queue_fifo_sort
            return list(TicketModel.queue_by_arrival.query(ticket.queue_key, condition, limit=limit))
        condition = TicketModel.queue_priority_sort < ticket.queue_priority_sort
        return list(TicketModel.queue_by_priority.query(ticket.queue_key, condition, limit=limit))

    def count_held(self, agent_id: str) -> int:
        """The tickets an agent holds (in progress), whatever their team: what the agent's load must equal."""
        return int(TicketModel.by_assignee.count(agent_id, filter_condition=TicketModel.status == Status.IN_PROGRESS.value))

    def add_items(self, items: Iterable[ThreadItemModel]) -> None:
        """Messages we send and their events: plain puts keyed by deterministic ids, so a retry rewrites them."""
        with ThreadItemModel.batch_write() as batch:
            for item in items:
                batch.save(item)

    def thread(self, ticket_id: str) -> tuple[list[ThreadItemModel], list[ThreadItemModel]]:
        """(messages, events), each oldest first."""
        messages: list[ThreadItemModel] = []
        events: list[ThreadItemModel] = []
        for item in ThreadItemModel.query(ticket_id, consistent_read=True):
            (messages if item.item_type == "message" else events).append(item)
        return messages, events

    def list(self, filters: TicketFilters, limit: int = 25, cursor: str | None = None) -> Page:
        """Newest first, through the most selective index the filters allow, never a table Scan."""
        if not 1 <= limit <= 100:
            raise ValidationFailed("limit must be between 1 and 100")
        index, hash_value = self._choose_index(filters)
        start_key = decode_cursor(cursor, index.Meta.index_name) if cursor else None
        condition = self._filter_condition(filters, indexed=index)
        page = Page()
        result = index.query(
            hash_value,
            scan_index_forward=False,
            filter_condition=condition,
            limit=limit,
            last_evaluated_key=start_key,
            page_size=max(limit, 25),
        )
        page.items = list(result)
        if len(page.items) == limit:
            page.next_cursor = encode_cursor(index.Meta.index_name, _index_key(page.items[-1], index))
        return page

    @staticmethod
    def _choose_index(filters: TicketFilters) -> tuple[Any, str]:
        if filters.assignee:
            return TicketModel.by_assignee, filters.assignee
        if filters.customer_id:
            return TicketModel.by_customer, filters.customer_id
        if filters.channel:
            return TicketModel.by_channel, filters.channel
        if filters.status:
            return TicketModel.by_status, filters.status
        return TicketModel.all_by_created, LISTING

    @staticmethod
    def _filter_condition(filters: TicketFilters, indexed: Any) -> Any:
        conditions: list[Condition] = []
        if filters.status and indexed is not TicketModel.by_status:
            conditions.append(TicketModel.status == filters.status)
        if filters.channel and indexed is not TicketModel.by_channel:
            conditions.append(TicketModel.channel == filters.channel)
        if filters.assignee and indexed is not TicketModel.by_assignee:
            conditions.append(TicketModel.assignee == filters.assignee)
        if filters.customer_id and indexed is not TicketModel.by_customer:
            conditions.append(TicketModel.customer_id == filters.customer_id)
        if filters.priority:
            conditions.append(TicketModel.priority == filters.priority)
        if filters.tag:
            conditions.append(TicketModel.tags.contains(filters.tag))
        if filters.tier:
            conditions.append(cast(Condition, TicketModel.customer.tier == filters.tier))
        if filters.escalation_level is not None:
            conditions.append(TicketModel.escalation_level == filters.escalation_level)
        if filters.q:
            conditions.append(TicketModel.search_text.contains(filters.q.strip().lower()))
        if not conditions:
            return None
        combined = conditions[0]
        for extra in conditions[1:]:
            combined = combined & extra
        return combined


def _index_key(item: TicketModel, index: Any) -> dict[str, Any]:
    """The LastEvaluatedKey DynamoDB would give for `item` in `index` (table key + index key)."""
    key = {"id": {"S": item.id}, "created_sort": {"S": item.created_sort}}
    hash_name = {
        "by-assignee": "assignee",
        "by-customer": "customer_id",
        "by-channel": "channel",
        "by-status": "status",
        "all-by-created": "listing",
    }[index.Meta.index_name]
    key[hash_name] = {"S": getattr(item, hash_name)}
    return key


def status_value(text: str) -> Status:
    try:
        return Status(text)
    except ValueError as exc:
        raise ValidationFailed(f"unknown status {text!r}; use one of {', '.join(s.value for s in Status)}") from exc
