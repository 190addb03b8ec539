"""KPI aggregates kept from the tickets table's stream (moto's DynamoDB Streams, handed to the real aggregate
handler), read back through the API: the summary with baselines and workload, goals, the escalation review."""

from __future__ import annotations

import random
from datetime import timedelta

import boto3
import pytest

from tests.support import FakeContext, api_call, api_token, compose, deliver

pytestmark = pytest.mark.integration

call = api_call
LEAD, AGENT, ADMIN = api_token("supervisor", "sari"), api_token("agent", "rina"), api_token("admin", None)


def _agent(agent_id: str, capacity: int) -> None:
    from shared.domain.model import AgentProfile
    from shared.domain.timefmt import utcnow
    from shared.storage.agents import AgentRepository

    AgentRepository().save(AgentProfile(id=agent_id, team="support", presence="online", capacity=capacity), utcnow())


def _stored() -> dict[str, int]:
    from shared.storage.kpi import KpiRepository

    return {f"{pk}|{sk}|{name}": n for pk, sk, counters in KpiRepository().all_items() for name, n in counters.items() if n}


def _truth() -> dict[str, int]:
    from shared.domain.kpi import total, ticket_fact
    from shared.storage.models import LISTING, TicketModel
    from shared.storage.tickets import to_ticket

    return total(ticket_fact(to_ticket(item)) for item in TicketModel.all_by_created.query(LISTING))


def _stream_records() -> list[dict]:
    from shared.settings import get_settings

    settings = get_settings()
    arn = boto3.client("dynamodb", region_name=settings.region).describe_table(TableName=settings.tickets_table)["Table"]["LatestStreamArn"]
    streams = boto3.client("dynamodbstreams", region_name=settings.region)
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            got = streams.get_records(ShardIterator=iterator, Limit=100)
            records += [{**r, "eventSourceARN": arn} for r in got["Records"]]
            iterator = got.get("NextShardIterator") if got["Records"] else None
    return records


def _a_working_day(api, aws) -> list[dict]:
    _agent("rina", 5)
    for n, subject in enumerate(("Tidak bisa login", "Refund belum masuk", "Aplikasi error")):
        deliver(aws.s3, compose(subject=subject, sender=f"Pelanggan {n} <p{n}@pelanggan.co.id>", body=f"{subject}, tolong."))
    aws.route()
    tickets = call(api, "GET", "/v1/tickets", LEAD)[1]["items"]
    first, second = tickets[0], tickets[1]
    call(api, "POST", f"/v1/tickets/{first['id']}/replies", AGENT, {"body": "Kami cek ya."})
    call(api, "PATCH", f"/v1/tickets/{first['id']}", AGENT, {"status": "resolved"})
    call(api, "PATCH", f"/v1/tickets/{second['id']}", LEAD, {"escalation_level": 1, "reason": "customer is a partner"})
    aws.route()
    return tickets


def test_aggregates_equal_a_recount_after_duplicated_and_out_of_order_records(api, aws):
    from functions.aggregate.handler import lambda_handler

    _a_working_day(api, aws)
    records = _stream_records()
    assert len(records) >= 6
    replayed = records * 2
    random.Random(7).shuffle(replayed)  # every record twice, in any order
    for start in range(0, len(replayed), 7):
        reply = lambda_handler({"Records": replayed[start : start + 7]}, FakeContext(function_name="ticketing-AggregateFunction"))
        assert reply["batchItemFailures"] == []
    truth = _truth()
    assert truth and _stored() == truth

    from shared.services.kpis import KpiAggregator
    from shared.storage.kpi import KpiRepository
    from shared.storage.models import LISTING, TicketModel
    from shared.storage.tickets import to_ticket

    def rebuild() -> dict[str, int]:
        return KpiAggregator(KpiRepository()).rebuild(to_ticket(i) for i in TicketModel.all_by_created.query(LISTING))

    assert rebuild()["corrected"] == 0
    KpiRepository().add("all", f"{next(iter(truth)).split('|')[1]}", {"created": 5})  # a counter gone wrong
    assert _stored() != truth
    assert rebuild()["corrected"] == 1 and _stored() == truth


