"""Running a macro on a ticket: a reply (a stored template or the macro's own wording, placeholders filled in for
this ticket) or an internal note, plus status, priority and tags, in one call.

Everything is decided before anything happens: the status move is checked by the state machine, the wording is
rendered, a closed ticket refuses a public reply. A preview returns exactly that decision and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable

from shared.domain.access import Principal
from shared.domain.changes import TicketChange, decide
from shared.domain.ticket import Ticket
from shared.domain.timefmt import iso

if TYPE_CHECKING:
    from shared.contracts.work import MacroDocument
    from shared.services.ticket_changes import TicketChanges
    from shared.services.ticket_desk import TicketDesk
    from shared.services.ticket_work import Notices


@dataclass
class MacroResult:
    macro: str
    preview: bool
    ticket: Ticket
    reply: dict[str, Any] | None = None
    changes: dict[str, Any] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)


def macro_change(macro: MacroDocument, ticket: Ticket, macro_id: str) -> TicketChange:
    tags = None
    if macro.add_tags or macro.remove_tags:
        tags = tuple(sorted((set(ticket.tags or ()) | set(macro.add_tags)) - set(macro.remove_tags)))
    return TicketChange(
        status=macro.status.value if macro.status else None,
        priority=macro.priority.value if macro.priority else None,
        tags=tags,
        reason=f"macro {macro_id}",
    )


@dataclass
class MacroRunner:
    desk: TicketDesk
    messenger: Notices
    changes: Callable[[], TicketChanges]
    now: Callable[[], datetime]

    def run(self, ticket: Ticket, macro_id: str, document: dict[str, Any], preview: bool, caller: Principal) -> MacroResult:
        from shared.contracts.work import MacroDocument

        macro = MacroDocument.model_validate(document)
        change = macro_change(macro, ticket, macro_id)
        decision = decide(ticket, change, caller.actor, iso(self.now()), None)  # refuses an impossible move now
        result = MacroResult(macro=macro_id, preview=preview, ticket=ticket, reply=self._reply(macro, ticket),
                             events=[kind for kind, _ in decision.events])  # fmt: skip
        result.changes = {k: sorted(v) if isinstance(v, set) else v for k, v in decision.values.items()
                          if k in ("status", "priority", "tags")}  # fmt: skip
        if preview:
            return result
        if result.reply is not None:
            self._send(ticket, result.reply, caller)
        if decision.events:
            result.ticket = self.changes().apply(ticket.id, change, caller.actor).ticket
        else:
            result.ticket = self.desk.find(ticket.id, caller)
        return result

    def _reply(self, macro: MacroDocument, ticket: Ticket) -> dict[str, Any] | None:
        if macro.template is None and macro.reply is None:
            return None
        if not macro.internal and ticket.status == "closed":
            from shared.domain.errors import InvalidTransition

            raise InvalidTransition("the ticket is closed: this macro's public reply cannot be sent")
        rendered = self.messenger.render(ticket, template_id=macro.template, source=macro.reply)
        return {"text": rendered.text, "internal": macro.internal, "template": macro.template}

    def _send(self, ticket: Ticket, reply: dict[str, Any], caller: Principal) -> None:
        from shared.contracts.api import Reply

        self.desk.reply(ticket.id, Reply(body=reply["text"], internal=bool(reply["internal"])), caller)
