"""A tiny hub that records the webhooks a sandbox sends (real HTTP on loopback)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from pivot.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureError, verify

HUB_SECRET = "test-hub-secret"


@dataclass
class FakeHub:
    """What the fake hub received: raw bodies, headers, and whether each signature verified."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        with self.lock:
            self.received.clear()


def _hub_app(hub: FakeHub) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/ingest/{connector}")
    async def ingest(connector: str, request: Request) -> JSONResponse:
        body = await request.body()
        try:
            verify(
                HUB_SECRET,
                body,
                request.headers.get(TIMESTAMP_HEADER),
                request.headers.get(SIGNATURE_HEADER),
                tolerance_s=300,
            )
            signature_ok = True
        except SignatureError:
            signature_ok = False
        with hub.lock:
            hub.received.append(
                {
                    "connector": connector,
                    "body": body,
                    "content_type": request.headers.get("content-type"),
                    "signature_ok": signature_ok,
                }
            )
            number = len(hub.received)
        if not signature_ok:
            return JSONResponse({"error": "bad signature"}, status_code=401)
        return JSONResponse({"ingestion_id": f"ing_{number:04d}"}, status_code=202)

    return app
