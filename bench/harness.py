"""What every figure needs: a fresh store, clean topics, the hub's topics created, counting.

Each figure runs on the run's one broker but starts from nothing: the hub's topics are deleted
and created again (their names are fixed by the design, so a figure would otherwise read the
records the previous one left), and the store is a fresh SQLite file, or a database of its own
on the PostgreSQL server given with ``--database-url``.
"""

from __future__ import annotations

import contextlib
import statistics
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from prometheus_client import CollectorRegistry
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from observability.metrics import PivotMetrics
from pivot.bus.envelope import INGESTED_AT, RAW_EVENT_TYPE, Envelope
from pivot.hub import Hub
from pivot.pipeline.canonical import connector_source
from pivot.settings import KafkaSettings, PivotSettings, StoreSettings
from pivot.store import Store


@dataclass(frozen=True)
class Check:
    """One thing a figure's run must have delivered (nothing lost, nothing twice)."""

    figure: str
    name: str
    ok: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"figure": self.figure, "name": self.name, "ok": self.ok, "detail": self.detail}


@contextlib.contextmanager
def fresh_store(workdir: Path, name: str, server_url: str | None = None) -> Iterator[str]:
    """A store URL nobody used: a new SQLite file, or a new database on ``server_url``."""
    if not server_url:
        yield f"sqlite:///{workdir / f'{name}-{uuid.uuid4().hex[:8]}.db'}"
        return
    url = make_url(server_url)
    if url.get_backend_name() != "postgresql":
        raise ValueError(f"--database-url must be a PostgreSQL server URL, not {url.drivername}")
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    database = f"pivot_bench_{name}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{database}"'))
        yield url.set(database=database).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def reset_topics(bootstrap: str, prefixes: tuple[str, ...] = ("pivot.", "bench.")) -> int:
    """Delete the hub's (and the benchmarks') topics; return how many were deleted."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="pivot-bench-admin")
    try:
        doomed = [t for t in admin.list_topics() if t.startswith(prefixes)]
        if doomed:
            admin.delete_topics(doomed)
        deadline = time.monotonic() + 30
        while doomed and time.monotonic() < deadline:
            if not set(doomed) & set(admin.list_topics()):
                break
            time.sleep(0.1)
        return len(doomed)
    finally:
        admin.close()


def settings_for(bootstrap: str, database_url: str, partitions: int = 3) -> PivotSettings:
    """The hub's settings in a figure: this broker, this store, these partitions."""
    return PivotSettings(kafka=KafkaSettings(bootstrap=bootstrap, partitions=partitions),
                         store=StoreSettings(database_url=database_url))


def prepare_hub(bootstrap: str, database_url: str, partitions: int = 3) -> None:
    """Migrate the store and create the hub's topics and epoch, before any child starts."""
    hub = Hub(settings_for(bootstrap, database_url, partitions), bootstrap,
              metrics=PivotMetrics(CollectorRegistry()))
    try:
        hub.prepare()
    finally:
        hub.close()


def child_env(bootstrap: str, database_url: str, partitions: int = 3,
              **more: str) -> dict[str, str]:
    """Environment of a hub child process (``pivot`` reads everything from it)."""
    return {
        "PIVOT_KAFKA_BOOTSTRAP": bootstrap,
        "PIVOT_KAFKA_PARTITIONS": str(partitions),
        "PIVOT_DATABASE_URL": database_url,
        "PIVOT_LOG_LEVEL": "WARNING",
        "PIVOT_WORKER_METRICS_PORT": "0",
        **more,
    }


class _KafkaPythonReader:
    """Reads assigned partitions from the beginning with kafka-python (the hub's client)."""

    def __init__(self, bootstrap: str, topics: Iterable[str]) -> None:
        self._consumer = KafkaConsumer(bootstrap_servers=bootstrap, client_id="pivot-bench-watch",
                                       enable_auto_commit=False, max_poll_records=5_000,
                                       fetch_max_wait_ms=100)
        parts = [TopicPartition(topic, partition) for topic in topics
                 for partition in self._consumer.partitions_for_topic(topic) or ()]
        self._consumer.assign(parts)
        if parts:
            self._consumer.seek_to_beginning(*parts)

    def read(self) -> list[tuple[str, bytes | None]]:
        """(topic, ``ce_id``) of the records that came, waiting 0.2 s at most."""
        return [(record.topic, dict(record.headers or []).get("ce_id"))
                for records in self._consumer.poll(timeout_ms=200).values() for record in records]

    def close(self) -> None:
        self._consumer.close()


