"""The conversation store when its database goes away: never a silent start-over, never a silent loss.

A PostgreSQL server of the test's own is stopped and started again; the
machine's server keeps running.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from rasa.core.tracker_store import FailSafeTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.paths import DOMAIN_PATH
from bot.stores.tracker_store import UNAVAILABLE_SLOT, ClinicSQLTrackerStore, TurnNotStored, watch_turn
from tests.stores.test_tracker_store import EVENTS
from tests.throwaway_postgres import ThrowawayPostgres

pytestmark = pytest.mark.postgres
SECRET_TEXT = "my date of birth is 03/14/1990"


@pytest.fixture(scope="module")
def server() -> Iterator[ThrowawayPostgres]:
    pg = ThrowawayPostgres()
    try:
        yield pg
    finally:
        pg.remove()


@pytest.fixture
def store(server: ThrowawayPostgres) -> Iterator[FailSafeTrackerStore]:
    """Our store behind Rasa's own fail-safe wrapper, as the Rasa server uses it."""
    domain = Domain.load(DOMAIN_PATH)
    inner = ClinicSQLTrackerStore(
        domain, dialect="postgresql", host="127.0.0.1", port=server.port, db="postgres", username="postgres"
    )
    yield FailSafeTrackerStore(inner)
    server.start() if not _up(server) else None
    inner.engine.dispose()


def _up(server: ThrowawayPostgres) -> bool:
    import sqlalchemy as sa

    engine = sa.create_engine(server.url)
    try:
        with engine.connect():
            return True
    except sa.exc.OperationalError:
        return False
    finally:
        engine.dispose()


async def test_unreadable_store_gives_a_stand_in_never_an_empty_conversation(
    store: FailSafeTrackerStore, server: ThrowawayPostgres, caplog: pytest.LogCaptureFixture
) -> None:
    sender = "unreadable"
    await store.save(DialogueStateTracker.from_events(sender, EVENTS, store.domain.slots))
    server.stop()
    try:
        with caplog.at_level(logging.ERROR):
            tracker = await store.retrieve(sender)
        assert tracker is not None and tracker.get_slot(UNAVAILABLE_SLOT) is True
        tracker.update(UserUttered(SECRET_TEXT))
        await store.save(tracker)  # the stand-in is never written
        assert "conversation store could not be read" in caplog.text
        assert SECRET_TEXT not in caplog.text
    finally:
        server.start()
    again = await store.retrieve(sender)
    assert again is not None and not again.get_slot(UNAVAILABLE_SLOT)
    assert [e for e in again.events if isinstance(e, UserUttered)][0].text == "i need an appointment"
    assert SECRET_TEXT not in [e.text for e in again.events if isinstance(e, UserUttered)]


async def test_a_turn_that_could_not_be_written_fails_out_loud_and_is_never_written_later(
    store: FailSafeTrackerStore, server: ThrowawayPostgres, caplog: pytest.LogCaptureFixture
) -> None:
    sender = "write-fails"
    await store.save(DialogueStateTracker.from_events(sender, EVENTS, store.domain.slots))
    tracker = await store.retrieve(sender)
    stored_before = len(tracker.events)
    tracker.update(UserUttered(SECRET_TEXT))
    tracker.update(SlotSet("patient_dob", "1990-03-14"))
    tracker.update(ActionExecuted("action_listen"))
    server.stop()
    try:
        with caplog.at_level(logging.ERROR), pytest.raises(TurnNotStored):
            await store.save(tracker)  # through Rasa's fail-safe wrapper, to the channel
        assert "conversation store could not be written" in caplog.text
        assert SECRET_TEXT not in caplog.text and "1990" not in caplog.text
    finally:
        server.start()
    after = await store.retrieve(sender)  # the next turn: nothing of the failed one appears
    assert after is not None
    assert after.get_slot("patient_dob") is None
    assert SECRET_TEXT not in [e.text for e in after.events if isinstance(e, UserUttered)]
    assert len(after.events) == stored_before


async def test_the_turn_record_says_whether_a_turn_was_stored(
    store: FailSafeTrackerStore, server: ThrowawayPostgres
) -> None:
    sender = "recorded"
    record = watch_turn()
    await store.save(DialogueStateTracker.from_events(sender, EVENTS, store.domain.slots))
    assert (record.stored, record.unreadable) == (True, False)
    server.stop()
    try:
        record = watch_turn()
        tracker = await store.retrieve(sender)
        await store.save(tracker)
        assert (record.stored, record.unreadable) == (False, True)
    finally:
        server.start()
