"""Tickets, their thread and their audit trail in DynamoDB — the only code that knows how a `Ticket` is stored.

Every multi-item change is one TransactWrite with conditions, so a retry after a crash either finds the whole
change already there or none of it. A save writes only what the service changed since the ticket was read
(`Ticket.changed()`), conditional on the version it was read at.
"""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import datetime
from typing import Any, Callable, Iterable, Iterator, cast

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from shared.domain.errors import Conflict, ValidationFailed
from shared.domain.model import AuditEvent, Status
from shared.domain.ports import Escalated, Page, TicketFilters
from shared.domain.ticket import TRIAGE, CustomerSnapshot, LoadChange, Message, Ticket
from shared.storage.assignments import assign, change_holding_ticket
from shared.storage.cursor import decode_cursor, encode_cursor
from shared.storage.folders import FolderCountRepository, add_moves, moves_anything
from shared.domain.escalation_causes import live
from shared.storage.models import LISTING, CustomerSnapshot as CustomerSnapshotMap, MarkerModel, ThreadItemModel, TicketModel
from shared.storage.transactions import conflicted, failed_conditions, transaction
from shared.domain.timefmt import iso, parse_iso, utcnow

_TICKET_FIELDS = [f.name for f in fields(Ticket) if f.name not in ("loaded", "version", "changed_at", "customer", "in_triage", "due_at", "due_step")]
_MESSAGE_FIELDS = [f.name for f in fields(Message)]
Partitions = list[tuple[Any, str]]  # (index, hash key) pairs whose queries one listing merges
INDEX_ATTRIBUTES = ("created_sort", "queue_key", "queue_priority_sort", "queue_fifo_sort", "search_text", "listing",
                    "due_bucket", "due_sort", "escalation_key")


def plain(value: Any) -> Any:
    """pynamodb maps, sets and numbers as plain Python values."""
    if hasattr(value, "as_dict"):
        return plain(value.as_dict())
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def due_bucket(at: str) -> str:
    """The minute a step falls due in, as the due index's partition: the sweep reads one per minute."""
    return at[:16]


def index_values(state: dict[str, Any]) -> dict[str, Any]:
    """The denormalised index attributes of a ticket's state (`Ticket.state()`)."""
    ticket = _ticket_of_state(state)
    customer = ticket.customer
    due_at = ticket.due_at
    return {
        "created_sort": f"{ticket.created_at}#{ticket.id}",
        "queue_key": f"{ticket.team}#{ticket.queue_status}",
        "queue_priority_sort": ticket.queue_order("urgency"),
        "queue_fifo_sort": ticket.queue_order("fifo"),
        "search_text": " ".join(
            part.lower() for part in (ticket.subject, ticket.ref, customer.email, customer.name) if part
        ),
        "listing": LISTING,
        "due_bucket": due_bucket(due_at) if due_at else None,
        "due_sort": ticket.due_sort,
        "escalation_key": escalation_key(ticket),
    }


def escalation_key(ticket: Ticket) -> str | None:
    """`<team>#<level>` while the ticket is escalated open work: the sparse escalated index's partition."""
    if ticket.escalation_level <= 0 or ticket.status in (Status.RESOLVED.value, Status.CLOSED.value):
        return None
    return f"{ticket.team}#{ticket.escalation_level}"


def _escalation_actions(before: dict[str, Any] | None, after: dict[str, Any], at: str) -> list[Action]:
    """`escalated_at` (the write's time `at`: a ladder step escalates without moving `updated_at`): set, if not
    yet, when the ticket enters the escalated index, kept while it stays escalated (a level rising 1 -> 2, a
    resolve and reopen), removed when the level is back at 0."""
    if after["escalation_key"] is not None and (before is None or before["escalation_key"] is None):
        return [TicketModel.escalated_at.set(TicketModel.escalated_at | at)]
    if int(after["escalation_level"] or 0) == 0 and before is not None and int(before["escalation_level"] or 0) > 0:
        return [TicketModel.escalated_at.remove()]
    return []


