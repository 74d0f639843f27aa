"""Figure 2: the ERP's full export through the hub, every lot delivered to the Ublo-like tool.

The landlord's estate of ``lots`` dwellings (``records`` ≈ 3.3 × lots: residences, buildings,
lots, tenants, leases; 30,000 lots ≈ 100,000 records) is served by the ERP sandbox; the hub's
ERP poller reads the export page by page (1,000 records a page), journals it and puts it on
``pivot.raw.erp``; the ERP's translate stage makes golden records and canonical events; the
Ublo connector's deliver stage upserts each lot as a property in the Ublo sandbox over HTTP.

Processes, as deployed: the ERP sandbox, the Ublo sandbox, one worker for the ERP connector
(poller, translate and deliver loops: ``python -m bench.worker -c erp``), one for the Ublo
connector (``-c ublo``), the broker; the benchmark itself only watches.

Time runs from the poller's first page (the worker starts polling when told, once its loops
joined their groups) to the moment the whole export is through the hub — every record
translated (one canonical event each on the bus) and every lot a property in Ublo. The moment
the last lot reached Ublo is reported too. Peak RSS is each process's high-water mark.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.harness import (
    BusWatch,
    Check,
    child_env,
    fresh_store,
    get_json,
    prepare_hub,
    reset_topics,
    store_for,
)
from bench.processes import Child, CpuMeter, expect_all, peak_rss_mb, stop_all
from connectors.erp.data import generate_dataset
from pivot.bus import topics
from pivot.demo.checks import OCCUPANCY, golden_counts
from pivot.serving import free_port

#: Records of the ERP's export per lot (98,692 records for 30,000 lots).
RECORDS_PER_LOT = 3.29
ENTITIES = ("residence", "building", "lot", "tenant", "lease")


def lots_for(records: int) -> int:
    """Lots of an estate whose export is about ``records`` records."""
    return max(20, round(records / RECORDS_PER_LOT))


@dataclass
class BackfillResult:
    """Wall time of the export through the hub, and the peak memory of each process."""

    lots: int
    records: int
    #: First page read → every record translated and every lot in Ublo.
    seconds: float = 0.0
    #: First page read → the last lot in Ublo.
    lots_in_ublo_seconds: float = 0.0
    finished: bool = False
    peak_rss_mb: dict[str, float | None] = field(default_factory=dict)
    #: CPU of each process over the run, as a share of one core.
    cpu: dict[str, float] = field(default_factory=dict)
    #: Those shares added up: near the machine's cores, the machine itself was the limit.
    cpu_cores: float = 0.0
    checks: list[Check] = field(default_factory=list)

    @property
    def records_per_s(self) -> float:
        """Export records through the hub per second."""
        return self.records / self.seconds if self.seconds else 0.0


def run(bootstrap: str, workdir: Path, *, records: int, seed: int = 42,
        broker_pid: int | None = None, database_server: str | None = None,
        stall_s: float = 60.0,
        progress: Callable[[str], None] | None = None) -> BackfillResult:
    """Back-fill an estate of about ``records`` records from the ERP to Ublo; check Ublo after."""
    lots = lots_for(records)
    estate = generate_dataset(seed, lots)
    expected = {"residence": len(estate.residences), "building": len(estate.buildings),
                "lot": len(estate.lots), "tenant": len(estate.tenants), "lease": len(estate.leases)}
    result = BackfillResult(lots=lots, records=estate.count())
    reset_topics(bootstrap)
    canonical = [topics.canonical(entity) for entity in ENTITIES]
    with fresh_store(workdir, "backfill", database_server) as database_url, \
            contextlib.ExitStack() as stack:
        prepare_hub(bootstrap, database_url)
        erp_port, ublo_port = free_port(), free_port()
        env = child_env(bootstrap, database_url,
                        PIVOT_CONNECTOR_ERP_BASE_URL=f"http://127.0.0.1:{erp_port}",
                        PIVOT_CONNECTOR_UBLO_BASE_URL=f"http://127.0.0.1:{ublo_port}")
        ublo_url = f"http://127.0.0.1:{ublo_port}"
        children = [
            stack.enter_context(Child("erp-sandbox", "bench.satellite", [
                "erp", "--seed", str(seed), "--lots", str(lots), "--port", str(erp_port)],
                env, workdir)),
            stack.enter_context(Child("ublo-sandbox", "bench.satellite", [
                "ublo", "--seed", str(seed), "--port", str(ublo_port)], env, workdir)),
            stack.enter_context(Child("worker-erp", "bench.worker", [
                "-c", "erp", "--poll", "on-go"], env, workdir)),
            stack.enter_context(Child("worker-ublo", "bench.worker", ["-c", "ublo"], env, workdir)),
        ]
        expect_all(children, "ready", 180)
        dlq = [topics.dlq("erp"), topics.dlq("ublo")]
        counter = stack.enter_context(contextlib.closing(BusWatch(bootstrap, canonical + dlq)))
        poller = children[2]
        meter = CpuMeter({**{c.key: c.pid for c in children}, "broker": broker_pid,
                          "bench": 0}).start()
        poller.send("go")
        began = poller.expect("polling", 30)["at"]
        in_ublo, translated = 0, 0
        lots_at = all_at = None
        moved, told = time.monotonic(), 0.0
        while all_at is None:
            now_ublo = get_json(f"{ublo_url}/bench/progress")["count"]
            now_translated = sum(counter.by_topic[t] for t in canonical)
            now = time.time()
            if (now_ublo, now_translated) != (in_ublo, translated):
                in_ublo, translated, moved = now_ublo, now_translated, time.monotonic()
                if progress is not None and now - told >= 5:
                    told = now
                    progress(f"backfill: {translated:,}/{result.records:,} records translated, "
                             f"{in_ublo:,}/{lots:,} lots in Ublo")
            if lots_at is None and in_ublo >= lots:
                lots_at = now
            if lots_at is not None and translated >= result.records:
                all_at = now
            elif time.monotonic() - moved > stall_s:
                break
            time.sleep(0.2)
        result.finished = all_at is not None
        result.cpu, result.cpu_cores = meter.stop(), meter.cores
        result.lots_in_ublo_seconds = round((lots_at or time.time()) - began, 2)
        result.seconds = round((all_at or time.time()) - began, 2)
        time.sleep(0.5)  # a duplicate would arrive now
        ublo = get_json(f"{ublo_url}/bench/summary")
        counter.settle()
        dead = sum(counter.by_topic[t] for t in dlq)
        on_bus = sum(counter.by_topic[t] for t in canonical)
        distinct = len(set(counter.ids)) - dead
        stop_all(children)
        result.peak_rss_mb = {c.key: c.peak_rss_mb for c in children}
        if broker_pid is not None:
            result.peak_rss_mb["broker"] = peak_rss_mb(broker_pid)
        result.peak_rss_mb["bench"] = peak_rss_mb()
        store = store_for(database_url)
        try:
            golden = golden_counts(store)
        finally:
            store.dispose()
    expected_occupancy = {OCCUPANCY[k]: n for k, n in
                          Counter(lot["statut_occupation"] for lot in estate.lots).items()}
    rpls = Counter(ublo["rpls"])
    got = {entity: golden.get(entity, 0) for entity in ENTITIES}
    result.checks = [
        Check("backfill", "the whole export through the hub in time", result.finished,
              f"{translated}/{result.records} records translated, {in_ublo}/{lots} lots in Ublo"
              + ("" if result.finished else f" (no progress for {stall_s:.0f} s)")),
        Check("backfill", "Ublo holds exactly the ERP's lots, once each",
              ublo["properties"] == lots and set(rpls) == {lot["numero_rpls"] for lot in estate.lots}
              and max(rpls.values(), default=0) == 1 and ublo["occupancy"] == expected_occupancy
              and ublo["ledger"]["duplicates_applied"] == 0,
              f"{ublo['properties']} properties for {lots} lots, occupancy {ublo['occupancy']} "
              f"(ERP {expected_occupancy}), {ublo['ledger']['duplicates_applied']} duplicate "
              "applications"),
        Check("backfill", "every ERP record one golden record", got == expected,
              f"golden {got}, ERP {expected}"),
        Check("backfill", "one canonical event per record, no dead letter",
              on_bus == distinct == result.records and dead == 0,
              f"{on_bus} canonical events ({distinct} distinct) for {result.records} records, "
              f"{dead} dead letters"),
    ]
    return result


def as_json(result: BackfillResult) -> dict[str, Any]:
    """The figure's keys in ``pivot bench --json``."""
    return {
        "backfill_seconds": result.seconds,
        "backfill_records": result.records,
        "backfill_lots": result.lots,
        "backfill_records_per_s": round(result.records_per_s, 1),
        "backfill_lots_in_ublo_seconds": result.lots_in_ublo_seconds,
        "backfill_peak_rss_mb": result.peak_rss_mb,
        "backfill_cpu": result.cpu,
        "backfill_cpu_cores": result.cpu_cores,
    }
