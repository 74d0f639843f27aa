"""``POST /v1/ingest/{connector}``: a satellite's signed webhook onto ``pivot.raw.<connector>``."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError

from observability.metrics import Outcome
from pivot import jsoncodec, webhooks
from pivot.api.deps import HubDep
from pivot.hub import Hub
from pivot.ingestion import ReplayedWebhook

router = APIRouter(tags=["ingest"])
log = logging.getLogger(__name__)


class Accepted(BaseModel):
    """The payload is durable (on the bus, or in the store's spool) and will be translated."""

    ingestion_id: str
    connector: str
    topic: str
    spooled: bool = False


class Problem(BaseModel):
    """Why a request was refused."""

    error: str
    detail: str


def problem(status: int, error: str, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """A JSON error answer."""
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


@router.post(
    "/v1/ingest/{connector}",
    status_code=202,
    response_model=Accepted,
    responses={400: {"model": Problem}, 401: {"model": Problem}, 404: {"model": Problem},
               409: {"model": Problem},
               413: {"model": Problem}, 503: {"model": Problem}},
    summary="Accept a satellite's signed webhook",
)
async def ingest(
    connector: str,
    request: Request,
    hub: HubDep,
    x_pivot_timestamp: str | None = Header(default=None),
    x_pivot_signature: str | None = Header(default=None),
) -> JSONResponse:
    """Write the payload, exactly as received, to ``pivot.raw.<connector>``.

    Answers 202 with an ingestion id once the payload is durable (committed to the store's
    journal); the hub then publishes it in acceptance order. ``"spooled": true`` says the
    broker is away: the payload waits in the store and is published when it is back.
    """
    limit = hub.settings.api.max_body_bytes
    body = await _read_limited(request, limit)
    if body is None:
        hub.metrics.ingested.labels(_label(hub, connector), Outcome.REJECTED).inc()
        return problem(413, "payload_too_large", f"body exceeds {limit} bytes")
    return await _accept(hub, connector, body, x_pivot_timestamp, x_pivot_signature)


async def _read_limited(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it is longer than ``limit`` (nothing more is read)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks = bytearray()
    async for chunk in request.stream():
        chunks.extend(chunk)
        if len(chunks) > limit:
            return None
    return bytes(chunks)


def _label(hub: Hub, connector: str) -> str:
    return connector if connector in hub.connectors else "-"


async def _accept(
    hub: Hub, connector: str, body: bytes, timestamp: str | None, signature: str | None
) -> JSONResponse:
    metrics = hub.metrics
    impl = hub.connectors.get(connector)
    if impl is None:
        metrics.ingested.labels("-", Outcome.REJECTED).inc()
        return problem(404, "unknown_connector", f"no connector named {connector!r}")
    api = hub.settings.api
    try:
        webhooks.verify(api.webhook_secret.get_secret_value(), body, timestamp, signature,
                        api.signature_tolerance_s)
    except webhooks.SignatureError as exc:
        metrics.ingested.labels(connector, Outcome.REJECTED).inc()
        return problem(401, "bad_signature", str(exc))
    try:
        payload = jsoncodec.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        metrics.ingested.labels(connector, Outcome.REJECTED).inc()
        return problem(400, "invalid_json", f"body is not JSON: {exc}")
    key = impl.source_key(payload) if isinstance(payload, dict) else None
    try:
        accepted = await hub.ingestion.accept_async(connector, key, body, signature)
    except ReplayedWebhook as exc:
        metrics.ingested.labels(connector, Outcome.REJECTED).inc()
        return problem(409, "replayed_webhook", str(exc))
    except SQLAlchemyError as exc:
        metrics.ingested.labels(connector, Outcome.ERROR).inc()
        log.error("store unavailable, payload refused: %s", exc)
        return problem(503, "store_unavailable", "the hub cannot make the payload durable now",
                       headers={"Retry-After": "5"})
    metrics.ingested.labels(connector, Outcome.SPOOLED if accepted.spooled else Outcome.OK).inc()
    return JSONResponse(
        Accepted(ingestion_id=accepted.ingestion_id, connector=connector, topic=accepted.topic,
                 spooled=accepted.spooled).model_dump(),
        status_code=202,
    )
