"""The ``pivot`` command line (typer + rich). Every command has ``--help``."""

from __future__ import annotations

import json
import os
import threading
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from pivot import runtime
from pivot.ai_cli import ai_app
from pivot.cases.cli import case_app
from pivot.errors import PivotError
from pivot.settings import PivotSettings

app = typer.Typer(
    name="pivot",
    help="Pivot: the integration hub of a social-housing landlord's information system.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
contracts_app = typer.Typer(help="Export and check the published contracts (JSON Schemas).",
                            no_args_is_help=True)
app.add_typer(contracts_app, name="contracts")
connector_app = typer.Typer(help="Installed connectors.", no_args_is_help=True)
app.add_typer(connector_app, name="connector")
dlq_app = typer.Typer(help="Dead letters: list them, replay them.", no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")
app.add_typer(ai_app, name="ai")
app.add_typer(case_app, name="case")
xref_app = typer.Typer(help="Cross-references of identifiers: look up, merge.", no_args_is_help=True)
app.add_typer(xref_app, name="xref")
sandbox_app = typer.Typer(help="Sandbox satellites of the demo, served on their own.",
                          no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")

console = Console(stderr=True)
out = Console()


def _settings() -> PivotSettings:
    try:
        return PivotSettings()
    except ValueError as exc:
        raise PivotError(f"invalid settings: {exc}") from exc


def _logging(level: str) -> None:
    from observability.logging import configure_logging

    configure_logging(level)


def _tracing(service_name: str) -> None:
    from observability.tracing import configure_tracing

    configure_tracing(service_name)


class FaultLevel(StrEnum):
    """Faults the demo injects."""

    none = "none"
    light = "light"
    heavy = "heavy"


@app.command()
def demo(
    messages: Annotated[int, typer.Option(min=1, max=5_000, help="Tenant messages to send.")] = 40,
    scale: Annotated[
        int, typer.Option(min=20, max=50_000, help="Lots of the landlord's estate in the ERP.")
    ] = 2000,
    seed: Annotated[
        int | None,
        typer.Option(help="Seed of the sandboxes' data (default 42 on a fresh store)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each step's effects.")] = 60.0,
    database_url: Annotated[
        str | None,
        typer.Option(help="Store URL; default PIVOT_DATABASE_URL, else a fresh SQLite file."),
    ] = None,
    faults: Annotated[
        FaultLevel,
        typer.Option(help="light: some 5xx and malformed payloads; heavy: a satellite outage, "
                          "then 5xx, timeouts and malformed payloads."),
    ] = FaultLevel.light,
) -> None:
    """Run the hub on embedded defaults and play a landlord's day through it.

    ERP load, tenant messages, triage, interventions, billing, a lease notice, technical
    updates, faults absorbed. Exits 0 only when every satellite's final state is what the
    day's events imply.
    """
    from pivot.demo import DemoOptions, run_demo

    settings = _settings()
    _logging("ERROR")  # the demo reports what went wrong itself; warnings would garble it
    _tracing("pivot-demo")
    options = DemoOptions(
        messages=messages, scale=scale, seed=seed, timeout_s=timeout,
        database_url=database_url or os.environ.get("PIVOT_DATABASE_URL"), faults=faults.value,
    )
    if as_json:
        report = run_demo(settings, options)
        out.print_json(json.dumps(report.as_dict()))
    else:
        with console.status("starting the hub…") as status:
            report = run_demo(settings, options, progress=lambda m: (
                console.log(m), status.update(m)))
        _print_report(report)
    raise typer.Exit(0 if report.consistent else 1)


def _print_report(report: object) -> None:
    from pivot.demo import DemoReport

    assert isinstance(report, DemoReport)
    day = Table(title="The landlord's day", title_justify="left")
    for column in ("step", "result", "seconds", "outcome"):
        day.add_column(column)
    for step in report.steps:
        data = step.as_dict()
        outcome = ", ".join(f"{k} {v}" for k, v in data.items()
                            if k not in {"name", "ok", "seconds", "checks"})
        day.add_row(step.name, "[green]ok[/]" if data["ok"] else "[red]FAILED[/]",
                    f"{step.seconds:.1f}", outcome)
    out.print(day)
    table = Table(title="Connectors", title_justify="left")
    for column in ("connector", "in", "out", "dlq"):
        table.add_column(column, justify="right" if column != "connector" else "left")
    for name, counts in report.connectors.items():
        table.add_row(name, str(counts["in"]), str(counts["out"]), str(counts["dlq"]))
    out.print(table)
    checks = Table(title="Consistency", title_justify="left")
    checks.add_column("check")
    checks.add_column("result")
    checks.add_column("detail")
    for check in report.checks:
        checks.add_row(check.name, "[green]ok[/]" if check.ok else "[red]FAILED[/]", check.detail)
    out.print(checks)
    lat = report.latency_ms
    if report.retries or report.dlq or report.replayed:
        out.print(f"faults absorbed: {report.retries} retries, {report.dlq} dead letters, "
                  f"{report.replayed} replayed")
    out.print(
        f"{report.messages} messages, {report.events} canonical events, latency p50 "
        f"{lat['p50']} ms, p99 {lat['p99']} ms, in {report.duration_s:.1f} s — "
        + ("[bold green]consistent[/]" if report.consistent else "[bold red]NOT consistent[/]")
    )


@app.command()
def broker() -> None:
    """Run the embedded Kafka-protocol broker alone until interrupted."""
    from pivot.broker import EmbeddedBroker

    settings = _settings()
    with EmbeddedBroker(settings.broker) as embedded:
        out.print(f"embedded broker listening on {embedded.bootstrap} (memory storage)")
        out.print(f"export PIVOT_KAFKA_BOOTSTRAP={embedded.bootstrap}")
        _wait_for_signal()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default PIVOT_API_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default PIVOT_API_PORT).")] = None,
    workers: Annotated[bool, typer.Option(help="Also run every connector's workers.")] = True,
) -> None:
    """Serve the hub API (and by default its workers) until interrupted."""
    from pivot.api import create_app
    from pivot.broker import kafka_bootstrap
    from pivot.bus.consumer import run_in_thread
    from pivot.hub import Hub
    from pivot.serving import ServerThread

    settings = _settings()
    _logging(settings.log_level)
    _tracing("pivot-api")
    with kafka_bootstrap(settings.kafka.bootstrap, settings.broker) as (bootstrap, embedded):
        hub = Hub(settings, bootstrap)
        hub.prepare()
        loops = hub.loops() if workers else []
        for loop in loops:
            run_in_thread(loop)
        server = ServerThread(create_app(hub), host=host or settings.api.host,
                              port=port or settings.api.port, name="hub-api").start()
        runtime.settle(settings.worker.switch_interval_ms if loops else None)
        where = "embedded broker " if embedded else ""
        out.print(f"hub API on {server.url} ({where}{bootstrap}); {len(loops)} workers")
        try:
            _wait_for_signal()
        finally:
            for loop in loops:
                loop.stop()
            server.stop()
            hub.close()


@app.command()
def worker(
    connector: Annotated[
        list[str] | None, typer.Option("--connector", "-c", help="Only these connectors.")
    ] = None,
) -> None:
    """Run connectors' translate and deliver workers (and pollers) against PIVOT_KAFKA_BOOTSTRAP.

    Polled satellites (the ERP) are read from their saved cursor by one poller each. SIGTERM
    finishes the current batch, commits its offsets and exits. Prometheus metrics are served
    on PIVOT_WORKER_METRICS_HOST:PIVOT_WORKER_METRICS_PORT (default 127.0.0.1:9108; port 0: off).
    """
    from pivot.bus.consumer import stop_on_signals
    from pivot.errors import ConfigurationError
    from pivot.hub import Hub

    settings = _settings()
    _logging(settings.log_level)
    _tracing("pivot-worker")
    if not settings.kafka.bootstrap:
        raise ConfigurationError("pivot worker needs PIVOT_KAFKA_BOOTSTRAP (see `pivot broker`)")
    hub = Hub(settings, settings.kafka.bootstrap)
    unknown = set(connector or []) - set(hub.connectors)
    if unknown:
        raise ConfigurationError(f"unknown connector(s): {', '.join(sorted(unknown))}")
    hub.prepare()
    metrics_server = _serve_worker_metrics(settings, hub.metrics.registry)
    loops = hub.loops(connector or None)
    pollers = hub.pollers(connector or None)
    runtime.settle(settings.worker.switch_interval_ms)
    stop_on_signals(*loops)
    threads = [threading.Thread(target=loop.run, name=loop.group) for loop in loops]
    for thread in threads:
        thread.start()
    hub.ingestion.start()
    for poller in pollers:
        poller.start()
    if not _joined(loops, timeout_s=60.0):
        console.print("[yellow]warning:[/] some workers have not joined their consumer group yet")
    out.print(f"{len(loops)} workers running, {len(pollers)} poller(s), on "
              f"{settings.kafka.bootstrap}")
    for thread in threads:
        while thread.is_alive():
            thread.join(0.5)
    for poller in pollers:
        poller.stop()
    hub.close()
    if metrics_server is not None:
        metrics_server.shutdown()


def _joined(loops: list[Any], timeout_s: float) -> bool:
    """Wait until every loop has its partitions (False on timeout or when asked to stop).

    "Running" is said once the groups are joined, so a stop that follows leaves them cleanly.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if all(loop.wait_assigned(0) for loop in loops):
            return True
        if any(loop.stopping for loop in loops):
            return False
        time.sleep(0.2)
    return False


def _serve_worker_metrics(settings: PivotSettings, registry: Any) -> Any:
    """Serve ``/metrics`` of a worker process in a thread; None when off or the port is taken.

    A taken port does not stop the worker (its work matters more than its metrics): it says so
    on stderr and runs without them.
    """
    from prometheus_client import start_http_server

    host, port = settings.worker.metrics_host, settings.worker.metrics_port
    if not port:
        return None
    try:
        server, _thread = start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        console.print(f"[yellow]warning:[/] no metrics: cannot listen on {host}:{port} ({exc}); "
                      "set PIVOT_WORKER_METRICS_PORT (0 disables)")
        return None
    out.print(f"metrics on http://{host}:{port}/metrics")
    return server


def _ops_hub() -> Any:
    from pivot.errors import ConfigurationError
    from pivot.hub import Hub

    settings = _settings()
    if not settings.kafka.bootstrap:
        raise ConfigurationError("this command needs PIVOT_KAFKA_BOOTSTRAP (the hub's Kafka cluster)")
    hub = Hub(settings, settings.kafka.bootstrap)
    hub.store.migrate()
    return hub


@dlq_app.command("list")
def dlq_list(
    connector: Annotated[str | None, typer.Option("--connector", "-c", help="Only this connector.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """List dead letters with their stage, error and replay state."""
    from pivot.errors import ConfigurationError
    from pivot.pipeline.dlq import read_dead_letters

    hub = _ops_hub()
    try:
        if connector is not None and connector not in hub.connectors:
            raise ConfigurationError(f"unknown connector {connector!r}")
        letters = read_dead_letters(hub.bootstrap, [connector] if connector else list(hub.connectors),
                                    hub.store)
    finally:
        hub.close()
    if as_json:
        out.print_json(json.dumps({"dead_letters": [d.as_dict() for d in letters],
                                   "count": len(letters)}))
        return
    table = Table(title=f"{len(letters)} dead letter(s)", title_justify="left")
    for column in ("connector", "id", "event id", "stage", "error", "attempts", "replayed"):
        table.add_column(column)
    for d in letters:
        table.add_row(d.connector, d.id, d.event_id or "-", d.stage,
                      f"{d.error_class}: {d.message[:80]}", str(d.attempts), "yes" if d.replayed else "")
    out.print(table)


@dlq_app.command("replay")
def dlq_replay(
    connector: Annotated[str, typer.Option("--connector", "-c", help="Connector whose letters to replay.")],
    ids: Annotated[
        list[str] | None, typer.Option("--id", help="Letter id (partition-offset) or event id.")
    ] = None,
    replay_all: Annotated[bool, typer.Option("--all", help="Every letter not replayed yet.")] = False,
) -> None:
    """Send dead letters back to their original topic, unchanged (same event id)."""
    from rich.progress import Progress

    from pivot.errors import ConfigurationError
    from pivot.pipeline.dlq import read_dead_letters, replay, select_letters

    _tracing("pivot-cli")
    hub = _ops_hub()
    try:
        if connector not in hub.connectors:
            raise ConfigurationError(f"unknown connector {connector!r}")
        letters = select_letters(read_dead_letters(hub.bootstrap, [connector], hub.store),
                                 ids or [], replay_all)
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task(f"replaying {connector}", total=len(letters))
            count = replay(hub.producer, hub.store, letters, hub.metrics,
                           on_each=lambda _d: progress.advance(task))
    finally:
        hub.close()
    out.print(f"replayed {count} dead letter(s) of {connector}")


@connector_app.command("list")
def connector_list() -> None:
    """List installed connectors with their inbound and outbound events."""
    from connectors.sdk.registry import available

    table = Table()
    for column in ("connector", "inbound (satellite events)", "outbound (canonical events)"):
        table.add_column(column)
    for name, cls in available().items():
        table.add_row(name, "\n".join(cls.inbound) or "-", "\n".join(cls.outbound) or "-")
    out.print(table)


@contracts_app.command("export")
def contracts_export(
    directory: Annotated[Path, typer.Option(help="Where to write.")] = Path("contracts/schemas"),
) -> None:
    """Write the JSON Schemas of every canonical entity and event."""
    from canonical_model.schemas import export_schemas

    written = export_schemas(directory)
    out.print(f"wrote {len(written)} schemas under {directory}")


@contracts_app.command("check")
def contracts_check(
    directory: Annotated[Path, typer.Option(help="Committed schemas.")] = Path("contracts/schemas"),
) -> None:
    """Fail when the committed JSON Schemas differ from the model (run `contracts export`)."""
    from canonical_model.schemas import check_schemas

    differences = check_schemas(directory)
    for line in differences:
        out.print(f"- {line}")
    if differences:
        raise PivotError(f"{len(differences)} schema difference(s): run `pivot contracts export`")
    out.print("contracts match the canonical model")


def _wait_for_signal() -> None:
    import signal

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()


@app.command()
def bench(
    quick: Annotated[bool, typer.Option("--quick", help="A small run (CI): proves it works.")] = False,
    messages: Annotated[int | None, typer.Option(min=100, help="Raw messages through the pipeline.")] = None,
    backfill_records: Annotated[
        int | None, typer.Option(min=100, help="Records of the ERP export back-filled to Ublo.")
    ] = None,
    ingest_seconds: Annotated[
        float | None, typer.Option(min=0.5, help="Seconds of webhook load on each server.")
    ] = None,
    latency_rate: Annotated[float | None, typer.Option(min=1, help="Webhooks per second.")] = None,
    latency_seconds: Annotated[
        float | None, typer.Option(min=0.5, help="Seconds of webhooks at that rate.")
    ] = None,
    scaleout_messages: Annotated[
        int | None, typer.Option(min=100, help="Raw messages translated by 1, then 2 workers.")
    ] = None,
    partitions: Annotated[int | None, typer.Option(min=2, help="Partitions (scale-out).")] = None,
    only: Annotated[
        list[str] | None,
        typer.Option("--only", help="Only this figure (repeatable): pipeline, ceiling, backfill, "
                                    "ingest, latency, scaleout."),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(help="PostgreSQL server on which each figure gets a throwaway database "
                          "(default: a fresh SQLite file per figure)."),
    ] = None,
    bootstrap: Annotated[
        str | None,
        typer.Option(help="A Kafka cluster for the benchmark (its pivot.* topics are deleted); "
                          "default: the embedded broker."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Measure the hub beside its references in one run, on one broker (docs/performance.md).

    Translate pipeline vs raw copy, confluent-kafka ceiling, ERP backfill to Ublo, webhook
    ingestion vs a bare endpoint, end-to-end latency at a fixed rate, scale-out to 2 workers.
    Exits 1 when a figure's run lost or duplicated something (not for a missed target).
    """
    from bench.run import BenchOptions, render, run_bench

    options = (BenchOptions.quick() if quick else BenchOptions()).replace(
        messages=messages, backfill_records=backfill_records, ingest_seconds=ingest_seconds,
        latency_rate=latency_rate, latency_seconds=latency_seconds,
        scaleout_messages=scaleout_messages, partitions=partitions,
        only=tuple(only) if only else None, database_url=database_url, bootstrap=bootstrap)
    _logging("ERROR")
    with console.status("measuring…") as status:
        figures = run_bench(_settings(), options, progress=lambda m: (console.log(m),
                                                                        status.update(m)))
    if as_json:
        out.print_json(json.dumps(figures))
    else:
        for table in render(figures):
            out.print(table)
    raise typer.Exit(0 if figures["consistent"] else 1)


@xref_app.command("lookup")
def xref_lookup(
    system: Annotated[str, typer.Argument(help="Source system (erp, ublo, urbest, chatbot, rpls…).")],
    entity: Annotated[str, typer.Argument(help="Entity kind (tenant, lot, lease…).")],
    source_id: Annotated[str, typer.Argument(help="The system's own id.")],
) -> None:
    """Show the canonical id of a source id and every id each system has for it."""
    from sqlalchemy import select

    from pivot.store import Store, xref
    from pivot.store.tables import Xref

    store = Store(_settings().store.database_url)
    store.migrate()
    with store.read_session() as session:
        canonical_id = xref.lookup(session, system, entity, source_id)
        if canonical_id is None:
            raise PivotError(f"{system} {entity} {source_id!r} is not in the xref")
        rows = session.scalars(select(Xref).where(Xref.canonical_id == canonical_id)
                               .order_by(Xref.id)).all()
        absorbed = xref.absorbed_into(session, canonical_id)
    table = Table(title=canonical_id, title_justify="left")
    for column in ("system", "source id", "since", "until"):
        table.add_column(column)
    for row in rows:
        table.add_row(row.system, row.source_id, f"{row.valid_from:%Y-%m-%d}",
                      f"{row.valid_to:%Y-%m-%d}" if row.valid_to else "")
    out.print(table)
    if absorbed:
        out.print("merged into it: " + ", ".join(absorbed))


@xref_app.command("merge")
def xref_merge(
    survivor: Annotated[str, typer.Argument(help="Canonical id of the tenant that stays.")],
    absorbed: Annotated[str, typer.Argument(help="Canonical id of the tenant merged into it.")],
    reason: Annotated[str, typer.Option(help="Why (kept in the merge record).")] = "data steward",
) -> None:
    """Merge two tenant records found to be the same person; publish tenant.merged."""
    from pivot.stewardship import merge_tenants

    hub = _ops_hub()
    try:
        merge_tenants(hub, survivor, absorbed, reason)
    finally:
        hub.close()
    out.print(f"{absorbed} now redirects to {survivor}")


@sandbox_app.command("serve")
def sandbox_serve(
    name: Annotated[str, typer.Argument(help="erp, ublo, urbest or chatbot.")],
    host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 9000,
    seed: Annotated[int, typer.Option(help="Seed of the data (the same for every satellite).")] = 42,
    lots: Annotated[int, typer.Option(min=20, max=50_000, help="Lots of the ERP's estate.")] = 2000,
    hub_url: Annotated[
        str | None, typer.Option(help="Where webhooks go (default http://PIVOT_API_HOST:PORT).")
    ] = None,
) -> None:
    """Serve one sandbox satellite, seeded as in `pivot demo`, until interrupted.

    Satellites started with the same --seed and --lots describe one landlord (the chatbot's
    users are the ERP's tenants). Webhooks are signed with PIVOT_API_WEBHOOK_SECRET.
    """
    from pivot.errors import ConfigurationError
    from pivot.sandboxes import SANDBOXES, SandboxOptions, build_sandbox
    from pivot.serving import ServerThread

    if name not in SANDBOXES:
        raise ConfigurationError(f"unknown sandbox {name!r} (one of {', '.join(SANDBOXES)})")
    settings = _settings()
    _logging(settings.log_level)
    options = SandboxOptions(
        seed=seed, lots=lots,
        hub_url=hub_url or f"http://{settings.api.host}:{settings.api.port}",
        webhook_secret=settings.api.webhook_secret.get_secret_value(),
    )
    server = ServerThread(build_sandbox(name, options), host=host, port=port,
                          name=f"sandbox-{name}").start()
    out.print(f"sandbox {name} on {server.url}, webhooks to {options.hub_url}")
    try:
        _wait_for_signal()
    finally:
        server.stop()


def main() -> None:
    """Entry point: one clear error line and a non-zero exit on failure."""
    try:
        app()
    except PivotError as exc:
        console.print(f"[bold red]error:[/] {exc}")
        raise SystemExit(2) from None
