"""Dead letters: the original record, unchanged, plus headers saying what went wrong."""

from __future__ import annotations

import time

from kafka.consumer.fetcher import ConsumerRecord
from kafka.producer.future import FutureRecordMetadata

from observability.tracing import current_trace_id
from pivot.bus import topics
from pivot.bus.client import BusProducer

PREFIX = "pivot_dlq_"
STAGE = PREFIX + "stage"
ERROR_CLASS = PREFIX + "error_class"
MESSAGE = PREFIX + "message"
ATTEMPTS = PREFIX + "attempts"
ORIGINAL_TOPIC = PREFIX + "topic"
ORIGINAL_PARTITION = PREFIX + "partition"
ORIGINAL_OFFSET = PREFIX + "offset"
TRACE_ID = PREFIX + "trace_id"
FAILED_AT = PREFIX + "failed_at"


def dead_letter(
    producer: BusProducer,
    connector: str,
    record: ConsumerRecord,
    *,
    stage: str,
    error: BaseException,
    attempts: int = 1,
) -> FutureRecordMetadata:
    """Send ``record`` to ``pivot.dlq.<connector>`` with its error headers."""
    headers = [(k, v) for k, v in (record.headers or []) if not k.startswith(PREFIX)]
    meta = {
        STAGE: stage,
        ERROR_CLASS: type(error).__name__,
        MESSAGE: str(error)[:1000],
        ATTEMPTS: str(attempts),
        ORIGINAL_TOPIC: record.topic,
        ORIGINAL_PARTITION: str(record.partition),
        ORIGINAL_OFFSET: str(record.offset),
        TRACE_ID: current_trace_id() or "",
        FAILED_AT: f"{time.time():.3f}",
    }
    headers.extend((k, v.encode()) for k, v in meta.items())
    return producer.send_raw(topics.dlq(connector), record.key, record.value, headers)
