"""The hub's runtime objects, built once from the settings and shared by API and workers."""

from __future__ import annotations

from collections.abc import Iterable

from connectors.sdk.base import Connector
from connectors.sdk.registry import available
from observability.metrics import PivotMetrics, default_metrics
from pivot.bus import topics
from pivot.bus.client import BusProducer, ensure_topics
from pivot.bus.consumer import ConsumerLoop
from pivot.bus.epoch import ensure_epoch
from pivot.ingestion import IngestionService
from pivot.pipeline.deliver import DeliverProcessor
from pivot.pipeline.dlq import DeadLetterDepth
from pivot.pipeline.survivorship import Survivorship
from pivot.pipeline.translate import TranslateProcessor
from pivot.polling import Poller
from pivot.settings import PivotSettings
from pivot.store import Store


class Hub:
    """Settings, store, producer, metrics and connector instances of one hub process."""

    def __init__(
        self,
        settings: PivotSettings,
        bootstrap: str,
        *,
        store: Store | None = None,
        metrics: PivotMetrics | None = None,
        connectors: dict[str, Connector] | None = None,
    ) -> None:
        self.settings = settings
        self.bootstrap = bootstrap
        self.store = store or Store(settings.store.database_url, settings.store.database_echo)
        self.metrics = metrics or default_metrics()
        self.connectors = connectors if connectors is not None else {
            name: cls() for name, cls in available().items()
        }
        self.survivorship = Survivorship(self.connectors.values())
        self._producer: BusProducer | None = None
        self._ingestion: IngestionService | None = None
        self._dlq_depth: DeadLetterDepth | None = None

    @property
    def producer(self) -> BusProducer:
        """The process's one producer (created on first use)."""
        if self._producer is None:
            self._producer = BusProducer(self.bootstrap, self.settings.kafka)
        return self._producer

    @property
    def ingestion(self) -> IngestionService:
        """The journal/spool of accepted payloads (created on first use)."""
        if self._ingestion is None:
            self._ingestion = IngestionService(
                self.store, lambda: self.producer, self.metrics,
                ack_timeout_s=self.settings.api.broker_ack_timeout_s,
            )
        return self._ingestion

    def topics(self) -> list[str]:
        """Every topic the installed connectors use."""
        names: list[str] = []
        for connector in self.connectors.values():
            names += [topics.raw(connector.name), topics.dlq(connector.name)]
            names += [topics.canonical(kind) for kind in connector.outbound_entities()]
            for row in connector.inbound.values():
                names += [topics.canonical(e.entity_model.kind) for e in row.emits]
            for row in connector.outbound.values():
                names += [topics.canonical(e.entity_model.kind) for e in row.emits]
        return sorted(set(names))

    def prepare(self) -> None:
        """Migrate the store, create the topics (both idempotent), export the DLQ depth."""
        self.store.migrate()
        self.prepare_topics()
        if self._dlq_depth is None:
            self._dlq_depth = DeadLetterDepth(self.bootstrap, list(self.connectors), self.store)
            self.metrics.watch_dlq_depth(self._dlq_depth)

    def prepare_topics(self) -> bool:
        """Create the topics and the broker epoch (:mod:`pivot.bus.epoch`); True when it is new."""
        ensure_topics(self.bootstrap, self.topics(), self.settings.kafka)
        ensure_topics(self.bootstrap, [topics.EPOCH], self.settings.kafka.model_copy(
            update={"partitions": 1}))
        _epoch, new = ensure_epoch(self.bootstrap, self.producer)
        return new

    def loops(self, names: Iterable[str] | None = None) -> list[ConsumerLoop]:
        """The translate and deliver consumer loops of the named (default: all) connectors."""
        loops = []
        for name in names or self.connectors:
            connector = self.connectors[name]
            if connector.inbound:
                translate = TranslateProcessor(connector, self.store, self.producer, self.metrics,
                                               self.survivorship)
                loops.append(ConsumerLoop(self.bootstrap, [translate.topic], translate.group,
                                          translate, self.settings.kafka, follow_epoch=True,
                                          metrics=self.metrics))
            if connector.outbound:
                deliver = DeliverProcessor(connector, self.store, self.producer, self.metrics,
                                           self.survivorship,
                                           concurrency=self.settings.worker.deliver_concurrency)
                kafka = self.settings.kafka
                connector.interrupt.clear()  # a stop of an earlier loop no longer holds
                loops.append(ConsumerLoop(self.bootstrap, deliver.topics, deliver.group, deliver,
                                          kafka.model_copy(update={
                                              "max_poll_records": kafka.deliver_max_poll_records}),
                                          follow_epoch=True, metrics=self.metrics,
                                          on_stop=connector.interrupt.set))
        return loops

    def pollers(self, names: Iterable[str] | None = None) -> list[Poller]:
        """Pollers of the named (default: all) connectors whose satellite is polled."""
        return [Poller(self.connectors[name], self.store, self.ingestion, self.metrics)
                for name in names or self.connectors
                if self.connectors[name].poll_interval_s is not None]

    def close(self) -> None:
        """Stop the spool drainer, flush the producer and release connections."""
        if self._ingestion is not None:
            self._ingestion.stop()
        if self._dlq_depth is not None and self.metrics.dlq_depth_source is self._dlq_depth:
            self.metrics.watch_dlq_depth(None)  # the last counts stay exported
        if self._producer is not None:
            self._producer.close()
        for connector in self.connectors.values():
            connector.close()
        self.store.dispose()
