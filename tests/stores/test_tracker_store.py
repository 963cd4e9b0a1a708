"""The SQL tracker store reads back exactly what Rasa's own store reads back."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.paths import DOMAIN_PATH
from bot.stores.tracker_store import ClinicSQLTrackerStore
from tests.fixtures_db import create_pg_database, drop_pg_database

EVENTS = [
    ActionExecuted("action_session_start"),
    SessionStarted(),
    SlotSet("clinic_name", "Maple Grove Family Clinic"),
    ActionExecuted("action_listen"),
    UserUttered("i need an appointment", {"name": "book_appointment", "confidence": 0.9}),
    ActionExecuted("booking_form"),
    ActiveLoop("booking_form"),
    SlotSet("requested_slot", "visit_type"),
    BotUttered("What is the visit for?", {"buttons": [{"title": "Sick visit", "payload": "/inform"}]}),
    ActionExecuted("action_listen"),
]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tracker.db'}"
    else:
        created = create_pg_database()
        yield created
        drop_pg_database(created)


async def test_round_trip_matches_rasas_store(url: str) -> None:
    domain = Domain.load(DOMAIN_PATH)
    ours = ClinicSQLTrackerStore(domain=domain, host=url)
    tracker = DialogueStateTracker.from_events("patient-1", EVENTS, domain.slots)
    await ours.save(tracker)
    read_back = await ours.retrieve("patient-1")
    stock = await SQLTrackerStore(domain=domain, host=url).retrieve("patient-1")
    assert read_back is not None and stock is not None
    # Both read the latest session: from SessionStarted on.
    assert list(read_back.events) == list(stock.events) == EVENTS[1:]
    assert read_back.current_slot_values() == stock.current_slot_values()
    assert read_back.active_loop_name == "booking_form"
    assert await ours.retrieve("nobody") is None
    ours.engine.dispose()


async def test_saving_twice_stores_each_event_once(url: str) -> None:
    domain = Domain.load(DOMAIN_PATH)
    store = ClinicSQLTrackerStore(domain=domain, host=url)
    await store.save(DialogueStateTracker.from_events("patient-2", EVENTS[:5], domain.slots))
    tracker = await store.retrieve("patient-2")
    for event in EVENTS[5:]:
        tracker.update(event)
    await store.save(tracker)
    await store.save(tracker)  # nothing new: nothing written
    again = await store.retrieve("patient-2")
    assert list(again.events) == EVENTS[1:]
    # A tracker the store did not read (e.g. built by the HTTP API) falls back to counting.
    fresh = DialogueStateTracker.from_events("patient-2", EVENTS[1:] + [SlotSet("provider", "kim")], domain.slots)
    await store.save(fresh)
    assert list((await store.retrieve("patient-2")).events) == EVENTS[1:] + [SlotSet("provider", "kim")]
    store.engine.dispose()


async def test_rows_have_the_columns_rasa_queries_by(url: str) -> None:
    import sqlalchemy as sa

    domain = Domain.load(DOMAIN_PATH)
    store = ClinicSQLTrackerStore(domain=domain, host=url)
    await store.save(DialogueStateTracker.from_events("patient-3", EVENTS, domain.slots))
    with store.engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT type_name, intent_name, action_name FROM events WHERE sender_id = 'patient-3' ORDER BY id")
        ).all()
    assert rows[4] == ("user", "book_appointment", None)
    assert rows[5] == ("action", None, "booking_form")
    assert [r[0] for r in rows].count("slot") == 2
    store.engine.dispose()
