"""Alerts to people inside the team — the assignee, the team's supervisors and managers — by SES mail.

Rate-limited per recipient so an incident cannot become a mail storm, and kept to the team's business hours
unless the ticket is urgent. An alert outside hours is held, not dropped: it is appended to the team's deferred
list, and the first sweep inside business hours sends each recipient one digest of what waited (the ticket's
events and the EventBridge bus carry every alert at once for on-call tooling).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable

from shared.domain.business_calendar import BusinessCalendar
from shared.services.customer_messages import Mailer
from shared.mail.outbound import OutboundMail, compose_mail
from shared.observability import Metric, count, logger
from shared.settings import Settings
from shared.domain.ticket import Ticket
from shared.domain.ports import Agents, Config, Markers
from shared.domain.teams import team_settings
from shared.domain.timefmt import Clock, iso, utcnow

ALERTS_PER_RECIPIENT_PER_10_MIN = 10
DEFERRED_KEPT = timedelta(days=14)  # a list nobody's calendar ever opens for expires rather than grows forever
MAX_DEFERRED = 500  # held alerts per team (one item, well under DynamoDB's 400 KB); beyond, they are only counted


def deferred_key(team: str) -> str:
    return f"alerts-deferred#{team}"


def digest_text(team: str, entries: list[dict[str, Any]]) -> tuple[str, str]:
    """Subject and text of one recipient's digest, oldest alert first."""
    noun = "alert" if len(entries) == 1 else "alerts"
    lines = [
        f"{len(entries)} {noun} for team {team} came in outside business hours and were held until now.",
        "Each ticket's events have the details; urgent tickets were alerted at once and are not repeated here.",
        "",
    ]
    for entry in sorted(entries, key=lambda e: str(e.get("at"))):
        lines.append(f"- {str(entry.get('at'))[:16].replace('T', ' ')} UTC  {entry.get('subject')}")
    return f"[{team}] {len(entries)} {noun} held outside business hours", "\n".join(lines) + "\n"


@dataclass
class MailAlerter:
    settings: Settings
    agents: Agents
    config: Config
    markers: Markers
    mailer: Mailer
    clock: Clock = utcnow

    def recipients(self, ticket: Ticket, roles: Iterable[str]) -> list[str]:
        team = team_settings(self.config, ticket.team)
        out: list[str] = []
        for role in roles:
            if role == "assignee" and ticket.assignee:
                view = self.agents.get(ticket.assignee)
                if view is not None and view.profile.email:
                    out.append(view.profile.email)
            elif role == "supervisor":
                out += team.supervisors
            elif role == "manager":
                out += team.managers
        return sorted(set(out))

    def alert(self, ticket: Ticket, roles: Iterable[str], subject: str, text: str, urgent: bool) -> None:

        now = self.clock()
        addresses = self.recipients(ticket, roles)
        if not urgent and not self._team_calendar(ticket.team).is_open(now):
            self._defer(ticket, addresses, subject, now)
            return
        for address in addresses:
            if self.markers.hit(f"rate#alert#{address}", now, 600, f"{ticket.id}#{subject}") > ALERTS_PER_RECIPIENT_PER_10_MIN:
                count(Metric.ALERTS_SENT, outcome="rate_limited")
                continue
            self._send(address, subject, text, ticket.ref)
            count(Metric.ALERTS_SENT, outcome="sent")

    def send_deferred(self, team: str) -> int:
        """Inside the team's business hours, send each recipient one digest of the alerts held back; returns the
        number of digests sent. The list is taken under a condition on its append count, so alerts appended
        meanwhile (or a concurrent sweep) leave it for the next minute, and none is sent twice."""
        now = self.clock()
        if not self._team_calendar(team).is_open(now):
            return 0
        entries, hits = self.markers.held(deferred_key(team))
        if not entries:
            return 0
        if not self.markers.take(deferred_key(team), hits):
            logger.info("deferred alerts changed while taking them; next sweep", extra={"team": team})
            return 0
        by_recipient: dict[str, list[dict[str, Any]]] = {}
        for entry in entries:
            for address in entry.get("to") or []:
                by_recipient.setdefault(str(address), []).append(entry)
        sent = 0
        for address, own in sorted(by_recipient.items()):
            subject, text = digest_text(team, own)
            try:
                self._send(address, subject, text, None)
            except Exception:  # noqa: BLE001 - put this recipient's alerts back for the next sweep; go on with the rest
                logger.exception("digest not sent; held again", extra={"team": team, "to": address})
                for entry in own:
                    self._hold(team, {**entry, "to": [address]}, now)
                continue
            sent += 1
            count(Metric.ALERTS_SENT, outcome="digest")
        logger.info("deferred alerts sent", extra={"team": team, "alerts": len(entries), "digests": sent})
        return sent

    def _defer(self, ticket: Ticket, addresses: list[str], subject: str, now: datetime) -> None:
        if not addresses:
            return
        entry = {"at": iso(now), "ticket_id": ticket.id, "ref": ticket.ref, "subject": subject, "to": addresses}
        if self._hold(ticket.team, entry, now):
            count(Metric.ALERTS_SENT, outcome="deferred")
            logger.info("alert outside business hours held for the digest", extra={"ticket_id": ticket.id, "subject": subject})

    def _hold(self, team: str, entry: dict[str, Any], now: datetime) -> bool:
        """Append to the team's held alerts; False when the list is full (the alert stays on the ticket's events
        and the bus)."""
        if not self.markers.hold(deferred_key(team), entry, int((now + DEFERRED_KEPT).timestamp()), MAX_DEFERRED):
            count(Metric.ALERTS_SENT, outcome="dropped")
            logger.warning("held alerts list full; alert only on the ticket and the bus", extra={"team": team})
            return False
        return True

    def _team_calendar(self, team_name: str) -> BusinessCalendar:
        from shared.services.sla import calendar

        return calendar(self.config, team_settings(self.config, team_name).calendar)

    def _send(self, address: str, subject: str, text: str, ref: str | None) -> None:
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
                ref=ref,
                in_reply_to=None,
                references=(),
                loop_marker=self.settings.loop_marker,
                automatic=True,
                message_id_domain=self.settings.support_domain,
            )
        )
        self.mailer.send(raw, self.settings.support_address, [address])
