"""The CloudEvents 1.0 envelope in Kafka binary mode (``ce_*`` headers, data as the value).

Uses the ``cloudevents`` SDK's Kafka binding; the data stays bytes end to end so the payload of
a raw event is exactly what the satellite sent, and canonical payloads are parsed once, by the
canonical model.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.exceptions import BaseCloudEventException
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from pivot.errors import RejectedError

#: Namespace of deterministic event ids (uuid5).
EVENT_ID_NAMESPACE = uuid.UUID("6f1c2a52-1d0e-4a43-9e2f-5a8f3f0c9b10")

RAW_EVENT_TYPE = "fr.pivot.raw.received.v1"
JSON = "application/json"

#: Kafka headers that are not CloudEvents attributes but travel with the event.
TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
INGESTED_AT = "pivot_ingested_at"


class _BytesFormat(JSONFormat):
    """JSON format that leaves the data as bytes: parsing is the canonical model's job."""

    def read_data(self, body: bytes, datacontenttype: str | None) -> bytes:  # type: ignore[override]
        return body


_FORMAT = _BytesFormat()


class EnvelopeError(RejectedError):
    """A Kafka record is not a valid CloudEvent in binary mode."""

    kind = "envelope"


def event_id(*parts: str) -> str:
    """A deterministic event id: the same parts always give the same id (idempotency)."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, "\x1f".join(parts)))


@dataclass(frozen=True, slots=True)
class Envelope:
    """One CloudEvent as it travels on Kafka."""

    id: str
    type: str
    source: str
    data: bytes
    subject: str | None = None
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    dataschema: str | None = None
    datacontenttype: str = JSON
    key: str | None = None
    #: Other Kafka headers (trace context, ingestion time, DLQ metadata).
    headers: Mapping[str, str] = field(default_factory=dict)

    def to_kafka(self) -> tuple[bytes | None, bytes, list[tuple[str, bytes]]]:
        """Return (key, value, headers) for a Kafka producer."""
        attributes: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "source": self.source,
            "time": self.time,
            "datacontenttype": self.datacontenttype,
        }
        if self.subject:
            attributes["subject"] = self.subject
        if self.dataschema:
            attributes["dataschema"] = self.dataschema
        message = ce_kafka.to_binary(
            CloudEvent(attributes, self.data), _FORMAT, key_mapper=lambda _e: self.key
        )
        headers = [(name, value) for name, value in message.headers.items()]
        headers.extend((name, value.encode()) for name, value in self.headers.items())
        key = self.key.encode() if self.key is not None else None
        return key, message.value, headers

    @classmethod
    def from_kafka(
        cls, key: bytes | None, value: bytes | None, headers: Iterable[tuple[str, bytes]] | None
    ) -> Envelope:
        """Parse a Kafka record in binary mode; raise :class:`EnvelopeError` when it is not one."""
        header_map = {name: raw for name, raw in (headers or [])}
        try:
            event = ce_kafka.from_binary(
                ce_kafka.KafkaMessage(headers=header_map, key=key, value=value or b""), _FORMAT
            )
        except (BaseCloudEventException, ValueError, UnicodeDecodeError) as exc:
            raise EnvelopeError(f"not a CloudEvent in binary mode: {exc}") from exc
        extras = {
            name: raw.decode("utf-8", "replace")
            for name, raw in header_map.items()
            if not name.lower().startswith("ce_") and name.lower() != "content-type"
        }
        data = event.get_data()
        return cls(
            id=event.get_id(),
            type=event.get_type(),
            source=event.get_source(),
            data=data if isinstance(data, bytes) else b"",
            subject=event.get_subject(),
            time=event.get_time() or datetime.now(UTC),
            dataschema=event.get_dataschema(),
            datacontenttype=event.get_datacontenttype() or JSON,
            key=key.decode("utf-8", "replace") if key is not None else None,
            headers=extras,
        )
