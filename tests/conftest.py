"""Shared fixtures: the embedded broker, a uuid topic per test, the store on every backend."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from pivot.broker import EmbeddedBroker
from pivot.settings import KafkaSettings
from pivot.store import Store

_FOLDER_MARKERS = {"integration": "integration", "system": "system"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Markers come from folders: tests/integration → integration, tests/system → system."""
    for item in items:
        parts = Path(str(item.fspath)).parts
        for folder, marker in _FOLDER_MARKERS.items():
            if folder in parts:
                item.add_marker(getattr(pytest.mark, marker))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``store_url`` runs on SQLite, and on PostgreSQL too when PIVOT_TEST_DATABASE_URL is set."""
    if "store_backend" in metafunc.fixturenames:
        backends = ["sqlite"]
        if os.environ.get("PIVOT_TEST_DATABASE_URL"):
            backends.append("postgres")
        metafunc.parametrize("store_backend", backends, scope="session")


@contextmanager
def _new_database(server_url: str, prefix: str) -> Iterator[str]:
    """A PostgreSQL database created on ``server_url`` for the block, dropped after it."""
    url = make_url(server_url)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def _postgres_database() -> Iterator[str | None]:
    admin_url = os.environ.get("PIVOT_TEST_DATABASE_URL")
    if not admin_url:
        yield None
        return
    with _new_database(admin_url, "pivot_test") as url:
        yield url


@pytest.fixture
def store_url(store_backend: str, tmp_path: Path, _postgres_database: str | None) -> str:
    """A store URL on the backend under test (fresh SQLite file; shared test PostgreSQL DB)."""
    if store_backend == "postgres":
        assert _postgres_database is not None
        return _postgres_database
    return f"sqlite:///{tmp_path / 'pivot.db'}"


@pytest.fixture
def own_store_url(store_backend: str, tmp_path: Path, _postgres_database: str | None) -> Iterator[str]:
    """A store URL no other test writes to (a database of its own on PostgreSQL).

    For tests that load a sandbox's whole estate: the sandboxes' ids (and so the event ids)
    repeat from one seed to the next, and a shared database would rightly dedupe them.
    """
    if store_backend != "postgres":
        yield f"sqlite:///{tmp_path / 'pivot.db'}"
        return
    assert _postgres_database is not None
    with _new_database(_postgres_database, "pivot_own") as url:
        yield url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A migrated store."""
    s = Store(store_url)
    s.migrate()
    yield s
    s.dispose()


@pytest.fixture(scope="session")
def bootstrap() -> Iterator[str]:
    """Bootstrap of a real Kafka-protocol broker: the embedded one, started once per session."""
    configured = os.environ.get("PIVOT_TEST_KAFKA_BOOTSTRAP")
    if configured:
        yield configured
        return
    with EmbeddedBroker() as broker:
        yield broker.bootstrap


@pytest.fixture
def kafka_settings() -> KafkaSettings:
    """Kafka settings tuned for the embedded broker."""
    return KafkaSettings(partitions=3)


@pytest.fixture
def topic_suffix() -> str:
    """A unique suffix, so each test uses its own topics and groups."""
    return uuid.uuid4().hex[:10]
