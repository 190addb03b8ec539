"""KPIs, baselines, workload, team goals and the weekly escalation review (R14, R16, R17, R21, R23).

`KpiAggregator` keeps the aggregates: the tickets table's stream hands it each new image of a ticket, it
computes the ticket's fact (shared/domain/kpi.py) and stores the difference with what the ticket added before —
idempotent by the ticket's version — and emits the same KPIs as CloudWatch metrics (EMF) from that difference,
so a duplicated record neither counts nor emits twice. `rebuild` recomputes every fact from the tickets (through
the all-tickets index) and corrects the counters to match.

`KpiReports` reads them: a period's figures beside the previous equal period, flagged by the stated rule, the
team's and agents' load now with overload flagged (the "automate or hire" signal), goals with their progress and
the escalation review.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Callable, Protocol

from shared.domain.access import Principal, require_team
from shared.domain.errors import NotFound
from shared.domain.kpi import (
    ALL,
    NOBODY,
    RULE,
    Fact,
    Period,
    backlog,
    compare,
    escalation_breakdown,
    figures,
    scoped,
    summed,
    ticket_fact,
    total,
)
from shared.domain.model import Role
from shared.domain.ports import AgentDirectory, ConfigStore
from shared.observability import Metric, count, gauge

UTILISATION_SIGNAL = 85.0  # a team this busy with a growing backlog needs automation or people
RUNNING = ("open_delta", "open_age")


class KpiStore(Protocol):
    def apply(self, ticket_id: str, version: int, fact: Fact) -> Fact | None: ...

    def rows(self, dimension: str, start: date, end: date, projection: Iterable[str] | None = None) -> Iterable[tuple[str, str, dict[str, int]]]: ...

    def rows_before(self, dimension: str, end: date, projection: Iterable[str] | None = None) -> Iterable[tuple[str, str, dict[str, int]]]: ...

    def all_items(self) -> Iterable[tuple[str, str, dict[str, int]]]: ...

    def add(self, pk: str, sk: str, counters: Mapping[str, int]) -> None: ...

    def put_fact(self, ticket_id: str, version: int, fact: Fact) -> None: ...


class FolderCounts(Protocol):
    def folder_counts(self, teams: Iterable[str] | None) -> dict[str, dict[str, int]]: ...


def emit(change: Fact) -> None:
    """The KPIs as CloudWatch metrics, from what one ticket's change added (overall counters only, so each
    measurement is emitted once)."""
    for key, amount in change.items():
        pk, sk, counter = key.split("|", 2)
        if pk != ALL or amount <= 0:
            continue
        if counter.startswith("csat@"):
            for _ in range(amount):
                gauge(Metric.CSAT_SCORE, float(counter.removeprefix("csat@")))
        elif counter == "deflected":
            count(Metric.DEFLECTIONS, amount)
        elif counter == "sla_met":
            count(Metric.SLA_TARGETS_MET, amount)
        elif counter == "sla_n":
            count(Metric.SLA_TARGETS_MEASURED, amount)
        elif counter == "csat_n":
            count(Metric.CSAT_RESPONSES, amount)
        elif counter == "surveyed":
            count(Metric.CSAT_SURVEYED, amount)


@dataclass
class KpiAggregator:
    store: KpiStore

    def apply(self, ticket: Any) -> Fact | None:
        """Count one image of a ticket (a domain Ticket with its stored version); None when already counted."""
        change = self.store.apply(ticket.id, int(ticket.version or 0), ticket_fact(ticket))
        if change:
            emit(change)
        return change

    def rebuild(self, tickets: Iterable[Any]) -> dict[str, int]:
        """Recompute every ticket's fact and correct the counters to their sum; returns how many counters moved.
        Changes committed while it runs are counted by their own stream records."""
        facts = {}
        for ticket in tickets:
            facts[ticket.id] = (int(ticket.version or 0), ticket_fact(ticket))
        truth = total(fact for _, fact in facts.values())
        stored: dict[str, int] = {}
        for pk, sk, counters in self.store.all_items():
            for name, amount in counters.items():
                if amount:
                    stored[f"{pk}|{sk}|{name}"] = amount
        corrections = {key: truth.get(key, 0) - stored.get(key, 0) for key in set(truth) | set(stored)}
        corrections = {key: delta for key, delta in corrections.items() if delta}
        from shared.domain.kpi import by_item

        for (pk, sk), counters in sorted(by_item(corrections).items()):
            self.store.add(pk, sk, counters)
        for ticket_id, (version, fact) in facts.items():
            self.store.put_fact(ticket_id, version, fact)
        return {"tickets": len(facts), "corrected": len(corrections)}


@dataclass
class KpiReports:
    store: KpiStore
    agents: AgentDirectory
    desk: FolderCounts
    config: ConfigStore
    now: Callable[[], datetime]

    # --- the summary ---------------------------------------------------------------------------------------

    def summary(self, caller: Principal, start: date | datetime, end: date | datetime,
                group_by: str | None = None, team: str | None = None) -> dict[str, Any]:  # fmt: skip
        team = self._scope(caller, team)
        period = Period.of(start, end)
        base = period.baseline()
        current, previous = self._figures(period, team), self._figures(base, team)
        result: dict[str, Any] = {
            "period": period.document(),
            "baseline": base.document(),
            "team": team,
            "rule": RULE,
            "kpis": compare(current, previous),
            "workload": self.workload(caller, team, period, current, previous),
            "escalations": self._escalations(period, team),
            "trend": self._trend(period, team),
        }
        if group_by:
            result["group_by"] = group_by
            result["groups"] = self._groups(period, base, group_by, team)
        return result

    def _pk(self, team: str | None) -> tuple[str, str]:
        """The partition and value holding the figures of everything, or of one team."""
        return ("team", team) if team else (ALL, NOBODY)

    def _counters(self, period: Period, team: str | None) -> dict[str, int]:
        pk, value = self._pk(team)
        return summed((v, c) for _, v, c in self.store.rows(pk, period.start, period.end) if v == value).get(value, {})

    def _figures(self, period: Period, team: str | None) -> dict[str, Any]:
        found = figures(self._counters(period, team))
        pk, value = self._pk(team)
        running = summed((v, c) for _, v, c in self.store.rows_before(pk, period.end, RUNNING) if v == value).get(value, {})
        found.update(backlog(running.get("open_delta", 0), running.get("open_age", 0), period.end, self.now()))
        started = summed((v, c) for _, v, c in self.store.rows_before(pk, period.start, RUNNING) if v == value).get(value, {})
        found["backlog_at_start"] = max(0, started.get("open_delta", 0))
        found["backlog_change"] = found["backlog"] - found["backlog_at_start"]
        return found

    def _groups(self, period: Period, base: Period, group_by: str, team: str | None) -> list[dict[str, Any]]:
        pk = scoped(group_by, team) if team and group_by != "team" else group_by
        now = summed((v, c) for _, v, c in self.store.rows(pk, period.start, period.end))
        before = summed((v, c) for _, v, c in self.store.rows(pk, base.start, base.end))
        running = summed((v, c) for _, v, c in self.store.rows_before(pk, period.end, RUNNING))
        out = []
        for value in sorted(set(now) | set(before) | {v for v, c in running.items() if c.get("open_delta")}):
            if team and group_by == "team" and value != team:
                continue
            current, previous = figures(now.get(value, {})), figures(before.get(value, {}))
            r = running.get(value, {})
            current.update(backlog(r.get("open_delta", 0), r.get("open_age", 0), period.end, self.now()))
            out.append({"value": value, "kpis": compare(current, previous)})
        return out

    def _trend(self, period: Period, team: str | None) -> list[dict[str, Any]]:
        """Day by day: created, resolved, escalations, SLA compliance, CSAT — the charts' series."""
        pk, value = self._pk(team)
        by_day = {day: c for day, v, c in self.store.rows(pk, period.start, period.end) if v == value}
        out = []
        for i in range(period.days):
            day = (period.start + timedelta(days=i)).isoformat()
            f = figures(by_day.get(day, {}))
            out.append({"day": day, **{k: f[k] for k in ("volume", "resolved", "escalations", "sla_compliance",
                                                          "csat_average", "first_response_median", "deflected")}})  # fmt: skip
        return out

    def _escalations(self, period: Period, team: str | None) -> dict[str, Any]:
        now = escalation_breakdown(self._counters(period, team))
        before = escalation_breakdown(self._counters(period.baseline(), team))
        causes = sorted(set(now["by_cause"]) | set(before["by_cause"]))
        return {
            **now,
            "baseline_total": before["total"],
            "causes": [{"cause": c, "count": now["by_cause"].get(c, 0), "baseline": before["by_cause"].get(c, 0)} for c in causes],
        }

    # --- workload (R14) ------------------------------------------------------------------------------------

    def workload(self, caller: Principal, team: str | None, period: Period | None = None,
                 current: Mapping[str, Any] | None = None, previous: Mapping[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
        """Each agent's load against capacity now, with what they resolved in the period, and each team's
        utilisation; overloaded agents and the teams that need automation or people are flagged."""
        period = period or Period.week_of(self.now().date())
        views = self.agents.roster(team)
        teams = sorted({team} if team else {v.profile.team for v in views} | self._caller_teams(caller))
        waiting = {t: int(counts.get("work#unassigned", 0)) for t, counts in self.desk.folder_counts(teams).items()}
        resolved: dict[str, int] = {}
        for t in teams:
            for value, c in summed((v, c) for _, v, c in self.store.rows(scoped("agent", t), period.start, period.end)).items():
                resolved[value] = resolved.get(value, 0) + int(c.get("resolved", 0))
        agents: list[dict[str, Any]] = []
        for view in sorted(views, key=lambda v: v.profile.id):
            p = view.profile
            load = int(view.load.load) if view.load is not None else 0
            capacity = int(p.capacity)
            overloaded = load > capacity or (load >= capacity > 0 and waiting.get(p.team, 0) > 0)
            agents.append({
                "agent": p.id, "name": p.name, "team": p.team, "presence": p.presence, "load": load,
                "capacity": capacity, "utilisation": round(100 * load / capacity, 1) if capacity else None,
                "resolved": resolved.get(p.id, 0), "overloaded": overloaded,
                "why": _overload_reason(load, capacity, waiting.get(p.team, 0)) if overloaded else None,
            })  # fmt: skip
        team_rows = []
        for t in teams:
            members = [a for a in agents if a["team"] == t]
            online = [a for a in members if a["presence"] == "online"]
            capacity = sum(int(a["capacity"]) for a in online)
            load = sum(int(a["load"]) for a in members)
            utilisation = round(100 * load / capacity, 1) if capacity else None
            growing = bool(current and current.get("backlog_change", 0) > 0) if (team == t or team is None) else False
            signal = None
            if waiting.get(t, 0) and not capacity:
                signal = "nobody online can take the waiting work"
            elif utilisation is not None and utilisation >= UTILISATION_SIGNAL and (growing or waiting.get(t, 0)):
                signal = "automate or hire: the team is near capacity and work is queueing"
            team_rows.append({"team": t, "agents": len(members), "online": len(online), "capacity": capacity,
                              "load": load, "utilisation": utilisation, "waiting": waiting.get(t, 0),
                              "overloaded_agents": sum(1 for a in members if a["overloaded"]), "signal": signal})  # fmt: skip
        return {
            "rule": (f"An agent is overloaded holding more than their capacity, or full while their team has "
                     f"unassigned work waiting. A team is flagged when its online agents are at least "
                     f"{UTILISATION_SIGNAL:.0f} % utilised and work is waiting or the backlog grew over the period."),
            "agents": agents,
            "teams": team_rows,
        }  # fmt: skip

    # --- goals (R17) ---------------------------------------------------------------------------------------

    def goals(self, caller: Principal, team: str | None = None) -> list[dict[str, Any]]:
        """The goals of the caller's teams (or one of them) with their progress this period."""
        if team is not None:
            require_team(caller, team, f"team {team}'s goals")
        wanted = {team} if team else (None if caller.role == Role.ADMIN else set(caller.teams))
        out = []
        for goal_id, goal in sorted(self.config.list("goal").items()):
            if wanted is not None and goal["team"] not in wanted:
                continue
            out.append(self._goal(goal_id, goal))
        return out

    def goal(self, goal_id: str) -> dict[str, Any]:
        goal = self.config.get("goal", goal_id)
        if goal is None:
            raise NotFound(f"no goal {goal_id}")
        return self._goal(goal_id, goal)

    def save_goal(self, goal_id: str, document: dict[str, Any], caller: Principal) -> dict[str, Any]:
        from shared.contracts.refusals import validated
        from shared.contracts.selfservice import GoalDocument

        checked = validated(GoalDocument, document, "goal").model_dump()
        require_team(caller, checked["team"], f"team {checked['team']}'s goals")
        before = self.config.get("goal", goal_id)
        if before is not None:
            require_team(caller, before["team"], f"team {before['team']}'s goals")
        self.config.put("goal", goal_id, checked, caller.subject, self.now())
        return self._goal(goal_id, checked)

    def delete_goal(self, goal_id: str, caller: Principal) -> None:
        before = self.config.get("goal", goal_id)
        if before is None:
            raise NotFound(f"no goal {goal_id}")
        require_team(caller, before["team"], f"team {before['team']}'s goals")
        self.config.delete("goal", goal_id)

    def _goal(self, goal_id: str, goal: Mapping[str, Any]) -> dict[str, Any]:
        today = self.now().date()
        period = Period.week_of(today) if goal.get("period", "week") == "week" else Period.month_of(today)
        found = self._figures(period, str(goal["team"]))
        value = found.get(str(goal["metric"]))
        target = float(goal["target"])
        met = None if value is None else (value >= target if goal["op"] == ">=" else value <= target)
        elapsed = (today - period.start).days + 1
        return {"id": goal_id, **dict(goal), "progress": {
            "period": period.document(), "value": value, "target": target, "met": met,
            "elapsed_share": round(100 * elapsed / period.days, 1),
            "sample": found.get({"sla_compliance": "sla_measured", "csat_average": "csat_responses"}.get(str(goal["metric"]), "volume")),
        }}  # fmt: skip

    # --- the weekly escalation review (R23) ----------------------------------------------------------------

    def escalation_report(self, caller: Principal, week_of: date | None = None, team: str | None = None,
                          open_escalated: list[dict[str, Any]] | None = None) -> dict[str, Any]:  # fmt: skip
        team = self._scope(caller, team)
        week = Period.week_of(week_of or self.now().date())
        before = week.baseline()
        pk, value = self._pk(team)
        by_day = {day: c for day, v, c in self.store.rows(pk, week.start, week.end) if v == value}
        days = []
        for i in range(7):
            day = (week.start + timedelta(days=i)).isoformat()
            b = escalation_breakdown(by_day.get(day, {}))
            days.append({"day": day, "total": b["total"], "by_level": b["by_level"], "by_cause": b["by_cause"],
                         "created": int(by_day.get(day, {}).get("created", 0))})  # fmt: skip
        now, prior = escalation_breakdown(self._counters(week, team)), escalation_breakdown(self._counters(before, team))
        volume = int(self._counters(week, team).get("created", 0))
        causes = sorted(set(now["by_cause"]) | set(prior["by_cause"]), key=lambda c: (-now["by_cause"].get(c, 0), c))
        by_cause = [{"cause": c, "count": now["by_cause"].get(c, 0), "previous_week": prior["by_cause"].get(c, 0),
                     "change": now["by_cause"].get(c, 0) - prior["by_cause"].get(c, 0)} for c in causes]  # fmt: skip
        levels = sorted(set(now["by_level"]) | set(prior["by_level"]))
        by_level = [{"level": int(lv), "count": now["by_level"].get(lv, 0), "previous_week": prior["by_level"].get(lv, 0)} for lv in levels]
        return {
            "week": week.document(),
            "team": team,
            "totals": {"escalations": now["total"], "previous_week": prior["total"], "tickets": volume,
                       "escalation_rate": round(100 * now["total"] / volume, 1) if volume else None},  # fmt: skip
            "by_day": days,
            "by_cause": by_cause,
            "by_level": by_level,
            "open_escalated": open_escalated or [],
            "findings": _findings(now["total"], prior["total"], by_cause, volume, open_escalated or []),
        }

    @staticmethod
    def escalation_csv(report: Mapping[str, Any]) -> str:
        """One row per day, level and cause: what a lead opens in a spreadsheet."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["day", "kind", "key", "escalations"])
        for day in report["by_day"]:
            writer.writerow([day["day"], "total", "", day["total"]])
            for level, n in sorted(day["by_level"].items()):
                writer.writerow([day["day"], "level", level, n])
            for cause, n in day["by_cause"].items():
                writer.writerow([day["day"], "cause", cause, n])
        for row in report["by_cause"]:
            writer.writerow([f"week {report['week']['from']}", "cause", row["cause"], row["count"]])
        for entry in report["open_escalated"]:
            writer.writerow([entry.get("escalated_at") or "", "open", entry.get("ref"), entry.get("level")])
        return out.getvalue()

    # ------------------------------------------------------------------------------------------------------

    def _scope(self, caller: Principal, team: str | None) -> str | None:
        """Admins see everything or one team; a lead their team (the only one, or the one asked for)."""
        if team is not None:
            require_team(caller, team, f"team {team}'s figures")
            return team
        if caller.role == Role.ADMIN:
            return None
        if len(caller.teams) == 1:
            return caller.teams[0]
        from shared.domain.errors import ValidationFailed

        raise ValidationFailed(f"you lead several teams ({', '.join(caller.teams) or 'none'}): say which with `team`")

    def _caller_teams(self, caller: Principal) -> set[str]:
        return set() if caller.role == Role.ADMIN else set(caller.teams)


def _overload_reason(load: int, capacity: int, waiting: int) -> str:
    if load > capacity:
        return f"holds {load} tickets, capacity {capacity}"
    return f"full ({load}/{capacity}) while {waiting} ticket(s) wait unassigned"


def _findings(total_now: int, total_before: int, by_cause: list[dict[str, Any]], volume: int, open_now: list[dict[str, Any]]) -> list[str]:
    """What the review should talk about, in sentences."""
    out = []
    if total_before:
        change = round(100 * (total_now - total_before) / total_before)
        out.append(f"{total_now} escalations, {'+' if change >= 0 else ''}{change} % on the week before ({total_before}).")
    else:
        out.append(f"{total_now} escalations (none the week before).")
    if volume:
        out.append(f"{round(100 * total_now / volume, 1)} % of the week's {volume} new tickets were escalated.")
    if by_cause and by_cause[0]["count"]:
        top = by_cause[0]
        out.append(f"Most common cause: {top['cause']} ({top['count']}, {top['previous_week']} the week before).")
    rising = [c for c in by_cause if c["change"] >= 3]
    for cause in rising[:3]:
        out.append(f"{cause['cause']} rose by {cause['change']}: check its escalation criteria or training.")
    if open_now:
        oldest = min(open_now, key=lambda e: e.get("escalated_at") or "")
        out.append(f"{len(open_now)} escalated ticket(s) still open; the oldest ({oldest.get('ref')}) since {oldest.get('escalated_at')}.")
    return out
