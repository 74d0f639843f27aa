"""The whole hub on one machine: broker, store, API, workers, pollers and sandbox satellites.

Used by ``pivot demo`` and by the end-to-end tests, so both exercise the same wiring. Every
installed connector runs; those with a sandbox satellite (:mod:`pivot.sandboxes`) are pointed
at it, the others (the AI services) need none.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from connectors.sdk.base import Connector
from connectors.sdk.registry import available
from observability.metrics import PivotMetrics
from pivot.api import create_app
from pivot.broker import EmbeddedBroker, kafka_bootstrap
from pivot.bus.consumer import ConsumerLoop, run_in_thread, wait_all_assigned
from pivot.hub import Hub
from pivot.polling import Poller
from pivot.sandboxes import SHARED_SATELLITES, SandboxOptions, build_sandboxes
from pivot.serving import ServerThread, free_port
from pivot.settings import PivotSettings
from pivot.store import Store

Progress = Callable[[str], None]


@dataclass
class Stack:
    """A running hub and its satellites."""

    hub: Hub
    api_url: str
    #: Base URL of each sandbox satellite, by connector name.
    sandboxes: dict[str, str]
    loops: list[ConsumerLoop]
    pollers: list[Poller]
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


def _connectors(urls: dict[str, str], overrides: dict[str, dict[str, Any]]) -> dict[str, Connector]:
    connectors = {}
    for name, cls in available().items():
        options = dict(overrides.get(name, {}))
        satellite = SHARED_SATELLITES.get(name, name)
        if satellite in urls:
            options.setdefault("base_url", urls[satellite])
        connectors[name] = cls(cls.settings_class(**options))
    return connectors


@contextlib.contextmanager
def running_stack(
    settings: PivotSettings,
    database_url: str,
    *,
    seed: int = 42,
    lots: int = 2000,
    metrics: PivotMetrics | None = None,
    progress: Progress = lambda _m: None,
    connector_settings: dict[str, dict[str, Any]] | None = None,
    start_pollers: bool = True,
) -> Iterator[Stack]:
    """Start everything, wait until the workers joined their groups, stop it all on exit.

    ``connector_settings`` overrides connector settings by name (e.g. fewer retry attempts);
    ``start_pollers=False`` leaves the polled satellites (the ERP) unread until the caller
    polls them (:meth:`pivot.polling.Poller.catch_up`).
    """
    with kafka_bootstrap(settings.kafka.bootstrap, settings.broker) as (bootstrap, broker):
        progress(f"broker: {bootstrap}" + (" (embedded)" if broker else ""))
        api_port = free_port()
        apps = build_sandboxes(SandboxOptions(
            seed=seed, lots=lots, hub_url=f"http://127.0.0.1:{api_port}",
            webhook_secret=settings.api.webhook_secret.get_secret_value(),
        ))
        servers = {name: ServerThread(app, name=f"sandbox-{name}") for name, app in apps.items()}
        with _started(*servers.values()):
            urls = {name: server.url for name, server in servers.items()}
            hub = Hub(settings, bootstrap, store=Store(database_url), metrics=metrics,
                      connectors=_connectors(urls, connector_settings or {}))
            try:
                hub.prepare()
                progress("store migrated, topics created")
                api = ServerThread(create_app(hub), port=api_port, name="hub-api")
                with _started(api):
                    progress(f"hub API {api.url}; sandboxes "
                             + ", ".join(f"{n} {u}" for n, u in urls.items()))
                    loops = hub.loops()
                    threads = [run_in_thread(loop) for loop in loops]
                    pollers = hub.pollers()
                    try:
                        if not wait_all_assigned(loops, timeout_s=30):
                            raise RuntimeError("workers did not join their groups in 30 s")
                        progress(f"{len(loops)} workers joined their consumer groups")
                        if start_pollers:
                            for poller in pollers:
                                poller.start()
                        yield Stack(hub, api.url, urls, loops, pollers, broker)
                    finally:
                        for poller in pollers:
                            poller.stop()
                        for loop in loops:
                            loop.stop()
                        for thread in threads:
                            thread.join(15)
            finally:
                hub.close()
