"""Run every benchmark, print the figures and write them to docs/benchmarks.md."""

from __future__ import annotations

import os
import platform
import sys
from datetime import datetime, timezone
from pathlib import Path

from bench import cold_start, console_inbox, cost_per_ticket, ingest_throughput, kpi_summary, mail_to_api_latency, routing_contention
from bench import sweep_cost, timer_precision

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def main() -> int:
    sections = []
    print("ingest throughput ...", flush=True)
    sections.append(("Ingest throughput (`bench/ingest_throughput.py`)", ingest_throughput.report(ingest_throughput.run())))
    print("mail to API latency through the local stack ...", flush=True)
    sections.append(("Mail to API latency (`bench/mail_to_api_latency.py`)", mail_to_api_latency.report(mail_to_api_latency.run())))
    print("the console with 1,000 tickets in Chromium ...", flush=True)
    sections.append(("Console inbox with 1,000 tickets (`bench/console_inbox.py`)", console_inbox.report(console_inbox.run())))
    print("AWS cost per 10,000 tickets ...", flush=True)
    sections.append(("AWS cost per 10,000 tickets (`bench/cost_per_ticket.py`)", cost_per_ticket.report(cost_per_ticket.run())))
    print("cold-start imports ...", flush=True)
    sections.append(("Cold-start import time (`bench/cold_start.py`)", cold_start.report(cold_start.run())))
    sections.append(("Routing under contention (`bench/routing_contention.py`)", routing_contention.report(routing_contention.run())))
    sections.append(("SLA sweep cost (`bench/sweep_cost.py`)", sweep_cost.report(sweep_cost.run())))
    sections.append(("KPI aggregates and summary (`bench/kpi_summary.py`)", kpi_summary.report(kpi_summary.run())))
    sections.append(("SLA timer precision (`bench/timer_precision.py`)", timer_precision.report(timer_precision.run())))
    header = [
        "# Benchmarks",
        "",
        "Written by `make bench`; re-run it to refresh. Machines here are shared and noisy: compare figures from one run.",
        "",
        f"- run: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()} ({sys.platform})",
        "",
    ]
    body = []
    for title, text in sections:
        body += [f"## {title}", "", text, ""]
    document = "\n".join(header + body)
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(document)
    print(document)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
