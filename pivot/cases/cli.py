"""``pivot case``: a case's timeline across systems, and the list of cases with their deadlines.

* ``pivot case show ID`` — ID is the request's canonical id, or any id of the case a system
  knows (the chatbot message, the Ublo request, the Urbest work order, an intervention's or
  a certificate's canonical id); the timeline (time, system, step, event type, trace id),
  the urgency, the deadline and whether it is met, open or breached; ``--json``.
* ``pivot case list [--open] [--overdue] [--limit N]`` — newest first, from the case index
  (brought up to date first); ``--json``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pivot.cases.deadlines import CaseSummary, Verdict
from pivot.cases.timeline import Case
from pivot.errors import PivotError
from pivot.settings import PivotSettings
from pivot.store import Store

case_app = typer.Typer(
    help="Cases: a tenant request followed across systems, and its deadline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

out = Console()
err = Console(stderr=True)

DatabaseUrl = Annotated[
    str | None, typer.Option("--database-url", help="Store URL (default PIVOT_DATABASE_URL).")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


@contextmanager
def _one_line_errors() -> Iterator[None]:
    try:
        yield
    except PivotError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def _open_store(database_url: str | None) -> tuple[Store, PivotSettings]:
    try:
        settings = PivotSettings()
    except ValueError as exc:
        raise PivotError(f"invalid settings: {exc}") from exc
    store = Store(database_url or settings.store.database_url)
    try:
        store.migrate()
    except Exception as exc:
        store.dispose()
        raise PivotError(f"cannot open the store: {type(exc).__name__}: {exc}") from exc
    return store, settings


def _time(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment else "-"


_COLOURS = {Verdict.MET: "green", Verdict.OPEN: "yellow", Verdict.BREACHED: "red"}


def _verdict(summary: CaseSummary, now: datetime) -> str:
    verdict = summary.verdict(now)
    words = verdict.value
    if verdict is Verdict.BREACHED:
        words += " (still open)" if summary.closed_at is None else " (closed late)"
    return f"[{_COLOURS[verdict]}]{words}[/]"


@case_app.command("show")
def show(
    case: Annotated[str, typer.Argument(
        help="The request's canonical id, or an id of its case in a system "
             "(chatbot message, Ublo request, Urbest work order...).")],
    as_json: AsJson = False,
    everything: Annotated[bool, typer.Option(
        "--all", help="Also deliveries that had nothing to do, or published events.")] = False,
    system: Annotated[list[str] | None, typer.Option(
        "--system", "-s", help="Look the id up in these systems only (default: every connector).")
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Print a case's timeline across systems, with trace ids, and where it stands on its deadline."""
    from pivot.cases.timeline import build_case, find_case

    with _one_line_errors():
        store, settings = _open_store(database_url)
        try:
            with store.read_session() as session:
                request_id = find_case(session, case, system or _systems())
                found = build_case(session, request_id, settings.cases, everything=everything)
        finally:
            store.dispose()
        if found is None:
            raise PivotError(f"no request {request_id!r} in the store")
    if as_json:
        out.print_json(json.dumps(found.as_dict()))
        return
    _print_case(found)


def _systems() -> list[str]:
    from connectors.sdk.registry import available

    return sorted(available())


def _print_case(case: Case) -> None:
    s, request = case.summary, case.request
    what = " ".join(str(v) for v in (request.get("category"), request.get("intent")) if v)
    out.print(f"[bold]Case {escape(case.id)}[/] — {s.urgency_label}, {escape(what or 'not triaged')}, "
              f"via {escape(str(request.get('channel')))}", highlight=False)
    hours = (s.deadline_at - s.received_at).total_seconds() / 3600
    closed = f" — closed {_time(s.closed_at)} ({escape(s.closed_by or '')})" if s.closed_at else ""
    out.print(f"received {_time(s.received_at)} · deadline {_time(s.deadline_at)} "
              f"({s.urgency_label}: {hours:g} h) · {_verdict(s, case.now)}{closed}", highlight=False)
    for record in case.records:
        ids = ", ".join(f"{system} {' '.join(values)}" for system, values in record.source_ids.items())
        line = f"  {record.entity} {record.id} ({record.status or '-'})" + (f": {ids}" if ids else "")
        out.print(escape(line), highlight=False)
    table = Table(title=f"{len(case.entries)} step(s)", title_justify="left")
    table.add_column("time", no_wrap=True)
    table.add_column("system", no_wrap=True)
    table.add_column("step")
    table.add_column("event type")
    table.add_column("trace id", overflow="fold", min_width=32)
    for entry in case.entries:
        table.add_row(f"{entry.at:%Y-%m-%d %H:%M:%S}.{entry.at.microsecond // 1000:03d}",
                      escape(entry.system), escape(entry.step),
                      escape(entry.event_type.removeprefix("fr.pivot.")), entry.trace_id or "-")
    out.print(table)


@case_app.command("list")
def list_cases(
    open_only: Annotated[bool, typer.Option("--open", help="Only cases not closed yet.")] = False,
    overdue: Annotated[bool, typer.Option(
        "--overdue", help="Only open cases past their deadline.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many cases.")] = 50,
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
) -> None:
    """List cases, newest request first, with their urgency, deadline and verdict."""
    from pivot.cases import index
    from pivot.store.tables import utcnow

    with _one_line_errors():
        store, settings = _open_store(database_url)
        try:
            now = utcnow()
            index.refresh(store, settings.cases, now=now, open_cases=True)
            with store.read_session() as session:
                cases = index.list_cases(session, now=now, open_only=open_only,
                                         overdue_only=overdue, limit=limit)
        finally:
            store.dispose()
    if as_json:
        out.print_json(json.dumps({"count": len(cases), "cases": [_listed(c, now) for c in cases]}))
        return
    table = Table(title=f"{len(cases)} case(s), newest first", title_justify="left")
    for column in ("received", "case", "urgency", "deadline", "status", "closed"):
        table.add_column(column, no_wrap=column != "case")
    for c in cases:
        table.add_row(_time(c.received_at), escape(c.request_id), escape(c.urgency_label),
                      _time(c.deadline_at), _verdict(c, now), _time(c.closed_at))
    out.print(table)


def _listed(summary: CaseSummary, now: datetime) -> dict[str, object]:
    return {"case": summary.request_id, "urgency": summary.urgency_label,
            "received_at": summary.received_at.isoformat(), "deadline_at": summary.deadline_at.isoformat(),
            "closed_at": summary.closed_at.isoformat() if summary.closed_at else None,
            "closed_by": summary.closed_by, "status": summary.verdict(now).value,
            "overdue": summary.overdue(now)}
