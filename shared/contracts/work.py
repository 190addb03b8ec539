"""Requests and responses of the moves on whole tickets (shared/services/ticket_work.py): move to another team,
merge, link, and macros (the document a lead saves, a run, and what a run does)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field, StrictBool, model_validator

from shared.contracts.api import Id, Labels, Resource, TicketResource
from shared.contracts.config import ClosedDocument, NonBlank
from shared.contracts.refusals import refused
from shared.domain.model import Priority, Status
from shared.domain.templates import compiled_source

REASON_CHARS = 1000
TICKET_KEY_CHARS = 64
MACRO_TEXT_CHARS = 20_000

Reason = Annotated[str, Field(max_length=REASON_CHARS)]
TicketKey = Annotated[str, Field(min_length=1, max_length=TICKET_KEY_CHARS, description="A ticket id or its ref")]


class MoveRequest(ClosedDocument):
    """Hand the ticket to another team: it joins that team's queue (or goes straight to `assignee`, one of its
    agents); priority, escalation and the SLA clock stay as they are."""

    team: Id
    assignee: Id | None = Field(default=None, description="An agent of the new team to start work at once")
    reason: Reason | None = None


class MergeRequest(ClosedDocument):
    """Close this ticket into `into`: its messages are copied there, later messages to it go there, and its
    customer is told once."""

    into: TicketKey
    reason: Reason | None = None


class LinkRequest(ClosedDocument):
    """Link a related ticket, usually another team's: both tickets show the link and the other's progress."""

    ticket: TicketKey
    note: Annotated[str, Field(max_length=500)] | None = None


def _sendable(source: str) -> str:
    try:
        compiled_source(source)
    except ValueError as exc:
        raise refused(str(exc)) from None
    return source


class MacroDocument(ClosedDocument):
    """A canned answer and the changes that go with it ("refund approved": reply, resolve, tag `refund`). The
    reply is a stored template (`template`) or the macro's own wording (`reply`, with the templates'
    placeholders); `internal` makes it a note instead."""

    title: Annotated[NonBlank, Field(max_length=200)]
    description: Annotated[str, Field(max_length=1000)] | None = None
    reply: Annotated[str, Field(min_length=1, max_length=MACRO_TEXT_CHARS), AfterValidator(_sendable)] | None = None
    template: Id | None = Field(default=None, description="A stored template id, in the ticket's language")
    internal: StrictBool = False
    status: Status | None = None
    priority: Priority | None = None
    add_tags: Labels = []
    remove_tags: Labels = []

    @model_validator(mode="after")
    def _does_something(self) -> "MacroDocument":
        if self.reply is not None and self.template is not None:
            raise refused("give either reply (the wording) or template (a stored template's id), not both")
        if self.reply is None and self.template is None and not (self.status or self.priority or self.add_tags or self.remove_tags):
            raise refused("a macro must reply, or change status, priority or tags")
        if set(self.add_tags) & set(self.remove_tags):
            raise refused(f"tags both added and removed: {', '.join(sorted(set(self.add_tags) & set(self.remove_tags)))}")
        return self


class DraftPreview(ClosedDocument):
    """What the customer would read: a stored template (`template`) or the agent's own words (`text`, with the
    templates' placeholders), filled in for this ticket. Nothing is sent."""

    template: Id | None = Field(default=None, description="A stored template id, in the ticket's language")
    text: Annotated[str, Field(min_length=1, max_length=MACRO_TEXT_CHARS), AfterValidator(_sendable)] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> "DraftPreview":
        if (self.text is None) == (self.template is None):
            raise refused("give either text (the agent's words) or template (a stored template's id)")
        return self


class RenderedDraft(Resource):
    subject: str | None
    text: str
    template: str | None


class MacroResource(MacroDocument):
    id: str


class MacroList(Resource):
    items: list[MacroResource]


class MacroRun(ClosedDocument):
    preview: StrictBool = Field(default=False, description="Only say what the macro would do")


class MacroReply(Resource):
    text: str
    internal: bool
    template: str | None


class MacroOutcome(Resource):
    macro: str
    preview: bool
    reply: MacroReply | None = Field(description="The wording as this ticket's customer would get it")
    changes: dict[str, Any] = Field(description="status, priority and tags as they would be (only those that change)")
    events: list[str] = Field(description="The audit events the changes write")
    ticket: TicketResource = Field(description="The ticket after the run (as it is, for a preview)")
