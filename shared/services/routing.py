"""Routing: every new ticket gets an explainable priority, then the team's queue is drained onto free agents.

New tickets never jump the queue: routing a ticket means draining its team's queue in the team's order
(`urgency`: priority then age; `fifo`: age, VIP first), so an older ticket of equal rank is always served
first. Each assignment is one conditional transaction (shared/storage/assignments.py); a lost race just moves on
to the next candidate, a bounded number of times.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable
from datetime import datetime, timedelta

from shared.domain.assignment import Candidate, Need, assignment_reason, next_shift_start, rank_candidates
from shared.domain.ids import derived_ulid
from shared.domain.model import AuditEvent, Status
from shared.domain.errors import AgentUnavailable, Conflict, NotFound, TicketTaken
from shared.domain.ticket import Ticket
from shared.domain.ports import Agents, Config, Customers, Tickets
from shared.services.intake import Announcer, ticket_created
from shared.observability import Metric, count, logger
from shared.domain.priority import DEFAULT_RULES, PriorityDecision, PriorityFacts, PriorityRules, decide_priority, rules_from_document
from shared.domain.teams import TeamSettings, team_settings
from shared.domain.timefmt import Clock, iso, parse_iso, utcnow

MAX_CANDIDATE_ATTEMPTS = 5
MAX_DRAIN_ROUNDS = 20
EXHAUSTED = "\0exhausted"  # every candidate tried for a ticket was taken by someone else meanwhile


@dataclass
class DrainResult:
    assigned: list[tuple[str, str]] = field(default_factory=list)  # (ticket id, agent id)
    conflicts: int = 0  # conditional failures met on the way (lost races, stale reads)
    # the earliest moment a ticket left waiting for an agent with its skill may go to anyone: drain again then
    retry_at: datetime | None = None

    def retry_no_later_than(self, at: datetime) -> None:
        self.retry_at = at if self.retry_at is None else min(self.retry_at, at)


def priority_rules(config: Config) -> PriorityRules:
    doc = config.get("priority-rules", "default")
    return rules_from_document(doc) if doc else DEFAULT_RULES


@dataclass
class RoutingService:
    tickets: Tickets
    agents: Agents
    customers: Customers
    config: Config
    clock: Clock = utcnow

    # ------------------------------------------------------------------ priority

    def prioritise(self, ticket: Ticket) -> Ticket:
        """Decide priority, category and skill once, with reasons; an agent's manual choice is never overridden."""
        if ticket.priority_source is not None:
            return ticket
        first = self.tickets.first_message(ticket.id)
        customer = self.customers.get(ticket.customer_id)
        tier = customer.tier if customer is not None else ticket.customer.tier
        facts = PriorityFacts(
            channel=ticket.channel, subject=ticket.subject, body=first.text if first is not None else "", tier=tier,
            importance=first.importance if first is not None else None, tags=tuple(sorted(ticket.tags or ())),
        )  # fmt: skip
        decision = decide_priority(priority_rules(self.config), facts)
        now = self.clock()
        previous = ticket.priority
        ticket.customer.tier = tier
        ticket.priority = decision.priority.value
        ticket.priority_reasons = list(decision.reasons)
        ticket.category, ticket.required_skill = decision.category, decision.skill
        ticket.keywords = list(decision.keywords)
        ticket.priority_source = "rules"
        ticket.touch(iso(now))
        raced = self._save_or_redo(ticket, self.prioritise)
        if raced is not None:
            return raced
        self.tickets.add_events(ticket.id, [_priority_decided(ticket.id, previous, decision, now)])
        logger.info("priority decided", extra={"ticket_id": ticket.id, "priority": decision.priority.value})
        return ticket

    def admit(self, ticket: Ticket) -> Ticket:
        """Move a triaged ticket into its team's queue, once priority, SLA and tier are settled."""
        if not ticket.in_triage or ticket.priority_source is None:
            return ticket
        ticket.admit()
        return self._save_or_redo(ticket, self.admit) or ticket

    def _save_or_redo(self, ticket: Ticket, redo: Callable[[Ticket], Ticket]) -> Ticket | None:
        """A version-guarded save; if the ticket changed since it was read, read it again and `redo` the decision
        on the fresh copy (returned). None when the save went through."""
        try:
            self.tickets.save(ticket)
            return None
        except Conflict as error:
            fresh = self.tickets.get(ticket.id)
            if fresh is None:
                raise NotFound(f"ticket {ticket.id} vanished") from error
            return redo(fresh)

    # ------------------------------------------------------------------ assignment

    def drain(self, team: str, include: Ticket | None = None) -> DrainResult:
        """Assign waiting tickets of `team`, in the team's order, to the best eligible free agents.

        `include` is a ticket known (by a consistent read) to be waiting, merged into the queue at its place, so
        a ticket whose index entry has not propagated yet is not skipped."""
        settings = team_settings(self.config, team)
        result = DrainResult()
        for _ in range(MAX_DRAIN_ROUNDS):
            candidates = {c.agent_id: c for c in self.agents.candidates(team)}
            if not any(c.presence == "online" and c.load < c.capacity for c in candidates.values()):
                return result
            waiting = self._queue(team, settings.strategy, include)
            include = None
            progressed = False
            for ticket in waiting:
                outcome = self._assign_one(ticket, candidates, result, settings)
                if outcome == EXHAUSTED:
                    # every agent we tried filled up under us: re-read before offering slots to tickets behind
                    # this one, or a newer ticket could take the slot an older one was waiting for
                    progressed = True
                    break
                if outcome:
                    progressed = True
                if not any(c.presence == "online" and c.load < c.capacity for c in candidates.values()):
                    return result
            if not progressed:
                return result
        return result

    def announce_untriaged(self, team: str, created_before: datetime, announcer: Announcer) -> int:
        """Announce again the new tickets whose announcement never got through routing (lost with a queue, a crash
        between the write and the announcement); the route stage's marker makes that harmless for any that were
        only slow. Returns how many."""
        stuck = self.tickets.untriaged(team, iso(created_before))
        for ticket in stuck:
            first = self.tickets.first_message(ticket.id)
            message_id = first.message_id if first is not None else None
            announcer.announce(ticket_created(ticket.id, message_id, ticket.channel, bool(ticket.automated), ticket.created_at))
            logger.warning("ticket announced again: routing never saw it", extra={"ticket_id": ticket.id})
        return len(stuck)

    def shift_starts(self, team: str, now: datetime, within: timedelta) -> list[datetime]:
        """When online agents of `team` start a working span in the next `within`: capacity appears then, so the
        queue must be drained then (the sweep asks the route stage for a drain at each, to the second)."""
        starts = {next_shift_start(c, now, within) for c in self.agents.candidates(team) if c.presence == "online"}
        return sorted(start for start in starts if start is not None)

    def _queue(self, team: str, strategy: str, include: Ticket | None) -> list[Ticket]:
        waiting = self.tickets.waiting(team, strategy)
        if include is not None and include.team == team and include.waiting:
            if all(t.id != include.id for t in waiting):
                waiting.append(include)
        return sorted(waiting, key=lambda t: t.queue_order(strategy))

    def _assign_one(
        self, ticket: Ticket, candidates: dict[str, Candidate], result: DrainResult, settings: TeamSettings
    ) -> str | None:
        now = self.clock()
        need = Need(
            channel=ticket.channel,
            skill=ticket.required_skill,
            tier=int(ticket.required_tier or 1),
            preferred_agent=ticket.preferred_agent,
        )
        # a skill is a preference: only while the team's skill wait runs are agents without it passed over
        skill_wait_ends = parse_iso(ticket.created_at) + timedelta(seconds=settings.skill_wait_seconds)
        skill_required = bool(need.skill) and now < skill_wait_ends
        ranked = rank_candidates(candidates.values(), need, now, skill_required=skill_required)[:MAX_CANDIDATE_ATTEMPTS]
        if not ranked and skill_required and rank_candidates(candidates.values(), need, now):
            result.retry_no_later_than(skill_wait_ends)  # someone without the skill is free: try them when it ends
        for candidate in ranked:
            outcome = self._try(ticket, candidate, need, now)
            result.conflicts += outcome != "assigned"
            fresh = self.agents.candidate(candidate.agent_id) if outcome != "assigned" else None
            if outcome != "assigned" and fresh is None:
                candidates.pop(candidate.agent_id, None)
            elif fresh is not None:
                candidates[candidate.agent_id] = fresh  # a failed try may have failed on its load too: re-read it
            if outcome == "agent_unavailable":
                continue
            if outcome == "ticket_taken":
                return None
            candidates[candidate.agent_id] = replace(candidate, load=candidate.load + 1, last_assigned_at=iso(now))
            result.assigned.append((ticket.id, candidate.agent_id))
            return candidate.agent_id
        return EXHAUSTED if ranked else None

    def _try(self, ticket: Ticket, candidate: Candidate, need: Need, now: datetime) -> str:
        """One conditional assignment: "assigned", "agent_unavailable" (full or offline meanwhile: try the next)
        or "ticket_taken" (someone else moved the ticket: stop)."""
        at = iso(now)
        reason = assignment_reason(candidate, need)
        attempt = replace(ticket)  # the ticket changes only if the assignment goes through
        attempt.hand_to(candidate.agent_id, reason, at)
        event = AuditEvent(
            type="ticket.assigned",
            at=now,
            actor="system:routing",
            data={
                "to": candidate.agent_id,
                "load_before": candidate.load,
                "capacity": candidate.capacity,
                "skill": need.skill,
                "skill_matched": candidate.has_skill(need.skill),
                "reason": reason,
            },
            id=derived_ulid(now, f"{ticket.id}#assigned#{candidate.agent_id}#{ticket.version}"),
        )
        try:
            self.tickets.assign(attempt, candidate.agent_id, [event], at)
        except AgentUnavailable:
            return "agent_unavailable"
        except TicketTaken:
            return "ticket_taken"
        ticket.assignee, ticket.status = candidate.agent_id, Status.IN_PROGRESS.value
        count(Metric.TICKETS_ASSIGNED)
        logger.info("ticket assigned", extra={"ticket_id": ticket.id, "agent": candidate.agent_id})
        return "assigned"


def _priority_decided(ticket_id: str, previous: str, decision: PriorityDecision, now: datetime) -> AuditEvent:
    return AuditEvent(
        type="ticket.priority_changed",
        at=now,
        actor="system:priority-rules",
        data={"from": previous, "to": decision.priority.value, "category": decision.category, "skill": decision.skill,
              "reasons": list(decision.reasons)},  # fmt: skip
        id=derived_ulid(now, f"{ticket_id}#priority"),
    )
