"""In-memory implementations of the ports (shared/domain/ports.py), for the services' unit tests.

They keep the promises the DynamoDB repositories keep — a save is refused (Conflict) when the ticket changed since
it was read, an assignment is refused when the agent is offline or full or the ticket is no longer waiting, load
moves with the ticket or not at all, a message id is written once — so a service tested on them behaves as it
does on DynamoDB. What they do not model: index lag, item sizes, transactions racing in other processes.
"""

from __future__ import annotations

import contextlib
import copy
import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from shared.domain.assignment import Candidate
from shared.domain.errors import AgentUnavailable, Conflict, InFlight, TicketTaken
from shared.domain.model import AgentProfile, AgentView, AuditEvent, Claim, Contact, Customer, LoadCounter, Once
from shared.domain.ticket import CustomerSnapshot, LoadChange, Message, Ticket
from shared.domain.timefmt import iso


def _customer_id(contact: Contact) -> str:
    from shared.domain.ids import customer_id_for

    return customer_id_for(contact)


# ---------------------------------------------------------------------- agents


class FakeAgents:
    def __init__(self) -> None:
        self.profiles: dict[str, AgentProfile] = {}
        self.loads: dict[str, int] = {}
        self.last_assigned: dict[str, str | None] = {}
        self.load_changed: dict[str, str | None] = {}

    def add(self, agent_id: str, *, team: str = "support", capacity: int = 3, presence: str = "online",
            skills: Iterable[str] = (), tier: int = 1, load: int = 0, email: str | None = None,
            name: str | None = None) -> AgentProfile:  # fmt: skip
        profile = AgentProfile(
            id=agent_id, team=team, capacity=capacity, presence=presence, skills=set(skills), tier=tier,
            email=email, name=name, created_at="2026-11-02T00:00:00.000Z", updated_at="2026-11-02T00:00:00.000Z",
        )  # fmt: skip
        self.profiles[agent_id] = profile
        self.loads[agent_id] = load
        self.last_assigned.setdefault(agent_id, None)
        self.load_changed.setdefault(agent_id, None)
        return profile

    def candidate(self, agent_id: str) -> Candidate | None:
        profile = self.profiles.get(agent_id)
        if profile is None:
            return None
        return Candidate(
            agent_id=agent_id,
            load=self.loads[agent_id],
            capacity=profile.capacity,
            presence=profile.presence,
            skills=frozenset(profile.skills),
            channels=frozenset(profile.channels),
            tier=profile.tier,
            timezone=profile.timezone,
            working_hours=profile.working_hours,
            last_assigned_at=self.last_assigned.get(agent_id),
            team=profile.team,
        )

    def get(self, agent_id: str) -> AgentView | None:
        profile = self.profiles.get(agent_id)
        return AgentView(copy.deepcopy(profile), self.candidate(agent_id)) if profile is not None else None

    def roster(self, team: str | None = None) -> list[AgentView]:
        views = [self.get(a) for a, p in sorted(self.profiles.items()) if team is None or p.team == team]
        return [v for v in views if v is not None]

    def save(self, profile: AgentProfile, now: datetime) -> AgentView:
        created = self.profiles[profile.id].created_at if profile.id in self.profiles else iso(now)
        self.profiles[profile.id] = replace(copy.deepcopy(profile), created_at=created, updated_at=iso(now))
        self.loads.setdefault(profile.id, 0)
        self.last_assigned.setdefault(profile.id, None)
        self.load_changed.setdefault(profile.id, None)
        view = self.get(profile.id)
        assert view is not None
        return view

    def candidates(self, team: str) -> list[Candidate]:
        found = [self.candidate(a) for a, p in sorted(self.profiles.items()) if p.team == team]
        return [c for c in found if c is not None]

    def load_items(self, team: str) -> list[LoadCounter]:
        return [
            LoadCounter(agent_id=a, load=self.loads[a], load_changed_at=self.load_changed.get(a))
            for a, p in sorted(self.profiles.items())
            if p.team == team
        ]

    def set_load(self, item: LoadCounter, load: int) -> bool:
        if self.loads.get(item.agent_id) != item.load or self.load_changed.get(item.agent_id) != item.load_changed_at:
            return False
        self.loads[item.agent_id] = load
        return True

    # what the storage transactions do to the counter
    def can_take(self, agent_id: str) -> bool:
        profile = self.profiles.get(agent_id)
        return profile is not None and profile.presence == "online" and self.loads[agent_id] < profile.capacity

    def take(self, agent_id: str, at: str) -> None:
        self.loads[agent_id] += 1
        self.last_assigned[agent_id] = at
        self.load_changed[agent_id] = at

    def release(self, agent_id: str, at: str) -> None:
        if self.loads.get(agent_id, 0) > 0:  # a release at 0 is drift the sweep repairs; the change goes through
            self.loads[agent_id] -= 1
            self.load_changed[agent_id] = at


