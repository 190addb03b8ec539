"""Work done once per business key, through Powertools' idempotency utility (the `Idempotency` port).

The records live in the markers table — its key schema fits (a string hash key `key`, TTL on `expires_at`), and
every stage that takes in or routes messages already may write it — under `idempotency#<scope>#<hash of the
key>`. Powertools writes an in-progress record with a conditional put before the work, stores the work's result
when it completes (a redelivery gets that result back, replayed), and deletes the record when the work raises,
so the retry runs it again. An in-progress record whose holder died is taken over once the holder's invocation
would have ended: its remaining time while a handler runs inside `lambda_invocation`, else `lease_seconds`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, cast

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
)

from shared.adapters.aws import aws_errors, client
from shared.domain.errors import InFlight
from shared.domain.model import Once
from shared.observability import logger
from shared.settings import Settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

DAY = 86_400

# the Lambda context of the invocation running in this thread (the local stack runs handlers on many threads)
_invocation: ContextVar[Any] = ContextVar("lambda_invocation", default=None)


@contextmanager
def lambda_invocation(context: Any) -> Iterator[None]:
    """While a handler runs: an in-progress record is held for as long as the invocation may still run."""
    token = _invocation.set(context)
    try:
        yield
    finally:
        _invocation.reset(token)


@dataclass(frozen=True)
class _Remaining:
    """What Powertools reads of a Lambda context: the time the holder has left."""

    millis: int

    def get_remaining_time_in_millis(self) -> int:
        return self.millis


@dataclass(frozen=True)
class _Replayed:
    result: Any


def _replayed(response: Any, idempotent_data: DataRecord) -> _Replayed:
    """Powertools' response hook: called only for a result read back from the table, i.e. for a duplicate."""
    return _Replayed(response)


class PowertoolsIdempotency:
    def __init__(self, settings: Settings, scope: str) -> None:
        self.scope = scope
        self.retention_seconds = settings.idempotency_days * DAY
        self._store = DynamoDBPersistenceLayer(
            table_name=settings.markers_table,
            key_attr="key",
            expiry_attr="expires_at",
            boto3_client=client("dynamodb", settings.region),
        )

    def once(self, key: str, work: Callable[[], dict[str, Any]], lease_seconds: int) -> Once:
        failed: list[Exception] = []

        def attempt(request: dict[str, str]) -> dict[str, Any]:
            try:
                return work()
            except Exception as error:
                failed.append(error)
                raise

        run = idempotent_function(
            attempt,
            data_keyword_argument="request",
            persistence_store=self._store,
            config=self._config(lease_seconds),
            key_prefix=f"idempotency#{self.scope}",
        )
        try:
            outcome = run(request={"key": key})
        except IdempotencyAlreadyInProgressError as error:
            raise InFlight(f"{self.scope} {key} is being processed by another invocation") from error
        except IdempotencyPersistenceLayerError as error:
            raise self._underlying(error, failed, key) from error
        if isinstance(outcome, _Replayed):
            return Once(dict(outcome.result or {}), replayed=True)
        return Once(outcome)

    def _config(self, lease_seconds: int) -> IdempotencyConfig:
        """One per call: the remaining time is this invocation's (threads of the local stack run side by side)."""
        context = _invocation.get()
        remaining = context if context is not None else _Remaining(lease_seconds * 1000)
        return IdempotencyConfig(
            event_key_jmespath="key",
            raise_on_no_idempotency_key=True,  # an empty key is a bug, never a reason to run unguarded
            expires_after_seconds=self.retention_seconds,
            lambda_context=cast("LambdaContext", remaining),
            response_hook=_replayed,
        )

    @staticmethod
    def _underlying(error: IdempotencyPersistenceLayerError, failed: list[Exception], key: str) -> Exception:
        """What the caller should see when the table failed: the work's own error when the record could not be
        deleted after it (the record is taken over when its lease ends), DynamoDB's error otherwise, so the edges
        map it as they map any AWS failure (a retry)."""
        if failed:
            logger.exception("could not release the idempotency record", extra={"key": key})
            return failed[0]
        cause = error.__cause__
        if isinstance(cause, aws_errors()):
            return cause
        return error