ESCALATION_LOG_LIMIT = 50


def note_escalation(ticket: Ticket, written_at: str) -> None:
    """Storage keeps the history of a ticket's escalation level (the KPIs count escalations by level and cause
    from it): every write that raises the level appends when (the ticket's own time when the change moved it,
    else the write's), from which level, to which, and the causes asking for it. The last 50 rises are kept."""
    before = int((ticket.loaded or {}).get("escalation_level") or 0)
    level = int(ticket.escalation_level or 0)
    if level <= before:
        return
    moved = ticket.loaded is None or ticket.loaded.get("updated_at") != ticket.updated_at
    held = dict(ticket.escalation_causes or {})
    causes = sorted(c for c, tier in held.items() if int(tier) == level + 1) or live(held) or ["unspecified"]
    entry = {"at": ticket.updated_at if moved else written_at, "from": before, "level": level, "causes": causes}
    ticket.escalation_log = [*(ticket.escalation_log or []), entry][-ESCALATION_LOG_LIMIT:]


def _ticket_of_state(state: dict[str, Any]) -> Ticket:
    values = dict(state)
    values["customer"] = CustomerSnapshot(**values["customer"])
    return Ticket(**values)


def to_ticket(model: TicketModel) -> Ticket:
    """The domain ticket of a stored item (from the table or an index)."""
    values = {name: plain(getattr(model, name)) for name in _TICKET_FIELDS}
    values["tags"] = set(values["tags"] or ())
    values["ladder_done"] = [int(float(str(i))) for i in values["ladder_done"] or []]
    for name in ("priority_reasons", "automation_reasons", "keywords", "merged_from", "links", "escalation_log"):
        values[name] = list(values[name] or [])
    for name in ("escalation_level", "reopen_count", "message_count", "customer_waiting_count"):
        values[name] = int(values[name] or 0)
    values["required_tier"] = int(values["required_tier"] or 1)
    snapshot = model.customer
    customer = CustomerSnapshot(
        id=snapshot.id, email=snapshot.email, handle=snapshot.handle, name=snapshot.name, tier=snapshot.tier or "standard"
    ) if snapshot is not None else CustomerSnapshot(id=model.customer_id)
    due_at, _, step = (model.due_sort or "").rpartition("#")
    changed_at = (model.changed_sort or "").rpartition("#")[0] or None
    ticket = Ticket(
        **values,
        customer=customer,
        in_triage=str(model.queue_key or "").endswith(f"#{TRIAGE}"),
        due_at=due_at or None,
        due_step=int(step) if due_at else None,
        version=model.version,
        changed_at=changed_at,
    )
    ticket.loaded = ticket.state()
    return ticket


def _stored_value(name: str, value: Any) -> Any:
    if name == "customer":
        return CustomerSnapshotMap(**value)
    if name == "tags":
        return set(value) or None
    return value


def _stored_attributes(state: dict[str, Any]) -> dict[str, Any]:
    """A ticket state as the item's attribute values (domain-only facts folded into the index attributes)."""
    values = {name: state[name] for name in (*_TICKET_FIELDS, "customer")}
    values.update(index_values(state))
    return values


def new_item(ticket: Ticket) -> TicketModel:
    """The item a ticket is stored as, whole (a new ticket; bulk loads)."""
    note_escalation(ticket, iso(utcnow()))
    attributes = {name: _stored_value(name, value) for name, value in _stored_attributes(ticket.state()).items()}
    ticket.changed_at = iso(utcnow())
    if attributes["escalation_key"] is not None:
        attributes["escalated_at"] = ticket.changed_at
    attributes["changed_sort"] = f"{ticket.changed_at}#{ticket.id}"
    return TicketModel(**{k: v for k, v in attributes.items() if v is not None})


