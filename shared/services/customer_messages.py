"""What the product says to customers on its own: the acknowledgement with ref and ETA, and keyword auto-replies.

Every automatic message is rendered from a stored template (the team's own first, shipped defaults behind them)
in the customer's language, goes out on the ticket's channel — email through SES with threading headers, the
signed Reply-To and `Auto-Submitted: auto-generated`; other channels as an outbound message on the thread that
the channel adapter delivers — and is recorded on the thread with a `notification.sent` event.

Never for automated inbound mail or a bouncing address. Each acknowledgement is sent at most once per ticket: a
marker is claimed before sending, because a duplicate "we got your mail" is worse than a rare lost one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Callable, Iterable, Protocol

from shared.domain.ids import derived_ulid
from shared.domain.model import AuditEvent, Direction, MessageKind, Priority
from shared.domain.assignment import Need, why_not
from shared.services.sla import calendar as sla_calendar
from shared.domain.eta import DEFAULT_TARGETS, Estimate, QueueState, estimate, forecast_first_answer
from shared.domain.language import detect_language, format_duration
from shared.mail.outbound import OutboundMail, compose_mail, reply_subject
from shared.mail.reply_address import reply_address
from shared.observability import Metric, count, logger
from shared.domain.teams import team_settings
from shared.settings import Settings
from shared.domain.ticket import Message, Ticket
from shared.domain.ports import Agents, Config, Customers, DeliveryJobs, Markers, Tickets
from shared.domain.templates import (
    ANY_CHANNEL,
    DEFAULT_TEMPLATES,
    MessageTemplate,
    RenderedMessage,
    choose_template,
    render_template,
    template_from_document,
)
from shared.domain.service_window import free_text_allowed, require_open_window
from shared.domain.textmatch import find_phrases
from shared.domain.timefmt import Clock, iso, parse_iso, utcnow


PLATFORM_CHANNELS = frozenset({"whatsapp", "facebook", "instagram", "telegram", "chat"})


class Suggestions(Protocol):
    def suggest(self, text: str, language: str | None, limit: int = ...) -> list[dict[str, Any]]: ...


class Mailer(Protocol):
    def send(self, raw: bytes, source: str, destinations: list[str]) -> str: ...


@dataclass(frozen=True)
class AutoReplyRule:
    """R5: a message on one of `channels` containing one of `phrases` is answered with `template`."""

    name: str
    channels: tuple[str, ...]
    phrases: tuple[str, ...]
    template: str
    resolve: bool = False


def auto_reply_rule(name: str, doc: dict[str, Any]) -> AutoReplyRule:
    """A stored or submitted auto-reply document, checked by its contract (shared/contracts/config.py)."""
    from shared.contracts.config import AutoReplyDocument  # pydantic on the first parse, not at cold start
    from shared.contracts.refusals import validated

    checked = validated(AutoReplyDocument, doc, "auto-reply")
    return AutoReplyRule(name, tuple(checked.channels), tuple(checked.phrases), checked.template, checked.resolve)


def matching_auto_reply(rules: Iterable[AutoReplyRule], channel: str, text: str) -> tuple[AutoReplyRule, str] | None:
    """The first rule (by name) whose channel and phrase match, with the phrase that matched."""
    for rule in sorted(rules, key=lambda r: r.name):
        if rule.channels and channel not in rule.channels:
            continue
        found = find_phrases(text, rule.phrases)
        if found:
            return rule, found[0]
    return None


def sla_targets(ticket: Ticket) -> dict[Priority, tuple[int, int]] | None:
    """The ticket's own SLA targets (first response, resolution), when its clock has them; else the defaults."""
    metrics = dict((ticket.sla_clock or {}).get("metrics") or {})
    try:
        first, resolution = int(metrics["first_response"]["target"]), int(metrics["resolution"]["target"])
    except (KeyError, TypeError, ValueError):
        return None
    return {Priority(ticket.priority): (first, resolution)}


def stored_templates(config: Config) -> list[MessageTemplate]:
    """The team's own templates first, then the shipped defaults (choose_template takes the first match)."""
    own = [template_from_document(doc) for doc in config.list("template").values()]
    return [*own, *DEFAULT_TEMPLATES]


