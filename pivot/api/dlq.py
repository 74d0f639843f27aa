"""Dead letters through the API: list and replay, behind scoped API keys."""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from pivot.api.deps import HubDep
from pivot.api.ingest import problem
from pivot.api.security import scope
from pivot.errors import BrokerUnavailable, ConfigurationError
from pivot.pipeline.dlq import read_dead_letters, replay, select_letters

router = APIRouter(prefix="/v1/dlq", tags=["operations"])


class ReplayRequest(BaseModel):
    """Which dead letters of one connector to send back to their original topic."""

    connector: str = Field(min_length=1, max_length=64)
    ids: list[str] = Field(default_factory=list, max_length=10_000)
    all: bool = False


@router.get("", dependencies=[scope("dlq:read")], summary="List dead letters")
async def list_dead_letters(
    hub: HubDep, connector: str | None = Query(default=None, max_length=64),
) -> JSONResponse:
    """Dead letters (without payloads) of one connector, or of all."""
    if connector is not None and connector not in hub.connectors:
        return problem(404, "unknown_connector", f"no connector named {connector!r}")
    names = [connector] if connector else list(hub.connectors)
    try:
        letters = await run_in_threadpool(read_dead_letters, hub.bootstrap, names, hub.store)
    except BrokerUnavailable as exc:
        return problem(503, "broker_unavailable", str(exc), headers={"Retry-After": "5"})
    return JSONResponse({"dead_letters": [d.as_dict() for d in letters], "count": len(letters)})


@router.post("/replay", dependencies=[scope("dlq:replay")], summary="Replay dead letters")
async def replay_dead_letters(hub: HubDep, body: ReplayRequest) -> JSONResponse:
    """Send the chosen dead letters back to their original topic, with their event id."""
    if body.connector not in hub.connectors:
        return problem(404, "unknown_connector", f"no connector named {body.connector!r}")

    def run() -> list[str]:
        letters = read_dead_letters(hub.bootstrap, [body.connector], hub.store)
        chosen = select_letters(letters, body.ids, body.all)
        replay(hub.producer, hub.store, chosen, hub.metrics)
        return [d.id for d in chosen]

    try:
        replayed = await run_in_threadpool(run)
    except ConfigurationError as exc:
        return problem(400, "invalid_selection", str(exc))
    except BrokerUnavailable as exc:
        return problem(503, "broker_unavailable", str(exc), headers={"Retry-After": "5"})
    return JSONResponse({"replayed": replayed, "count": len(replayed)})
