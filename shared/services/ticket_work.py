"""A lead's and an agent's moves on whole tickets: move one to another team, merge two, link related tickets of
different teams, and run a macro (a reply plus status, priority and tags in one call, previewed first).

Moving and merging are a lead's (they move work between people and teams); linking and macros are anyone's who
may work on the ticket. Each is safe to retry: a repeated call finds the work done and finishes what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Protocol

from shared.domain.access import DEFAULT_TEAM, Principal, require_role
from shared.domain.errors import Conflict, NotFound, ValidationFailed
from shared.domain.ids import derived_ulid
from shared.domain.links import add_link, progress, remove_link
from shared.domain.merge import absorb, check_merge, plan_merge
from shared.domain.model import AuditEvent, Direction, Role, Status
from shared.domain.ports import Agents, Announcer, ConfigStore, Tickets
from shared.domain.templates import RenderedMessage
from shared.domain.ticket import LoadChange, Ticket
from shared.domain.timefmt import iso, parse_iso
from shared.observability import logger

if TYPE_CHECKING:
    from shared.contracts.work import LinkRequest, MacroRun, MergeRequest, MoveRequest
    from shared.services.macros import MacroResult
    from shared.services.ticket_changes import TicketChanges
    from shared.services.ticket_desk import TicketDesk

MAX_RETRIES = 3
MACRO = "macro"  # the config kind macros are stored under


class Notices(Protocol):
    def notify_once(self, ticket: Ticket, template_id: str, context: dict[str, Any] | None = None) -> bool: ...

    def render(self, ticket: Ticket, template_id: str | None = None, source: str | None = None) -> RenderedMessage: ...


@dataclass
class TicketWork:
    desk: TicketDesk
    tickets: Tickets
    agents: Agents
    config: ConfigStore
    announcer: Announcer
    messenger: Callable[[], Notices]
    changes: Callable[[], TicketChanges]
    now: Callable[[], datetime]

    # ------------------------------------------------------------------ move

    def move(self, ticket_id: str, request: MoveRequest, caller: Principal) -> Ticket:
        """To another team's queue (or straight to one of its agents); priority, escalation and the SLA clock stay."""
        from shared.services.ticket_changes import TicketChange

        require_role(caller, Role.SUPERVISOR)
        ticket = self.desk.find(ticket_id, caller)
        self._team_exists(request.team)
        if request.assignee is not None:
            candidate = self.agents.candidate(request.assignee)
            if candidate is None or candidate.team != request.team:
                raise ValidationFailed(f"assignee: {request.assignee} is not an agent of team {request.team}")
        change = TicketChange(team=request.team, assignee=request.assignee, reason=request.reason)
        return self.changes().apply(ticket.id, change, caller.actor).ticket

    def _team_exists(self, team: str) -> None:
        """A team someone set up: the default one, one with settings, or one with agents. A typo would strand the
        ticket in a queue nobody serves."""
        if team == DEFAULT_TEAM or self.config.get("team", team) is not None or self.agents.candidates(team):
            return
        raise ValidationFailed(f"team: no team {team!r} (no settings and no agents); set it up with PUT /v1/teams/{team}")

    # ------------------------------------------------------------------ merge

    def merge(self, ticket_id: str, request: MergeRequest, caller: Principal) -> Ticket:
        """`ticket_id` closes into `request.into`: its thread is copied there, later messages to it go there, and
        its customer is told once. Returns the target."""
        require_role(caller, Role.SUPERVISOR)
        source = self.desk.find(ticket_id, caller)
        target = self.desk.find(request.into, caller)
        before = source.status
        if check_merge(source, target):
            source = self._close_into(source, target, caller.actor, request.reason)
        self._stop_clock(source, before, target)
        target = self._absorb(source, target.id, caller.actor)
        self.messenger().notify_once(source, "merged", {"merged_into_ref": target.ref})
        return target

    def _close_into(self, source: Ticket, target: Ticket, actor: str, reason: str | None) -> Ticket:
        """The commit point: the source closes with `merged_into`, releasing its agent's slot, if nobody changed it
        meanwhile (else decided again on what it is now)."""
        from shared.contracts.events import CapacityFreed, wire

        for _ in range(MAX_RETRIES):
            messages, _events = self.tickets.thread(source.id)
            at = iso(self.now())
            plan = plan_merge(source, target, messages, actor, at, reason)
            holder = source.assignee if source.status == Status.IN_PROGRESS.value else None
            for name, value in plan.source_values.items():
                setattr(source, name, value)
            try:
                self.tickets.save(source, [plan.source_event], load=LoadChange(release_from=holder, at=at))
            except Conflict:
                source = self._reload(source.id)
                if not check_merge(source, target):
                    return source
                continue
            if holder:
                self.announcer.announce(wire(CapacityFreed(team=source.team, ticket_id=source.id)))
            logger.info("ticket merged", extra={"ticket_id": source.id, "into": target.id})
            return source
        raise Conflict(f"ticket {source.id} kept changing while being merged")

    def _stop_clock(self, source: Ticket, before: str, target: Ticket) -> None:
        """The closed source's SLA clock stops like any closed ticket's (no warning or breach fires for it later);
        announced again by a retry, which the route stage takes as the no-op it is."""
        from shared.contracts.events import TicketChanged, wire

        at = parse_iso(source.closed_at) if source.closed_at else self.now()
        changed = TicketChanged(ticket_id=source.id, from_=Status(before), to=Status.CLOSED, at=at,
                                reason=f"merged into {target.ref}")  # fmt: skip
        self.announcer.announce(wire(changed))

    def _absorb(self, source: Ticket, target_id: str, actor: str) -> Ticket:
        """The target's share, at the merge's own time (so a retry writes the same copies and event again)."""
        at = source.closed_at or iso(self.now())
        messages, _events = self.tickets.thread(source.id)
        messages = [m for m in messages if m.at <= at]  # not the merge notice the source may have sent since
        for _ in range(MAX_RETRIES):
            target = self._reload(target_id)
            plan = plan_merge(source, target, messages, actor, at, None)
            assert plan.target_event is not None
            self.tickets.add_messages(plan.copies, [(target.id, plan.target_event)])
            inbound = sum(1 for copy in plan.copies if copy.direction == Direction.INBOUND.value)
            if not absorb(target, source, inbound, at):
                return target
            try:
                self.tickets.save(target)
                return target
            except Conflict:
                continue
        raise Conflict(f"ticket {target_id} kept changing while taking in a merge")

    def _reload(self, ticket_id: str) -> Ticket:
        ticket = self.tickets.get(ticket_id)
        if ticket is None:
            raise NotFound(f"no ticket {ticket_id}")
        return ticket

    # ------------------------------------------------------------------ links

    def link(self, ticket_id: str, request: LinkRequest, caller: Principal) -> Ticket:
        """Link the caller's ticket to a related one of any team (by id or ref); both sides keep the link."""
        ticket = self.desk.find(ticket_id, caller)
        other = self.tickets.get(request.ticket) or self.tickets.by_ref(request.ticket.upper())
        if other is None:
            raise NotFound(f"no ticket {request.ticket}")
        at = iso(self.now())
        data = {"note": request.note} if request.note else {}
        for side, to in ((other, ticket), (ticket, other)):
            event = self._event("ticket.linked", side, at, caller.actor, {"ticket": to.id, "ref": to.ref, "team": to.team, **data})
            self._update(side.id, lambda t, to=to: add_link(t, to, request.note, caller.actor, at), event)  # type: ignore[misc]
        return self._reload(ticket.id)

    def unlink(self, ticket_id: str, other_id: str, caller: Principal) -> Ticket:
        ticket = self.desk.find(ticket_id, caller)
        other = next((link for link in ticket.links if other_id in (link.get("ticket_id"), link.get("ref"))), None)
        if other is None:
            raise NotFound(f"{ticket.ref} has no link to {other_id}")
        at = iso(self.now())
        pairs = ((str(other["ticket_id"]), ticket.id), (ticket.id, str(other["ticket_id"])))
        for side, to in pairs:
            event = self._event("ticket.unlinked", self.tickets.get(side), at, caller.actor, {"ticket": to})
            self._update(side, lambda t, to=to: remove_link(t, to, at), event)  # type: ignore[misc]
        return self._reload(ticket.id)

    def links(self, ticket: Ticket) -> list[dict[str, Any]]:
        """The ticket's links with how each other ticket stands now (one read each; a ticket has few links)."""
        return [progress(link, self.tickets.get(str(link.get("ticket_id")))) for link in ticket.links]

    def _event(self, kind: str, ticket: Ticket | None, at: str, actor: str, data: dict[str, Any]) -> AuditEvent | None:
        if ticket is None:
            return None
        when = parse_iso(at)
        return AuditEvent(kind, when, actor, data, id=derived_ulid(when, f"{ticket.id}#{kind}#{data['ticket']}"))

    def _update(self, ticket_id: str, mutate: Callable[[Ticket], bool], event: AuditEvent | None) -> None:
        """Re-read, change and save one ticket, again if someone changed it meanwhile; nothing when gone."""
        for _ in range(MAX_RETRIES):
            ticket = self.tickets.get(ticket_id)
            if ticket is None or not mutate(ticket):
                return
            try:
                self.tickets.save(ticket, [event] if event is not None else [])
                return
            except Conflict:
                continue
        raise Conflict(f"ticket {ticket_id} kept changing")

    # ------------------------------------------------------------------ macros

    def macros(self) -> list[dict[str, Any]]:
        return [{"id": name, **doc} for name, doc in sorted(self.config.list(MACRO).items())]

    def save_macro(self, macro_id: str, document: dict[str, Any], actor: str) -> dict[str, Any]:
        from shared.contracts.refusals import validated
        from shared.contracts.work import MacroDocument
        from shared.services.customer_messages import stored_templates

        macro = validated(MacroDocument, document, "macro")
        if macro.template and not any(t.id == macro.template for t in stored_templates(self.config)):
            raise ValidationFailed(f"template: no template {macro.template!r}; save it first with PUT /v1/templates/...")
        saved = macro.model_dump(mode="json", exclude_none=True)
        self.config.put(MACRO, macro_id, saved, actor, self.now())
        return {"id": macro_id, **saved}

    def delete_macro(self, macro_id: str) -> None:
        if not self.config.delete(MACRO, macro_id):
            raise NotFound(f"no macro {macro_id}")

    def preview(self, ticket_id: str, template: str | None, text: str | None, caller: Principal) -> RenderedMessage:
        """A template or a draft as this ticket's customer would read it (placeholders filled in); sends nothing."""
        from shared.services.customer_messages import stored_templates

        ticket = self.desk.find(ticket_id, caller)
        if template is not None and not any(t.id == template for t in stored_templates(self.config)):
            raise NotFound(f"no template {template!r}; GET /v1/templates lists them")
        return self.messenger().render(ticket, template_id=template, source=text)

    def run_macro(self, ticket_id: str, macro_id: str, request: MacroRun, caller: Principal) -> MacroResult:
        """What the macro does to this ticket (`preview`: only say it), else do it: the reply (or note) first,
        then status, priority and tags, all checked before anything is sent."""
        from shared.services.macros import MacroRunner

        ticket = self.desk.find(ticket_id, caller)  # another team's ticket is a 403 whatever the macro
        document = self.config.get(MACRO, macro_id)
        if document is None:
            raise NotFound(f"no macro {macro_id}")
        runner = MacroRunner(self.desk, self.messenger(), self.changes, self.now)
        return runner.run(ticket, macro_id, document, request.preview, caller)