# ---------------------------------------------------------------------- tickets


@dataclass
class _Stored:
    state: dict[str, Any]
    version: int
    messages: list[Message] = field(default_factory=list)
    events: list[AuditEvent] = field(default_factory=list)


class FakeTickets:
    def __init__(self, agents: FakeAgents | None = None) -> None:
        self.agents = agents or FakeAgents()
        self.items: dict[str, _Stored] = {}
        self.refs: dict[str, str] = {}
        self.orphan_events: dict[str, list[AuditEvent]] = {}
        self.platform_ids: dict[tuple[str, str], tuple[str, str]] = {}
        self.saves = 0

    # reads
    def _load(self, stored: _Stored) -> Ticket:
        values = copy.deepcopy(stored.state)
        values["customer"] = CustomerSnapshot(**values["customer"])
        ticket = Ticket(**values, version=stored.version)
        ticket.loaded = ticket.state()
        return ticket

    def get(self, ticket_id: str) -> Ticket | None:
        stored = self.items.get(ticket_id)
        return self._load(stored) if stored is not None else None

    def by_ref(self, ref: str) -> Ticket | None:
        return self.get(self.refs[ref]) if ref in self.refs else None

    def message_for_email_message_id(self, message_id: str) -> Message | None:
        for stored in self.items.values():
            for message in stored.messages:
                if message.email_message_id == message_id:
                    return copy.deepcopy(message)
        return None

    def latest_for_customer(self, customer_id: str, channel: str) -> Ticket | None:
        mine = [t for t in self._all() if t.customer_id == customer_id and t.channel == channel]
        return max(mine, key=lambda t: (t.created_at, t.id)) if mine else None

    def message_for_platform_id(self, channel: str, platform_message_id: str) -> Message | None:
        ticket_id, message_id = self.platform_ids.get((channel, platform_message_id), ("", ""))
        return self.message(ticket_id, message_id)

    def remember_platform_id(self, channel: str, platform_message_id: str, message: Message) -> None:
        self.platform_ids[(channel, platform_message_id)] = (message.ticket_id, message.message_id)

    def set_delivery(self, message: Message, delivery: dict[str, Any]) -> None:
        for stored in self.items[message.ticket_id].messages:
            if stored.message_id == message.message_id:
                stored.delivery = copy.deepcopy(delivery)
        message.delivery = delivery

    def message(self, ticket_id: str, message_id: str) -> Message | None:
        stored = self.items.get(ticket_id)
        found = [m for m in stored.messages if m.message_id == message_id] if stored else []
        return copy.deepcopy(found[0]) if found else None

    def first_message(self, ticket_id: str) -> Message | None:
        messages, _ = self.thread(ticket_id)
        return messages[0] if messages else None

    def last_inbound(self, ticket_id: str) -> Message | None:
        inbound = [m for m in self.thread(ticket_id)[0] if m.direction == "inbound"]
        return inbound[-1] if inbound else None

    def thread(self, ticket_id: str) -> tuple[list[Message], list[AuditEvent]]:
        stored = self.items.get(ticket_id)
        if stored is None:
            return [], list(self.orphan_events.get(ticket_id, []))
        messages = sorted(stored.messages, key=lambda m: (m.at, m.message_id))
        events = sorted(stored.events, key=lambda e: (iso(e.at), e.seq, e.id))
        return copy.deepcopy(messages), copy.deepcopy(events)

    def _all(self) -> list[Ticket]:
        return [self._load(s) for s in self.items.values()]

    def list(self, filters: Any, limit: int = 25, cursor: str | None = None) -> Any:
        """Newest first; the cursor is an offset (the repository's is an opaque DynamoDB key)."""
        from shared.domain.ports import Page

        wanted = {name: value for name, value in vars(filters).items() if value is not None}
        since = wanted.pop("updated_since", None)
        found = [t for t in sorted(self._all(), key=lambda t: t.created_at, reverse=True) if _matches(t, wanted)]
        if since is not None:  # polling: oldest change first (the repository's cursor is the last change)
            found = sorted((t for t in found if t.updated_at >= since), key=lambda t: (t.updated_at, t.id))
        start = int(cursor or 0)
        page = found[start : start + limit]
        return Page(items=page, next_cursor=str(start + limit) if start + limit < len(found) else None)

    def folder_counts(self, teams: Iterable[str] | None) -> dict[str, dict[str, int]]:
        """A recount (the repository keeps counters; tests/integration/test_folder_counts.py checks they agree)."""
        from shared.domain.folders import recount

        counts: dict[str, dict[str, int]] = {}
        for (team, folder), n in recount(t.state() for t in self._all()).items():
            if teams is None or team in teams:
                counts.setdefault(team, {})[folder] = n
        return counts

    def escalated(self, team: str, level: int, limit: int = 200) -> list[Any]:
        from shared.domain.ports import Escalated

        found = [t for t in self._all() if t.team == team and t.escalation_level == level
                 and t.status not in ("resolved", "closed")]  # fmt: skip
        return [Escalated(t, None) for t in sorted(found, key=lambda t: t.created_at)][:limit]

    def waiting(self, team: str, strategy: str, limit: int = 50) -> list[Ticket]:
        found = [t for t in self._all() if t.team == team and t.waiting]
        return sorted(found, key=lambda t: t.queue_order(strategy))[:limit]

    def oldest_waiting(self, team: str) -> Ticket | None:
        found = self.waiting(team, "fifo", 1)
        return found[0] if found else None

    def untriaged(self, team: str, created_before: str, limit: int = 100) -> list[Ticket]:
        found = [t for t in self._all() if t.team == team and t.queue_status == "triage" and t.created_at < created_before]
        return found[:limit]

    def waiting_ahead(self, ticket: Ticket, strategy: str, limit: int = 500) -> list[Ticket]:
        mine = ticket.queue_order(strategy)
        same = [t for t in self._all() if t.team == ticket.team and t.queue_status == ticket.queue_status]
        return sorted((t for t in same if t.queue_order(strategy) < mine), key=lambda t: t.queue_order(strategy))[:limit]

    def due(self, minute: datetime, now: datetime) -> list[str]:
        bucket = iso(minute)[:16]
        return [
            t.id for t in self._all()
            if t.due_at is not None and t.due_at[:16] == bucket and (t.due_sort or "") <= iso(now)
        ]  # fmt: skip

    def count_held(self, agent_id: str) -> int:
        return sum(1 for t in self._all() if t.assignee == agent_id and t.status == "in_progress")

    # writes
    def _check(self, ticket: Ticket) -> _Stored:
        stored = self.items.get(ticket.id)
        if stored is None or stored.version != ticket.version:
            raise Conflict(f"ticket {ticket.id} changed meanwhile; reload it and try again")
        return stored

    def _commit(self, ticket: Ticket, stored: _Stored, events: Iterable[AuditEvent]) -> None:
        stored.state = ticket.state()
        stored.version += 1
        stored.events.extend(e for e in events if all(x.id != e.id or x.type != e.type for x in stored.events))
        ticket.mark_stored(stored.version)
        self.saves += 1

    def create(self, ticket: Ticket, message: Message, events: Iterable[AuditEvent], ref_candidates: list[str]) -> bool:
        if ticket.id in self.items:
            return False
        ref = next((r for r in ref_candidates if r not in self.refs), None)
        if ref is None:
            raise Conflict("could not reserve a unique ticket ref after several attempts")
        ticket.ref = ref
        self.refs[ref] = ticket.id
        self.items[ticket.id] = _Stored(state=ticket.state(), version=1, messages=[copy.deepcopy(message)], events=list(events))
        ticket.mark_stored(1)
        return True

    def add_message(self, ticket: Ticket, message: Message, events: Iterable[AuditEvent]) -> bool:
        stored = self.items.get(ticket.id)
        if stored is not None and any(m.message_id == message.message_id and m.at == message.at for m in stored.messages):
            return False
        stored = self._check(ticket)
        stored.messages.append(copy.deepcopy(message))
        self._commit(ticket, stored, events)
        return True

    def save(self, ticket: Ticket, events: Iterable[AuditEvent] = (), load: LoadChange | None = None,
             unless_step_done: int | None = None) -> None:  # fmt: skip
        stored = self._check(ticket)
        if unless_step_done is not None and unless_step_done in stored.state["ladder_done"]:
            raise Conflict(f"ticket {ticket.id}: step {unless_step_done} already done")
        at = (load.at if load else None) or ticket.updated_at
        if load and load.take_for and not self.agents.can_take(load.take_for):
            raise AgentUnavailable(f"agent {load.take_for} is offline or at capacity")
        if load and load.release_from:
            self.agents.release(load.release_from, at)
        if load and load.take_for:
            self.agents.take(load.take_for, at)
        self._commit(ticket, stored, events)

    def save_unguarded(self, ticket: Ticket, events: Iterable[AuditEvent] = ()) -> None:
        stored = self.items[ticket.id]
        current = self._load(stored)
        for name, value in ticket.changed().items():
            setattr(current, name, copy.deepcopy(value) if name != "customer" else CustomerSnapshot(**value))
        self._commit(current, stored, events)
        ticket.mark_stored(stored.version)

    def assign(self, ticket: Ticket, agent_id: str, events: Iterable[AuditEvent], at: str) -> None:
        stored = self.items[ticket.id]
        if stored.state["status"] != "open" or stored.state["assignee"]:
            raise TicketTaken(f"ticket {ticket.id} is no longer waiting")
        if not self.agents.can_take(agent_id):
            raise AgentUnavailable(f"agent {agent_id} is offline or at capacity")
        self.agents.take(agent_id, at)
        current = self._load(stored)
        for name, value in ticket.changed().items():
            setattr(current, name, copy.deepcopy(value) if name != "customer" else CustomerSnapshot(**value))
        self._commit(current, stored, events)
        ticket.mark_stored(stored.version)

    def add_messages(self, messages: Iterable[Message], events: Iterable[tuple[str, AuditEvent]] = ()) -> None:
        for message in messages:
            stored = self.items[message.ticket_id]
            stored.messages = [m for m in stored.messages if m.message_id != message.message_id] + [copy.deepcopy(message)]
        for ticket_id, event in events:
            self.add_events(ticket_id, [event])

    def add_events(self, ticket_id: str, events: Iterable[AuditEvent]) -> None:
        target = self.items[ticket_id].events if ticket_id in self.items else self.orphan_events.setdefault(ticket_id, [])
        for event in events:
            if all(x.id != event.id or x.type != event.type for x in target):
                target.append(event)

    # for tests
    def events(self, ticket_id: str, kind: str | None = None) -> list[AuditEvent]:
        return [e for e in self.thread(ticket_id)[1] if kind is None or e.type == kind]


