"""Requests and responses of self-service and team quality: knowledge-base articles and the public help centre,
the customer's ticket portal (status, thread, reply, CSAT), KPIs with baselines, team goals and the escalation
review report."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator

from shared.contracts.api import Id, Label, Resource
from shared.contracts.config import ClosedDocument
from shared.contracts.refusals import refused

TITLE_CHARS = 200
ARTICLE_CHARS = 50_000
PORTAL_REPLY_CHARS = 20_000
CSAT_COMMENT_CHARS = 2_000
QUERY_CHARS = 200
MAX_PERIOD_DAYS = 366
GROUPS = ("channel", "priority", "team", "agent", "tier")
GOAL_METRICS = (
    "sla_compliance",
    "csat_average",
    "csat_response_rate",
    "first_response_median",
    "first_response_p90",
    "resolution_median",
    "resolution_p90",
    "deflection_rate",
    "volume",
    "escalations",
)

Language = Literal["id", "en"]


def _written(value: str) -> str:
    if not value.strip():
        raise refused("must not be blank")
    return value


class ArticleDocument(ClosedDocument):
    """A knowledge-base article as a supervisor writes it. Only `published` articles are searchable, suggested
    and shown in the help centre; saving one rebuilds the search index."""

    title: Annotated[str, Field(min_length=1, max_length=TITLE_CHARS), AfterValidator(_written)]
    body: Annotated[str, Field(min_length=1, max_length=ARTICLE_CHARS, description="Plain text; blank lines part paragraphs"),
                    AfterValidator(_written)]  # fmt: skip
    language: Language
    category: Annotated[str, Field(max_length=60)] | None = None
    tags: Annotated[list[Label], Field(max_length=20)] = Field(default_factory=list)
    status: Literal["draft", "published"] = "draft"


class ArticleCounts(Resource):
    views: int = 0
    helpful: int = 0
    not_helpful: int = 0
    deflections: int = Field(0, description="Tickets the customer closed because this article answered them")


class PublicArticle(Resource):
    id: str
    title: str
    body: str
    language: str
    category: str | None = None
    tags: list[str] = Field(default_factory=list)
    url: str
    published_at: str | None = None


class ArticleResource(PublicArticle):
    """An article as a supervisor sees it: drafts too, who changed it, and its counts."""

    status: str
    updated_at: str | None = None
    updated_by: str | None = None
    counts: ArticleCounts | None = None


class ArticleList(Resource):
    items: list[ArticleResource]


class SearchQuery(ClosedDocument):
    q: Annotated[str, Field(min_length=1, max_length=QUERY_CHARS)]
    lang: Language | None = Field(None, description="Rank articles in this language first among equal matches")
    limit: Annotated[int, Field(ge=1, le=20)] = 5


class SearchHit(Resource):
    id: str
    title: str
    language: str
    category: str | None = None
    summary: str
    url: str
    score: float


class SearchResults(Resource):
    query: str
    items: list[SearchHit]


class ArticleFeedback(ClosedDocument):
    """"Did this help?" from the help centre: counted once per press."""

    helpful: StrictBool


class PortalTicket(Resource):
    """What the customer's link shows: no internal notes, no agent-only fields."""

    id: str
    ref: str
    subject: str
    status: str
    language: str
    created_at: str
    updated_at: str
    merged_into_ref: str | None = None
    messages: list[dict[str, Any]]
    can_reply: bool
    can_rate: bool
    csat: dict[str, Any] | None = None
    suggested_articles: list[dict[str, Any]] = Field(default_factory=list)


class PortalReply(ClosedDocument):
    body: Annotated[str, Field(min_length=1, max_length=PORTAL_REPLY_CHARS), AfterValidator(_written)]


class CsatRequest(ClosedDocument):
    """How we did, once per resolved ticket: 1 (very unhappy) to 5 (very happy), and optionally why."""

    score: Annotated[StrictInt, Field(ge=1, le=5)]
    comment: Annotated[str, Field(max_length=CSAT_COMMENT_CHARS)] | None = None


class SolvedRequest(ClosedDocument):
    """The customer closes their request because a help-centre article answered it (a deflection)."""

    article: Id


class MetricsQuery(BaseModel):
    """A period (`from` inclusive, `to` exclusive; dates are whole UTC days) and an optional breakdown. The
    baseline is the equal period just before."""

    from_: Annotated[datetime | date, Field(alias="from")]
    to: datetime | date
    group_by: Literal["channel", "priority", "team", "agent", "tier"] | None = None
    team: Id | None = Field(None, description="Only this team's figures")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="after")
    def _period(self) -> MetricsQuery:
        start, end = _instant(self.from_), _instant(self.to)
        if end <= start:
            raise refused("`to` must be after `from`")
        if (end - start).days > MAX_PERIOD_DAYS:
            raise refused(f"a period may span at most {MAX_PERIOD_DAYS} days")
        return self


def _instant(value: datetime | date) -> datetime:
    from datetime import timezone

    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)


class MetricsSummary(Resource):
    period: dict[str, str]
    baseline: dict[str, str]
    rule: str = Field(description="When a change is flagged worth acting on")
    kpis: dict[str, Any]
    groups: list[dict[str, Any]] | None = None
    workload: dict[str, Any]
    escalations: dict[str, Any]


class GoalDocument(ClosedDocument):
    """A team's goal: `metric` `op` `target` over each `period` ("sla_compliance >= 95 each week")."""

    team: Id
    metric: Literal[GOAL_METRICS]  # type: ignore[valid-type]
    op: Literal[">=", "<="]
    target: Annotated[float, Field(ge=0, le=10_000_000)]
    period: Literal["week", "month"] = "week"
    title: Annotated[str, Field(max_length=120)] | None = None

    @model_validator(mode="after")
    def _fits(self) -> GoalDocument:
        if self.metric in ("sla_compliance", "csat_response_rate", "deflection_rate") and self.target > 100:
            raise refused_target("a percentage is at most 100")
        if self.metric == "csat_average" and not 1 <= self.target <= 5:
            raise refused_target("CSAT is between 1 and 5")
        return self


def refused_target(message: str) -> Exception:
    from shared.contracts.refusals import refused_at

    return refused_at(("target",), message, None)


class GoalResource(Resource):
    id: str
    team: str
    metric: str
    op: str
    target: float
    period: str
    title: str | None = None
    progress: dict[str, Any] | None = None


class GoalList(Resource):
    items: list[GoalResource]


class GoalsQuery(ClosedDocument):
    team: Id | None = None


class EscalationReportQuery(ClosedDocument):
    """The week to review: any day in it (the report runs Monday to Monday, UTC), this week by default."""

    week: date | None = None
    team: Id | None = None
    format: Literal["json", "csv"] = "json"


class EscalationReport(Resource):
    week: dict[str, str]
    team: str | None = None
    totals: dict[str, Any]
    by_day: list[dict[str, Any]]
    by_cause: list[dict[str, Any]]
    by_level: list[dict[str, Any]]
    open_escalated: list[dict[str, Any]]
    findings: list[str]

