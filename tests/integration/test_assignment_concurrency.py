"""Eight route workers drain one team's queue at the same moment, against DynamoDB over HTTP.

The scenario is bench/routing_contention.py: a moto server in its own process, the workers in a fresh interpreter.
200 tickets wait, 20 online agents have 1-4 slots each (fewer slots than tickets), and 8 threads call
`drain("support")` until a drain assigns nothing; then 16 agents each resolve a ticket and the threads drain the
freed slots. Timings are the benchmark's business: here only what must hold under any interleaving is asserted.
"""

from __future__ import annotations

from typing import Any

import pytest

from bench.routing_contention import Scenario, run

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SCENARIO = Scenario(threads=8, tickets=200, agents=20, max_capacity=4, release=16)
PHASES = ("contention", "after release")


@pytest.fixture(scope="module")
def contention() -> dict[str, Any]:
    return run(SCENARIO)


def assert_holds_after_each_phase(figures: dict[str, Any], name: str) -> None:
    for phase in PHASES:
        label = f"{phase}: {name}"
        assert label in figures["checks"], f"the scenario no longer checks {label!r}"
        result = figures["checks"][label]
        assert result["ok"], f"{label}: {result['detail']}"


def test_eight_workers_really_drained_two_hundred_tickets_onto_twenty_agents_with_fewer_slots(contention):
    assert contention["scenario"]["threads"] == 8 and contention["scenario"]["tickets"] == 200
    capacities = contention["capacities"]
    assert len(capacities) == 20 and all(1 <= c <= 4 for c in capacities.values())
    assert contention["total_capacity"] == sum(capacities.values()) < 200
    assert set(contention["priorities"]) == {"urgent", "high", "medium", "low"}
    assert contention["checks"]["setup: priorities decided as the mix intends"]["ok"]
    for phase in contention["phases"].values():
        assert phase["drains"] >= 8  # every worker drained at least once, all starting together


def test_no_agent_passes_capacity_and_each_load_counts_exactly_the_tickets_held(contention):
    assert_holds_after_each_phase(contention, "no agent over capacity")
    assert_holds_after_each_phase(contention, "load equals the tickets each agent holds")


def test_no_ticket_is_assigned_twice(contention):
    assert_holds_after_each_phase(contention, "each assigned ticket has exactly one ticket.assigned event, waiting ones none")
    assert_holds_after_each_phase(contention, "drain results report each assignment once")


def test_every_slot_is_used_and_tickets_nobody_holds_are_still_waiting(contention):
    assert_holds_after_each_phase(contention, "every ticket without an assignee is open")
    assert_holds_after_each_phase(contention, "tickets in progress == min(tickets, capacity)")
    assert contention["phases"]["contention"]["assigned"] == contention["total_capacity"]
    assert contention["phases"]["after_release"]["assigned"] == contention["released"] == 16


def test_freed_slots_go_to_the_head_of_the_queue_urgent_first_then_oldest(contention):
    assert_holds_after_each_phase(contention, "the head of the queue was served")


def test_every_check_the_scenario_reports_holds(contention):
    failing = {label: c["detail"] for label, c in contention["checks"].items() if not c["ok"]}
    assert not failing
