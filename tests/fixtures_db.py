"""Real clinic databases for the scheduling and records tests.

Every test that asks for ``db_url`` runs once on a SQLite file and once on a
throwaway PostgreSQL database (marked ``postgres``). Each backend database is
created and migrated once per session (``bot.migrate.upgrade``), then emptied
and re-seeded with the demo clinic before every test, so tests are
independent. Time is pinned: today is Wednesday 2026-12-02 and "now" is
08:00 clinic time, never the real clock or ``CLINIC_TODAY``.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from bot.db import dispose_engines, get_engine
from bot.migrate import upgrade
from bot.seed import seed_demo_clinic

TZ = ZoneInfo("America/New_York")
TODAY = dt.date(2026, 12, 2)  # a Wednesday
NOW = dt.datetime(2026, 12, 2, 8, 0, tzinfo=TZ)
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
CLOSED_PORT_URL = "postgresql://postgres@127.0.0.1:1/x"

# Children before parents; the self-reference of appointments is cleared first.
_RESET_SQL = (
    "DELETE FROM outbox",
    "DELETE FROM waitlist_offers",
    "DELETE FROM waitlist_entries",
    "DELETE FROM freed_slots",
    "DELETE FROM outreach_policy",
    "UPDATE appointments SET rescheduled_from_id = NULL",
    "DELETE FROM appointments",
    "DELETE FROM provider_schedules",
    "DELETE FROM provider_visit_types",
    "DELETE FROM providers",
    "DELETE FROM visit_types",
    "DELETE FROM opening_hours",
    "DELETE FROM clinic_closures",
    "DELETE FROM clinic",
    "DELETE FROM patients",
    "UPDATE record_counters SET last_value = 1000",
)


def local(day: int, hour: int, minute: int = 0, month: int = 12, year: int = 2026) -> dt.datetime:
    """An aware clinic-local datetime, short to write in tests."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=TZ)


def _pg_admin() -> sa.engine.Engine:
    return sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)


def create_pg_database() -> str:
    """Create an empty throwaway PostgreSQL database; skip the test if the server is down."""
    name = f"clinic_test_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin()
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 is not reachable ({type(exc.orig).__name__})")
    finally:
        admin.dispose()
    return f"{PG_SERVER}/{name}"


def drop_pg_database(url: str) -> None:
    """Drop a throwaway database, closing our pooled connections to it first."""
    engine = get_engine(url)
    engine.dispose()
    name = sa.engine.make_url(url).database
    admin = _pg_admin()
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A brand-new, unmigrated database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture(scope="session", params=BACKENDS)
def migrated_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One migrated database per backend for the whole session."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('clinic') / 'clinic.db'}"
        upgrade(url)
        yield url
        dispose_engines()
        return
    url = create_pg_database()
    try:
        upgrade(url)
        yield url
    finally:
        drop_pg_database(url)


def reset_database(url: str, today: dt.date = TODAY) -> None:
    """Empty every table and load the demo clinic as of ``today``."""
    with get_engine(url).begin() as conn:
        for statement in _RESET_SQL:
            conn.execute(sa.text(statement))
    seed_demo_clinic(url, today=today)


@pytest.fixture
def db_url(migrated_url: str) -> str:
    """A freshly seeded demo clinic database (today = 2026-12-02) on each backend."""
    reset_database(migrated_url)
    return migrated_url


@pytest.fixture
def scalar(db_url: str) -> Callable[..., object]:
    """Run one SQL query on the test database and return its first column of the first row."""

    def run(sql: str, **params: object) -> object:
        with get_engine(db_url).connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()

    return run


def race(calls: Sequence[Callable[[], object]]) -> list[object]:
    """Run every call in its own thread, all released together; results or exceptions."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = calls[index]()
        except Exception as exc:  # noqa: BLE001 - the test inspects every outcome
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results
