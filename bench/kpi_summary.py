"""What the KPIs cost, in-process against DynamoDB Local: counting a ticket's change into the aggregates (the
aggregate function's work per stream record) and reading a week's summary beside its baseline.

Two weeks of tickets (the demo generator, `shared/services/demo_week.py`, repeated over several teams) are
counted through `KpiAggregator.apply` as the stream would hand them over (each ticket's final image), then every
one again (a duplicated delivery, which must write nothing). The summary of the last 7 days — all teams and
grouped by agent — is read 5 times; the median is reported with the DynamoDB requests it made.
"""

from __future__ import annotations

import contextlib
import io
import os
import statistics
import time
from collections import Counter
from datetime import timedelta
from typing import Any

from bench.inprocess import fresh_dynamodb, use_fake_aws

use_fake_aws()

TEAMS = int(os.environ.get("BENCH_KPI_TEAMS", "4"))


def _count_requests(client: Any, counter: Counter[str]) -> None:
    client.meta.events.register("before-call.dynamodb.*", lambda model, **_: counter.update([model.name]))


def run() -> dict[str, Any]:
    fresh_dynamodb()
    from shared.domain.access import Principal
    from shared.domain.kpi import by_item, ticket_fact
    from shared.domain.model import Role
    from shared.domain.timefmt import utcnow
    from shared.services.demo_week import demo_tickets
    from shared.services.kpis import KpiAggregator, KpiReports
    from shared.storage.agents import AgentRepository
    from shared.storage.config import ConfigRepository
    from shared.storage.kpi import KpiRepository
    from shared.storage.models import ALL_MODELS
    from shared.storage.tickets import TicketRepository

    for model in ALL_MODELS:
        model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    now = utcnow()
    tickets = [t for team in range(TEAMS) for t in demo_tickets(now, team=f"team{team}", seed=team)]
    for t in tickets:
        t.version = 1
    repository = KpiRepository()
    requests: Counter[str] = Counter()
    _count_requests(repository._db, requests)
    aggregator = KpiAggregator(repository)
    began = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # the EMF lines the aggregator prints
        for ticket in tickets:
            aggregator.apply(ticket)
    apply_seconds = time.perf_counter() - began
    items = [len(by_item(ticket_fact(t))) + 1 for t in tickets]
    writes = dict(requests)
    requests.clear()
    began = time.perf_counter()
    repeated = sum(1 for ticket in tickets if aggregator.apply(ticket) is not None)
    repeat_seconds = time.perf_counter() - began
    repeat_requests = dict(requests)

    reports = KpiReports(store=repository, agents=AgentRepository(), desk=TicketRepository(), config=ConfigRepository(), now=utcnow)
    admin = Principal(subject="bench", role=Role.ADMIN, agent_id=None, teams=())
    start, end = (now - timedelta(days=6)).date(), (now + timedelta(days=1)).date()
    timings: dict[str, float] = {}
    reads: dict[str, int] = {}
    for label, group in (("all teams", None), ("by agent", "agent")):
        samples = []
        for _ in range(5):
            requests.clear()
            began = time.perf_counter()
            summary = reports.summary(admin, start, end, group)
            samples.append(time.perf_counter() - began)
        timings[label] = statistics.median(samples)
        reads[label] = sum(requests.values())
    return {
        "tickets": len(tickets), "teams": TEAMS, "apply_ms": 1000 * apply_seconds / len(tickets),
        "items_per_apply": statistics.mean(items), "max_items": max(items), "writes": writes,
        "repeat_ms": 1000 * repeat_seconds / len(tickets), "repeated_writes": repeated, "repeat_requests": repeat_requests,
        "summary_seconds": timings, "summary_requests": reads, "volume": summary["kpis"]["volume"],
    }  # fmt: skip


def report(result: dict[str, Any]) -> str:
    writes = ", ".join(f"{k} {v}" for k, v in sorted(result["writes"].items()))
    again = ", ".join(f"{k} {v}" for k, v in sorted(result["repeat_requests"].items()))
    lines = [
        f"{result['tickets']} tickets over 14 days in {result['teams']} teams, counted into DynamoDB Local.",
        "",
        "| measure | figure |",
        "| --- | --- |",
        f"| counting one ticket image (GetItem + one transaction) | {result['apply_ms']:.1f} ms |",
        f"| items per transaction (aggregate items + the fact), mean / max | {result['items_per_apply']:.1f} / {result['max_items']} |",
        f"| DynamoDB requests for the first count | {writes} |",
        f"| the same images again (a duplicated delivery) | {result['repeat_ms']:.1f} ms each; {result['repeated_writes']} written; requests: {again} |",
    ]
    for label, seconds in result["summary_seconds"].items():
        lines.append(f"| summary of 7 days + baseline, {label} (median of 5) | {1000 * seconds:.0f} ms; {result['summary_requests'][label]} Queries of the KPI table (plus the roster and folder counts) |")
    lines += ["", f"Volume this week vs the week before (all teams): {result['volume']['value']} vs {result['volume']['baseline']}."]
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(run()))
