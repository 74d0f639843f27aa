"""``python -m bench.satellite NAME``: one sandbox satellite in a process of its own.

The sandbox app of the connector, served like the hub serves (``pivot.serving.ServerThread``,
uvicorn on loopback), plus read-outs under ``/bench/`` so a benchmark can follow its progress
and check the final state without copying the whole state each time:

* ``GET /bench/progress`` — ``{"count": n}``: properties (Ublo), replies (chatbot);
* ``GET /bench/summary`` — what the consistency checks need (Ublo: each property's RPLS and
  occupancy; chatbot: each reply's conversation and time) and the idempotency ledger;
* ``POST /bench/messages`` (chatbot) — ``{"count": n}``: tenants write n messages; their
  conversations are opened and their webhook bodies returned, not sent (the load generator
  sends them at the rate it is told).

It announces ``{"event": "ready", "url": ...}`` on stdout and serves until SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections import Counter
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

from bench.processes import announce, wait_for_termination
from connectors.chatbot import sandbox as chatbot_sandbox
from connectors.erp import sandbox as erp_sandbox
from connectors.ublo import sandbox as ublo_sandbox
from pivot.serving import ServerThread

NAMES = ("erp", "ublo", "chatbot")


class MessagesIn(BaseModel):
    count: int = Field(ge=1, le=200_000)


def ublo_app(seed: int) -> FastAPI:
    app = ublo_sandbox.create_app(seed=seed)
    state: ublo_sandbox.UbloState = app.state.sandbox

    @app.get("/bench/progress", tags=["bench"])
    def progress() -> dict[str, int]:
        return {"count": len(state.properties)}

    @app.get("/bench/summary", tags=["bench"])
    def summary() -> dict[str, Any]:
        with state.lock:
            properties = list(state.properties.values())
            return {
                "properties": len(properties),
                "rpls": [p["rpls"] for p in properties],
                "occupancy": dict(Counter(p["occupancy"] for p in properties)),
                "ledger": state.ledger.stats(),
            }

    return app


def chatbot_app(seed: int, hub_url: str | None) -> FastAPI:
    app = chatbot_sandbox.create_app(seed=seed, hub_url=hub_url)
    state: chatbot_sandbox.ChatbotState = app.state.sandbox

    @app.post("/bench/messages", tags=["bench"])
    def messages(body: MessagesIn) -> dict[str, Any]:
        items = state.generate(body.count)
        return {"payloads": [state.webhook_payload(item) for item in items]}

    @app.get("/bench/progress", tags=["bench"])
    def progress() -> dict[str, int]:
        return {"count": len(state.replies)}

    @app.get("/bench/summary", tags=["bench"])
    def summary() -> dict[str, Any]:
        with state.lock:
            return {
                "replies": [[r["conversation_id"], r["received_ts"], r["kind"]]
                            for r in state.replies],
                "ledger": state.ledger.stats(),
            }

    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.satellite", description=__doc__)
    parser.add_argument("name", choices=NAMES)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--lots", type=int, default=2000, help="Lots of the ERP's estate.")
    parser.add_argument("--hub-url", default=None, help="Where the satellite's webhooks go.")
    parser.add_argument("--port", type=int, default=0, help="Port (0: a free one).")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if args.name == "erp":
        app = erp_sandbox.create_app(seed=args.seed, lots=args.lots)
    elif args.name == "ublo":
        app = ublo_app(args.seed)
    else:
        app = chatbot_app(args.seed, args.hub_url)
    server = ServerThread(app, port=args.port, name=f"sandbox-{args.name}").start(timeout_s=120)
    announce("ready", url=server.url)
    try:
        wait_for_termination()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
