"""The conversation store: Rasa's SQL tracker store, configured by one URL.

``endpoints.yml`` names this class; ``TRACKER_STORE_URL`` (SQLite under ``var/``
by default, PostgreSQL in production) is passed as its ``url``. The faster
reads and writes of the same rows as Rasa's store come from
:class:`bot.rasa_coupling.SQLEventRows` (they override Rasa's private methods).

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

import logging
from typing import Any

from rasa.shared.core.events import Event, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_coupling import SQLEventRows

logger = logging.getLogger(__name__)

UNAVAILABLE_ATTRIBUTE = "_clinic_store_unavailable"
UNAVAILABLE_SLOT = "conversation_unavailable"
"""Slot set on the stand-in conversation returned when the store cannot be read."""


class ConversationStoreError(RuntimeError):
    """The conversation store failed; the message names the operation and error class only."""


class ClinicSQLTrackerStore(SQLEventRows):
    """Rasa's SQL tracker store that tells the patient when it cannot read, and loses no event when it cannot write."""

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
            def _wal(dbapi_connection: Any, _record: Any) -> None:
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


def _describe(error: BaseException) -> str:
    """The error's class and its cause's class, never its message (it may hold message text)."""
    cause = error.__cause__ or error.__context__
    name = type(error).__name__
    return f"{name} ({type(cause).__name__})" if cause is not None else name
