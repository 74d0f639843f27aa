"""Engine, sessions and migrations of the store (SQLite by default, PostgreSQL in production)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from pivot import jsoncodec
from pivot.errors import ConfigurationError

MIGRATIONS = Path(__file__).parent / "migrations"


READ_ONLY = "pivot_read_only"
#: How long a SQLite statement or writer waits for a lock before "database is locked".
BUSY_TIMEOUT_S = 30.0
_BUSY_TIMEOUT_MS = int(BUSY_TIMEOUT_S * 1000)
#: How often a writer waiting for SQLite's write lock tries again.
_LOCK_RETRY_S = 0.001
#: JSON columns are written and read with the hub's codec (golden records are JSON).
_JSON = {"json_serializer": jsoncodec.dumps_str, "json_deserializer": jsoncodec.loads}


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # pysqlite's legacy mode sends no BEGIN before a SAVEPOINT, so releasing the savepoint
    # would commit for good; the begin listener below sends BEGIN itself instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # Writers take the write lock up front (IMMEDIATE): a deferred transaction that reads then
    # writes cannot wait for another writer and fails at once with "database is locked".
    if connection.get_execution_options().get(READ_ONLY, False):
        connection.exec_driver_sql("BEGIN")
    else:
        _begin_immediate(connection)


def _begin_immediate(connection: Connection) -> None:
    """``BEGIN IMMEDIATE``, trying for the write lock again every millisecond.

    SQLite's own busy handler sleeps longer and longer between tries (1, 2, 5 … 100 ms): a
    writer that has waited a while misses the moments the lock is free, while another
    process's writers, trying again at once, keep taking it. Writes of a few ms then waited
    hundreds of ms. After ``BUSY_TIMEOUT_S`` the usual "database is locked" error is raised.
    """
    raw = connection.connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)
    raw.execute("PRAGMA busy_timeout=0")
    try:
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                    break  # not the lock: the statement below raises it as SQLAlchemy does
            time.sleep(_LOCK_RETRY_S)
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    finally:
        raw.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")


def create_store_engine(url: str, echo: bool = False) -> Engine:
    """An engine for ``url``; creates the SQLite file's folder and sets WAL for concurrency."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise ConfigurationError(f"PIVOT_DATABASE_URL is not a database URL: {url!r}") from exc
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # Deliver lanes hold a read session across their satellite call: room for all of them.
        engine = create_engine(parsed, echo=echo, connect_args={"timeout": BUSY_TIMEOUT_S},
                               pool_size=10, max_overflow=50, **_JSON)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(parsed, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=30,
                         **_JSON)


class Store:
    """The store: an engine, a session factory and the migrations."""

    def __init__(self, url: str, echo: bool = False) -> None:
        self.url = url
        self.engine = create_store_engine(url, echo)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._read_engine = self.engine.execution_options(**{READ_ONLY: True})
        self._read_sessions = sessionmaker(self._read_engine, expire_on_commit=False)

    def migrate(self) -> None:
        """Bring the schema to the latest Alembic revision."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = None
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A write session in a transaction: committed on success, rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A session for reads only: it takes no write lock, so it may stay open across a call."""
        with self._read_sessions() as session, session.begin():
            yield session

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A read session whose snapshot the caller renews, with ``rollback()``, to see later commits.

        Unlike :meth:`read_session` it is not one transaction: each read after a rollback
        starts a new one.
        """
        with self._read_sessions() as session:
            yield session

    def ping(self) -> bool:
        """True when the database answers."""
        try:
            with self._read_engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