def _update_actions(ticket: Ticket) -> list[Action]:
    """SET/REMOVE actions for what changed since the ticket was read, index attributes included."""
    before = _stored_attributes(dict(ticket.loaded)) if ticket.loaded is not None else {}
    note_escalation(ticket, iso(utcnow()))
    after = _stored_attributes(ticket.state())
    actions: list[Action] = []
    for name, value in after.items():
        if name in before and before[name] == value:
            continue
        attribute = getattr(TicketModel, name)
        empty = value is None or (name == "tags" and not value)
        actions.append(attribute.remove() if empty else attribute.set(_stored_value(name, value)))
    ticket.changed_at = iso(utcnow())  # every write is a change the console's polling must see
    actions.append(TicketModel.changed_sort.set(f"{ticket.changed_at}#{ticket.id}"))
    return actions + _escalation_actions(before or None, after, ticket.changed_at)


def _folder_moves_of(ticket: Ticket) -> Callable[[TransactWrite], None]:
    """What adds the change's folder-counter moves to the transaction that writes it."""
    before, after = ticket.loaded, ticket.state()
    return lambda tx: add_moves(tx, ticket.id, before, after)


def _key(ticket: Ticket) -> TicketModel:
    """The item key and the version read: an update touches only its actions (pynamodb adds the version bump)."""
    return TicketModel(id=ticket.id, version=ticket.version)


def event_item(ticket_id: str, event: AuditEvent) -> ThreadItemModel:
    at = iso(event.at)
    return ThreadItemModel(
        ticket_id=ticket_id,
        sk=f"EVT#{at}#{event.seq:03d}#{event.id}",
        item_type="event",
        at=at,
        type=event.type,
        actor=event.actor,
        data=event.data,
    )


def message_item(message: Message) -> ThreadItemModel:
    values = {name: getattr(message, name) for name in _MESSAGE_FIELDS}
    return ThreadItemModel(sk=f"MSG#{message.at}#{message.message_id}", item_type="message", **values)


def to_message(item: ThreadItemModel) -> Message:
    values = {name: plain(getattr(item, name)) for name in _MESSAGE_FIELDS}
    for name in ("attachments", "in_reply_to", "recipients", "automation_reasons", "defects"):
        values[name] = list(values[name] or [])
    values["author"] = dict(values["author"] or {})
    for name in ("body_truncated", "automated", "suppressed"):
        values[name] = bool(values[name])
    return Message(**values)


def _platform_key(channel: str, platform_message_id: str) -> str:
    return f"platform-message#{channel}#{platform_message_id}"


def to_event(item: ThreadItemModel) -> AuditEvent:
    return AuditEvent(type=str(item.type), at=parse_iso(item.at), actor=str(item.actor), data=plain(item.data) or {})


