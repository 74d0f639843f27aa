"""``python -m bench.load``: signed webhooks sent from a process of its own.

A small HTTP/1.1 client on asyncio streams with keep-alive connections: each request is the
bytes a satellite sends (JSON body, ``X-Pivot-Timestamp`` and ``X-Pivot-Signature`` from
:func:`pivot.webhooks.sign`), each answer is read up to its ``Content-Length``. It costs far
less per request than a general client, so the server under test, not the load, is the limit
(the parent also gets this process's CPU time to see whether it was).

Two modes; both announce ``ready`` once their connections are open, wait for ``go`` on stdin
and announce ``done`` with what happened:

* ``max`` — ``--concurrency`` connections each send the next webhook as soon as the previous
  one is answered, for ``--warmup`` + ``--seconds``; the answers completed in the last
  ``--seconds`` are the figure (``in_window``), every 202 is counted (``accepted``);
* ``rate`` — the webhook bodies of ``--payloads`` (a JSON list) are sent at ``--rate`` per
  second on a fixed schedule (a late answer never delays the next send); each one's send time,
  answer time, status and ingestion id are returned.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.processes import announce, wait_for_stdin_line
from pivot.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

#: Tenant messages a load generator cycles through (what the chatbot pushes).
TEXTS = (
    "Bonjour, le radiateur de la chambre ne chauffe plus depuis hier soir.",
    "Fuite d'eau sous l'évier de la cuisine, j'ai coupé l'arrivée d'eau.",
    "L'ascenseur du bâtiment B est en panne depuis ce matin.",
    "Pouvez-vous me confirmer le montant de mes charges pour ce mois ?",
)


def chatbot_message(nonce: str, number: int) -> bytes:
    """A ``message.created`` webhook body of the chatbot, unique per (nonce, number)."""
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    ref = f"{nonce}{number:08d}"
    return json.dumps({
        "event": "message.created",
        "event_id": f"evt_{ref}",
        "occurred_at": now,
        "conversation": {"id": f"conv_{ref}", "channel": "whatsapp"},
        "message": {"id": f"msg_{ref}", "text": TEXTS[number % len(TEXTS)], "sent_at": now},
        "user": {"id": f"CB-USR-{100_000 + number % 5_000:06d}", "display_name": "Mme Martin",
                 "phone": "+33612345678", "email": "c.martin@orange.fr", "erp_tenant_ref": None},
    }, ensure_ascii=False).encode()


class Connection:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
            self._reader = self._writer = None

    async def request(self, data: bytes) -> tuple[int, bytes]:
        """Send one request; return the status and the body."""
        if self._writer is None:
            await self.open()
        assert self._reader is not None and self._writer is not None
        self._writer.write(data)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        lower = head.lower()
        at = lower.find(b"\r\ncontent-length:")
        length = int(lower[at + 17:lower.find(b"\r\n", at + 17)]) if at >= 0 else 0
        body = await self._reader.readexactly(length) if length else b""
        if b"\r\nconnection: close" in lower:
            await self.close()
        return status, body


def signed_request(host: str, path: str, body: bytes, secret: str) -> bytes:
    """The bytes of a signed webhook."""
    signature = sign(secret, body)
    return (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"{TIMESTAMP_HEADER}: {signature[TIMESTAMP_HEADER]}\r\n"
            f"{SIGNATURE_HEADER}: {signature[SIGNATURE_HEADER]}\r\n\r\n").encode() + body


async def _connections(host: str, port: int, count: int) -> list[Connection]:
    connections = [Connection(host, port) for _ in range(count)]
    await asyncio.gather(*(c.open() for c in connections))
    return connections


async def run_max(host: str, port: int, path: str, secret: str, concurrency: int,
                  warmup_s: float, seconds: float) -> dict[str, Any]:
    """Closed loop: every connection sends again as soon as it is answered."""
    connections = await _connections(host, port, concurrency)
    announce("ready")
    if await asyncio.get_running_loop().run_in_executor(None, wait_for_stdin_line) != "go":
        return {"in_window": 0, "window_s": seconds, "accepted": 0, "statuses": {}, "cpu_s": 0.0,
                "elapsed_s": 0.0}  # the parent went away
    nonce = uuid.uuid4().hex[:10]
    numbers = itertools.count()
    statuses: Counter[str] = Counter()
    in_window = 0
    cpu0, began = time.process_time(), time.monotonic()
    window_start, end = began + warmup_s, began + warmup_s + seconds

    async def send_until_end(connection: Connection) -> None:
        nonlocal in_window
        host_header = f"{host}:{port}"
        while time.monotonic() < end:
            data = signed_request(host_header, path, chatbot_message(nonce, next(numbers)), secret)
            try:
                status, _body = await connection.request(data)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                statuses[type(exc).__name__] += 1
                await connection.close()
                continue
            statuses[str(status)] += 1
            if status == 202 and window_start <= time.monotonic() <= end:
                in_window += 1

    await asyncio.gather(*(send_until_end(c) for c in connections))
    for connection in connections:
        await connection.close()
    return {"in_window": in_window, "window_s": seconds, "accepted": statuses["202"],
            "statuses": dict(statuses), "cpu_s": time.process_time() - cpu0,
            "elapsed_s": time.monotonic() - began}


async def run_rate(host: str, port: int, path: str, secret: str, concurrency: int,
                   payloads: list[Any], rate: float) -> dict[str, Any]:
    """Open loop: webhook i leaves at start + i / rate, whatever the previous answers."""
    connections = await _connections(host, port, concurrency)
    bodies = [json.dumps(p, ensure_ascii=False).encode() for p in payloads]
    announce("ready")
    if await asyncio.get_running_loop().run_in_executor(None, wait_for_stdin_line) != "go":
        return {"results": [], "cpu_s": 0.0, "elapsed_s": 0.0}  # the parent went away
    queue: asyncio.Queue[int | None] = asyncio.Queue()
    results: list[list[Any]] = [[0.0, 0.0, 0, None] for _ in bodies]
    host_header = f"{host}:{port}"
    cpu0, began = time.process_time(), time.monotonic()

    async def schedule() -> None:
        for number in range(len(bodies)):
            delay = began + number / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            queue.put_nowait(number)
        for _ in connections:
            queue.put_nowait(None)

    async def send(connection: Connection) -> None:
        while (number := await queue.get()) is not None:
            sent = time.time()
            data = signed_request(host_header, path, bodies[number], secret)
            try:
                status, body = await connection.request(data)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                results[number] = [sent, time.time(), type(exc).__name__, None]
                await connection.close()
                continue
            ingestion_id = json.loads(body).get("ingestion_id") if status == 202 else None
            results[number] = [sent, time.time(), status, ingestion_id]

    await asyncio.gather(schedule(), *(send(c) for c in connections))
    for connection in connections:
        await connection.close()
    return {"results": results, "cpu_s": time.process_time() - cpu0,
            "elapsed_s": time.monotonic() - began}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("mode", choices=("max", "rate"))
    parser.add_argument("--url", required=True, help="Base URL of the server under test.")
    parser.add_argument("--connector", default="chatbot")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--payloads", type=Path, help="JSON list of webhook bodies (rate mode).")
    args = parser.parse_args(argv)
    secret = os.environ["PIVOT_API_WEBHOOK_SECRET"]  # set by the parent, not on the command line
    url = urlsplit(args.url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    path = f"/v1/ingest/{args.connector}"
    if args.mode == "max":
        done = asyncio.run(run_max(host, port, path, secret, args.concurrency, args.warmup,
                                   args.seconds))
    else:
        payloads = json.loads(args.payloads.read_text()) if args.payloads else []
        done = asyncio.run(run_rate(host, port, path, secret, args.concurrency, payloads,
                                    args.rate))
    announce("done", **done)
    return 0


if __name__ == "__main__":
    sys.exit(main())
