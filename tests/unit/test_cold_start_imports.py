"""What a cold start imports: each handler loads what every event needs, and what only some events need comes
on first use (bench/cold_start.py measures the time; this checks the modules, which does not depend on the
machine's speed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
DEFERRED = ("pydantic", "jinja2", "holidays", "inscriptis", "lxml", "chalice.deploy", "aws_lambda_powertools.utilities.batch", "asyncio")


def imported_after(module: str) -> set[str]:
    probe = f"import sys, json; import {module}; print(json.dumps(sorted(sys.modules)))"
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "SIGNING_SECRET": "x"}
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=env, capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


@pytest.mark.parametrize(
    "module", ["functions.ingest.handler", "functions.route.handler", "functions.escalate.handler", "functions.api.app"]
)
def test_a_handler_does_not_import_at_cold_start_what_only_some_events_need(module):
    loaded = imported_after(module)
    early = sorted(name for name in loaded for deferred in DEFERRED if name == deferred or name.startswith(deferred + "."))
    assert early == [], f"{module} imports {early} at cold start"


def test_the_deferred_modules_still_load_when_they_are_needed():
    from shared.domain.business_calendar import calendar_from_document
    from shared.mail.body import html_to_text
    from shared.domain.templates import DEFAULT_TEMPLATES, render_template

    assert "Halo" in html_to_text("<p>Halo</p>")
    office = {"timezone": "Asia/Jakarta", "hours": {"mon": [["08:00", "17:00"]]}, "holidays": {"country": "ID"}}
    assert calendar_from_document("id", office).holidays
    context = {name: "x" for name in ("customer_name", "ref", "subject", "eta_first_response", "eta_resolution",
                                      "queue_position", "agent_name", "support_address", "channel")}  # fmt: skip
    assert render_template(DEFAULT_TEMPLATES[0], {**context, "suggested_articles": []}).text
    from functions.api.gateway import contract

    assert contract("TicketIntake").model_fields and contract("CalendarDocument").model_fields
