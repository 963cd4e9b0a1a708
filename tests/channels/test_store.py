"""Channel tables on SQLite and PostgreSQL: opt-outs as keyed hashes, deliveries claimed once
(also when two Rasa instances race), migration 0003 up and down."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bot import sms_opt_out as opt_out
from bot.db import Base, get_engine
from bot.migrate import current_revision, downgrade, upgrade
from bot.settings import reset_settings_cache
from channels import store
from tests.fixtures_db import empty_db_url, migrated_url, race  # noqa: F401

CHANNEL_TABLES = {"sms_opt_outs", "channel_deliveries"}


@pytest.fixture
def db(migrated_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:  # noqa: F811
    """An emptied channel store on each backend, with a fixed channel secret."""
    monkeypatch.setenv("CHANNEL_ID_SECRET", "store-test-secret")
    reset_settings_cache()
    with get_engine(migrated_url).begin() as conn:
        for table in CHANNEL_TABLES:
            conn.execute(sa.text(f"DELETE FROM {table}"))
    yield migrated_url


def rows(url: str, sql: str) -> list:
    with get_engine(url).connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql))]


def test_opt_out_is_kept_as_a_keyed_hash_and_is_idempotent(db: str) -> None:
    assert not opt_out.is_opted_out("+15555550123", db)
    opt_out.set_opted_out("+15555550123", True, db)
    opt_out.set_opted_out("+15555550123", True, db)
    assert opt_out.is_opted_out("+15555550123", db)
    assert not opt_out.is_opted_out("+15555550188", db)
    [(key,)] = rows(db, "SELECT number_key FROM sms_opt_outs")
    assert "5555550123" not in key and len(key) == 32
    opt_out.set_opted_out("+15555550123", False, db)
    opt_out.set_opted_out("+15555550123", False, db)
    assert not opt_out.is_opted_out("+15555550123", db)
    assert rows(db, "SELECT number_key FROM sms_opt_outs") == []


def test_a_delivery_is_claimed_once_and_its_reply_kept(db: str) -> None:
    assert store.claim_delivery("sms", "SM1", db) == store.DeliveryClaim(True)
    assert store.claim_delivery("sms", "SM1", db) == store.DeliveryClaim(False, None)  # still in progress
    store.finish_delivery("sms", "SM1", "<Response/>", db)
    assert store.claim_delivery("sms", "SM1", db) == store.DeliveryClaim(False, "<Response/>")
    assert store.claim_delivery("portal", "SM1", db).claimed  # another channel's key space


def test_a_released_delivery_can_be_processed_again(db: str) -> None:
    assert store.claim_delivery("sms", "SM2", db).claimed
    store.release_delivery("sms", "SM2", db)
    assert store.claim_delivery("sms", "SM2", db).claimed


def test_racing_deliveries_of_one_message_are_claimed_exactly_once(db: str) -> None:
    results = race([lambda: store.claim_delivery("sms", "SM-race", db) for _ in range(6)])
    assert sum(1 for r in results if isinstance(r, store.DeliveryClaim) and r.claimed) == 1
    assert all(isinstance(r, store.DeliveryClaim) for r in results), results


def test_racing_opt_outs_of_one_number_all_succeed(db: str) -> None:
    results = race([lambda: opt_out.set_opted_out("+15555550123", True, db) for _ in range(4)])
    assert results == [None] * 4
    assert opt_out.is_opted_out("+15555550123", db)


def test_old_deliveries_are_pruned(db: str) -> None:
    store.claim_delivery("sms", "SM-old", db)
    old = dt.datetime.utcnow() - store.DELIVERY_RETENTION - dt.timedelta(hours=1)
    with get_engine(db).begin() as conn:
        conn.execute(
            sa.text("UPDATE channel_deliveries SET received_at = :t WHERE delivery_key = 'SM-old'"), {"t": old}
        )
    store.claim_delivery("sms", "SM-new", db)
    assert rows(db, "SELECT delivery_key FROM channel_deliveries") == [("SM-new",)]


def test_0003_matches_the_models_and_downgrades_cleanly(empty_db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setenv("CHANNEL_ID_SECRET", "store-test-secret")
    reset_settings_cache()
    upgrade(empty_db_url, "0003")
    assert current_revision(empty_db_url) == "0003"
    assert CHANNEL_TABLES <= set(sa.inspect(get_engine(empty_db_url)).get_table_names())
    with get_engine(empty_db_url).connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        diffs = [
            d
            for d in compare_metadata(context, Base.metadata)
            if CHANNEL_TABLES & set(repr(d).replace("'", " ").split())
        ]
    assert diffs == []
    opt_out.set_opted_out("+15555550123", True, empty_db_url)
    downgrade(empty_db_url, "0002")
    assert not CHANNEL_TABLES & set(sa.inspect(get_engine(empty_db_url)).get_table_names())
    upgrade(empty_db_url, "0003")
    assert not opt_out.is_opted_out("+15555550123", empty_db_url)
