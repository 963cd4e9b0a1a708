"""The conversation store: Rasa's SQL tracker store, configured by one URL.

``endpoints.yml`` names this class; ``TRACKER_STORE_URL`` (SQLite under ``var/``
by default, PostgreSQL in production) is passed as its ``url``.

It reads and writes the same rows as Rasa's store, with less work (profiled
under load, the stock store took about a third of the Rasa server's CPU):
reads select only the event data instead of building ORM objects; each event's
class is found in a table built once (Rasa scans every ``Event`` subclass per
event); and a save does not re-count the stored events of a tracker this store
has just read (the conversation lock guarantees nobody else wrote meanwhile),
and new events go in with one insert instead of one ORM object each.

When the database cannot be read, Rasa's fail-safe wrapper would hand the
processor an empty conversation and the patient would silently start over.
Instead ``retrieve`` returns a stand-in conversation marked unavailable: the
``ConversationGuardPolicy`` answers "I can't reach your conversation right
now" with the clinic's phone, and ``save`` never writes the stand-in over the
real one. Events that could not be written are kept in this process and
written first on the next turn, so a short outage loses nothing. Errors are
logged by class only: SQLAlchemy's messages carry the statement's parameters,
which hold message texts.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from rasa.shared.utils.common import all_subclasses

logger = logging.getLogger(__name__)

_event_classes: dict[str, type[Event]] | None = None
STORED_EVENTS_ATTRIBUTE = "_clinic_stored_events"
UNAVAILABLE_ATTRIBUTE = "_clinic_store_unavailable"
UNAVAILABLE_SLOT = "conversation_unavailable"
"""Slot set on the stand-in conversation returned when the store cannot be read."""


class ConversationStoreError(RuntimeError):
    """The conversation store failed; the message names the operation and error class only."""


def event_classes() -> dict[str, type[Event]]:
    """Event type name -> class, computed once (same first-match order as Rasa)."""
    global _event_classes
    if _event_classes is None:
        table: dict[str, type[Event]] = {}
        for cls in all_subclasses(Event):
            table.setdefault(cls.type_name, cls)
        _event_classes = table
    return _event_classes


def deserialise_events(serialised: list[dict[str, Any]]) -> list[Event]:
    """Like ``rasa.shared.core.events.deserialise_events``, with a cached class lookup."""
    table = event_classes()
    events: list[Event] = []
    for data in serialised:
        name = data.get("event")
        if name is None:
            continue
        cls = table.get(name)
        if cls is None:
            # Unknown or legacy names: let Rasa decide exactly as it always does.
            event = Event.from_parameters(data)
        else:
            event = cls._from_parameters(data)
        if event is not None:
            events.append(event)
        else:
            logger.warning("a stored event could not be read (type %s)", name)
    return events


class ClinicSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store with a faster conversation read."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Create the store; on SQLite, keep a small pool of connections (WAL mode)."""
        super().__init__(*args, **kwargs)
        self._pending: dict[str, DialogueStateTracker] = {}
        self._clinic_phone: str | None = None
        if self.engine.dialect.name == "sqlite" and self.engine.url.database not in (None, "", ":memory:"):
            import sqlalchemy as sa
            from sqlalchemy.orm import sessionmaker
            from sqlalchemy.pool import QueuePool

            url = self.engine.url
            self.engine.dispose()
            self.engine = sa.create_engine(
                url,
                poolclass=QueuePool,
                pool_size=5,
                max_overflow=10,
                connect_args={"check_same_thread": False, "timeout": 30},
            )

            @sa.event.listens_for(self.engine, "connect")
            def _wal(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
                dbapi_connection.execute("PRAGMA journal_mode=WAL")

            self.sessionmaker = sessionmaker(bind=self.engine)
        elif self.engine.dialect.name == "postgresql":
            import sqlalchemy as sa
            from rasa.core.tracker_store import create_engine_kwargs
            from sqlalchemy.orm import sessionmaker

            # Check pooled connections before use, so that after a database
            # restart the first message does not fail on a dead connection.
            url = self.engine.url
            self.engine.dispose()
            self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
            self.sessionmaker = sessionmaker(bind=self.engine)

    def _data_query(self, sender_id: str, fetch_events_from_all_sessions: bool) -> Any:
        """Rasa's event query, selecting only the ``data`` column (no ORM objects)."""
        import sqlalchemy as sa

        events = self.SQLEvent.__table__
        query = sa.select(events.c.data).where(events.c.sender_id == sender_id)
        if not fetch_events_from_all_sessions:
            session_start = (
                sa.select(sa.func.max(events.c.timestamp))
                .where(events.c.sender_id == sender_id, events.c.type_name == SessionStarted.type_name)
                .scalar_subquery()
            )
            query = query.where(sa.or_(events.c.timestamp >= session_start, session_start.is_(None)))
        return query.order_by(events.c.id)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The conversation's latest session, or a stand-in marked unavailable when unreadable."""
        try:
            await self._write_pending(sender_id)
            tracker = await super().retrieve(sender_id)
        except Exception as error:  # noqa: BLE001 - any failure: tell the patient, never start over
            logger.error("conversation store could not be read: %s", _describe(error))
            return self._unavailable_tracker(sender_id)
        if tracker is not None and tracker.get_slot("clinic_phone"):
            self._clinic_phone = str(tracker.get_slot("clinic_phone"))
        return tracker

    async def retrieve_full_tracker(self, sender_id: str) -> DialogueStateTracker | None:
        """Every session of the conversation; a read error is raised without its parameters."""
        try:
            return await super().retrieve_full_tracker(sender_id)
        except Exception as error:  # noqa: BLE001
            raise ConversationStoreError(f"read failed: {_describe(error)}") from None

    def _unavailable_tracker(self, sender_id: str) -> DialogueStateTracker:
        """A conversation that only says the real one cannot be reached (never saved)."""
        events: list[Event] = [SlotSet(UNAVAILABLE_SLOT, True)]
        phone = getattr(self, "_clinic_phone", None)
        if phone:
            events.append(SlotSet("clinic_phone", phone))
        slots = self.domain.slots if self.domain else []
        tracker = DialogueStateTracker.from_events(sender_id, events, slots)
        setattr(tracker, UNAVAILABLE_ATTRIBUTE, True)
        return tracker

    async def _write_pending(self, sender_id: str) -> None:
        """Write events an earlier turn could not store, before reading the conversation."""
        pending = self._pending.get(sender_id)
        if pending is not None:
            await self._insert(pending)
            self._pending.pop(sender_id, None)
            logger.info("conversation events kept during a store outage were written")

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool) -> DialogueStateTracker | None:
        """Load the conversation's events (latest session unless asked for all)."""
        with self.session_scope() as session:
            rows = session.execute(self._data_query(sender_id, fetch_events_from_all_sessions)).all()
            serialised = [json.loads(data) for (data,) in rows]
        if not self.domain or not serialised:
            return None
        tracker = DialogueStateTracker.from_events(sender_id, deserialise_events(serialised), self.domain.slots)
        if not fetch_events_from_all_sessions:
            # Remember what is already stored, so `save` need not count it again.
            setattr(tracker, STORED_EVENTS_ATTRIBUTE, len(tracker.events))
        return tracker

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Any:
        """Events not stored yet: known from `_retrieve` when possible, else counted."""
        import itertools

        stored = getattr(tracker, STORED_EVENTS_ATTRIBUTE, None)
        if stored is None or stored > len(tracker.events):
            return super()._additional_events(session, tracker)
        return itertools.islice(tracker.events, stored, len(tracker.events))

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the new events; on failure keep them for the next turn and raise a clean error."""
        if getattr(tracker, UNAVAILABLE_ATTRIBUTE, False):
            logger.warning("conversation not saved: the store could not be read this turn")
            return
        await self.stream_events(tracker)
        try:
            await self._insert(tracker)
        except Exception as error:  # noqa: BLE001
            self._pending[tracker.sender_id] = tracker
            raise ConversationStoreError(f"write failed: {_describe(error)}") from None

    async def _insert(self, tracker: DialogueStateTracker) -> None:
        """Insert the tracker's events not stored yet (the same rows as Rasa's store, in one insert)."""
        with self.session_scope() as session:
            rows = []
            for event in self._additional_events(session, tracker):
                data = event.as_dict()
                rows.append(
                    {
                        "sender_id": tracker.sender_id,
                        "type_name": event.type_name,
                        "timestamp": data.get("timestamp"),
                        "intent_name": (data.get("parse_data") or {}).get("intent", {}).get(INTENT_NAME_KEY),
                        "action_name": data.get("name"),
                        "data": json.dumps(data),
                    }
                )
            if rows:
                session.execute(self.SQLEvent.__table__.insert(), rows)
            session.commit()
        setattr(tracker, STORED_EVENTS_ATTRIBUTE, len(tracker.events))


def _describe(error: BaseException) -> str:
    """The error's class and its cause's class, never its message (it may hold message text)."""
    cause = error.__cause__ or error.__context__
    name = type(error).__name__
    return f"{name} ({type(cause).__name__})" if cause is not None else name