def test_the_summary_puts_every_kpi_beside_its_baseline_and_flags_the_overloaded_agent(api, aws):
    from shared.domain.timefmt import parse_iso, utcnow

    _agent("rina", 1)
    for n in range(3):
        deliver(aws.s3, compose(subject=f"Pesanan {n} belum sampai", sender=f"P{n} <q{n}@pelanggan.co.id>"))
    aws.route()
    held = [t for t in call(api, "GET", "/v1/tickets", LEAD)[1]["items"] if t["assignee"] == "rina"]
    call(api, "POST", f"/v1/tickets/{held[0]['id']}/replies", AGENT, {"body": "Sedang kami cek."})
    aws.route()
    assert aws.aggregate() > 0
    day = parse_iso(held[0]["created_at"]).date()  # the mails' day (the test mails' SES timestamp) ...
    until = utcnow().date() + timedelta(days=1)  # ... to the end of today, when the agent answered
    query = f"from={day.isoformat()}&to={until.isoformat()}"
    status, summary = call(api, "GET", f"/v1/metrics/summary?{query}&group_by=channel", LEAD)
    assert status == 200, summary
    assert summary["period"] == {"from": day.isoformat(), "to": until.isoformat()}
    assert summary["baseline"] == {"from": (day - (until - day)).isoformat(), "to": day.isoformat()}
    assert "worth acting on" in summary["rule"]
    kpis = summary["kpis"]
    for name in ("volume", "response_rate", "first_response_median", "first_response_p90", "resolution_median",
                 "resolution_p90", "sla_compliance", "csat_average", "csat_response_rate", "deflection_rate",
                 "backlog", "backlog_age_average", "escalations"):  # fmt: skip
        assert "value" in kpis[name] and "baseline" in kpis[name], name
    assert (kpis["volume"]["value"], kpis["volume"]["baseline"], kpis["backlog"]["value"]) == (3, 0, 3)
    assert kpis["first_response_median"]["value"] is not None and kpis["response_rate"]["value"] == 33.3
    assert [g["value"] for g in summary["groups"]] == ["email"]
    rina = next(a for a in summary["workload"]["agents"] if a["agent"] == "rina")
    assert rina["overloaded"] and "wait unassigned" in rina["why"] and rina["utilisation"] == 100.0
    team = next(t for t in summary["workload"]["teams"] if t["team"] == "support")
    assert team["waiting"] == 2 and team["signal"].startswith("automate or hire")
    assert len(summary["trend"]) == (until - day).days and summary["trend"][0]["volume"] == 3

    assert call(api, "GET", f"/v1/metrics/summary?{query}", AGENT)[0] == 403
    assert call(api, "GET", f"/v1/metrics/summary?{query}&team=billing", LEAD)[0] == 403
    assert call(api, "GET", f"/v1/metrics/summary?from={day}&to={day}", LEAD)[0] == 400
    assert call(api, "GET", f"/v1/metrics/summary?{query}&team=billing", ADMIN)[1]["kpis"]["volume"]["value"] == 0


def test_team_goals_show_their_progress_to_the_team_and_the_escalation_review_downloads(api, aws):
    _a_working_day(api, aws)
    aws.aggregate()
    goal = {"team": "support", "metric": "escalations", "op": "<=", "target": 5, "title": "At most 5 escalations a week"}
    status, saved = call(api, "PUT", "/v1/goals/few-escalations", LEAD, goal)
    assert status == 200 and saved["progress"]["value"] == 1 and saved["progress"]["met"] is True
    assert call(api, "PUT", "/v1/goals/bad", LEAD, {**goal, "metric": "csat_average", "op": ">=", "target": 7})[0] == 400
    assert call(api, "PUT", "/v1/goals/theirs", LEAD, {**goal, "team": "billing"})[0] == 403
    status, goals = call(api, "GET", "/v1/goals", AGENT)  # an agent of the team sees it
    assert status == 200 and [g["id"] for g in goals["items"]] == ["few-escalations"]
    assert call(api, "GET", "/v1/goals", api_token("agent", "dewi", "billing"))[1]["items"] == []

    status, report = call(api, "GET", "/v1/reports/escalations", LEAD)
    assert status == 200 and report["totals"]["escalations"] == 1
    assert report["by_cause"][0] == {"cause": "manual", "count": 1, "previous_week": 0, "change": 1}
    assert len(report["by_day"]) == 7 and report["open_escalated"][0]["level"] == 1
    assert any("1 escalations" in line for line in report["findings"])
    response = api.http.get("/v1/reports/escalations?format=csv", headers=LEAD)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    lines = response.body.decode().splitlines()
    assert lines[0] == "day,kind,key,escalations" and any(",cause,manual,1" in line for line in lines)
