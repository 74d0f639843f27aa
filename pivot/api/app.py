"""The FastAPI application of the hub."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from observability.tracing import api_telemetry
from pivot import __version__
from pivot.api import dlq, health, ingest
from pivot.cases.watch import CaseWatch
from pivot.hub import Hub
from pivot.recovery import BrokerWatch


def create_app(hub: Hub) -> FastAPI:
    """Build the API around a prepared :class:`~pivot.hub.Hub`; requests are traced (not probes)."""
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        hub.ingestion.start()
        watch = BrokerWatch(hub, every_s=hub.settings.kafka.recovery_check_s).start()
        cases = CaseWatch(hub.store, hub.metrics, hub.settings.cases).start()
        yield
        cases.stop()
        watch.stop()
        hub.ingestion.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="Pivot hub API",
        version=__version__,
        description="Ingest satellites' webhooks, look up golden records, operate the hub.",
        telemetry=api_telemetry(),
    )
    app.state.hub = hub
    app.include_router(ingest.router)
    app.include_router(health.router)
    app.include_router(dlq.router)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        error = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_").replace("-", "_")
        return JSONResponse({"error": error, "detail": str(exc.detail)},
                            status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return JSONResponse(
            {"error": "invalid_request", "detail": f"{where}: {first.get('msg', 'invalid')}"},
            status_code=422,
        )

    return app
