"""The operations dashboard's figures are emitted where the facts happen, as CloudWatch EMF on stdout: the SLA
clocks started by priority, first-response and resolution times by priority (the first reply only), escalations
by level, and the sweep's backlog, backlog age and agent utilisation per team. Read back from the captured EMF
blobs, as CloudWatch would parse them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support import FakeContext, api_call, api_token, compose, deliver

pytestmark = pytest.mark.integration

LEAD, AGENT = api_token("supervisor", "sari"), api_token("agent", "rina")


def emitted(text: str) -> list[dict[str, Any]]:
    """Every (name, value, unit, dimensions) CloudWatch would take from the EMF lines in `text`."""
    found = []
    for line in text.splitlines():
        try:
            blob = json.loads(line)
        except ValueError:
            continue
        if not isinstance(blob, dict) or "_aws" not in blob:
            continue
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            dimensions = {name: blob[name] for names in directive["Dimensions"] for name in names}
            for metric in directive["Metrics"]:
                values = blob[metric["Name"]]
                for value in values if isinstance(values, list) else [values]:
                    found.append({"name": metric["Name"], "value": value, "unit": metric.get("Unit"), **dimensions})
    return found


def named(found: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [m for m in found if m["name"] == name]


def _agent(agent_id: str, capacity: int, presence: str = "online", tier: int = 1) -> None:
    from shared.domain.model import AgentProfile
    from shared.domain.timefmt import utcnow
    from shared.storage.agents import AgentRepository

    AgentRepository().save(AgentProfile(id=agent_id, team="support", presence=presence, capacity=capacity, tier=tier), utcnow())


def test_a_tickets_day_emits_its_priority_first_response_resolution_and_escalation(api, aws, capsys):
    _agent("rina", 2)
    _agent("tika", 2, tier=3)
    ticket_id = deliver(aws.s3, compose(subject="Tidak bisa login"))["ticket_id"]
    aws.route()
    assert named(emitted(capsys.readouterr().out), "SlaApplied")[0]["priority"] == "high"

    for text in ("Sudah kami reset, silakan coba lagi.", "Ada kabar?"):
        assert api_call(api, "POST", f"/v1/tickets/{ticket_id}/replies", AGENT, {"body": text})[0] == 201
    first = named(emitted(capsys.readouterr().out), "FirstResponseTime")
    assert len(first) == 1 and first[0]["unit"] == "Seconds" and first[0]["priority"] == "high", first

    status, _ = api_call(api, "PATCH", f"/v1/tickets/{ticket_id}", LEAD, {"escalation_level": 2, "reason": "DBA"})
    assert status == 200
    escalations = named(emitted(capsys.readouterr().out), "Escalations")
    assert [(m["level"], m["value"]) for m in escalations if "level" in m] == [("3", 1.0)], escalations
    aws.route()
    capsys.readouterr()
    tika = api_token("agent", "tika")
    assert api_call(api, "PATCH", f"/v1/tickets/{ticket_id}", tika, {"status": "resolved"})[0] == 200
    resolved = named(emitted(capsys.readouterr().out), "ResolutionTime")
    assert len(resolved) == 1 and resolved[0]["priority"] == "high" and resolved[0]["value"] >= 0, resolved


def test_the_sweep_reports_each_teams_backlog_its_age_and_agent_utilisation(aws, capsys):
    from functions.escalate.handler import sweep_handler

    _agent("rina", 2)
    for subject in ("satu", "dua", "tiga"):
        deliver(aws.s3, compose(subject=f"Pertanyaan {subject}"))
    aws.route()  # rina takes two (her capacity), one waits
    capsys.readouterr()

    sweep_handler({}, FakeContext(function_name="ticketing-SweepFunction"))
    found = [m for m in emitted(capsys.readouterr().out) if m.get("team") == "support"]
    backlog = named(found, "UnassignedBacklog")
    assert [m["value"] for m in backlog] == [1.0], found
    assert named(found, "UnassignedBacklogAge")[0]["unit"] == "Seconds"
    assert [(m["value"], m["unit"]) for m in named(found, "AgentUtilisation")] == [(100.0, "Percent")], found
