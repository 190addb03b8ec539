"""Two weeks of made-up history for a newcomer's dashboard (`ticketing demo-week`): tickets over the last 14
days, busier and slower in the latest 7 (so the KPIs have a baseline and something worth acting on), rated,
escalated and deflected now and then, and a team whose agents are over capacity now.

The tickets are written whole, as an import would write them, tagged `demo`; the tickets table's stream counts
them into the KPIs exactly as it counts live work. Deterministic for a given seed and day.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterator

from shared.domain.ids import derived_ulid
from shared.domain.ticket import CustomerSnapshot, Ticket
from shared.domain.timefmt import iso

CHANNELS = ("email", "email", "email", "chat", "whatsapp", "web")
PRIORITIES = ("low", "medium", "medium", "high", "urgent")
CAUSES = ("sla:first_response", "keyword:down", "manual", "sla:resolution")


@dataclass(frozen=True)
class DemoAgent:
    id: str
    name: str
    capacity: int
    holding: int  # open tickets they hold now


AGENTS = (DemoAgent("ani", "Ani", 3, 3), DemoAgent("budi", "Budi", 2, 3), DemoAgent("citra", "Citra", 4, 1))


def demo_tickets(now: datetime, team: str = "support", seed: int = 13) -> Iterator[Ticket]:
    rng = random.Random(f"{seed}#{now.date().isoformat()}")
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    for back in range(13, -1, -1):  # this week is today and the 6 days before it; the baseline the 7 before
        recent = back <= 6
        for n in range(rng.randint(14, 18) if recent else rng.randint(8, 11)):
            created = today - timedelta(days=back, hours=-rng.randint(0, 23), minutes=-rng.randint(0, 59))
            if created >= now - timedelta(hours=1):
                continue
            yield _ticket(rng, created, now, team, recent, f"{back}-{n}")
    for agent in AGENTS:  # what they hold now: open, answered, not resolved
        for n in range(agent.holding):
            created = now - timedelta(hours=rng.randint(2, 30))
            ticket = _ticket(rng, created, now, team, True, f"held-{agent.id}-{n}", resolve=False)
            ticket.assignee, ticket.status, ticket.assigned_at = agent.id, "in_progress", iso(created + timedelta(minutes=5))
            yield ticket
    for n in range(4):  # and work nobody can take: the team is full
        yield _ticket(rng, now - timedelta(minutes=20 + 10 * n), now, team, True, f"waiting-{n}", resolve=False, answer=False)


def _ticket(rng: random.Random, created: datetime, now: datetime, team: str, recent: bool, key: str,
            resolve: bool | None = None, answer: bool = True) -> Ticket:  # fmt: skip
    tid = derived_ulid(created, f"demo#{key}")
    channel, priority = rng.choice(CHANNELS), rng.choice(PRIORITIES)
    ticket = Ticket(
        id=tid, ref=f"D-{tid[-6:]}", channel=channel, customer_id=f"demo-{key}", subject=f"Demo request {key}",
        customer=CustomerSnapshot(id=f"demo-{key}", email=f"{key}@demo.example", tier=rng.choice(("standard", "standard", "vip"))),
        created_at=iso(created), updated_at=iso(created), priority=priority, team=team, tags={"demo"}, in_triage=False,
    )  # fmt: skip
    first = created + timedelta(minutes=rng.randint(3, 20) * (3 if recent else 1))
    if answer and first < now:
        ticket.first_responded_at = iso(first)
        ticket.assignee = rng.choice(AGENTS).id
    end = first + timedelta(hours=rng.randint(1, 30) * (2 if recent else 1))
    resolving = (end < now and rng.random() < 0.85) if resolve is None else resolve
    if answer and resolving:
        ticket.status, ticket.resolved_at, ticket.updated_at = "resolved", iso(end), iso(end)
        if rng.random() < (0.45 if recent else 0.6):
            score = rng.choice((3, 4, 4, 5) if recent else (4, 5, 5, 5))
            ticket.csat = {"score": score, "comment": None, "at": iso(end + timedelta(hours=1))}
        if rng.random() < 0.08:
            ticket.resolved_by_article = "demo-article"
    if rng.random() < (0.18 if recent else 0.08):
        at = created + timedelta(minutes=rng.randint(10, 90))
        ticket.escalation_log = [{"at": iso(min(at, now)), "from": 0, "level": 1, "causes": [rng.choice(CAUSES)]}]
    return ticket
