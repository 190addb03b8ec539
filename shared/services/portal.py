"""What a customer does with the link in our messages (R13, R15): see their request's status and public thread,
add to it, rate the help once it is resolved (CSAT, once), or close it themselves because an article answered
them (a deflection).

Every call checks the link first (shared/domain/portal.py). A reply goes through the same intake as mail and
chat — threaded by the signed link as a signed reply address threads mail — so it reopens, re-queues and
notifies exactly as a customer's mail would.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Protocol

from shared.domain.errors import Conflict, NotFound
from shared.domain.ids import derived_ulid
from shared.domain.language import detect_language
from shared.domain.model import AuditEvent, Channel, Contact, Status
from shared.domain.portal import public_messages, verify_portal_token
from shared.domain.ports import Tickets
from shared.domain.ticket import Ticket
from shared.domain.timefmt import iso
from shared.observability import Metric, count, logger

RATEABLE = (Status.RESOLVED.value, Status.CLOSED.value)
MAX_SAVE_ATTEMPTS = 3


class Intake(Protocol):
    def accept(self, message: Any) -> Any: ...


class Changes(Protocol):
    def apply(self, ticket_id: str, change: Any, actor: str) -> Any: ...


class Suggestions(Protocol):
    def suggest(self, text: str, language: str | None, limit: int = ...) -> list[dict[str, Any]]: ...

    def deflected(self, article_id: str) -> None: ...

    def public_article(self, article_id: str, count_view: bool = ...) -> dict[str, Any]: ...


@dataclass
class Portal:
    tickets: Tickets
    key: bytes
    intake: Callable[[], Intake]
    changes: Callable[[], Changes]
    kb: Callable[[], Suggestions]
    now: Callable[[], datetime]

    def view(self, ticket_id: str, token: str | None) -> dict[str, Any]:
        ticket = self._ticket(ticket_id, token)
        messages, _ = self.tickets.thread(ticket.id)
        public = public_messages(messages)
        first = next((m["body"] for m in public if m["from"] == "you"), "")
        language = detect_language(f"{ticket.subject}\n{first}", default="en")
        merged_ref = None
        if ticket.merged_into:
            target = self.tickets.get(ticket.merged_into)
            merged_ref = target.ref if target else None
        done = ticket.status in RATEABLE
        return {
            "id": ticket.id, "ref": ticket.ref, "subject": ticket.subject, "status": ticket.status,
            "language": language, "created_at": ticket.created_at, "updated_at": ticket.updated_at,
            "merged_into_ref": merged_ref, "messages": public,
            "can_reply": not ticket.merged_into, "can_rate": done and not ticket.csat and not ticket.merged_into,
            "csat": dict(ticket.csat) if ticket.csat else None,
            "resolved_by_article": ticket.resolved_by_article,
            "suggested_articles": [] if done else self.kb().suggest(f"{ticket.subject}\n{first}", language),
        }  # fmt: skip

    def reply(self, ticket_id: str, token: str | None, body: str) -> dict[str, Any]:
        """The customer's message, on their ticket (or the follow-up a closed ticket gets)."""
        from shared.mail.threading import ThreadHints
        from shared.services.intake import InboundMessage

        ticket = self._ticket(ticket_id, token)
        customer = ticket.customer
        contact = Contact(Channel.EMAIL, customer.email, customer.name) if customer.email else Contact(
            Channel(ticket.channel), customer.handle or customer.id, customer.name)  # fmt: skip
        message = InboundMessage(
            channel=Channel(ticket.channel),
            key=f"portal#{ticket.id}#{uuid.uuid4()}",
            received_at=self.now(),
            contact=contact,
            subject=f"Re: {ticket.subject}" if ticket.subject else "",
            body=body,
            body_full=body,
            hints=ThreadHints(token_ref=ticket.ref, subject_ref=None, message_ids=()),
        )
        result = self.intake().accept(message)
        count(Metric.PORTAL_REPLIES)
        logger.info("portal reply", extra={"ticket_id": ticket.id, "outcome": result.outcome})
        return {"outcome": result.outcome, "ticket_id": result.ticket_id, "ref": result.ref}

    def rate(self, ticket_id: str, token: str | None, score: int, comment: str | None) -> dict[str, Any]:
        """CSAT once per ticket, only after resolution: stored on the ticket with a `csat.received` event."""
        for _ in range(MAX_SAVE_ATTEMPTS):
            ticket = self._ticket(ticket_id, token)
            if ticket.merged_into:
                raise Conflict("this request was merged into another; rate that one")
            if ticket.status not in RATEABLE:
                raise Conflict("you can rate our help once your request is resolved")
            if ticket.csat:
                raise Conflict("this request has already been rated: thank you")
            now = self.now()
            rating = {"score": int(score), "comment": (comment or "").strip() or None, "at": iso(now)}
            ticket.csat = rating
            event = AuditEvent(type="csat.received", at=now, actor="customer:portal",
                               data={"score": rating["score"], "comment": rating["comment"]},
                               id=derived_ulid(now, f"{ticket.id}#csat"))  # fmt: skip
            try:
                self.tickets.save(ticket, [event])
            except Conflict:
                continue
            return rating
        raise Conflict("the request kept changing; try again")

    def solved_by_article(self, ticket_id: str, token: str | None, article_id: str) -> dict[str, Any]:
        """The customer says an article answered them: the ticket is resolved, counted as a deflection."""
        from shared.services.ticket_changes import TicketChange

        ticket = self._ticket(ticket_id, token)
        if ticket.status in RATEABLE or ticket.merged_into:
            raise Conflict("this request is already resolved")
        self.kb().public_article(article_id, count_view=False)  # a published article, or 404
        for _ in range(MAX_SAVE_ATTEMPTS):
            ticket = self._ticket(ticket_id, token)
            ticket.resolved_by_article = article_id
            try:
                self.tickets.save(ticket, [AuditEvent(type="ticket.deflected", at=self.now(), actor="customer:portal",
                                                      data={"article": article_id},
                                                      id=derived_ulid(self.now(), f"{ticket.id}#deflected"))])  # fmt: skip
                break
            except Conflict:
                continue
        outcome = self.changes().apply(ticket.id, TicketChange(status=Status.RESOLVED.value,
                                                               reason=f"the customer: article {article_id} answered it"),
                                       "customer:portal")  # fmt: skip
        self.kb().deflected(article_id)
        return {"status": outcome.ticket.status, "resolved_by_article": article_id}

    def _ticket(self, ticket_id: str, token: str | None) -> Ticket:
        verify_portal_token(self.key, token, ticket_id, self.now())
        ticket = self.tickets.get(ticket_id)
        if ticket is None:
            raise NotFound("this request no longer exists")
        return ticket
