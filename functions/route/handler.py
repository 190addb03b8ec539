"""Route Lambda: the route queue's announcements, one record at a time, with partial batch failures.

A record that fails is reported back to SQS alone and retried; after the queue's maxReceiveCount it lands in the
route DLQ. Handlers stay thin: parse, call the router, let the batch processor shape the reply.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from shared.adapters.mailer import SesMailer
from shared.adapters.route_queue import RouteAnnouncer
from shared.adapters.secrets import purpose_key, signing_key
from shared.customer_messages import CustomerMessenger
from shared.observability import logger, metrics
from shared.route_events import Router
from shared.routing import RoutingService
from shared.settings import get_settings
from shared.storage.agents import AgentRepository
from shared.storage.config import ConfigRepository
from shared.storage.customers import CustomerRepository
from shared.storage.markers import MarkerRepository
from shared.storage.tickets import TicketRepository
from shared.ticket_changes import TicketChanges

processor = BatchProcessor(event_type=EventType.SQS)
_router: Router | None = None


def build_router() -> Router:
    settings = get_settings()
    tickets, agents, customers, config = TicketRepository(), AgentRepository(), CustomerRepository(), ConfigRepository()
    return Router(
        tickets=tickets,
        markers=MarkerRepository(),
        routing=RoutingService(tickets=tickets, agents=agents, customers=customers, config=config),
        messenger=CustomerMessenger(
            settings=settings,
            tickets=tickets,
            agents=agents,
            customers=customers,
            config=config,
            markers=MarkerRepository(),
            mailer=SesMailer(settings),
            reply_key=purpose_key(signing_key(settings), "reply-to"),
        ),
        changes=TicketChanges(tickets=tickets, agents=agents, announcer=RouteAnnouncer(settings)),
    )


def record_handler(record: SQSRecord) -> dict[str, Any]:
    global _router
    if _router is None:
        _router = build_router()
    logger.set_correlation_id(record.message_id)
    return _router.handle(json.loads(record.body))


@metrics.log_metrics
@logger.inject_lambda_context(log_event=False, clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return dict(process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context))