def _matches(ticket: Ticket, wanted: dict[str, Any]) -> bool:
    for name, value in wanted.items():
        if name == "tag" and value not in ticket.tags:
            return False
        if name == "tier" and ticket.customer.tier != value:
            return False
        if name == "q" and value.lower() not in ticket.subject.lower():
            return False
        if name == "teams" and ticket.team not in value and not (wanted.get("or_assignee") and ticket.assignee == wanted["or_assignee"]):
            return False
        if name not in ("tag", "tier", "q", "teams", "or_assignee") and getattr(ticket, name) != value:
            return False
    return True


# ---------------------------------------------------------------------- customers, config, markers


class FakeCustomers:
    def __init__(self) -> None:
        self.items: dict[str, Customer] = {}

    def get(self, customer_id: str) -> Customer | None:
        return copy.deepcopy(self.items.get(customer_id))

    def get_or_create(self, contact: Contact, now: datetime) -> Customer:
        customer_id = _customer_id(contact)
        if customer_id not in self.items:
            email = contact.channel.value == "email"
            self.items[customer_id] = Customer(
                id=customer_id, contact_key=contact.key, channel=contact.channel.value,
                email=contact.address.lower() if email else None, handle=None if email else contact.address,
                name=contact.name, created_at=iso(now), updated_at=iso(now),
            )  # fmt: skip
        return copy.deepcopy(self.items[customer_id])

    def mark_bouncing(self, contact: Contact, now: datetime) -> bool:
        customer = self.items.get(_customer_id(contact))
        if customer is None:
            return False
        customer.bouncing, customer.bounced_at = True, iso(now)
        return True

    def update(self, customer_id: str, now: datetime, tier: str | None = None, name: str | None = None) -> Customer:
        current = self.items[customer_id]
        changed = {"tier": tier, "name": name}
        self.items[customer_id] = replace(current, updated_at=iso(now), **{k: v for k, v in changed.items() if v is not None})
        return copy.deepcopy(self.items[customer_id])

    def set_tier(self, contact: Contact, tier: str, now: datetime) -> Customer:
        self.get_or_create(contact, now)
        self.items[_customer_id(contact)] = replace(self.items[_customer_id(contact)], tier=tier)
        return copy.deepcopy(self.items[_customer_id(contact)])


