"""Alerts to people inside the team — the assignee, the team's supervisors and managers — by SES mail.

Rate-limited per recipient so an incident cannot become a mail storm, and kept to the team's business hours
unless the ticket is urgent (an alert outside hours is logged and counted as deferred; the ticket's events and
the EventBridge bus still carry it for on-call tooling).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from shared.business_calendar import ALWAYS_OPEN_ID
from shared.customer_messages import Mailer
from shared.mail.outbound import OutboundMail, compose_mail
from shared.observability import Metric, count, logger
from shared.settings import Settings
from shared.storage.agents import AgentRepository
from shared.storage.config import ConfigRepository
from shared.storage.markers import MarkerRepository
from shared.storage.models import TicketModel
from shared.timefmt import Clock, utcnow

ALERTS_PER_RECIPIENT_PER_10_MIN = 10


@dataclass
class MailAlerter:
    settings: Settings
    agents: AgentRepository
    config: ConfigRepository
    markers: MarkerRepository
    mailer: Mailer
    clock: Clock = utcnow

    def recipients(self, ticket: TicketModel, roles: Iterable[str]) -> list[str]:
        team = self.config.get("team", ticket.team) or {}
        out: list[str] = []
        for role in roles:
            if role == "assignee" and ticket.assignee:
                view = self.agents.get(ticket.assignee)
                if view is not None and view.profile.email:
                    out.append(view.profile.email)
            elif role in ("supervisor", "manager"):
                out += [str(a) for a in team.get(f"{role}s", [])]
        return sorted(set(out))

    def alert(self, ticket: TicketModel, roles: Iterable[str], subject: str, text: str, urgent: bool) -> None:
        from shared.escalation import calendar

        now = self.clock()
        team = self.config.get("team", ticket.team) or {}
        cal = calendar(self.config, str(team.get("calendar", ALWAYS_OPEN_ID)))
        if not urgent and not cal.is_open(now):
            count(Metric.ALERTS_SENT, outcome="deferred")
            logger.info("alert outside business hours deferred", extra={"ticket_id": ticket.id, "subject": subject})
            return
        for address in self.recipients(ticket, roles):
            if self.markers.hit(f"rate#alert#{address}", now, 600) > ALERTS_PER_RECIPIENT_PER_10_MIN:
                count(Metric.ALERTS_SENT, outcome="rate_limited")
                continue
            raw = compose_mail(
                OutboundMail(
                    from_address=self.settings.support_address,
                    from_name="Ticketing alerts",
                    to_address=address,
                    to_name=None,
                    reply_to=self.settings.support_address,
                    subject=subject,
                    text=text,
                    html=None,
                    ref=ticket.ref,
                    in_reply_to=None,
                    references=(),
                    loop_marker=self.settings.loop_marker,
                    automatic=True,
                    message_id_domain=self.settings.support_domain,
                )
            )
            self.mailer.send(raw, self.settings.support_address, [address])
            count(Metric.ALERTS_SENT, outcome="sent")
