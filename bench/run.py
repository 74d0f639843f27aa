"""``pivot bench``: the benchmarks of bench/, run in one process on one broker."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.pipeline import run as run_pipeline
from pivot.broker import kafka_bootstrap
from pivot.settings import PivotSettings


@dataclass(frozen=True)
class BenchOptions:
    """How big a run is."""

    #: Raw ERP messages through the translate pipeline and the raw copy.
    messages: int = 30_000

    @classmethod
    def quick(cls) -> BenchOptions:
        """A run small enough for CI: proves the benchmark works, measures little."""
        return cls(messages=1_000)


def run_bench(settings: PivotSettings, options: BenchOptions) -> dict[str, Any]:
    """Every benchmark implemented so far; one JSON-able dict of figures."""
    with kafka_bootstrap(settings.kafka.bootstrap, settings.broker) as (bootstrap, _broker), \
            tempfile.TemporaryDirectory() as workdir:
        pipeline = run_pipeline(bootstrap, options.messages, Path(workdir))
    return {
        "messages": pipeline.messages,
        "message_bytes": pipeline.message_bytes,
        "raw_copy_per_s": round(pipeline.raw_copy_per_s, 1),
        "pipeline_per_s": round(pipeline.hub_per_s, 1),
        "pipeline_ratio": round(pipeline.ratio, 3),
        "spans": pipeline.spans,
    }