class FakeConfig:
    """Documents by (kind, name). Like the repository, `read_once()` serves repeated reads from what the block read
    first; `reads` records every read that was not served so."""

    def __init__(self) -> None:
        self.docs: dict[tuple[str, str], dict[str, Any]] = {}
        self.reads: list[tuple[str, str]] = []
        self._cache: dict[tuple[str, str], Any] | None = None

    def _read(self, key: tuple[str, str], read: Any) -> Any:
        if self._cache is not None and key in self._cache:
            return copy.deepcopy(self._cache[key])
        self.reads.append(key)
        value = read()
        if self._cache is not None:
            self._cache[key] = copy.deepcopy(value)
        return value

    def get(self, kind: str, name: str) -> dict[str, Any] | None:
        return self._read((kind, name), lambda: copy.deepcopy(self.docs.get((kind, name))))  # type: ignore[no-any-return]

    def list(self, kind: str) -> dict[str, dict[str, Any]]:
        return self._read((kind, "*"), lambda: {n: copy.deepcopy(d) for (k, n), d in sorted(self.docs.items()) if k == kind})  # type: ignore[no-any-return]

    def put(self, kind: str, name: str, body: dict[str, Any], actor: str = "test", now: datetime | None = None) -> None:
        self.docs[(kind, name)] = copy.deepcopy(body)

    def delete(self, kind: str, name: str) -> bool:
        return self.docs.pop((kind, name), None) is not None

    @contextlib.contextmanager
    def read_once(self) -> Any:
        if self._cache is not None:
            yield
            return
        self._cache = {}
        try:
            yield
        finally:
            self._cache = None


