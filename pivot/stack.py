"""The whole hub on one machine: broker, store, API, workers and sandbox satellites.

Used by ``pivot demo`` and by the end-to-end tests, so both exercise the same wiring.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from connectors.chatbot import ChatbotConnector, ChatbotSettings
from connectors.chatbot import sandbox as chatbot_sandbox
from connectors.urbest import UrbestConnector, UrbestSettings
from connectors.urbest import sandbox as urbest_sandbox
from observability.metrics import PivotMetrics
from pivot.api import create_app
from pivot.broker import EmbeddedBroker, kafka_bootstrap
from pivot.bus.consumer import ConsumerLoop, run_in_thread, wait_all_assigned
from pivot.hub import Hub
from pivot.serving import ServerThread, free_port
from pivot.settings import PivotSettings
from pivot.store import Store

Progress = Callable[[str], None]


@dataclass
class Stack:
    """A running hub and its satellites."""

    hub: Hub
    api_url: str
    sandboxes: dict[str, str]
    loops: list[ConsumerLoop]
    broker: EmbeddedBroker | None


@contextlib.contextmanager
def _started(*servers: ServerThread) -> Iterator[None]:
    started: list[ServerThread] = []
    try:
        for server in servers:
            started.append(server.start())
        yield
    finally:
        for server in reversed(started):
            server.stop()


@contextlib.contextmanager
def running_stack(
    settings: PivotSettings,
    database_url: str,
    *,
    seed: int = 42,
    metrics: PivotMetrics | None = None,
    progress: Progress = lambda _m: None,
    connector_settings: dict[str, dict[str, Any]] | None = None,
) -> Iterator[Stack]:
    """Start everything, wait until the workers joined their groups, stop it all on exit.

    ``connector_settings`` overrides connector settings by name (e.g. fewer retry attempts).
    """
    overrides = connector_settings or {}
    with kafka_bootstrap(settings.kafka.bootstrap, settings.broker) as (bootstrap, broker):
        progress(f"broker: {bootstrap}" + (" (embedded)" if broker else ""))
        api_port = free_port()
        urbest = ServerThread(urbest_sandbox.create_app(seed=seed), name="sandbox-urbest")
        chatbot = ServerThread(
            chatbot_sandbox.create_app(
                seed=seed, hub_url=f"http://127.0.0.1:{api_port}",
                webhook_secret=settings.api.webhook_secret.get_secret_value(),
            ),
            name="sandbox-chatbot",
        )
        with _started(urbest, chatbot):
            hub = Hub(
                settings, bootstrap, store=Store(database_url), metrics=metrics,
                connectors={
                    "chatbot": ChatbotConnector(
                        ChatbotSettings(base_url=chatbot.url, **overrides.get("chatbot", {}))),
                    "urbest": UrbestConnector(
                        UrbestSettings(base_url=urbest.url, **overrides.get("urbest", {}))),
                },
            )
            try:
                hub.prepare()
                progress("store migrated, topics created")
                api = ServerThread(create_app(hub), port=api_port, name="hub-api")
                with _started(api):
                    progress(f"hub API {api.url}; sandboxes chatbot {chatbot.url}, "
                             f"urbest {urbest.url}")
                    loops = hub.loops()
                    threads = [run_in_thread(loop) for loop in loops]
                    try:
                        if not wait_all_assigned(loops, timeout_s=30):
                            raise RuntimeError("workers did not join their groups in 30 s")
                        progress(f"{len(loops)} workers joined their consumer groups")
                        yield Stack(hub, api.url, {"chatbot": chatbot.url, "urbest": urbest.url},
                                    loops, broker)
                    finally:
                        for loop in loops:
                            loop.stop()
                        for thread in threads:
                            thread.join(15)
            finally:
                hub.close()
