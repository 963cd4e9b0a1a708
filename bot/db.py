"""Database engine and sessions for the clinic database, created lazily once per process.

SQLite (the embedded default) and PostgreSQL (production) go through the same
code; this module hides their differences: SQLite gets WAL, a busy timeout and
foreign keys, PostgreSQL gets connect and statement timeouts well inside Rasa's
60 s conversation lock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import Dialect, Engine, make_url
from sqlalchemy.orm import Session, declarative_base, sessionmaker
from sqlalchemy.pool import QueuePool
from sqlalchemy.types import TypeDecorator

from bot.settings import get_settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Base = declarative_base(metadata=MetaData(naming_convention=NAMING_CONVENTION))


class UtcDateTime(TypeDecorator):
    """A moment stored as naive UTC on every dialect, handed back as an aware UTC datetime."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        """Refuse naive values (their zone is a guess) and store the UTC wall time."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("UtcDateTime needs a timezone-aware datetime")
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        """Mark stored values as UTC so callers can convert them safely."""
        if value is None:
            return None
        return value.replace(tzinfo=dt.timezone.utc)


_lock = threading.Lock()
_engines: dict[str, Engine] = {}
_sessionmakers: dict[str, sessionmaker] = {}


def create_clinic_engine(url: str, timeout_seconds: float | None = None) -> Engine:
    """Make an engine for ``url`` with the per-dialect safety settings."""
    from sqlalchemy import create_engine

    timeout = timeout_seconds or get_settings().backend_timeout_seconds
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        in_memory = not parsed.database or parsed.database == ":memory:"
        engine = create_engine(
            url,
            future=True,
            hide_parameters=True,
            connect_args={"timeout": timeout, "check_same_thread": False},
            # SQLAlchemy 1.4 opens a new SQLite connection per session by default
            # (NullPool); reusing a few saves a connect and the pragmas each time.
            **({} if in_memory else {"poolclass": QueuePool, "pool_size": 5, "max_overflow": 10}),
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # pysqlite's own transaction handling is disabled so that BEGIN
            # IMMEDIATE below really takes the write lock at the start.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine

    connect_args = {}
    if parsed.get_backend_name() == "postgresql":
        connect_args = {
            "connect_timeout": max(1, int(timeout)),
            "options": f"-c statement_timeout={int(timeout * 1000)} -c lock_timeout={int(timeout * 1000)}",
        }
    return create_engine(
        url,
        future=True,
        hide_parameters=True,
        pool_pre_ping=True,
        pool_timeout=timeout,
        connect_args=connect_args,
    )


def _engine_and_maker(url: str | None) -> tuple[Engine, sessionmaker]:
    """The cached engine and session factory for ``url``, made together under the lock."""
    url = url or get_settings().clinic_database_url
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = create_clinic_engine(url)
            _engines[url] = engine
            _sessionmakers[url] = sessionmaker(bind=engine, future=True, expire_on_commit=False)
        return engine, _sessionmakers[url]


def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for ``url`` (default: ``CLINIC_DATABASE_URL``)."""
    return _engine_and_maker(url)[0]


@contextlib.contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A transaction: commit on success, roll back on any error, always close."""
    _, maker = _engine_and_maker(url)
    session: Session = maker()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def dispose_engines() -> None:
    """Close every pooled connection (tests and forked processes)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _sessionmakers.clear()
