"""The operations side of infra/template.yaml: the dashboard and alarms show what the code really emits, and
nothing ops depend on is missing — every function and queue has a widget, every dead-letter queue and every
function an alarm, and every alarm tells the alarm topic. Metric names are checked against the names the code
passes to count()/gauge() (a renamed metric would otherwise leave an empty graph and a silent alarm)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from ticketing.local.template import SERVERLESS_FUNCTION, load_template

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
POWERTOOLS_METRICS = {"ColdStart"}  # emitted by Powertools itself: log_metrics(capture_cold_start_metric=True)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def _of_type(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def _dashboard(template: dict[str, Any]) -> tuple[dict[str, Any], str]:
    (board,) = _of_type(template, "AWS::CloudWatch::Dashboard").values()
    source = board["Properties"]["DashboardBody"]["Fn::Sub"]
    return json.loads(re.sub(r"\$\{(BacklogAgeAlarmSeconds)\}", "3600", source)), source


def emitted_by_code() -> set[str]:
    """Metric names the code emits: Metric constants passed to count()/gauge()/gauge_seconds(), and literals."""
    from shared.observability import Metric

    names: set[str] = set()
    for path in [*ROOT.glob("shared/**/*.py"), *ROOT.glob("functions/**/*.py")]:
        text = path.read_text(encoding="utf-8")
        for call in re.finditer(r"\b(?:count|gauge|gauge_seconds)\(\s*(Metric\.[A-Z_]+|\"[A-Za-z]+\")", text):
            token = call.group(1)
            names.add(getattr(Metric, token.split(".")[1]) if token.startswith("Metric.") else token.strip('"'))
        if "capture_cold_start_metric=True" in text:
            names |= POWERTOOLS_METRICS
    return names


def custom_metrics_used(template: dict[str, Any]) -> set[str]:
    board, _ = _dashboard(template)
    used: set[str] = set()
    for widget in board["widgets"]:
        for metric in widget.get("properties", {}).get("metrics", []):
            for item in metric:
                if isinstance(item, dict) and "expression" in item:
                    used |= set(re.findall(r"\{Ticketing,[^}]*\} MetricName=\"(\w+)\"", item["expression"]))
            if metric and metric[0] == "Ticketing":
                used.add(metric[1])
    for alarm in _of_type(template, "AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        if props.get("Namespace") == "Ticketing":
            used.add(props["MetricName"])
        for query in props.get("Metrics", []):
            used |= set(re.findall(r"MAX\((\w+)\) FROM SCHEMA\(Ticketing", query.get("Expression", "")))
    return used


def test_every_custom_metric_on_the_dashboard_and_in_an_alarm_is_emitted_by_the_code(template):
    used, emitted = custom_metrics_used(template), emitted_by_code()
    assert len(used) >= 20 and not used - emitted, f"shown or alarmed on but never emitted: {sorted(used - emitted)}"


def test_every_metric_the_code_emits_has_a_place_on_the_dashboard(template):
    missing = emitted_by_code() - custom_metrics_used(template)
    assert not missing, f"emitted but nowhere on the dashboard: {sorted(missing)}"


def test_every_function_and_queue_has_a_widget_and_every_dlq_and_function_an_alarm(template):
    _, source = _dashboard(template)
    functions = set(_of_type(template, SERVERLESS_FUNCTION))
    queues = set(_of_type(template, "AWS::SQS::Queue"))
    assert functions and queues
    assert not {f for f in functions if "${" + f + "}" not in source}, "functions without a widget"
    assert not {q for q in queues if "${" + q + ".QueueName}" not in source}, "queues without a widget"
    alarms = _of_type(template, "AWS::CloudWatch::Alarm")
    text = json.dumps(alarms)
    dlqs = {q for q in queues if q.endswith("DLQ")}
    assert dlqs and not {q for q in dlqs if f'"{q}", "QueueName"' not in text}, "dead-letter queues without an alarm"
    assert not {f for f in functions if f'"Ref": "{f}"' not in text}, "functions without an error alarm"


def test_every_alarm_notifies_the_alarm_topic_and_is_on_the_dashboard(template):
    _, source = _dashboard(template)
    for name, alarm in _of_type(template, "AWS::CloudWatch::Alarm").items():
        assert {"Ref": "AlarmTopic"} in alarm["Properties"]["AlarmActions"], name
        assert alarm["Properties"]["AlarmDescription"], name
        assert "${" + name + ".Arn}" in source, f"{name} is not in the dashboard's alarm widget"
    subscription = template["Resources"]["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail" and subscription["Properties"]["Protocol"] == "email"


def test_the_backlog_alarm_watches_every_team_against_the_first_response_target(template):
    alarm = template["Resources"]["BacklogAgeAlarm"]["Properties"]
    assert alarm["Threshold"] == {"Ref": "BacklogAgeAlarmSeconds"}
    assert "SCHEMA(Ticketing, service, team)" in alarm["Metrics"][0]["Expression"]
    assert alarm["TreatMissingData"] == "breaching"  # a sweep that stopped reporting is itself a problem
