"""The API's composition root: each service the routes call, built once per process on first use and wired to
the DynamoDB repositories and the route queue (most requests read tickets or agents, so the intake, the router
and pydantic's config contracts are built only when a request needs them)."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from shared.adapters.route_queue import RouteAnnouncer
from shared.domain.timefmt import utcnow
from shared.services.configuration import Configuration
from shared.services.overview import Overview
from shared.services.people import Customers, Roster
from shared.services.quarantine_review import QuarantineReview
from shared.services.saved_views import SavedViews
from shared.services.ticket_desk import Replier, TicketDesk
from shared.settings import get_settings
from shared.storage.agents import AgentRepository
from shared.storage.config import ConfigRepository
from shared.storage.customers import CustomerRepository
from shared.storage.quarantine import QuarantineRepository
from shared.storage.tickets import TicketRepository

if TYPE_CHECKING:
    from shared.services.channel_intake import ChannelIntake
    from shared.services.knowledge_base import KnowledgeBase
    from shared.services.kpis import KpiReports
    from shared.services.portal import Portal
    from shared.services.intake import IntakeService
    from shared.services.ticket_changes import TicketChanges
    from shared.services.ticket_work import TicketWork


@lru_cache(maxsize=1)
def announcer() -> RouteAnnouncer:
    return RouteAnnouncer(get_settings())


@lru_cache(maxsize=1)
def _intake() -> IntakeService:
    from shared.adapters.blobs import BlobStore
    from shared.adapters.idempotency import PowertoolsIdempotency
    from shared.services.intake import IntakeService
    from shared.storage.markers import MarkerRepository

    settings = get_settings()
    return IntakeService(
        settings=settings,
        tickets=TicketRepository(),
        customers=CustomerRepository(),
        markers=MarkerRepository(),
        idempotency=PowertoolsIdempotency(settings, scope="inbound"),
        announcer=announcer(),
        bodies=BlobStore(settings),
        quarantine=QuarantineRepository(),
    )


@lru_cache(maxsize=1)
def _messenger() -> Replier:
    from shared.services.wiring import build_router

    return build_router().messenger


def _changes() -> TicketChanges:
    from shared.services.ticket_changes import TicketChanges

    return TicketChanges(tickets=TicketRepository(), agents=AgentRepository(), announcer=announcer())


@lru_cache(maxsize=1)
def desk() -> TicketDesk:
    return TicketDesk(
        tickets=TicketRepository(),
        agents=AgentRepository(),
        announcer=announcer(),
        intake=_intake,
        messenger=_messenger,
        changes=_changes,
        now=utcnow,
    )


@lru_cache(maxsize=1)
def roster() -> Roster:
    return Roster(agents=AgentRepository(), announcer=announcer(), now=utcnow)


@lru_cache(maxsize=1)
def customers() -> Customers:
    return Customers(customers=CustomerRepository(), now=utcnow, tickets=TicketRepository())


@lru_cache(maxsize=1)
def configuration() -> Configuration:
    return Configuration(config=ConfigRepository(), announcer=announcer(), now=utcnow)


@lru_cache(maxsize=1)
def quarantine() -> QuarantineReview:
    return QuarantineReview(QuarantineRepository())


@lru_cache(maxsize=1)
def work() -> TicketWork:
    from shared.services.ticket_work import TicketWork

    return TicketWork(
        desk=desk(),
        tickets=TicketRepository(),
        agents=AgentRepository(),
        config=ConfigRepository(),
        announcer=announcer(),
        messenger=_messenger,  # type: ignore[arg-type]  # the router's CustomerMessenger: notices and rendering too
        changes=_changes,
        now=utcnow,
    )


@lru_cache(maxsize=1)
def overview() -> Overview:
    return Overview(TicketRepository())


@lru_cache(maxsize=1)
def saved_views() -> SavedViews:
    return SavedViews(config=ConfigRepository(), now=utcnow)


@lru_cache(maxsize=1)
def channel_intake() -> ChannelIntake:
    from shared.adapters.blobs import BlobStore
    from shared.adapters.secrets import channel_secret
    from shared.services.channel_intake import ChannelIntake

    settings = get_settings()
    return ChannelIntake(
        intake=_intake,
        tickets=TicketRepository(),
        quarantine=QuarantineRepository(),
        bodies=BlobStore(settings),
        bucket=settings.mail_bucket,
        secrets=lambda webhook: channel_secret(settings, webhook),
        now=utcnow,
    )


@lru_cache(maxsize=1)
def knowledge_base() -> KnowledgeBase:
    from shared.services.wiring import build_knowledge_base

    return build_knowledge_base(get_settings())


@lru_cache(maxsize=1)
def portal() -> Portal:
    from shared.adapters.secrets import purpose_key, signing_key
    from shared.services.portal import Portal

    return Portal(
        tickets=TicketRepository(),
        key=purpose_key(signing_key(get_settings()), "portal"),
        intake=_intake,
        changes=_changes,
        kb=knowledge_base,
        now=utcnow,
    )


@lru_cache(maxsize=1)
def kpi_reports() -> KpiReports:
    from shared.services.kpis import KpiReports
    from shared.storage.kpi import KpiRepository

    return KpiReports(store=KpiRepository(), agents=AgentRepository(), desk=TicketRepository(), config=ConfigRepository(), now=utcnow)