class FakeMarkers:
    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.windows: dict[str, set[str]] = {}

    def claim(self, key: str, now: datetime, lease_seconds: int) -> Claim:
        ts = int(now.timestamp())
        item = self.items.get(key)
        if item is None or (item["state"] == "processing" and item["lease_until"] < ts):
            self.items[key] = {"state": "processing", "lease_until": ts + lease_seconds}
            return Claim("claimed")
        if item["state"] == "done":
            return Claim("done", copy.deepcopy(item.get("result")))
        return Claim("in_flight")

    def complete(self, key: str, result: dict[str, Any]) -> None:
        self.items[key] = {"state": "done", "result": copy.deepcopy(result)}

    def hit(self, key: str, now: datetime, window_seconds: int, member: str) -> int:
        ts = int(now.timestamp())
        window = self.windows.setdefault(f"{key}#{ts - ts % window_seconds}", set())
        window.add(member)
        return len(window)

    def held(self, key: str) -> tuple[list[dict[str, Any]], int]:
        item = self.items.get(key) or {}
        return copy.deepcopy(item.get("deferred") or []), int(item.get("hits") or 0)

    def take(self, key: str, hits: int) -> bool:
        item = self.items.setdefault(key, {"state": None})
        if int(item.get("hits") or 0) != hits:
            return False
        item["deferred"], item["hits"] = [], hits + 1
        return True

    def hold(self, key: str, entry: dict[str, Any], expires_at: int, max_entries: int) -> bool:
        item = self.items.setdefault(key, {"state": None})
        if len(item.get("deferred") or []) >= max_entries:
            return False
        item["deferred"] = [*(item.get("deferred") or []), copy.deepcopy(entry)]
        item["hits"] = int(item.get("hits") or 0) + 1
        return True


