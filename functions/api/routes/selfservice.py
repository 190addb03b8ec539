"""Self-service and team quality: knowledge-base articles (supervisors), the public help centre (search, article
pages, "did this help?"), the customer's ticket portal (a signed link, no login), KPIs with baselines, team goals
and the weekly escalation review."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response

from shared.domain.access import Principal
from shared.domain.model import Role

from functions.api.gateway import operation
from functions.api.services import kpi_reports, knowledge_base, overview, portal

routes = Blueprint(__name__)

PORTAL_TOKEN = ("X-Portal-Token", "The token of the customer's link (the part after the ticket id)")


def _token() -> str | None:
    request = routes.current_request
    assert request is not None
    headers: Any = request.headers or {}
    token = headers.get("x-portal-token")
    return str(token) if token else None


# --- articles (supervisors) -------------------------------------------------------------------------------


@operation(routes, "GET", "/v1/articles", tag="knowledge base", role=Role.SUPERVISOR, response="ArticleList")
def list_articles(caller: Principal) -> dict[str, Any]:
    """Every article, drafts too, with its views, votes and deflections."""
    return {"items": knowledge_base().articles()}


@operation(routes, "GET", "/v1/articles/{article_id}", tag="knowledge base", role=Role.SUPERVISOR,
           response="ArticleResource", ids=("article_id",))  # fmt: skip
def get_article(article_id: str, caller: Principal) -> dict[str, Any]:
    """One article as stored, with its counts."""
    return knowledge_base().article(article_id)


@operation(routes, "PUT", "/v1/articles/{article_id}", tag="knowledge base", role=Role.SUPERVISOR,
           body="ArticleDocument", response="ArticleResource", ids=("article_id",), document=True)  # fmt: skip
def put_article(article_id: str, caller: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """Write or change an article. Publishing it (or changing or unpublishing a published one) rebuilds the
    search index at once."""
    return knowledge_base().save(article_id, body, caller.subject)


@operation(routes, "DELETE", "/v1/articles/{article_id}", tag="knowledge base", role=Role.SUPERVISOR, status=204,
           ids=("article_id",))  # fmt: skip
def delete_article(article_id: str, caller: Principal) -> Response:
    """Remove an article (and from the index, if it was published)."""
    knowledge_base().delete(article_id, caller.subject)
    return Response(body="", status_code=204)


@operation(routes, "GET", "/v1/tickets/{ticket_id}/suggestions", tag="knowledge base", response="SearchResults",
           ids=("ticket_id",))  # fmt: skip
def ticket_suggestions(ticket_id: str, caller: Principal) -> dict[str, Any]:
    """The published articles that best match the ticket's subject and first message: what the customer was
    offered, for the agent to send or build on."""
    from functions.api.services import desk

    ticket = desk().find(ticket_id, caller)
    first = desk().tickets.first_message(ticket.id)
    text = f"{ticket.subject}\n{(first.body if first else '') or ''}"
    return {"query": ticket.subject, "items": knowledge_base().suggest(text, None, limit=5)}


# --- the public help centre -------------------------------------------------------------------------------


@operation(routes, "GET", "/v1/kb/search", tag="help centre", role=None, query="SearchQuery", response="SearchResults")
def search_articles(query: Any) -> dict[str, Any]:
    """Published articles ranked by relevance (BM25 over titles, bodies and tags; Indonesian and English
    stemming; typos forgiven). Public: the help centre calls it without a token."""
    return {"query": query.q, "items": knowledge_base().search(query.q, query.lang, query.limit)}


@operation(routes, "GET", "/v1/kb/articles/{article_id}", tag="help centre", role=None, response="PublicArticle",
           ids=("article_id",))  # fmt: skip
def public_article(article_id: str) -> dict[str, Any]:
    """A published article (counts a view). Drafts are 404."""
    return knowledge_base().public_article(article_id)


@operation(routes, "POST", "/v1/kb/articles/{article_id}/feedback", tag="help centre", role=None,
           body="ArticleFeedback", response="ArticleCounts", ids=("article_id",))  # fmt: skip
def article_feedback(article_id: str, body: Any) -> dict[str, Any]:
    """"Did this help?" — yes or no."""
    return knowledge_base().feedback(article_id, body.helpful)


# --- the customer's portal --------------------------------------------------------------------------------


@operation(routes, "GET", "/v1/portal/tickets/{ticket_id}", tag="portal", role=None, response="PortalTicket",
           ids=("ticket_id",), headers=(PORTAL_TOKEN,), errors=(401, 403))  # fmt: skip
def portal_ticket(ticket_id: str) -> dict[str, Any]:
    """The customer's request: status, the public thread, whether they can reply or rate, articles that may
    help. An altered or expired token is 401, another ticket's 403."""
    return portal().view(ticket_id, _token())


