"""Kafka producer and admin built from the settings (kafka-python)."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from collections.abc import Iterable

from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError
from kafka.producer.future import FutureRecordMetadata

from observability import tracing
from pivot.bus.envelope import TRACEPARENT, Envelope
from pivot.errors import BrokerUnavailable
from pivot.settings import KafkaSettings

log = logging.getLogger(__name__)

_CE_ID = "ce_id"
_CE_TYPE = "ce_type"
_SPAN_HEADERS = frozenset({_CE_ID, _CE_TYPE})


def _text(raw: bytes | None) -> str | None:
    return raw.decode("utf-8", "replace") if raw is not None else None


class BusProducer:
    """Produces envelopes with ``acks=all``; the key is the envelope's key (canonical id)."""

    def __init__(self, bootstrap: str, settings: KafkaSettings | None = None) -> None:
        self.settings = settings or KafkaSettings()
        s = self.settings
        try:
            self._producer = KafkaProducer(
                bootstrap_servers=bootstrap,
                client_id=f"{s.client_id}-producer",
                acks="all",
                linger_ms=s.linger_ms,
                batch_size=s.batch_size,
                request_timeout_ms=s.request_timeout_ms,
                bootstrap_timeout_ms=int(s.send_timeout_s * 1000),
                retries=5,
                max_in_flight_requests_per_connection=1,  # keeps order across retries
                # Producer ids live in the broker's memory: a restarted embedded broker forgets
                # them and an idempotent producer then fails for good. Duplicates from client
                # retries are already harmless (event ids, processed-event record).
                enable_idempotence=False,
            )
        except KafkaError as exc:
            raise BrokerUnavailable(f"cannot reach the Kafka cluster at {bootstrap}: {exc}") from exc

    def send(self, topic: str, envelope: Envelope) -> FutureRecordMetadata:
        """Queue an envelope in a ``"<topic> send"`` span whose context goes in its headers.

        The span continues the trace the envelope's headers carry (a spooled payload keeps the
        trace of the request that accepted it), else the current one. Without a tracer
        provider, no span: the current context is added when the headers have none.
        """
        if not tracing.active():
            if TRACEPARENT not in envelope.headers:
                headers = dict(envelope.headers)
                tracing.inject(headers)
                if headers != envelope.headers:
                    envelope = dataclasses.replace(envelope, headers=headers)
            key, value, kafka_headers = envelope.to_kafka()
            return self._producer.send(topic, key=key, value=value, headers=kafka_headers)
        with tracing.producer_span(topic, envelope.id, parent=envelope.headers,
                                   event_type=envelope.type):
            headers = {k: v for k, v in envelope.headers.items() if k not in tracing.TRACE_HEADERS}
            envelope = dataclasses.replace(envelope, headers=tracing.inject(headers))
            key, value, kafka_headers = envelope.to_kafka()
            return self._producer.send(topic, key=key, value=value, headers=kafka_headers)

    def send_raw(
        self, topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
    ) -> FutureRecordMetadata:
        """Queue a record as it is (dead letters keep the original bytes) but its trace context.

        Like :meth:`send`, in a ``"<topic> send"`` span continuing the trace of the record's
        ``traceparent`` (else the current one), whose context replaces it.
        """
        if not tracing.active():
            return self._producer.send(topic, key=key, value=value, headers=headers)
        found = {k: v for k, v in headers if k in _SPAN_HEADERS}
        with tracing.producer_span(topic, _text(found.get(_CE_ID)),
                                   parent=tracing.carrier(headers),
                                   event_type=_text(found.get(_CE_TYPE))):
            return self._producer.send(topic, key=key, value=value,
                                       headers=tracing.with_current_context(headers))

    def send_and_wait(self, topic: str, envelope: Envelope) -> None:
        """Send one envelope and return only once the broker acknowledged it."""
        self.wait([self.send(topic, envelope)])

    def wait(self, futures: Iterable[FutureRecordMetadata], timeout_s: float | None = None) -> None:
        """Wait until the broker acknowledged every future; raise :class:`BrokerUnavailable` if not.

        Records leave after ``linger_ms`` on their own: no flush, so concurrent callers do not
        wait for each other's records.
        """
        deadline = time.monotonic() + (timeout_s or self.settings.send_timeout_s)
        try:
            for future in futures:
                future.get(timeout=max(0.001, deadline - time.monotonic()))
        except KafkaError as exc:
            raise BrokerUnavailable(f"broker did not acknowledge: {exc}") from exc

    def close(self) -> None:
        """Flush pending records and close."""
        with contextlib.suppress(KafkaError):
            self._producer.close(timeout=self.settings.send_timeout_s)


def ensure_topics(bootstrap: str, topics: Iterable[str], settings: KafkaSettings | None = None) -> None:
    """Create the topics that do not exist yet (idempotent)."""
    s = settings or KafkaSettings()
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap, client_id=f"{s.client_id}-admin",
        request_timeout_ms=s.request_timeout_ms,
    )
    try:
        existing = set(admin.list_topics())
        missing = [t for t in dict.fromkeys(topics) if t not in existing]
        if not missing:
            return
        new = [NewTopic(t, s.partitions, s.replication_factor) for t in missing]
        with contextlib.suppress(TopicAlreadyExistsError):
            admin.create_topics(new)
        log.debug("created topics %s", missing)
    finally:
        admin.close()


def broker_reachable(bootstrap: str, timeout_ms: int = 2_000) -> bool:
    """True when the cluster answers a metadata request."""
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=timeout_ms,
                                 bootstrap_timeout_ms=timeout_ms)
    except KafkaError:
        return False
    try:
        admin.list_topics()
        return True
    except KafkaError:
        return False
    finally:
        admin.close()
