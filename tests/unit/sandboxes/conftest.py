"""Fixtures of the sandbox tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from recording_hub import FakeHub, _hub_app

from pivot.serving import ServerThread


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