@dataclass
class CustomerMessenger:
    settings: Settings
    tickets: Tickets
    agents: Agents
    customers: Customers
    config: Config
    markers: Markers
    mailer: Mailer
    reply_key: bytes
    deliveries: DeliveryJobs  # platform channels' sends, taken by the deliver function
    clock: Clock = utcnow
    portal_key: bytes | None = None  # signs the portal link every customer message ends with (None: no link)
    public_url: Callable[[], str] | None = None  # the help centre's and portal's address
    knowledge: Callable[[], Suggestions] | None = None  # suggests articles in the acknowledgement

    def acknowledge(self, ticket: Ticket, suppress: bool) -> Estimate | None:
        """Send the acknowledgement with ref and ETA once per ticket. Returns what it promised if it went out now."""
        if suppress or ticket.automated:
            return None
        customer = self.customers.get(ticket.customer_id)
        if customer is not None and customer.bouncing:
            logger.info("no acknowledgement: the address bounces", extra={"ticket_id": ticket.id})
            return None
        now = self.clock()
        # a send-once marker, not the idempotency utility: it is never released on failure nor expires (a crashed
        # send is not retried), and it guards the mail across whichever announcements reach here
        claim = self.markers.claim(f"ack#{ticket.id}", now, lease_seconds=10 * 365 * 86400)
        if claim.state != "claimed":
            return None
        eta = estimate(Priority(ticket.priority), self._queue_state(ticket), targets=sla_targets(ticket))
        first = self.tickets.first_message(ticket.id)
        language = self._language(ticket, first)
        context = {
            "eta_first_response": format_duration(self.wall_seconds(ticket, now, eta.first_response_seconds), language),
            "eta_resolution": format_duration(self.wall_seconds(ticket, now, eta.resolution_seconds), language),
            "queue_position": eta.queue_position,
            "suggested_articles": self._suggestions(ticket, first, language),
        }
        self._send(ticket, first, "acknowledgement", language, context, now, kind="acknowledgement")
        self.markers.complete(f"ack#{ticket.id}", {"sent_at": iso(now)})
        count(Metric.ACKNOWLEDGEMENTS_SENT, channel=ticket.channel)
        return eta

    def _suggestions(self, ticket: Ticket, first: Message | None, language: str) -> list[dict[str, Any]]:
        """Published articles matching the customer's words (none when the knowledge base cannot answer: a
        suggestion is a courtesy and never holds the acknowledgement up)."""
        if self.knowledge is None:
            return []
        try:
            hits = self.knowledge().suggest(f"{ticket.subject}\n{(first.body if first else '') or ''}", language)
        except Exception:  # noqa: BLE001 - the acknowledgement goes out without suggestions
            logger.exception("article suggestions failed", extra={"ticket_id": ticket.id})
            return []
        return [{"title": hit["title"], "url": hit["url"]} for hit in hits]

    def portal_links(self, ticket: Ticket) -> tuple[str, str] | None:
        """(the portal link, its rating page) for this ticket, signed now; None without a portal key."""
        if self.portal_key is None or self.public_url is None:
            return None
        from shared.domain.portal import portal_token, portal_url

        token = portal_token(self.portal_key, ticket.id, self.clock(), self.settings.portal_link_days)
        base = self.public_url()
        return portal_url(base, ticket.id, token), portal_url(base, ticket.id, token, rate=True)

    def wall_seconds(self, ticket: Ticket, now: datetime, business_seconds: float) -> float:
        """What a wait in business time on the ticket's SLA calendar means on the customer's clock from now:
        15 minutes asked for at 16:55 on a Friday is Monday morning, and the customer is told so."""
        calendar_id = (ticket.sla_clock or {}).get("calendar")
        if not calendar_id:
            return business_seconds
        return (sla_calendar(self.config, str(calendar_id)).add(now, business_seconds) - now).total_seconds()

    def forecast_first_answer(self, ticket: Ticket, now: datetime) -> datetime | None:
        """When the live queue now says the first answer is likely (None with nobody online who could take it)."""
        first_target = (sla_targets(ticket) or DEFAULT_TARGETS)[Priority(ticket.priority)][0]
        assigned_at = parse_iso(ticket.assigned_at) if ticket.assignee and ticket.assigned_at else None
        return forecast_first_answer(now, self._queue_state(ticket), first_target=first_target, assigned_at=assigned_at)

    def tell_delayed(self, ticket: Ticket, first_answer_seconds: int | None, resolution_seconds: int) -> bool:
        """The one "taking longer than usual" notice, with the new estimate in the customer's own clock time
        (first answer only while unanswered)."""
        language = self._language(ticket, self.tickets.first_message(ticket.id))
        context = {
            "eta_first_response": format_duration(first_answer_seconds, language) if first_answer_seconds is not None else "",
            "eta_resolution": format_duration(resolution_seconds, language),
        }
        sent = self.notify_once(ticket, "delayed", context)
        if sent:
            count(Metric.DELAY_NOTICES_SENT, channel=ticket.channel)
        return sent

    def notify_once(self, ticket: Ticket, template_id: str, context: dict[str, Any] | None = None) -> bool:
        """A status notice (`resolved`, `delayed`) sent at most once per ticket; never to automated or bouncing."""
        if ticket.automated:
            return False
        customer = self.customers.get(ticket.customer_id)
        if customer is not None and customer.bouncing:
            return False
        now = self.clock()
        key = f"notice#{template_id}#{ticket.id}#{ticket.reopen_count or 0}"
        # send-once marker (not the idempotency utility): checked by the route stage and the sweep alike, and kept
        # even when the send fails, because a second "resolved" mail is worse than a lost one
        if self.markers.claim(key, now, lease_seconds=10 * 365 * 86400).state != "claimed":
            return False
        language = self._language(ticket, self.tickets.first_message(ticket.id))
        self._send(ticket, self._last_inbound(ticket), template_id, language, dict(context or {}), now, kind=template_id)
        self.markers.complete(key, {"sent_at": iso(now)})
        return True

    def _last_inbound(self, ticket: Ticket) -> Message | None:
        messages, _ = self.tickets.thread(ticket.id)
        inbound = [m for m in messages if m.direction == Direction.INBOUND.value]
        return inbound[-1] if inbound else None

    def auto_reply(self, ticket: Ticket, message: Message) -> AutoReplyRule | None:
        """Answer a customer message that matches a keyword rule for its channel; returns the rule used."""
        if message.automated or message.suppressed or message.direction != Direction.INBOUND.value:
            return None
        rules = [auto_reply_rule(name, doc) for name, doc in self.config.list("auto-reply").items()]
        text = f"{message.subject or ''}\n{message.text}"
        match = matching_auto_reply(rules, ticket.channel, text)
        if match is None:
            return None
        rule, phrase = match
        now = self.clock()
        # send-once marker (not the idempotency utility): one answer per customer message for ever, whichever event
        # asked, and no re-send after a failure that Powertools would delete the record for
        claim = self.markers.claim(f"auto-reply#{message.message_id}", now, lease_seconds=10 * 365 * 86400)
        if claim.state != "claimed":
            return None
        language = self._language(ticket, message)
        self._send(ticket, message, rule.template, language, {}, now, kind="auto_reply", extra={"rule": rule.name, "matched": phrase})
        self.markers.complete(f"auto-reply#{message.message_id}", {"rule": rule.name})
        count(Metric.AUTO_REPLIES_SENT, channel=ticket.channel)
        return rule

    # ------------------------------------------------------------------

    def _queue_state(self, ticket: Ticket) -> QueueState:
        """The queue as this ticket sees it: only the agents who could take it now (online, in hours, tier,
        channel — a skill is only a preference), whatever their load, and only the tickets ahead of it that those
        same agents could take."""
        now = self.clock()
        need = Need(channel=ticket.channel, skill=ticket.required_skill, tier=int(ticket.required_tier or 1))
        able = [c for c in self.agents.candidates(ticket.team) if why_not(replace(c, load=0), need, now) is None]
        waiting = ticket.status == "open" and not ticket.assignee
        ahead = 0
        if waiting:
            strategy = team_settings(self.config, ticket.team).strategy
            for other in self.tickets.waiting_ahead(ticket, strategy):
                theirs = Need(channel=other.channel, skill=other.required_skill, tier=int(other.required_tier or 1))
                if not able or any(why_not(replace(c, load=0), theirs, now) is None for c in able):
                    ahead += 1
        return QueueState(
            tickets_ahead=ahead,
            online_capacity=sum(c.capacity for c in able),
            free_slots=sum(max(0, c.capacity - c.load) for c in able),
            assigned=not waiting,
        )

    def _language(self, ticket: Ticket, message: Message | None) -> str:
        default = team_settings(self.config, ticket.team).language
        text = f"{ticket.subject}\n{(message.body if message is not None else '') or ''}"
        return detect_language(text, default=default)

    def _send(
        self,
        ticket: Ticket,
        answering: Message | None,
        template_id: str,
        language: str,
        context: dict[str, Any],
        now: datetime,
        *,
        kind: str,
        extra: dict[str, Any] | None = None,
    ) -> None:
        template = choose_template(stored_templates(self.config), template_id, language, ticket.channel)
        rendered = render_template(template, {**self._placeholders(ticket), **context})
        message_id = derived_ulid(now, f"{ticket.id}#{kind}#{template_id}#{answering.message_id if answering else ''}")
        self._deliver(
            ticket,
            answering,
            message_id=message_id,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            now=now,
            message_kind=MessageKind.AUTOMATIC,
            author={"system": kind, "template": template.id, "language": template.language},
            event=(
                "notification.sent",
                {
                    "kind": kind,
                    "template": template.id,
                    "language": template.language,
                    **(extra or {}),
                    **{k: v for k, v in context.items() if k != "suggested_articles"},
                },
            ),
            from_name="Support",
            whatsapp_template=template.whatsapp_template,
            language=template.language,
            footer=self._portal_footer(ticket, rendered.text, template.language, rate=kind == "resolved"),
        )
        logger.info("customer message sent", extra={"ticket_id": ticket.id, "kind": kind, "template": template.id})

    def _portal_footer(self, ticket: Ticket, text: str, language: str, rate: bool = False) -> tuple[str, str] | None:
        """The line (and its HTML) every customer message ends with: the ticket's portal link, on a resolution
        notice the rating link first; None when the template placed the link itself. It goes out with the
        message but is not stored on the thread, so nobody reading the ticket holds the customer's link."""
        links = self.portal_links(ticket)
        if links is None or ticket.merged_into:
            return None
        from html import escape

        from shared.domain.portal import footer

        url, rate_url = links
        if f"/#/portal/{ticket.id}/" in text:
            return None
        line = footer(language, url, rate_url if rate else None)
        block = "".join(f'<p style="font-size: 12px; color: #555;">{_linked(escape(part))}</p>' for part in line.splitlines())
        return line, block

    def render(self, ticket: Ticket, template_id: str | None = None, source: str | None = None) -> RenderedMessage:
        """What a stored template (`template_id`, in the ticket's language on its channel) or a macro's own wording
        (`source`) says for this ticket, placeholders filled in as a notice would have them."""
        if template_id is not None:
            language = self._language(ticket, self.tickets.first_message(ticket.id))
            template = choose_template(stored_templates(self.config), template_id, language, ticket.channel)
        else:
            template = MessageTemplate(id="macro", language="en", channel=ANY_CHANNEL, subject=None, text=source or "")
        return render_template(template, self._placeholders(ticket))

    def _placeholders(self, ticket: Ticket) -> dict[str, Any]:
        """What every customer template may use; a message adds its own (ETA, queue position) over these."""
        view = self.agents.get(ticket.assignee) if ticket.assignee else None
        return {
            "customer_name": ticket.customer.name or "",
            "ref": ticket.ref,
            "subject": ticket.subject,
            "eta_first_response": "",
            "eta_resolution": "",
            "queue_position": 0,
            "agent_name": (view.profile.name if view is not None else None) or "",
            "suggested_articles": [],
            "support_address": self.settings.support_address,
            "channel": ticket.channel,
            "merged_into_ref": "",
            **dict(zip(("portal_url", "csat_url"), self.portal_links(ticket) or ("", ""))),
        }

    def agent_reply(self, ticket: Ticket, agent_id: str, agent_name: str | None, text: str, now: datetime) -> str:
        """An agent's public answer on the ticket's channel (email: threaded, signed Reply-To, not automatic);
        free text outside WhatsApp's 24-hour window is refused (409) before anything is written."""
        require_open_window(ticket.channel, ticket.last_customer_message_at, now)
        messages, _ = self.tickets.thread(ticket.id)
        inbound = [m for m in messages if m.direction == Direction.INBOUND.value]
        message_id = derived_ulid(now, f"{ticket.id}#reply#{agent_id}#{len(messages)}")
        footer = None
        if ticket.channel not in PLATFORM_CHANNELS:  # a chat is its own live thread: the link rides on its notices
            footer = self._portal_footer(ticket, text, self._language(ticket, self.tickets.first_message(ticket.id)))
        self._deliver(
            ticket,
            inbound[-1] if inbound else None,
            message_id=message_id,
            subject=None,
            text=text,
            html=None,
            footer=footer,
            now=now,
            message_kind=MessageKind.AGENT,
            author={"agent": agent_id, "name": agent_name},
            event=("message.added", {"kind": "agent", "agent": agent_id}),
            from_name=agent_name or "Support",
        )
        return message_id

    def _deliver(
        self,
        ticket: Ticket,
        answering: Message | None,
        *,
        message_id: str,
        subject: str | None,
        text: str,
        html: str | None,
        now: datetime,
        message_kind: MessageKind,
        author: dict[str, Any],
        event: tuple[str, dict[str, Any]],
        from_name: str,
        whatsapp_template: str | None = None,
        language: str | None = None,
        footer: tuple[str, str] | None = None,
    ) -> None:
        """Send on the ticket's channel — email through SES at once; a platform channel (WhatsApp, Messenger,
        Instagram, Telegram, the widget) through the delivery queue, the message recorded `queued` first — and
        record the outbound message with its event. Phone, web form and API tickets keep it on the thread.
        `footer` (the portal line, as text and HTML) goes out with the message, never onto the thread."""
        email_message_id = None
        delivery: dict[str, Any] | None = None
        if ticket.channel == "email" and ticket.customer.email:
            sent_text, sent_html = text, html
            if footer is not None:
                sent_text = f"{text.rstrip()}\n\n--\n{footer[0]}\n"
                if html:
                    sent_html = html.replace("</body>", footer[1] + "</body>", 1) if "</body>" in html else html + footer[1]
            email_message_id = self._email(ticket, ticket.customer.email, answering, subject, sent_text, sent_html,
                                           message_kind, from_name)  # fmt: skip
        elif ticket.channel in PLATFORM_CHANNELS:
            delivery = self._platform_delivery(ticket, message_kind, now, whatsapp_template, language)
        sent = Message(
            ticket_id=ticket.id, message_id=message_id, at=iso(now), direction=Direction.OUTBOUND.value,
            kind=message_kind.value, channel=ticket.channel, author=author, subject=subject, body=text,
            email_message_id=email_message_id, recipients=[ticket.customer.email or ticket.customer.handle or ""],
            delivery=delivery,
        )  # fmt: skip
        self.tickets.add_messages([sent], [(ticket.id, _sent_event(sent, event, now))])
        if delivery is not None and delivery["status"] == "queued":
            job = {"ticket_id": ticket.id, "message_id": message_id, "at": sent.at}
            self.deliveries.enqueue({**job, "footer": footer[0]} if footer is not None and not delivery.get("template") else job)

    def _platform_delivery(
        self, ticket: Ticket, kind: MessageKind, now: datetime, whatsapp_template: str | None, language: str | None
    ) -> dict[str, Any]:
        """How the message will go out: queued as text, queued as the approved WhatsApp template outside the
        24-hour window (an automatic notice), or failed with the reason when neither may be sent."""
        at = iso(now)
        if free_text_allowed(ticket.channel, ticket.last_customer_message_at, now):
            return {"status": "queued", "updated_at": at}
        if kind == MessageKind.AUTOMATIC and whatsapp_template:
            return {"status": "queued", "updated_at": at, "template": whatsapp_template, "language": language or "en"}
        reason = "outside WhatsApp's 24-hour customer-service window and the template has no approved WhatsApp template"
        logger.info("platform message not sent", extra={"ticket_id": ticket.id, "reason": reason})
        return {"status": "failed", "updated_at": at, "error": reason}

    def _email(
        self,
        ticket: Ticket,
        to: str,
        answering: Message | None,
        subject: str | None,
        text: str,
        html: str | None,
        message_kind: MessageKind,
        from_name: str,
    ) -> str:
        """Mail to the customer, threaded under what it answers, replies coming back through the signed address."""
        references = tuple(str(r) for r in answering.in_reply_to or ()) if answering is not None else ()
        raw = compose_mail(
            OutboundMail(
                from_address=self.settings.support_address,
                from_name=from_name,
                to_address=to,
                to_name=ticket.customer.name,
                reply_to=reply_address(self.reply_key, ticket.ref, self.settings.support_address),
                subject=subject or reply_subject(ticket.subject, ticket.ref),
                text=text,
                html=html,
                ref=ticket.ref,
                in_reply_to=answering.email_message_id if answering is not None else None,
                references=references,
                loop_marker=self.settings.loop_marker,
                automatic=message_kind == MessageKind.AUTOMATIC,
                message_id_domain=self.settings.support_domain,
            )
        )
        return self.mailer.send(raw, self.settings.support_address, [to])


def _linked(text: str) -> str:
    """An escaped footer line with its URL made a link."""
    head, sep, url = text.rpartition(": ")
    return f'{head}{sep}<a href="{url}">{url}</a>' if sep and url.startswith("http") else text


def _sent_event(sent: Message, event: tuple[str, dict[str, Any]], now: datetime) -> AuditEvent:
    """The audit event of an outbound message: what kind, on which channel, under which ids."""
    event_type, event_data = event
    return AuditEvent(
        type=event_type,
        at=now,
        actor=f"agent:{sent.author['agent']}" if "agent" in sent.author else "system:customer-messages",
        data={**event_data, "channel": sent.channel, "message_id": sent.message_id, "email_message_id": sent.email_message_id},
        id=derived_ulid(now, f"{sent.message_id}#event"),
    )
