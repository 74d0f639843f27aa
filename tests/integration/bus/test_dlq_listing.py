"""Listing dead letters reads every one, however the broker batched them."""

from __future__ import annotations

from pivot.bus import topics
from pivot.bus.client import BusProducer, ensure_topics
from pivot.pipeline.dlq import read_dead_letters
from pivot.settings import KafkaSettings


def test_every_letter_of_many_batches_is_listed(bootstrap: str, topic_suffix: str) -> None:
    connector = f"listing{topic_suffix}"
    settings = KafkaSettings(partitions=1)
    ensure_topics(bootstrap, [topics.dlq(connector)], settings)
    producer = BusProducer(bootstrap, settings)
    for start in range(0, 1_200, 400):  # three produce bursts: several batches on the log
        futures = [producer.send_raw(topics.dlq(connector), f"UG-{n:05d}".encode(),
                                     b'{"event": "export.lot"}',
                                     [("pivot_dlq_stage", b"translate"), ("ce_id", f"e{n}".encode())])
                   for n in range(start, start + 400)]
        producer.wait(futures)
    producer.close()
    letters = read_dead_letters(bootstrap, [connector])
    assert [d.offset for d in letters] == list(range(1_200))
    assert {d.stage for d in letters} == {"translate"}
