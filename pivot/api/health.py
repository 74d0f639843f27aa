"""Liveness, readiness and metrics."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from pivot.api.deps import HubDep
from pivot.bus.client import broker_reachable

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is alive")
def healthz() -> dict[str, str]:
    """Always ``{"status": "ok"}`` while the process serves requests."""
    return {"status": "ok"}


@router.get("/readyz", summary="Broker and store are reachable")
def readyz(hub: HubDep) -> JSONResponse:
    """200 when both the Kafka cluster and the store answer, else 503 saying which does not."""
    checks = {"broker": broker_reachable(hub.bootstrap), "store": hub.store.ping()}
    ready = all(checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


@router.get("/metrics", summary="Prometheus metrics")
def metrics(hub: HubDep) -> Response:
    """The hub's metrics in the Prometheus text format."""
    return Response(generate_latest(hub.metrics.registry), media_type=CONTENT_TYPE_LATEST)
