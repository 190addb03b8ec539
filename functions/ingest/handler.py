"""Ingest Lambda: SES receipt-rule events (Lambda action after the S3 action) or S3 ObjectCreated events.

Thin on purpose: pick the records apart, hand each to the email intake, shape the reply. Each record stands
alone — a mail that trips a bug is quarantined, an infrastructure error is retried after the rest went through.
"""

from __future__ import annotations

from typing import Any

from shared.adapters.aws import aws_errors
from aws_lambda_powertools.utilities.data_classes.s3_event import S3EventRecord
from aws_lambda_powertools.utilities.data_classes.ses_event import SESEventRecord
from shared.adapters.blobs import BlobStore
from shared.adapters.idempotency import PowertoolsIdempotency, lambda_invocation
from shared.adapters.route_queue import RouteAnnouncer
from shared.adapters.secrets import purpose_key, signing_key
from shared.domain.errors import Conflict, InFlight
from shared.services.email_intake import EmailIntake, MailReceipt, receipt_from_s3_record, receipt_from_ses_record
from shared.services.intake import IntakeService
from shared.observability import bind_correlation, log_invocation, logger, metrics
from shared.settings import get_settings
from shared.storage.customers import CustomerRepository
from shared.storage.quarantine import QuarantineRepository
from shared.storage.markers import MarkerRepository
from shared.storage.errors import StorageError
from shared.storage.tickets import TicketRepository

RETRYABLE: tuple[type[Exception], ...] = (*aws_errors(), StorageError, InFlight, Conflict)

_intake: EmailIntake | None = None


class IngestRetry(Exception):
    """Raised after the whole batch ran, so Lambda's async retry (then the DLQ) covers only what failed."""


def build_intake() -> EmailIntake:
    settings = get_settings()
    blobs = BlobStore(settings)
    customers = CustomerRepository()
    service = IntakeService(
        settings=settings,
        tickets=TicketRepository(),
        customers=customers,
        markers=MarkerRepository(),
        idempotency=PowertoolsIdempotency(settings, scope="inbound"),
        announcer=RouteAnnouncer(settings),
        bodies=blobs,
        quarantine=QuarantineRepository(),
    )
    return EmailIntake(settings, service, blobs, customers, purpose_key(signing_key(settings), "reply-to"))


def _receipt(record: dict[str, Any]) -> MailReceipt:
    """An SES receipt-rule record (Lambda action) or an S3 notification record, told apart by what it carries."""
    if "ses" in record:
        return receipt_from_ses_record(SESEventRecord(record), get_settings())
    if "s3" in record:
        return receipt_from_s3_record(S3EventRecord(record))
    raise ValueError(f"unsupported record source {record.get('eventSource')!r}")


@metrics.log_metrics(capture_cold_start_metric=True)
@log_invocation
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global _intake
    if _intake is None:
        _intake = build_intake()
    with lambda_invocation(context):  # a mail this invocation takes in is held for as long as it may still run
        return _take_in(_intake, event)


def _take_in(intake: EmailIntake, event: dict[str, Any]) -> dict[str, Any]:
    results: list[dict[str, Any]] = []
    retry: list[str] = []
    for record in event.get("Records", []):
        receipt = _receipt(record)
        bind_correlation(receipt.delivery_id)
        try:
            result = intake.process(receipt)
        except (InFlight, Conflict) as error:  # routine: another invocation holds this mail, or a ticket moved
            logger.info("inbound mail will be retried", extra={"raw_key": receipt.key, "reason": type(error).__name__})
            retry.append(f"{receipt.delivery_id}: {type(error).__name__}: {error}")
            continue
        except RETRYABLE as error:
            logger.exception("inbound mail will be retried", extra={"raw_key": receipt.key})
            retry.append(f"{receipt.delivery_id}: {type(error).__name__}: {error}")
            continue
        except Exception as error:  # noqa: BLE001 - one odd mail must never block the mailbox
            logger.exception("unexpected error; quarantining the mail", extra={"raw_key": receipt.key})
            result = intake.quarantine_unexpected(receipt, error)
        results.append({"delivery_id": receipt.delivery_id, **result.as_dict()})
    if retry:
        raise IngestRetry("; ".join(retry))
    return {"results": results}