@operation(routes, "POST", "/v1/portal/tickets/{ticket_id}/replies", tag="portal", role=None, body="PortalReply",
           status=201, ids=("ticket_id",), headers=(PORTAL_TOKEN,), errors=(401, 403, 409))  # fmt: skip
def portal_reply(ticket_id: str, body: Any) -> dict[str, Any]:
    """The customer adds to their request (a resolved one reopens; a closed one gets a linked follow-up)."""
    return portal().reply(ticket_id, _token(), body.body)


@operation(routes, "POST", "/v1/portal/tickets/{ticket_id}/csat", tag="portal", role=None, body="CsatRequest",
           status=201, ids=("ticket_id",), headers=(PORTAL_TOKEN,), errors=(401, 403, 409))  # fmt: skip
def portal_csat(ticket_id: str, body: Any) -> dict[str, Any]:
    """How we did (1-5, a comment): once, after resolution (409 before it and the second time)."""
    return portal().rate(ticket_id, _token(), body.score, body.comment)


@operation(routes, "POST", "/v1/portal/tickets/{ticket_id}/solved", tag="portal", role=None, body="SolvedRequest",
           ids=("ticket_id",), headers=(PORTAL_TOKEN,), errors=(401, 403, 409))  # fmt: skip
def portal_solved(ticket_id: str, body: Any) -> dict[str, Any]:
    """The customer closes their request: a help-centre article answered it (counted as a deflection)."""
    return portal().solved_by_article(ticket_id, _token(), body.article)


# --- KPIs, goals, the escalation review -------------------------------------------------------------------


@operation(routes, "GET", "/v1/metrics/summary", tag="kpis", role=Role.SUPERVISOR, query="MetricsQuery",
           response="MetricsSummary")  # fmt: skip
def metrics_summary(caller: Principal, query: Any) -> dict[str, Any]:
    """Every KPI of the period beside its baseline (the equal period before), flagged by the stated rule, with
    workload (overload, the automate-or-hire signal), escalations by level and cause, and the daily trend. A
    lead sees their team; an admin everything or `team`."""
    return kpi_reports().summary(caller, query.from_, query.to, query.group_by, query.team)


@operation(routes, "GET", "/v1/goals", tag="kpis", query="GoalsQuery", response="GoalList")
def list_goals(caller: Principal, query: Any) -> dict[str, Any]:
    """The goals of the caller's teams with their progress this week or month: visible to the whole team."""
    return {"items": kpi_reports().goals(caller, query.team)}


@operation(routes, "PUT", "/v1/goals/{goal_id}", tag="kpis", role=Role.SUPERVISOR, body="GoalDocument",
           response="GoalResource", ids=("goal_id",), document=True)  # fmt: skip
def put_goal(goal_id: str, caller: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """Set a team goal ("sla_compliance >= 95 each week", "csat_average >= 4.5")."""
    return kpi_reports().save_goal(goal_id, body, caller)


@operation(routes, "DELETE", "/v1/goals/{goal_id}", tag="kpis", role=Role.SUPERVISOR, status=204, ids=("goal_id",))
def delete_goal(goal_id: str, caller: Principal) -> Response:
    """Remove a goal."""
    kpi_reports().delete_goal(goal_id, caller)
    return Response(body="", status_code=204)


@operation(routes, "GET", "/v1/reports/escalations", tag="kpis", role=Role.SUPERVISOR, query="EscalationReportQuery",
           response="EscalationReport")  # fmt: skip
def escalation_report(caller: Principal, query: Any) -> Any:
    """The weekly escalation review (Monday to Monday, UTC): per day, level and cause against the week
    before, the escalated tickets still open, and findings. `format=csv` downloads it."""
    reports = kpi_reports()
    team = query.team
    open_now = [
        {"ref": entry.ticket.ref, "ticket_id": entry.ticket.id, "level": level, "team": entry.ticket.team,
         "escalated_at": entry.escalated_at, "causes": sorted(entry.ticket.escalation_causes or {})}
        for level, entries in overview().escalations(caller, None, team).items()
        for entry in entries
    ]  # fmt: skip
    report = reports.escalation_report(caller, query.week, team, open_now)
    if query.format == "csv":
        name = f"escalations-{report['week']['from']}.csv"
        return Response(body=reports.escalation_csv(report), status_code=200,
                        headers={"Content-Type": "text/csv; charset=utf-8",
                                 "Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip
    return report
