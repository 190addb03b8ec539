"""What one SLA sweep costs with few or many open tickets and the same number due, in-process: DynamoDB Local
over HTTP (AWS's emulator, whose query and transaction costs do not grow with the table as moto's did), SQS, SES
and EventBridge on moto in-process.

The sweep reads the sparse, minute-bucketed `by-due` index, so its DynamoDB reads should follow the number of
tickets due in the swept minutes, not the number of open tickets. Each run loads the tickets table with N open
tickets: DUE urgent ones built through the real path (stored SLA policy with seconds-long targets,
`SlaService.apply` on a controlled clock, their timers "lost"), and N - DUE filler tickets written with
BatchWriteItem whose next ladder step (default per-priority policies) falls due 30 minutes or more after the sweep.
Then one sweep over the last minutes, after every due step has passed, is measured: wall time, DynamoDB requests
by operation, and items read (Query `Count`/`ScannedCount`, one per GetItem that found an item).
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from typing import Any

from bench.inprocess import fresh_dynamodb, use_fake_aws

use_fake_aws()

SIZES = tuple(int(n) for n in os.environ.get("BENCH_SWEEP_SIZES", "1000,20000").split(","))
DUE = int(os.environ.get("BENCH_SWEEP_DUE", "50"))
POLICY_ID = "bench-urgent-fast"
POLICY = {
    "position": 1,
    "name": "urgent in minutes (bench)",
    "conditions": {"priority": ["urgent"], "tier": [], "channel": [], "tags": [], "team": []},
    "targets": {"first_response": 600, "next_response": 3600, "resolution": 14400},
    "calendar": "24x7",
    "ladder": [
        {"metric": "first_response", "at": 0.5, "action": "warn", "notify": ["assignee"]},
        {"metric": "first_response", "at": 1.0, "action": "escalate", "tier": 2, "notify": ["supervisor"]},
    ],
}
T0 = datetime(2026, 11, 2, 3, 0, tzinfo=timezone.utc)
SPREAD = timedelta(seconds=5)  # due ticket i is created at T0 + i x 5 s: their warnings fall due over ~4 minutes
LOOKBACK = timedelta(minutes=5)


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@contextlib.contextmanager
def _measuring_aws() -> Any:
    """Every AWS call by service:operation, with seconds spent and, for DynamoDB reads, the items they returned."""
    from botocore.client import BaseClient

    calls: Counter[str] = Counter()
    seconds: defaultdict[str, float] = defaultdict(float)
    items: Counter[str] = Counter()
    original = BaseClient._make_api_call

    def measured(self: Any, operation: str, params: Any) -> Any:
        service = self.meta.service_model.service_name
        key = f"{service}:{operation}"
        if service == "dynamodb" and operation == "Query":
            key += f"[{params.get('IndexName') or params.get('TableName')}]"
        t0 = time.perf_counter()
        try:
            response = original(self, operation, params)
        finally:
            seconds[key] += time.perf_counter() - t0
            calls[key] += 1
        if service == "dynamodb":
            if operation in ("Query", "Scan"):
                items[f"{key} Count"] += int(response.get("Count", 0))
                items[f"{key} ScannedCount"] += int(response.get("ScannedCount", 0))
            elif operation == "GetItem":
                items[f"{key} items"] += 1 if "Item" in response else 0
            elif operation == "BatchGetItem":
                items[f"{key} items"] += sum(len(v) for v in response.get("Responses", {}).values())
        return response

    BaseClient._make_api_call = measured  # type: ignore[method-assign]
    try:
        yield {"calls": calls, "seconds": seconds, "items": items}
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]


def _ticket(n: int, created: datetime, priority: str) -> Any:
    from shared.domain.ticket import CustomerSnapshot, Ticket
    from shared.domain.timefmt import iso

    return Ticket(
        id=f"T{n:08d}",
        ref=f"BN-{n:06d}",
        subject=f"Bench ticket {n}",
        channel="email",
        status="open",
        priority=priority,
        priority_reasons=["bench"],
        priority_source="rules",
        team="support",
        customer_id=f"C{n:08d}",
        customer=CustomerSnapshot(id=f"C{n:08d}", email=f"c{n}@pelanggan.co.id", name=f"Customer {n}", tier="standard"),
        created_at=iso(created),
        updated_at=iso(created),
        message_count=1,
        customer_waiting_count=1,
        last_customer_message_at=iso(created),
        in_triage=False,
    )


def _one(size: int) -> dict[str, Any]:
    from moto import mock_aws

    fresh_dynamodb()
    with mock_aws():  # SQS, SES, EventBridge; DynamoDB calls pass through to DynamoDB Local
        import boto3

        from shared.services.alerts import MailAlerter
        from shared.services.sla import find_policy
        from shared.services.routing import RoutingService
        from shared.services.wiring import build_sla_service
        from shared.settings import get_settings
        from shared.domain.sla_clock import DEFAULT_POLICIES, due_steps, policy_from_document, start_clock
        from shared.domain.business_calendar import ALWAYS_OPEN
        from shared.storage.config import ConfigRepository
        from shared.storage.models import ALL_MODELS, TicketModel
        from shared.storage.tickets import new_item
        from shared.domain.timefmt import iso

        settings = get_settings()
        for model in ALL_MODELS:
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
        boto3.client("sqs", region_name=settings.region).create_queue(QueueName="ticketing-escalate")
        boto3.client("sqs", region_name=settings.region).create_queue(QueueName="ticketing-route")
        boto3.client("ses", region_name=settings.region).verify_domain_identity(Domain=settings.support_domain)

        policy_from_document(POLICY_ID, POLICY)  # the API's validation
        ConfigRepository().put("sla-policy", POLICY_ID, POLICY, "bench", T0)

        service = build_sla_service(settings)
        clock = _Clock(T0)
        assert isinstance(service.routing, RoutingService) and isinstance(service.alerts, MailAlerter)
        service.clock = service.routing.clock = service.alerts.clock = clock
        emf = io.StringIO()  # metrics and logs are still produced, just not printed over the report
        with contextlib.redirect_stdout(emf):
            # the DUE tickets, through SlaService.apply at their creation time (timers sent, then lost)
            for n in range(DUE):
                created = T0 + n * SPREAD
                clock.now = created
                ticket = _ticket(n, created, "urgent")
                new_item(ticket).save()
                ticket.mark_stored(1)
                service.apply(ticket)
            policy = find_policy(service.config, POLICY_ID)
            assert policy is not None
            warn_dues = [T0 + n * SPREAD + timedelta(seconds=policy.targets["first_response"] * 0.5) for n in range(DUE)]
            now = max(warn_dues) + timedelta(seconds=5)  # every warning due, no escalation yet
            since = now - LOOKBACK
            assert since <= min(warn_dues)

            # the filler: open tickets on the default policies, next step 30 minutes or more after `now`
            rng = random.Random(size)
            defaults = {p.id: p for p in DEFAULT_POLICIES}
            load_started = time.perf_counter()
            with TicketModel.batch_write() as batch:
                for n in range(DUE, size):
                    priority = rng.choice(("high", "medium", "medium", "low"))
                    created = now - timedelta(seconds=rng.randint(60, 15 * 60))
                    ticket = _ticket(n, created, priority)
                    filler_policy = defaults[f"default-{priority}"]
                    sla_clock = start_clock(filler_policy, created)
                    summary = sla_clock.to_document(ALWAYS_OPEN, now)
                    index, _, when = due_steps(filler_policy, sla_clock, ALWAYS_OPEN, [])[0]
                    ticket.sla_clock = summary
                    ticket.sla = {k: summary[k] for k in ("policy", "first_response_due", "next_response_due", "resolution_due", "state")}
                    ticket.due_at, ticket.due_step = iso(when), index
                    ticket.version = 1
                    batch.save(new_item(ticket))
            load_seconds = time.perf_counter() - load_started
            stored = TicketModel.count()  # a Scan, before the measurement: every ticket is there
            assert stored == size, (stored, size)
            clock.now = now
            with _measuring_aws() as measured:
                started = time.perf_counter()
                result = service.sweep(since, now)
                sweep_seconds = time.perf_counter() - started
        assert result["fired"] == DUE, result
    dynamodb = {k: v for k, v in measured["calls"].items() if k.startswith("dynamodb:")}
    return {
        "open_tickets": size,
        "load_seconds": load_seconds,
        "sweep": result,
        "seconds": sweep_seconds,
        "calls": dict(measured["calls"]),
        "call_seconds": dict(measured["seconds"]),
        "items": dict(measured["items"]),
        "dynamodb_requests": sum(dynamodb.values()),
        "due_index_queries": sum(v for k, v in dynamodb.items() if "[by-due]" in k),
        "due_index_items": measured["items"].get("dynamodb:Query[by-due] Count", 0),
        "due_index_scanned": measured["items"].get("dynamodb:Query[by-due] ScannedCount", 0),
        "items_read": sum(v for k, v in measured["items"].items() if not k.endswith("ScannedCount")),
        "items_scanned": sum(
            v for k, v in measured["items"].items() if k.endswith("ScannedCount") or k.endswith(" items")
        ),
        "emulator_seconds": {
            "query_due_index": sum(v for k, v in measured["seconds"].items() if "[by-due]" in k),
            "transact_write": measured["seconds"].get("dynamodb:TransactWriteItems", 0.0),
        },
    }


def run() -> dict[str, Any]:
    runs = [_one(size) for size in SIZES]
    small, large = runs[0], runs[-1]
    return {
        "due": DUE,
        "runs": runs,
        "ratio_reads": large["items_read"] / small["items_read"],
        "ratio_requests": large["dynamodb_requests"] / small["dynamodb_requests"],
        "ratio_seconds": large["seconds"] / small["seconds"],
        "ratio_seconds_outside_query_and_transactions": (
            (large["seconds"] - large["emulator_seconds"]["query_due_index"] - large["emulator_seconds"]["transact_write"])
            / (small["seconds"] - small["emulator_seconds"]["query_due_index"] - small["emulator_seconds"]["transact_write"])
        ),
    }


def _cell(run: dict[str, Any], op: str) -> str:
    calls = run["calls"].get(op, 0)
    if not op.startswith("dynamodb:") or op.endswith("TransactWriteItems"):
        return str(calls)
    items = run["items"].get(f"{op} Count", run["items"].get(f"{op} items", 0))
    return f"{calls} / {items}"


def report(figures: dict[str, Any]) -> str:
    runs = figures["runs"]
    small, large = runs[0], runs[-1]
    ops = sorted({k for r in runs for k in r["calls"]})
    lines = [
        f"One `SlaService.sweep` over the last {int(LOOKBACK.total_seconds() // 60)} minutes "
        f"({runs[0]['sweep']['buckets']} minute buckets) with {figures['due']} urgent tickets whose warning step's "
        "timer was lost, among N open tickets whose next step is due later; DynamoDB Local over HTTP, the other "
        "services moto in-process. The filler tickets are written with BatchWriteItem and sit in other buckets of the "
        "same `by-due` index.",
        "",
        "| open tickets | due | fired | sweep s | DynamoDB requests | items read | of which from `by-due` | `by-due` ScannedCount | load s |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *(
            f"| {r['open_tickets']:,} | {figures['due']} | {r['sweep']['fired']} | {r['seconds']:.2f} | {r['dynamodb_requests']} "
            f"| {r['items_read']} | {r['due_index_items']} | {r['due_index_scanned']} | {r['load_seconds']:.1f} |"
            for r in runs
        ),
        "",
        f"Ratio {large['open_tickets']:,} / {small['open_tickets']:,} open tickets: items read "
        f"**{figures['ratio_reads']:.2f}**, DynamoDB requests **{figures['ratio_requests']:.2f}**, sweep time "
        f"**{figures['ratio_seconds']:.2f}** (without the time inside the index Query and TransactWriteItems: "
        f"{figures['ratio_seconds_outside_query_and_transactions']:.2f}).",
        "",
        "Reads and requests are what DynamoDB would bill and do not depend on the emulator. Wall time does: on "
        "DynamoDB Local, as on DynamoDB, a Query costs what it returns and a transaction what it writes (moto, "
        "used here before, walked every item for a GSI Query and deep-copied whole tables per transaction, so its "
        "sweep time grew with the table). Seconds spent inside those two calls:",
        "",
        "| open tickets | `by-due` Query s | TransactWriteItems s | rest of the sweep s |",
        "| ---: | ---: | ---: | ---: |",
        *(
            f"| {r['open_tickets']:,} | {r['emulator_seconds']['query_due_index']:.2f} | {r['emulator_seconds']['transact_write']:.2f} "
            f"| {r['seconds'] - r['emulator_seconds']['query_due_index'] - r['emulator_seconds']['transact_write']:.2f} |"
            for r in runs
        ),
        "",
        "AWS requests of the sweep by operation (DynamoDB: requests / items returned; the GetItems without an "
        "item are config documents this setup does not have, such as the team's):",
        "",
        "| operation | " + " | ".join(f"{r['open_tickets']:,} open" for r in runs) + " |",
        "| --- | " + " | ".join("---:" for _ in runs) + " |",
        *(f"| {op} | " + " | ".join(_cell(r, op) for r in runs) + " |" for op in ops),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(run()))