class _ConfluentReader:
    """The same with confluent-kafka: a C client, so watching costs the machine less CPU."""

    def __init__(self, bootstrap: str, topics: Iterable[str]) -> None:
        import confluent_kafka

        self._consumer = confluent_kafka.Consumer({
            "bootstrap.servers": bootstrap, "client.id": "pivot-bench-watch",
            "group.id": f"pivot-bench-watch-{uuid.uuid4().hex[:8]}", "enable.auto.commit": False,
            "fetch.wait.max.ms": 100,
        })
        metadata = self._consumer.list_topics(timeout=10)
        self._consumer.assign([
            confluent_kafka.TopicPartition(topic, partition, confluent_kafka.OFFSET_BEGINNING)
            for topic in topics if topic in metadata.topics
            for partition in metadata.topics[topic].partitions])

    def read(self) -> list[tuple[str, bytes | None]]:
        """(topic, ``ce_id``) of the records that came, waiting 0.2 s at most."""
        return [(message.topic(), dict(message.headers() or []).get("ce_id"))
                for message in self._consumer.consume(num_messages=5_000, timeout=0.2)
                if message.error() is None]

    def close(self) -> None:
        self._consumer.close()


class BusWatch:
    """Reads every record of ``topics`` from the beginning, in a thread, as they arrive.

    Counts them (in all and per topic) and keeps their CloudEvents ids (``ce_id``), with the
    time the last one was read. Offsets cannot stand in for a count: the embedded broker
    reports as a partition's end offset the first offset of its last batch plus one, not the
    offset after its last record. Watching shares the machine with what it measures, so it
    reads with confluent-kafka when installed (the ``bench`` extra), else with kafka-python.
    """

    def __init__(self, bootstrap: str, topics: Iterable[str]) -> None:
        topics = list(topics)
        try:
            self._reader: _KafkaPythonReader | _ConfluentReader = _ConfluentReader(bootstrap, topics)
        except ImportError:
            self._reader = _KafkaPythonReader(bootstrap, topics)
        self.ids: list[str] = []
        self.by_topic: Counter[str] = Counter()
        self.last_at = time.time()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-bus-watch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            read = self._reader.read()
            if not read:
                continue
            for topic, ce_id in read:
                self.ids.append((ce_id or b"").decode())
                self.by_topic[topic] += 1
            self.last_at = time.time()

    def __call__(self) -> int:
        """Records read so far."""
        return len(self.ids)

    def settle(self, idle_s: float = 0.5, timeout_s: float = 30.0) -> int:
        """Wait until nothing new was read for ``idle_s``; return the count."""
        deadline = time.monotonic() + timeout_s
        while time.time() - self.last_at < idle_s and time.monotonic() < deadline:
            time.sleep(0.1)
        return len(self.ids)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self._reader.close()


def count_records(bootstrap: str, topics: Iterable[str], idle_s: float = 1.0) -> int:
    """Records on ``topics`` now (read through, until nothing new comes for ``idle_s``)."""
    watch = BusWatch(bootstrap, topics)
    try:
        return watch.settle(idle_s)
    finally:
        watch.close()


def wait_for_progress(progress: Callable[[], int], target: int, stall_s: float,
                      every_s: float = 0.1) -> tuple[int, float]:
    """Poll ``progress`` until it reaches ``target``; give up after ``stall_s`` without progress.

    Returns the last value and the ``time.monotonic()`` at which it was read.
    """
    last, moved = -1, time.monotonic()
    while True:
        value = progress()
        now = time.monotonic()
        if value >= target:
            return value, now
        if value != last:
            last, moved = value, now
        elif now - moved > stall_s:
            return value, now
        time.sleep(every_s)


_local = threading.local()


def _client() -> httpx.Client:
    """This thread's client for the sandboxes' bench routes (plain HTTP on loopback).

    One per thread, kept: a new client per call loaded the CA store each time, and the figures
    poll their progress five times a second on the machine they measure.
    """
    client = getattr(_local, "client", None)
    if client is None:
        client = _local.client = httpx.Client(verify=False, trust_env=False)
    return client


def get_json(url: str, timeout_s: float = 60) -> Any:
    """GET a JSON document (a sandbox's bench routes)."""
    response = _client().get(url, timeout=timeout_s)
    response.raise_for_status()
    return response.json()


def post_json(url: str, body: Any, timeout_s: float = 60) -> Any:
    """POST JSON, return the JSON answer."""
    response = _client().post(url, json=body, timeout=timeout_s)
    response.raise_for_status()
    return response.json()


def raw_envelopes(records: list[tuple[bytes, bytes]],
                  connector: str = "erp") -> list[tuple[bytes | None, bytes | None, Any]]:
    """Raw payloads as the hub puts them on ``pivot.raw.<connector>``: (key, value, headers)."""
    now = f"{time.time():.6f}"
    return [Envelope(id=str(uuid.uuid4()), type=RAW_EVENT_TYPE, source=connector_source(connector),
                     data=value, key=key.decode(), headers={INGESTED_AT: now}).to_kafka()
            for key, value in records]


def percentiles(values: list[float]) -> dict[str, float]:
    """p50, p99 and max of ``values`` (zeros when empty)."""
    if not values:
        return {"p50": 0.0, "p99": 0.0, "max": 0.0}
    ordered = sorted(values)
    p99 = statistics.quantiles(ordered, n=100, method="inclusive")[98] if len(ordered) > 1 else ordered[0]
    return {"p50": statistics.median(ordered), "p99": p99, "max": ordered[-1]}


def store_for(database_url: str) -> Store:
    """A store handle on a figure's database (read after the run)."""
    return Store(database_url)
