"""Default wiring: the services every function uses, built from settings with the real adapters.

Handlers call these once per cold start; tests build the same services with fakes where they need to.
"""

from __future__ import annotations

from shared.adapters.channel_senders import senders
from shared.adapters.delivery_queue import DeliveryQueue
from shared.adapters.event_bus import EventBus
from shared.adapters.idempotency import PowertoolsIdempotency
from shared.adapters.mailer import SesMailer
from shared.adapters.route_queue import RouteAnnouncer
from shared.adapters.secrets import purpose_key, signing_key
from shared.adapters.timers import EscalationTimers
from shared.services.alerts import MailAlerter
from shared.services.customer_messages import CustomerMessenger
from shared.services.knowledge_base import KnowledgeBase
from shared.services.delivery import DeliveryService
from shared.services.sla import SlaService
from shared.services.route_stage import Router
from shared.services.routing import RoutingService
from shared.settings import Settings, get_settings
from shared.storage.agents import AgentRepository
from shared.storage.config import ConfigRepository
from shared.storage.customers import CustomerRepository
from shared.storage.markers import MarkerRepository
from shared.storage.tickets import TicketRepository
from shared.services.ticket_changes import TicketChanges


def build_router(settings: Settings | None = None) -> Router:
    settings = settings or get_settings()
    tickets, agents, customers, config = TicketRepository(), AgentRepository(), CustomerRepository(), ConfigRepository()
    routing = RoutingService(tickets=tickets, agents=agents, customers=customers, config=config)
    messenger = build_messenger(settings)
    return Router(
        tickets=tickets,
        idempotency=PowertoolsIdempotency(settings, scope="route"),
        routing=routing,
        messenger=messenger,
        changes=TicketChanges(tickets=tickets, agents=agents, announcer=RouteAnnouncer(settings)),
        sla=build_sla_service(settings, routing, messenger),
        announcer=RouteAnnouncer(settings),
    )


def public_url(settings: Settings) -> str:
    """Where customers open the help centre and their portal: deployed, read once from its SSM parameter."""
    if settings.public_url_parameter:
        from shared.adapters.parameters import parameter_value

        return parameter_value(settings.public_url_parameter).rstrip("/")
    return settings.public_url


def build_knowledge_base(settings: Settings | None = None) -> KnowledgeBase:
    settings = settings or get_settings()
    from shared.adapters.blobs import BlobStore
    from shared.domain.timefmt import utcnow
    from shared.storage.kpi import ArticleCounterStore

    return KnowledgeBase(config=ConfigRepository(), blobs=BlobStore(settings), counters=ArticleCounterStore(),
                         public_url=lambda: public_url(settings), now=utcnow)  # fmt: skip


def build_messenger(settings: Settings | None = None) -> CustomerMessenger:
    settings = settings or get_settings()
    key = signing_key(settings)
    knowledge: KnowledgeBase | None = None

    def kb() -> KnowledgeBase:
        nonlocal knowledge
        knowledge = knowledge or build_knowledge_base(settings)
        return knowledge

    return CustomerMessenger(
        settings=settings,
        tickets=TicketRepository(),
        agents=AgentRepository(),
        customers=CustomerRepository(),
        config=ConfigRepository(),
        markers=MarkerRepository(),
        mailer=SesMailer(settings),
        reply_key=purpose_key(key, "reply-to"),
        deliveries=DeliveryQueue(settings),
        portal_key=purpose_key(key, "portal"),
        public_url=lambda: public_url(settings),
        knowledge=kb,
    )


def build_delivery(settings: Settings | None = None) -> tuple[DeliveryService, DeliveryQueue]:
    """The deliver function's service (each platform's sender over HTTP) and its queue, for the backoff."""
    settings = settings or get_settings()
    service = DeliveryService(tickets=TicketRepository(), senders=senders(settings), max_attempts=settings.delivery_max_attempts)
    return service, DeliveryQueue(settings)


def build_sla_service(
    settings: Settings | None = None, routing: RoutingService | None = None, messenger: CustomerMessenger | None = None
) -> SlaService:
    settings = settings or get_settings()
    tickets, agents, config = TicketRepository(), AgentRepository(), ConfigRepository()
    routing = routing or RoutingService(tickets=tickets, agents=agents, customers=CustomerRepository(), config=config)
    return SlaService(
        tickets=tickets,
        agents=agents,
        config=config,
        timers=EscalationTimers(settings),
        bus=EventBus(settings),
        alerts=MailAlerter(settings, agents, config, MarkerRepository(), SesMailer(settings)),
        routing=routing,
        notices=messenger or build_messenger(settings),
    )
