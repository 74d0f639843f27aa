"""Fixtures of the sandbox tests: a tiny hub that records and verifies signed webhooks."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from pivot.serving import ServerThread
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


@pytest.fixture(scope="session")
def _hub_server() -> Iterator[FakeHub]:
    hub = FakeHub()
    server = ServerThread(_hub_app(hub), name="fake-hub").start()
    hub.url = server.url
    try:
        yield hub
    finally:
        server.stop()


@pytest.fixture
def fake_hub(_hub_server: FakeHub) -> FakeHub:
    """A real HTTP hub on loopback, emptied before each test."""
    _hub_server.clear()
    return _hub_server
