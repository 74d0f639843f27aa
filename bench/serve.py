"""``python -m bench.serve hub|bare``: the server under test of the ingestion figure, alone.

* ``hub`` — the hub API as ``pivot serve --no-workers`` builds it (a prepared ``Hub``,
  ``pivot.api.create_app``: journal, broker acknowledgement, spool drainer, broker watch,
  tracing as configured by the ``pivot`` commands);
* ``bare`` — a FastAPI app whose ``POST /v1/ingest/{connector}`` answers 202 and does nothing;
* ``traced`` — the same bare app with the hub API's tracing (the process's tracer provider,
  ``FastAPI(telemetry=api_telemetry())``): the floor of the figure, what tracing alone costs.

All are served by the same ``pivot.serving.ServerThread`` (one uvicorn server, same config:
loop, HTTP implementation, no access log), the one ``pivot serve`` uses, on a free loopback
port. It announces ``{"event": "ready", "url": ...}`` on stdout and serves until SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import sys

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from bench.processes import announce, wait_for_termination
from pivot import runtime
from pivot.serving import ServerThread


def bare_app(*, traced: bool = False) -> FastAPI:
    """The reference: the ingestion route, answering 202 at once (traced as the hub's API)."""
    if traced:
        from observability.tracing import api_telemetry, configure_tracing

        configure_tracing("pivot-api")
        app = FastAPI(title="bare endpoint, traced", telemetry=api_telemetry())
    else:
        app = FastAPI(title="bare endpoint")

    @app.post("/v1/ingest/{connector}", status_code=202)
    async def ingest(connector: str) -> JSONResponse:
        return JSONResponse({"connector": connector}, status_code=202)

    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.serve", description=__doc__)
    parser.add_argument("app", choices=("hub", "bare", "traced"))
    parser.add_argument("--port", type=int, default=0, help="Port (0: a free one).")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    logging.getLogger("kafka").setLevel(logging.ERROR)
    hub = None
    if args.app in ("bare", "traced"):
        app = bare_app(traced=args.app == "traced")
    else:
        from observability.tracing import configure_tracing
        from pivot.api import create_app
        from pivot.hub import Hub
        from pivot.settings import PivotSettings

        settings = PivotSettings()
        if not settings.kafka.bootstrap:
            announce("error", message="PIVOT_KAFKA_BOOTSTRAP is not set")
            return 2
        configure_tracing("pivot-api")
        hub = Hub(settings, settings.kafka.bootstrap)
        hub.prepare()
        app = create_app(hub)
    server = ServerThread(app, port=args.port, name=f"bench-{args.app}").start()
    runtime.settle()  # the bare endpoint's process too: same server settings
    announce("ready", url=server.url)
    try:
        wait_for_termination()
    finally:
        server.stop()
        if hub is not None:
            hub.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