class TicketRepository:
    def get(self, ticket_id: str) -> Ticket | None:
        try:
            return to_ticket(TicketModel.get(ticket_id, consistent_read=True))
        except TicketModel.DoesNotExist:
            return None

    def by_ref(self, ref: str) -> Ticket | None:
        for item in TicketModel.by_ref.query(ref, limit=1):
            return self.get(item.id)
        return None

    def message_for_email_message_id(self, message_id: str) -> Message | None:
        """The thread message (inbound, or one we sent) that carried this email Message-ID."""
        for item in ThreadItemModel.by_email_message_id.query(message_id, limit=1):
            return to_message(item)
        return None

    def latest_for_customer(self, customer_id: str, channel: str) -> Ticket | None:
        """Newest first on the by-customer index, only that customer's partition read (never a scan)."""
        query = TicketModel.by_customer.query(
            customer_id, filter_condition=TicketModel.channel == channel, scan_index_forward=False, page_size=25
        )
        for item in query:
            return self.get(item.id)
        return None

    def message_for_platform_id(self, channel: str, platform_message_id: str) -> Message | None:
        try:
            marker = MarkerModel.get(_platform_key(channel, platform_message_id), consistent_read=True)
        except MarkerModel.DoesNotExist:
            return None
        found = plain(marker.result) or {}
        try:
            item = ThreadItemModel.get(str(marker.ticket_id), f"MSG#{found['at']}#{found['message_id']}", consistent_read=True)
        except (ThreadItemModel.DoesNotExist, KeyError):
            return None
        return to_message(item)

    def remember_platform_id(self, channel: str, platform_message_id: str, message: Message) -> None:
        """The platform's id of a message we sent, so its delivery receipts find it (a put: a retry rewrites it)."""
        result = {"message_id": message.message_id, "at": message.at}
        MarkerModel(key=_platform_key(channel, platform_message_id), ticket_id=message.ticket_id, result=result).save()

    def set_delivery(self, message: Message, delivery: dict[str, Any]) -> None:
        item = ThreadItemModel(message.ticket_id, f"MSG#{message.at}#{message.message_id}")
        item.update(actions=[ThreadItemModel.delivery.set(delivery)])
        message.delivery = delivery

    def create(self, ticket: Ticket, message: Message, events: Iterable[AuditEvent], ref_candidates: list[str]) -> bool:
        """Write a new ticket with its first message, events and a unique ref, all or nothing.

        Returns False when this exact ticket already exists (a retried delivery), True when it was written.
        """
        event_items = [event_item(ticket.id, event) for event in events]
        for ref in ref_candidates:
            ticket.ref = ref
            item = new_item(ticket)
            marker = MarkerModel(key=f"ref#{ref}", ticket_id=ticket.id, state="taken")
            try:
                with transaction() as tx:
                    tx.save(item, condition=TicketModel.id.does_not_exist())
                    tx.save(
                        marker,
                        condition=MarkerModel.key.does_not_exist() | (MarkerModel.ticket_id == ticket.id),
                    )
                    tx.save(message_item(message), condition=ThreadItemModel.sk.does_not_exist())
                    for event in event_items:
                        tx.save(event)
                    add_moves(tx, ticket.id, None, ticket.state())
                ticket.mark_stored(1)
                return True
            except TransactWriteError as error:
                failed = failed_conditions(error)
                if conflicted(error):
                    continue  # a concurrent move of the same folder counter: write again (under the next ref)
                if not any(failed):
                    raise
                if failed[0]:
                    return False  # the ticket is already there: this is a retry of a completed write
                if failed[1]:
                    continue  # the ref belongs to another ticket: take the next candidate
                return False
        raise Conflict("could not reserve a unique ticket ref after several attempts")

    def add_message(self, ticket: Ticket, message: Message, events: Iterable[AuditEvent]) -> bool:
        """Append a message and save the changed ticket, guarded on the version read before the change.

        Returns False when the message is already on the thread (a retry). Raises Conflict when the ticket moved
        underneath (the caller re-reads and decides again).
        """
        event_items = [event_item(ticket.id, event) for event in events]
        ticket_index = 1 + len(event_items)  # puts (the message, the events) go before updates (the ticket)
        try:
            with transaction() as tx:
                tx.save(message_item(message), condition=ThreadItemModel.sk.does_not_exist())
                tx.update(_key(ticket), actions=_update_actions(ticket))
                for item in event_items:
                    tx.save(item)
                add_moves(tx, ticket.id, ticket.loaded, ticket.state())
        except TransactWriteError as error:
            failed = failed_conditions(error)
            if failed and failed[0]:
                return False
            if len(failed) > ticket_index and failed[ticket_index]:
                raise Conflict(f"ticket {ticket.id} changed while a message was being added") from error
            raise
        ticket.mark_stored(int(ticket.version or 0) + 1)
        return True

    def save(
        self,
        ticket: Ticket,
        events: Iterable[AuditEvent] = (),
        load: LoadChange | None = None,
        unless_step_done: int | None = None,
    ) -> None:
        """Write what changed on `ticket` and its events, if nobody changed it since it was read (Conflict
        otherwise), moving agents' load with it in the same transaction (`load`; AgentUnavailable when the agent
        to take it is offline or full). `unless_step_done`: also refuse if that SLA ladder step is recorded."""
        guard = ~TicketModel.ladder_done.contains(unless_step_done) if unless_step_done is not None else None
        change_holding_ticket(
            _key(ticket),
            _update_actions(ticket),
            [event_item(ticket.id, event) for event in events],
            release_from=load.release_from if load else None,
            take_for=(load.take_for, load.at or ticket.updated_at) if load and load.take_for else None,
            guard=guard,
            also=_folder_moves_of(ticket),
        )
        ticket.mark_stored(int(ticket.version or 0) + 1)

    def save_unguarded(self, ticket: Ticket, events: Iterable[AuditEvent] = ()) -> None:
        """Write only what changed, whatever else changed meanwhile: for facts nobody else decides (the time of
        an agent's reply) where a concurrent change must not make the write fail. A change that moves the ticket
        between folders is saved guarded instead: its counter moves are only right against what was read."""
        if moves_anything(ticket.loaded, ticket.state()):
            self.save(ticket, events)
            return
        try:
            _key(ticket).update(actions=_update_actions(ticket), add_version_condition=False)
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                raise Conflict(f"ticket {ticket.id} changed meanwhile") from error
            raise
        self.add_events(ticket.id, events)
        ticket.mark_stored(int(ticket.version or 0) + 1)

    def assign(self, ticket: Ticket, agent_id: str, events: Iterable[AuditEvent], at: str) -> None:
        """Hand a waiting ticket to an agent: the agent's load + 1 under capacity and presence, and the ticket's
        change if it is still open with nobody on it — one transaction (shared/storage/assignments.py).
        AgentUnavailable or TicketTaken when a condition failed."""
        assign(_key(ticket), agent_id, _update_actions(ticket), [event_item(ticket.id, e) for e in events], at,
               also=_folder_moves_of(ticket))
        ticket.mark_stored(int(ticket.version or 0) + 1)

    def message(self, ticket_id: str, message_id: str) -> Message | None:
        """A message by its id (its sort key starts with its time, so this reads the ticket's messages)."""
        for item in ThreadItemModel.query(ticket_id, ThreadItemModel.sk.startswith("MSG#"), consistent_read=True):
            if item.message_id == message_id:
                return to_message(item)
        return None

    def first_message(self, ticket_id: str) -> Message | None:
        for item in ThreadItemModel.query(ticket_id, ThreadItemModel.sk.startswith("MSG#"), limit=1, consistent_read=True):
            return to_message(item)
        return None

    def last_inbound(self, ticket_id: str) -> Message | None:
        """The customer's latest message on the ticket."""
        found = None
        for item in ThreadItemModel.query(ticket_id, ThreadItemModel.sk.startswith("MSG#"), consistent_read=True):
            if item.direction == "inbound":
                found = item
        return to_message(found) if found is not None else None

    def waiting(self, team: str, strategy: str, limit: int = 50) -> list[Ticket]:
        """The team's queue head: open (unassigned) tickets in the order the team's strategy serves them."""
        index = TicketModel.queue_by_arrival if strategy == "fifo" else TicketModel.queue_by_priority
        return [to_ticket(item) for item in index.query(f"{team}#{Status.OPEN.value}", limit=limit)]

    def oldest_waiting(self, team: str) -> Ticket | None:
        for item in TicketModel.queue_by_arrival.query(f"{team}#{Status.OPEN.value}", limit=50):
            return to_ticket(item)
        return None

    def untriaged(self, team: str, created_before: str, limit: int = 100) -> list[Ticket]:
        """New tickets of `team` that routing has not triaged yet, created before `created_before` (ISO)."""
        found = TicketModel.queue_by_priority.query(f"{team}#{TRIAGE}", limit=limit)
        return [to_ticket(t) for t in found if t.created_at < created_before]

    def waiting_ahead(self, ticket: Ticket, strategy: str, limit: int = 500) -> list[Ticket]:
        """The waiting tickets the team's queue serves before this one, first first (at most `limit`)."""
        queue = f"{ticket.team}#{ticket.queue_status}"
        if strategy == "fifo":
            condition = TicketModel.queue_fifo_sort < ticket.queue_order("fifo")
            return [to_ticket(t) for t in TicketModel.queue_by_arrival.query(queue, condition, limit=limit)]
        condition = TicketModel.queue_priority_sort < ticket.queue_order("urgency")
        return [to_ticket(t) for t in TicketModel.queue_by_priority.query(queue, condition, limit=limit)]

    def due(self, minute: datetime, now: datetime) -> list[str]:
        """The tickets whose next SLA step falls due in `minute` (and by `now`): the sparse due index."""
        return [item.id for item in TicketModel.by_due.query(due_bucket(iso(minute)), TicketModel.due_sort <= iso(now))]

    def count_held(self, agent_id: str) -> int:
        """The tickets an agent holds (in progress), whatever their team: what the agent's load must equal."""
        return int(TicketModel.by_assignee.count(agent_id, filter_condition=TicketModel.status == Status.IN_PROGRESS.value))

    def backfill_index_attributes(self) -> int:
        """Give tickets stored before the by-team-changed and escalated indexes existed their index attributes
        (a maintenance step, through the listing index; their last change is taken to be `updated_at`);
        returns how many were written."""
        written = 0
        for item in TicketModel.all_by_created.query(LISTING):
            if item.changed_sort is not None:
                continue
            ticket = to_ticket(item)
            actions = _escalation_actions(None, _stored_attributes(ticket.state()), ticket.updated_at)
            actions.append(TicketModel.changed_sort.set(f"{ticket.updated_at}#{ticket.id}"))
            if escalation_key(ticket) is not None:
                actions.append(TicketModel.escalation_key.set(escalation_key(ticket)))
            _key(ticket).update(actions=actions)
            written += 1
        return written

    def import_tickets(self, tickets: Iterable[Ticket]) -> int:
        """Write whole tickets as an import does (no thread, no counters moved: `ticketing folders repair`
        after); returns how many."""
        written = 0
        with TicketModel.batch_write() as batch:
            for ticket in tickets:
                batch.save(new_item(ticket))
                written += 1
        return written

    def every_ticket(self) -> Iterator[Ticket]:
        """Every ticket through the all-tickets index (maintenance: the KPI rebuild), never a Scan."""
        for item in TicketModel.all_by_created.query(LISTING):
            yield to_ticket(item)

    def folder_counts(self, teams: Iterable[str] | None) -> dict[str, dict[str, int]]:
        return FolderCountRepository().counts(teams)

    def escalated(self, team: str, level: int, limit: int = 200) -> list[Escalated]:
        """The team's open work at this escalation level, longest escalated first (the sparse escalated index)."""
        found = TicketModel.escalated.query(f"{team}#{level}", limit=limit)
        return [Escalated(to_ticket(item), item.escalated_at) for item in found]

    def add_messages(self, messages: Iterable[Message], events: Iterable[tuple[str, AuditEvent]] = ()) -> None:
        """Messages we send and their events: plain puts keyed by deterministic ids, so a retry rewrites them."""
        with ThreadItemModel.batch_write() as batch:
            for message in messages:
                batch.save(message_item(message))
            for ticket_id, event in events:
                batch.save(event_item(ticket_id, event))

    def add_events(self, ticket_id: str, events: Iterable[AuditEvent]) -> None:
        self.add_messages((), [(ticket_id, event) for event in events])

    def thread(self, ticket_id: str) -> tuple[list[Message], list[AuditEvent]]:
        """(messages, events), each oldest first."""
        messages: list[Message] = []
        events: list[AuditEvent] = []
        for item in ThreadItemModel.query(ticket_id, consistent_read=True):
            if item.item_type == "message":
                messages.append(to_message(item))
            else:
                events.append(to_event(item))
        return messages, events

    def list(self, filters: TicketFilters, limit: int = 25, cursor: str | None = None) -> Page:
        """Newest first, through the most selective index the filters allow, never a table Scan (with
        `updated_since`: oldest change first, see `_changed_since`)."""
        if not 1 <= limit <= 100:
            raise ValidationFailed("limit must be between 1 and 100")
        if filters.updated_since is not None:
            return self._changed_since(filters, limit, cursor)
        if filters.teams is not None and not (filters.assignee or filters.customer_id or filters.channel or filters.status):
            return self._teams_newest(filters, limit, cursor)
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
        found = list(result)
        page.items = [to_ticket(item) for item in found]
        if len(found) == limit:
            page.next_cursor = encode_cursor(index.Meta.index_name, _index_key(found[-1], index))
        return page

    def _changed_since(self, filters: TicketFilters, limit: int, cursor: str | None) -> Page:
        """Tickets written at or after `updated_since` (`changed_at`: any change, the SLA clock's too), oldest
        change first: one Query per team on the by-team-changed index (an admin's: all-by-changed), merged. The
        cursor is the last change returned, so the next page starts after it whichever team it came from. Work
        lent from another team is not in this feed (only a read of all the agent's tickets could find it); the
        console reads those tickets by id."""
        after = str(decode_cursor(cursor, "changed-since").get("after")) if cursor else None
        sort_key = TicketModel.changed_sort
        condition = sort_key > after if after else sort_key >= str(filters.updated_since)
        partitions = [(TicketModel.all_by_changed, LISTING)] if filters.teams is None else [
            (TicketModel.by_team_changed, team) for team in filters.teams
        ]
        return self._merged(partitions, condition, filters, limit, ("changed-since", "after", "changed_sort"))

    def _teams_newest(self, filters: TicketFilters, limit: int, cursor: str | None) -> Page:
        """A team-scoped list with no more selective filter: newest first, one Query per team on the
        by-team-created index, and the caller's own tickets on the by-assignee index (work lent from another
        team; the rest are in their team's), merged — rather than a filter over every team's tickets."""
        before = str(decode_cursor(cursor, "teams-newest").get("before")) if cursor else None
        condition = TicketModel.created_sort < before if before else None
        partitions: Partitions = [(TicketModel.by_team_created, team) for team in filters.teams or ()]
        if filters.or_assignee:
            partitions.append((TicketModel.by_assignee, filters.or_assignee))
        return self._merged(partitions, condition, filters, limit, ("teams-newest", "before", "created_sort"))

    def _merged(
        self, partitions: Partitions, condition: Any, filters: TicketFilters, limit: int,
        order: tuple[str, str, str],
    ) -> Page:  # fmt: skip
        """Up to `limit` tickets from each partition (same range key, `order` = cursor name, its field, the
        attribute), merged in that key's order; newest first unless the listing is by change ("after")."""
        name, field, attribute = order
        forward = field == "after"
        narrowed = self._filter_condition(replace(filters, teams=None, or_assignee=None), indexed=None)
        merged = {
            item.id: item for index, key in partitions
            for item in index.query(key, condition, scan_index_forward=forward, filter_condition=narrowed,
                                    limit=limit, page_size=max(limit, 25))
        }  # fmt: skip
        found = sorted(merged.values(), key=lambda item: str(getattr(item, attribute)), reverse=not forward)[:limit]
        page = Page(items=[to_ticket(item) for item in found])
        if len(found) == limit:
            page.next_cursor = encode_cursor(name, {field: getattr(found[-1], attribute)})
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
        if filters.teams is not None:
            mine = TicketModel.team.is_in(*filters.teams) if filters.teams else TicketModel.team.does_not_exist()
            conditions.append(mine | (TicketModel.assignee == filters.or_assignee) if filters.or_assignee else mine)
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