class FakeIdempotency:
    """The Idempotency port in memory, with the adapter's semantics: a completed key replays its stored result, a
    key in progress within its lease is InFlight, work that raises is forgotten (the retry runs it again)."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.clock = clock or (lambda: datetime.now(timezone.utc))

    def once(self, key: str, work: Callable[[], dict[str, Any]], lease_seconds: int) -> Once:
        now = self.clock().timestamp()
        record = self.records.get(key)
        if record is not None and record["status"] == "COMPLETED":
            return Once(copy.deepcopy(record["result"]), replayed=True)
        if record is not None and record["lease_until"] >= now:
            raise InFlight(f"{key} is being processed by another invocation")
        self.records[key] = {"status": "INPROGRESS", "lease_until": now + lease_seconds}
        try:
            result = work()
        except Exception:
            del self.records[key]
            raise
        self.records[key] = {"status": "COMPLETED", "result": json.loads(json.dumps(result))}  # stored as JSON
        return Once(result)


# ---------------------------------------------------------------------- the other side of the adapters


class Recorder:
    """Announcer, publisher, timers, mailer, body store and alerter at once: everything is kept in order."""

    def __init__(self) -> None:
        self.announced: list[dict[str, Any]] = []
        self.published: list[tuple[str, dict[str, Any]]] = []
        self.timers: list[tuple[str, int, datetime]] = []
        self.mails: list[tuple[bytes, list[str]]] = []
        self.blobs: dict[str, bytes] = {}
        self.alerts: list[tuple[str, tuple[str, ...], str]] = []
        self.drains: list[tuple[str, datetime, str]] = []
        self.deliveries: list[dict[str, Any]] = []

    def announce(self, event: dict[str, Any]) -> None:
        self.announced.append(copy.deepcopy(event))

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        self.published.append((detail_type, copy.deepcopy(detail)))

    def schedule(self, ticket_id: str, step: int, due_at: datetime, now: datetime) -> int:
        self.timers.append((ticket_id, step, due_at))
        return max(0, int((due_at - now).total_seconds()))

    def send(self, raw: bytes, source: str, destinations: list[str]) -> str:
        self.mails.append((raw, list(destinations)))
        return f"<sent-{len(self.mails)}@example.com>"

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> str:
        self.blobs[key] = data
        return key

    def alert(self, ticket: Ticket, roles: Iterable[str], subject: str, text: str, urgent: bool) -> None:
        self.alerts.append((ticket.id, tuple(roles), subject))

    def send_deferred(self, team: str) -> int:
        return 0

    def drain_at(self, team: str, due_at: datetime, now: datetime, why: str) -> None:
        self.drains.append((team, due_at, why))

    def enqueue(self, job: dict[str, Any]) -> None:
        self.deliveries.append(copy.deepcopy(job))

    def kinds(self) -> list[str]:
        return [str(e.get("event")) for e in self.announced]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


# ---------------------------------------------------------------------- every service, wired to the fakes

T0 = datetime(2026, 11, 2, 3, 0, tzinfo=__import__("datetime").timezone.utc)  # a Monday, 10:00 in Jakarta


class World:
    """The services as the functions wire them (shared/services/wiring.py), on fakes; `pump()` plays the route queue."""

    def __init__(self, now: datetime = T0) -> None:
        from shared.services.customer_messages import CustomerMessenger
        from shared.services.sla import SlaService
        from shared.services.intake import IntakeService
        from shared.services.route_stage import Router
        from shared.services.routing import RoutingService
        from shared.settings import Settings
        from shared.services.ticket_changes import TicketChanges

        self.clock = Clock(now)
        self.settings = Settings(signing_secret="unit-test-secret")
        self.agents = FakeAgents()
        self.tickets = FakeTickets(self.agents)
        self.customers = FakeCustomers()
        self.config = FakeConfig()
        self.markers = FakeMarkers()
        self.idempotency = FakeIdempotency(self.clock)
        self.out = Recorder()
        self.quarantined: list[tuple[str, str]] = []
        self.routing = RoutingService(self.tickets, self.agents, self.customers, self.config, clock=self.clock)  # type: ignore[arg-type]
        self.messenger = CustomerMessenger(
            settings=self.settings, tickets=self.tickets, agents=self.agents, customers=self.customers,  # type: ignore[arg-type]
            config=self.config, markers=self.markers, mailer=self.out, reply_key=b"k" * 32, deliveries=self.out,  # type: ignore[arg-type]
            clock=self.clock,
        )  # fmt: skip
        self.sla = SlaService(
            tickets=self.tickets, agents=self.agents, config=self.config, timers=self.out, bus=self.out,  # type: ignore[arg-type]
            alerts=self.out, routing=self.routing, notices=self.messenger, clock=self.clock,
        )  # fmt: skip
        self.changes = TicketChanges(tickets=self.tickets, agents=self.agents, announcer=self.out, clock=self.clock)  # type: ignore[arg-type]
        self.intake = IntakeService(
            settings=self.settings, tickets=self.tickets, customers=self.customers, markers=self.markers,  # type: ignore[arg-type]
            idempotency=self.idempotency, announcer=self.out, bodies=self.out, quarantine=self,
            sleep=lambda seconds: None,
        )  # fmt: skip
        self.router = Router(
            tickets=self.tickets, idempotency=self.idempotency, routing=self.routing, messenger=self.messenger,  # type: ignore[arg-type]
            changes=self.changes, sla=self.sla, announcer=self.out,
        )  # fmt: skip
        self._pumped = 0

    def keep(self, entry: Any, received_at: datetime) -> None:
        """The quarantine port: the world keeps (reason, detail) of what could not be a ticket."""
        self.quarantined.append((entry.reason, entry.detail))

    def desk(self) -> Any:
        """What the API's ticket routes call, on this world's fakes."""
        from shared.services.ticket_desk import TicketDesk

        return TicketDesk(tickets=self.tickets, agents=self.agents, announcer=self.out, intake=lambda: self.intake,  # type: ignore[arg-type]
                          messenger=lambda: self.messenger, changes=lambda: self.changes, now=self.clock)  # fmt: skip

    def work(self) -> Any:
        """What the API's move, merge, link and macro routes call, on this world's fakes."""
        from shared.services.ticket_work import TicketWork

        return TicketWork(desk=self.desk(), tickets=self.tickets, agents=self.agents, config=self.config,  # type: ignore[arg-type]
                          announcer=self.out, messenger=lambda: self.messenger, changes=lambda: self.changes,
                          now=self.clock)  # fmt: skip

    def pump(self) -> list[dict[str, Any]]:
        """Hand every announcement not yet routed to the route stage, in order (what the route queue does)."""
        results = []
        while self._pumped < len(self.out.announced):
            event = self.out.announced[self._pumped]
            self._pumped += 1
            results.append(self.router.handle(event))
        return results

    def mail(self, subject: str, body: str = "Halo", *, sender: str = "budi@pelanggan.co.id", name: str | None = "Budi",
             key: str | None = None, minutes: float = 0, **extra: Any) -> Any:  # fmt: skip
        """A customer's message through intake, received `minutes` after the world's start."""
        from datetime import timedelta

        from shared.domain.model import Channel, Contact
        from shared.services.intake import InboundMessage

        received = T0 + timedelta(minutes=minutes)
        self.clock.now = max(self.clock.now, received)
        message = InboundMessage(
            channel=Channel.EMAIL, key=key or f"{sender}#{subject}#{minutes}", received_at=received,
            contact=Contact(Channel.EMAIL, sender, name), subject=subject, body=body, body_full=body,
            recipients=("support@example.com",), **extra,
        )  # fmt: skip
        return self.intake.accept(message)

    def later(self, **delta: float) -> datetime:
        from datetime import timedelta

        self.clock.now = self.clock.now + timedelta(**delta)
        return self.clock.now

    def ticket(self, ticket_id: str) -> Ticket:
        found = self.tickets.get(ticket_id)
        assert found is not None, f"no ticket {ticket_id}"
        return found
