"""Domain exceptions: raised in the core, mapped once at the edge (HTTP status, DLQ, quarantine)."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the rules raise on purpose. `code` is stable and machine-readable."""

    code = "domain_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidTransition(DomainError):
    code = "invalid_transition"


class ValidationFailed(DomainError):
    """`fields` maps each refused field's path ("targets.first_response", "ladder[0].metric") to its problem, so a
    form can show each problem next to its field; the message says all of it in words."""

    code = "validation_failed"

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = dict(fields or {})


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class InFlight(DomainError):
    """Another invocation holds the processing lease for the same inbound item; retry later."""

    code = "in_flight"


class AgentUnavailable(Conflict):
    """The agent went offline or filled up since we read them: try the next candidate."""

    code = "agent_unavailable"


class TicketTaken(Conflict):
    """Someone else assigned or changed the ticket: stop trying to assign it."""

    code = "ticket_taken"


class SendRefused(DomainError):
    """The platform refused a send for good (a 4xx other than 429: bad recipient, expired window, bad token):
    retrying cannot help, so the message is marked failed with the platform's error."""

    code = "send_refused"


class SendDeferred(DomainError):
    """The platform could not take the send now (5xx, 429, a timeout): the delivery queue retries it later."""

    code = "send_deferred"
