"""The broker epoch: which incarnation of the cluster's data the hub is working on.

The hub writes one marker record (``{"epoch": "<id>"}``) to :data:`pivot.bus.topics.EPOCH`
when it creates its topics. A memory-only broker that restarts comes back without it: the hub
then writes a new epoch and re-drives from the store, and every consumer loop moves to consumer
groups of the new epoch, so no offset of the lost logs is ever applied to the new ones.
On a durable Kafka cluster the epoch never changes.
"""

from __future__ import annotations

import json
import uuid

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from pivot.bus import topics
from pivot.bus.client import BusProducer
from pivot.bus.envelope import Envelope
from pivot.errors import BrokerUnavailable

_MARKER = TopicPartition(topics.EPOCH, 0)


def read_epoch(reader: KafkaConsumer) -> str | None:
    """The current epoch, or None when the broker has no marker (lost data or first start)."""
    try:
        end = reader.end_offsets([_MARKER]).get(_MARKER, 0)
        if not end:
            return None
        reader.assign([_MARKER])
        reader.seek(_MARKER, end - 1)
        for _ in range(20):
            for records in reader.poll(timeout_ms=250).values():
                for record in records:
                    return str(json.loads(record.value)["epoch"])
    except (KafkaError, ValueError, KeyError) as exc:
        raise BrokerUnavailable(f"cannot read the broker epoch: {exc}") from exc
    raise BrokerUnavailable("the broker epoch marker could not be read in time")


def epoch_reader(bootstrap: str) -> KafkaConsumer:
    """A small group-less consumer for :func:`read_epoch`."""
    try:
        return KafkaConsumer(bootstrap_servers=bootstrap, client_id="pivot-epoch",
                             enable_auto_commit=False, request_timeout_ms=5_000,
                             bootstrap_timeout_ms=3_000)
    except KafkaError as exc:
        raise BrokerUnavailable(f"cannot reach the Kafka cluster at {bootstrap}: {exc}") from exc


def ensure_epoch(bootstrap: str, producer: BusProducer) -> tuple[str, bool]:
    """The current epoch, writing a new one when there is none; True when it was new."""
    reader = epoch_reader(bootstrap)
    try:
        current = read_epoch(reader)
        if current is not None:
            return current, False
        epoch = uuid.uuid4().hex[:12]
        producer.send_and_wait(topics.EPOCH, Envelope(
            id=str(uuid.uuid4()), type="fr.pivot.hub.epoch.v1", source="/hub",
            data=json.dumps({"epoch": epoch}).encode()))
        return epoch, True
    finally:
        reader.close()
