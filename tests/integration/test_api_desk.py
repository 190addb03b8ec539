"""The agent's day through the Chalice app on moto: folders from the counters, the escalation overview from its
sparse index, saved views, polling with `updated_since` and ETags."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalice.test import Client

from shared.adapters.secrets import signing_key
from shared.auth import issue_token
from shared.settings import get_settings
from shared.storage.tickets import TicketRepository
from tests.support import compose, deliver

pytestmark = pytest.mark.integration


def headers(role: str = "supervisor", agent: str | None = "sari", *teams: str, **extra: str) -> dict[str, str]:
    token = issue_token(signing_key(get_settings()), role, agent, teams=teams or ("support",))
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json", **extra}



def call(api: Client, method: str, path: str, sent: dict[str, str] | None = None, body: Any = None) -> tuple[int, Any, Any]:
    response = getattr(api.http, method.lower())(path, headers=sent or headers(), body=json.dumps(body) if body is not None else None)
    return response.status_code, json.loads(response.body) if response.body else None, response.headers


def tickets(api: Client, aws: Any, count: int) -> list[dict[str, Any]]:
    for n in range(count):
        deliver(aws.s3, compose(sender=f"pelanggan{n}@toko.id", subject=f"Pesanan {n} belum sampai"))
    aws.route()
    status, page, _ = call(api, "GET", "/v1/tickets")
    assert status == 200 and len(page["items"]) == count
    return list(reversed(page["items"]))  # oldest first


def test_folders_count_the_callers_teams_and_follow_each_change(api, aws):
    made = tickets(api, aws, 3)
    call(api, "PUT", "/v1/agents/ani", body={"team": "support", "capacity": 1, "presence": "online"})
    aws.route()
    status, folders, _ = call(api, "GET", "/v1/folders", headers("agent", "ani"))
    assert status == 200
    [support] = folders["items"]
    assert support["team"] == "support" and support["status"]["in_progress"] == 1 and support["status"]["open"] == 2
    assert support["channel"] == {"email": 3}
    # the sample mails are dated weeks ago: their SLA clocks are breached, and the folder says so
    assert support["work"] == {"unassigned": 2, "escalated": 0, "sla_breached": 3, "mine": 1}

    moved = TicketRepository().get(made[2]["id"])
    assert moved is not None
    moved.team = "billing"
    TicketRepository().save(moved)
    assert call(api, "GET", "/v1/folders", headers("agent", "dewi", "billing"))[1]["items"][0]["work"]["unassigned"] == 1
    admin = call(api, "GET", "/v1/folders", headers("admin", None, "none"))[1]["items"]
    assert [(f["team"], f["work"]["unassigned"]) for f in admin] == [("billing", 1), ("support", 1)]


def test_the_escalation_overview_has_each_escalated_ticket_with_causes_age_and_owner(api, aws):
    made = tickets(api, aws, 2)
    assert call(api, "PATCH", f"/v1/tickets/{made[0]['id']}", body={"escalation_level": 2, "reason": "VIP"})[0] == 200
    assert call(api, "PATCH", f"/v1/tickets/{made[1]['id']}", body={"tags": ["system down"]})[0] == 200
    status, overview, _ = call(api, "GET", "/v1/escalations", headers("agent", "rina"))
    assert status == 200 and overview["count"] == 2
    by_level = {level["level"]: level["items"] for level in overview["levels"]}
    [second] = by_level[2]
    assert second["id"] == made[0]["id"] and second["assignee"] is None and second["team"] == "support"
    assert second["escalated_at"] and second["age_seconds"] >= 0 and second["escalated_seconds"] >= 0
    [first] = by_level[1]
    assert first["id"] == made[1]["id"] and first["causes"]
    only = call(api, "GET", "/v1/escalations?level=1")[1]
    assert [level["level"] for level in only["levels"]] == [1] and only["count"] == 1
    assert call(api, "GET", "/v1/escalations", headers("agent", "dewi", "billing"))[1]["count"] == 0
    assert call(api, "GET", "/v1/escalations?team=support", headers("agent", "dewi", "billing"))[0] == 403
    assert call(api, "GET", "/v1/escalations?level=9")[0] == 400

    assert call(api, "PATCH", f"/v1/tickets/{made[0]['id']}", body={"status": "resolved"})[0] == 200
    assert call(api, "GET", "/v1/escalations?level=2")[1]["count"] == 0  # tracked until resolved


def test_a_ladder_step_that_escalates_without_touching_updated_at_is_escalated_from_the_write(api, aws):
    [made] = tickets(api, aws, 1)
    ladder = TicketRepository().get(made["id"])
    assert ladder is not None
    ladder.escalation_level, ladder.escalation_causes = 1, {"sla:first_response": 2}
    TicketRepository().save(ladder)  # as the SLA service writes a ladder step: updated_at stays
    [level] = call(api, "GET", "/v1/escalations?level=1")[1]["levels"]
    [item] = level["items"]
    assert item["causes"] == {"sla:first_response": 2} and item["escalated_at"] > made["updated_at"]


def test_a_saved_view_round_trips_and_narrows_the_list(api, aws):
    made = tickets(api, aws, 2)
    call(api, "PATCH", f"/v1/tickets/{made[0]['id']}", body={"priority": "urgent"})
    rina = headers("agent", "rina")
    status, view, _ = call(api, "PUT", "/v1/views/urgent-work", rina, {"filters": {"priority": "urgent"}})
    assert status == 201 and view["scope"] == "personal" and view["filters"] == {"priority": "urgent"}
    assert call(api, "PUT", "/v1/views/urgent-work", rina, {"filters": {"priority": "urgent"}})[0] == 200
    assert [v["name"] for v in call(api, "GET", "/v1/views", rina)[1]["items"]] == ["urgent-work"]
    assert call(api, "GET", "/v1/views/urgent-work", rina)[1]["filters"] == {"priority": "urgent"}
    listed = call(api, "GET", "/v1/tickets?view=urgent-work", rina)[1]["items"]
    assert [t["id"] for t in listed] == [made[0]["id"]]
    status, refusal, _ = call(api, "PUT", "/v1/views/bad", rina, {"filters": {"priority": "asap"}})
    assert status == 400 and "filters.priority" in refusal["error"]["message"]
    assert call(api, "PUT", "/v1/views/shared", rina, {"team": "support"})[0] == 403  # a supervisor's
    assert call(api, "PUT", "/v1/views/shared", headers(), {"team": "support", "filters": {"status": "open"}})[0] == 201
    assert call(api, "GET", "/v1/views/shared?team=support", rina)[0] == 200
    assert call(api, "GET", "/v1/tickets?view=nothing-here", rina)[0] == 404
    assert call(api, "DELETE", "/v1/views/urgent-work", rina)[0] == 204
    assert call(api, "GET", "/v1/views/urgent-work", rina)[0] == 404


def test_polling_pages_through_changes_across_teams_and_etags_answer_304(api, aws):
    made = tickets(api, aws, 3)
    moved = TicketRepository().get(made[1]["id"])
    assert moved is not None
    moved.team = "billing"
    TicketRepository().save(moved)
    lead = headers("supervisor", "joko", "support", "billing")
    since = "2000-01-01T00:00:00Z"
    seen: list[str] = []
    path = f"/v1/tickets?updated_since={since}&limit=2"
    while True:
        status, page, _ = call(api, "GET", path, lead)
        assert status == 200
        seen += [t["id"] for t in page["items"]]
        if page["next_cursor"] is None:
            break
        path = f"/v1/tickets?updated_since={since}&limit=2&cursor={page['next_cursor']}"
    assert sorted(seen) == sorted(t["id"] for t in made) and len(seen) == 3

    latest = max(t["changed_at"] for t in call(api, "GET", f"/v1/tickets?updated_since={since}", lead)[1]["items"])
    quiet = TicketRepository().get(made[0]["id"])
    assert quiet is not None
    quiet.sla = {**(quiet.sla or {}), "state": "warning"}  # the SLA clock leaves updated_at alone ...
    TicketRepository().save(quiet)
    polled = call(api, "GET", f"/v1/tickets?updated_since={latest}", lead)[1]["items"]
    assert polled[-1]["id"] == made[0]["id"] and polled[-1]["updated_at"] == made[0]["updated_at"]  # ... yet it is seen
    assert call(api, "GET", f"/v1/tickets?updated_since={since}", headers("agent", "rina"))[1]["items"].__len__() == 2
    assert call(api, "GET", "/v1/tickets?updated_since=2999-01-01T00:00:00Z", lead)[1]["items"] == []
    assert call(api, "GET", "/v1/tickets?updated_since=yesterday", lead)[0] == 400

    ticket = f"/v1/tickets/{made[0]['id']}"
    status, _, sent = call(api, "GET", ticket)
    etag = sent["ETag"]
    assert status == 200 and etag
    assert call(api, "GET", ticket, headers(**{"If-None-Match": etag}))[0] == 304
    call(api, "POST", f"{ticket}/replies", body={"body": "catatan", "internal": True})
    assert call(api, "GET", ticket, headers(**{"If-None-Match": etag}))[0] == 200  # a note changed the thread
    _, _, listed = call(api, "GET", "/v1/tickets")
    assert call(api, "GET", "/v1/tickets", headers(**{"If-None-Match": listed["ETag"]}))[0] == 304


def test_a_team_list_pages_newest_first_from_the_team_index_with_lent_work_merged_in(api, aws):
    made = tickets(api, aws, 3)
    lent = TicketRepository().get(made[0]["id"])
    assert lent is not None
    lent.team, lent.assignee, lent.status = "billing", "rina", "in_progress"
    TicketRepository().save(lent)
    rina = headers("agent", "rina")
    first = call(api, "GET", "/v1/tickets?limit=2", rina)[1]
    assert [t["id"] for t in first["items"]] == [made[2]["id"], made[1]["id"]] and first["next_cursor"]
    rest = call(api, "GET", f"/v1/tickets?limit=2&cursor={first['next_cursor']}", rina)[1]
    assert [t["id"] for t in rest["items"]] == [made[0]["id"]] and rest["next_cursor"] is None  # lent to her
    assert [t["id"] for t in call(api, "GET", "/v1/tickets", headers("agent", "eka"))[1]["items"]] == [
        made[2]["id"], made[1]["id"]]
    assert call(api, "GET", "/v1/tickets?cursor=bm90LWEtY3Vyc29y", rina)[0] == 400
