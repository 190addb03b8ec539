"""How long the agent console takes to show 1,000 tickets, in Debian's Chromium against the real local stack.

Seeds 1,000 tickets through `POST /v1/tickets` (four at a time), then, in a fresh browser context each round:
sign in through the dev sign-in and time until the inbox says "1000 tickets" with every row drawn (ten pages of
100 from `GET /v1/tickets`, folder counts, the table). Then one more ticket is created and timed until its row
appears without a reload (a polling round: `updated_since` every 2 s, so 0-2 s of that is the poll interval).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

TICKETS = int(os.environ.get("BENCH_CONSOLE_TICKETS", "1000"))
ROUNDS = int(os.environ.get("BENCH_CONSOLE_ROUNDS", "3"))
CHANNELS = ("chat", "web", "phone", "email")


def _seed(stack: Any, token: str) -> float:
    def create(n: int) -> None:
        body = {"channel": CHANNELS[n % 4] if n % 4 != 3 else "web", "subject": f"Pertanyaan pelanggan {n:04d}",
                "customer": {"handle": f"bench-{n}", "name": f"Pelanggan {n}"}, "body": "Mohon dibantu, terima kasih."}  # fmt: skip
        status, reply = stack.request("POST", "/v1/tickets", token=token, body=body)
        if status != 201:
            raise RuntimeError(f"seeding ticket {n}: {status} {reply}")

    started = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(create, range(TICKETS)))
    return time.perf_counter() - started


def run() -> dict[str, Any]:
    from playwright.sync_api import expect, sync_playwright

    from tests.browser.conftest import CHROMIUM_ARGS, VIEWPORT, chromium_path
    from tests.e2e.conftest import start_local_stack

    with tempfile.TemporaryDirectory() as workdir:
        stack = start_local_stack(Path(workdir))
        try:
            token = stack.token("admin", "boss")
            seeded = _seed(stack, token)
            shows, appears, firsts = [], [], []
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
                for round_ in range(ROUNDS):
                    context = browser.new_context(viewport=VIEWPORT)
                    page = context.new_page()
                    page.goto(f"{stack.api_url}/")
                    page.fill("input[name=agent-id]", "boss")
                    page.select_option("select[name=role]", "admin")
                    started = time.perf_counter()
                    page.click("form button[type=submit]")
                    page.locator("table.tickets tbody tr").first.wait_for(timeout=60_000)
                    firsts.append(time.perf_counter() - started)
                    expect(page.locator("[data-testid=shown]")).to_have_text(f"{TICKETS + round_} tickets", timeout=120_000)
                    expect(page.locator("table.tickets tbody tr")).to_have_count(TICKETS + round_, timeout=120_000)
                    shows.append(time.perf_counter() - started)

                    subject = f"Tiket baru {round_}"
                    started = time.perf_counter()
                    status, _ = stack.request("POST", "/v1/tickets", token=token, body={
                        "channel": "chat", "subject": subject, "customer": {"handle": f"late-{round_}"}, "body": "Halo"})  # fmt: skip
                    assert status == 201
                    page.locator("table.tickets tbody tr", has_text=subject).wait_for(timeout=60_000)
                    appears.append(time.perf_counter() - started)
                    context.close()
                browser.close()
        finally:
            stack.stop()
    return {"tickets": TICKETS, "rounds": ROUNDS, "seed_s": seeded, "show": shows, "appear": appears, "first": firsts}


def report(figures: dict[str, Any]) -> str:
    show, appear, first = figures["show"], figures["appear"], figures["first"]
    return "\n".join(
        [
            f"{figures['tickets']} tickets on `ticketing run` (seeded through the API in {figures['seed_s']:.0f} s); "
            f"{figures['rounds']} rounds in a fresh Chromium context: sign-in click until the first page of rows is drawn, and until the inbox lists every "
            "ticket (10 pages of 100, folder counts, every row drawn), then a new ticket until its row appears "
            "without a reload (polling every 2 s).",
            "",
            "| first rows on screen: median s | all 1,000 listed: median s | max s | a new ticket appears: median s | max s |",
            "| ---: | ---: | ---: | ---: | ---: |",
            f"| {statistics.median(first):.2f} | {statistics.median(show):.2f} | {max(show):.2f} "
            f"| {statistics.median(appear):.2f} | {max(appear):.2f} |",
        ]
    )


if __name__ == "__main__":
    print(report(run()))
