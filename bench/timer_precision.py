"""How late ladder steps run in the local stack: the delay from a step's due time to its event (timer precision).

`ticketing run` in a subprocess, as a user starts it. An admin stores an SLA policy for urgent tickets with an
20-second first-response target (warn at 50 %, escalate to tier 2 at 100 %), one tier-1 agent comes online, and K
urgent mails ("darurat") arrive over SMTP. Each step's timer is an SQS delay message on the escalate queue
(whole seconds, rounded up), received by the local event source mapping and handled by the escalate function;
the every-minute sweep is only the safety net. For every ticket: delay = the event's `at` - the step's due time,
where due = created_at + fraction x target (24x7 calendar), cross-checked against the `due` the step records.
The acknowledgement promised each customer an answer within the target (their agent holds the ticket), so each
ticket also measures how late the customer hears that it takes longer: `eta.slipped` `at` - the promised time.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

MAILS = int(os.environ.get("BENCH_TIMER_MAILS", "20"))
FIRST_RESPONSE = 20  # warn at 10 s: well after routing has applied the SLA and sent the first timer, even in a burst
POLICY_ID = "bench-urgent-seconds"
POLICY = {
    "position": 1,
    "name": "urgent in seconds (timer bench)",
    "conditions": {"priority": ["urgent"], "tier": [], "channel": [], "tags": [], "team": []},
    "targets": {"first_response": FIRST_RESPONSE, "next_response": 60, "resolution": 600},
    "calendar": "24x7",
    "ladder": [
        {"metric": "first_response", "at": 0.5, "action": "warn", "notify": ["assignee"]},
        {"metric": "first_response", "at": 1.0, "action": "escalate", "tier": 2, "notify": ["supervisor"]},
    ],
}
STEPS = (("warn at 50 %", "sla.warning", 0.5), ("escalate at 100 %", "ticket.escalated", 1.0))
SLIP = ("customer told of the slip", "eta.slipped")
WAIT_SECONDS = 60.0


def _at(text: str) -> datetime:
    from shared.domain.timefmt import parse_iso

    return parse_iso(text)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(round(share * len(ordered))) - 1))]


def run() -> dict[str, Any]:
    from tests.e2e.conftest import start_local_stack

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as workdir:
        stack = start_local_stack(Path(workdir))
        startup = time.perf_counter() - started
        try:
            admin = stack.token("admin")
            status, body = stack.request("PUT", f"/v1/sla-policies/{POLICY_ID}", token=admin, body=POLICY)
            if status != 200:
                raise RuntimeError(f"PUT sla-policy: {status} {body}")
            status, body = stack.request(
                "PUT", "/v1/agents/bench-t1", token=admin,
                body={"team": "support", "capacity": MAILS, "presence": "online", "tier": 1},
            )  # fmt: skip
            if status not in (200, 201):
                raise RuntimeError(f"PUT agent: {status} {body}")
            run_tag = f"tp{int(time.time()) % 100000:05d}"
            for n in range(MAILS):
                mail = EmailMessage()
                mail["From"] = f"Customer {n} <timer{n}@pelanggan.co.id>"
                mail["To"] = stack.support_address
                mail["Subject"] = f"Darurat: kasir tidak jalan {run_tag}x{n:03d}"
                mail["Message-ID"] = make_msgid(domain="bench")
                mail.set_content("Halo, kasir kami tidak jalan sama sekali. Mohon dibantu.")
                stack.send_mail(mail)

            def listed() -> list[str] | None:
                status, body = stack.request("GET", f"/v1/tickets?q={run_tag}&limit=100", token=admin)
                ids = [t["id"] for t in body["items"]] if status == 200 else []
                return ids if len(ids) == MAILS else None

            ids = stack.wait_until(listed, timeout=WAIT_SECONDS) or []
            deadline = time.monotonic() + WAIT_SECONDS
            tickets: dict[str, dict[str, Any]] = {}
            while len(tickets) < MAILS:
                for ticket_id in ids:
                    if ticket_id in tickets:
                        continue
                    status, body = stack.request("GET", f"/v1/tickets/{ticket_id}", token=admin)
                    types = {e["type"] for e in body.get("events", [])} if status == 200 else set()
                    if all(event in types for _, event, _ in STEPS) and SLIP[1] in types:
                        tickets[ticket_id] = body
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"only {len(tickets)} of {MAILS} tickets warned and escalated within {WAIT_SECONDS:.0f} s; "
                        f"stack log tail:\n{stack.logs()[-3000:]}"
                    )
                time.sleep(0.5)
        finally:
            stack.stop()
    elapsed = time.perf_counter() - started

    delays: dict[str, list[float]] = {label: [] for label, _, _ in STEPS}
    delays[SLIP[0]] = []
    due_mismatch = 0.0
    routed_after: list[float] = []
    scheduled_late = 0  # steps whose due time had passed before routing applied the SLA (delay is not the timer's)
    priorities = set()
    for body in tickets.values():
        priorities.add(body["priority"])
        created = _at(body["created_at"])
        events = body["events"]
        applied = next(e for e in events if e["type"] == "sla.applied")
        if applied["data"].get("policy") != POLICY_ID:
            raise RuntimeError(f"ticket {body['id']} got policy {applied['data'].get('policy')}, not {POLICY_ID}")
        routed_after.append((_at(applied["at"]) - created).total_seconds())
        for label, event_type, fraction in STEPS:
            due = created + timedelta(seconds=fraction * FIRST_RESPONSE)
            event = next(e for e in events if e["type"] == event_type)
            recorded = next(
                (e["data"]["due"] for e in events if e["type"] in ("sla.warning", "sla.breached")
                 and float(e["data"].get("at", -1)) == fraction and e["data"].get("due")),
                None,
            )  # fmt: skip
            if recorded:
                due_mismatch = max(due_mismatch, abs((_at(recorded) - due).total_seconds()))
            delays[label].append((_at(event["at"]) - due).total_seconds())
            scheduled_late += _at(applied["at"]) > due
        slip = next(e for e in events if e["type"] == SLIP[1])
        delays[SLIP[0]].append((_at(slip["at"]) - _at(slip["data"]["promised"])).total_seconds())
    return {
        "mails": MAILS,
        "first_response": FIRST_RESPONSE,
        "startup_seconds": startup,
        "total_seconds": elapsed,
        "priorities": sorted(priorities),
        "routed_after": {"p50": statistics.median(routed_after), "max": max(routed_after)},
        "due_mismatch": due_mismatch,
        "scheduled_late": scheduled_late,
        "steps": {
            label: {
                "p50": statistics.median(values),
                "p95": _percentile(values, 0.95),
                "max": max(values),
                "min": min(values),
            }
            for label, values in delays.items()
        },
    }


def report(figures: dict[str, Any]) -> str:
    steps = figures["steps"]
    return "\n".join(
        [
            f"{figures['mails']} urgent mails over SMTP to `ticketing run`, SLA policy with a "
            f"{figures['first_response']} s first-response target (warn at 50 %, escalate to tier 2 at 100 %), one "
            "online tier-1 agent. Delay = the step's event `at` - its due time (created_at + fraction x target); "
            "negative means early (the escalate function accepts a timer up to 1 s early). The customer's "
            "acknowledgement promised an answer within the target; the last row is `eta.slipped` `at` - that "
            "promised time (the \"taking longer\" notice goes out with it).",
            "",
            f"| step ({figures['mails']} tickets each) | p50 s | p95 s | max s | min s |",
            "| --- | ---: | ---: | ---: | ---: |",
            *(
                f"| {label} | {s['p50']:.2f} | {s['p95']:.2f} | {s['max']:.2f} | {s['min']:.2f} |"
                for label, s in steps.items()
            ),
            "",
            f"Timers are SQS delay messages in whole seconds rounded up from when routing applied the SLA "
            f"(p50 {figures['routed_after']['p50']:.2f} s, max {figures['routed_after']['max']:.2f} s after "
            f"created_at; {figures['scheduled_late']} step(s) were already due by then), then wait for the escalate "
            "queue's next receive (1 s long polls, batches of up to 10, one batch at a time per queue) and the "
            "function's own work: the escalate step also records the breach, takes the ticket back from the tier-1 "
            "agent, re-drains the queue and asks the live queue whether the acknowledgement's promise still holds "
            "(telling the customer once when it does not), so it is heavier than a warning, and steps falling due "
            "together wait behind each other. Recorded `due` agrees with created_at + fraction x target within "
            f"{figures['due_mismatch']:.3f} s. Stack start {figures['startup_seconds']:.1f} s, whole run "
            f"{figures['total_seconds']:.1f} s.",
        ]
    )


if __name__ == "__main__":
    print(report(run()))
