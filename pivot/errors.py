"""Pivot's error taxonomy, grouped by what the caller must do.

::

    PivotError
    ├── ConfigurationError      wrong settings or missing dependency: fail fast, never retried
    ├── RetryableError          transient (5xx, timeout, connection): retried in place, bounded
    │   ├── NotYetKnown         a record this one refers to has not arrived yet: retried longer
    │   ├── BrokerUnavailable   the Kafka cluster did not acknowledge in time
    │   └── StoreConflict       another worker wrote the same row first: redo the whole batch
    ├── RejectedError           this message cannot be processed: DLQ with its reason, move on
    │   ├── MappingError        payload does not fit the connector's satellite model / mapping
    │   ├── UnknownEventError   no mapping for this satellite event type
    │   └── DeliveryRejected    the satellite refused the call (4xx other than 408/429)
    └── ContractViolation       an event does not match its committed schema (a bug: DLQ + alert)

:func:`classify_http_status` is the one place that turns an HTTP status into this tree.
"""

from __future__ import annotations


class PivotError(Exception):
    """Root of every error the hub raises on purpose."""

    #: Short machine-readable stage name used in DLQ headers and metrics.
    kind: str = "error"


class ConfigurationError(PivotError):
    """Settings or installation are wrong; retrying will not help."""

    kind = "configuration"


class RetryableError(PivotError):
    """A transient failure; the same call may succeed later."""

    kind = "retryable"


class NotYetKnown(RetryableError):
    """A record this one refers to has not reached the hub (or the satellite) yet.

    Records travel on several topics and partitions, so a lot may come before its building.
    Retried until the connector's ``max_delay_s``, however many attempts that takes: the
    other record is on its way, not failing.
    """

    kind = "not_yet_known"


class BrokerUnavailable(RetryableError):
    """The Kafka cluster did not acknowledge a write in time."""

    kind = "broker_unavailable"


class StoreConflict(RetryableError):
    """Another worker wrote the same identity first; the batch's transaction must be redone.

    Not a problem of one message: stages let it through their per-message error handling so
    the consumer loop rolls the batch back and processes it again.
    """

    kind = "store_conflict"


class RejectedError(PivotError):
    """A message that cannot be processed as it is: dead-letter it and move on."""

    kind = "rejected"


class MappingError(RejectedError):
    """The payload does not fit the satellite model or the mapping refused it."""

    kind = "mapping"


class UnknownEventError(RejectedError):
    """The connector has no mapping for this satellite event type."""

    kind = "unknown_event"


class DeliveryRejected(RejectedError):
    """The satellite refused an outbound call for a reason retrying won't fix."""

    kind = "delivery_rejected"


class ContractViolation(PivotError):
    """A produced or consumed event breaks its committed contract."""

    kind = "contract"


#: HTTP statuses that are worth retrying (everything else >= 400 is a rejection).
RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


def classify_http_status(status: int, detail: str = "") -> PivotError | None:
    """Map an HTTP status of a satellite's answer to the error to raise, or None when it is a success."""
    if status < 400:
        return None
    message = f"HTTP {status}" + (f": {detail[:300]}" if detail else "")
    if status in RETRYABLE_STATUSES:
        return RetryableError(message)
    return DeliveryRejected(message)
