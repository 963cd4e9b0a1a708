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
real one.

A turn whose events cannot be written fails, all of it: :class:`TurnNotStored`
reaches the channel, which tells the caller (503, or "can't answer right now,
call us") and the patient sends it again. Nothing is kept in this process to
be written later: another instance could serve the next message meanwhile (the
late events would land out of order) or this one could stop first (they would
be lost although the patient had a normal answer). Rasa's ``FailSafeTrackerStore``
wraps every store, catches every ``Exception`` from ``save`` and keeps the turn
in memory instead, silently; that is why :class:`TurnNotStored` is a
``BaseException``, like ``asyncio.CancelledError``: it passes through Rasa and
the conversation lock's clean-up to the channel.

A channel that must know whether a turn was stored (to answer a message with
an id exactly once) opens a :func:`watch_turn` record before handing the
message to Rasa and reads it afterwards. Errors are logged by class only:
SQLAlchemy's messages carry the statement's parameters, which hold message texts.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass
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


class TurnNotStored(BaseException):  # noqa: N818 - named for what the caller learns
    """A turn's events could not be written: the turn failed and nothing of it is stored.

    A ``BaseException`` so that Rasa's ``FailSafeTrackerStore`` (which catches
    every ``Exception`` and keeps the turn in memory) lets it through to the
    channel. Channels catch it and answer with an explicit failure.
    """


@dataclass
class TurnRecord:
    """What the store did with one turn, for the channel that handed the message to Rasa."""

    stored: bool = False
    """The turn's events were written."""
    unreadable: bool = False
    """The conversation could not be read: the patient got the stand-in's answer, nothing was written."""


_TURN: ContextVar[TurnRecord | None] = ContextVar("clinic_turn_record", default=None)


def watch_turn() -> TurnRecord:
    """Start recording what the store does with the turn about to run in this task."""
    record = TurnRecord()
    _TURN.set(record)
    return record


class ClinicSQLTrackerStore(SQLEventRows):
    """Rasa's SQL tracker store that tells the patient when it cannot read, and loses no event when it cannot write."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Create the store; on SQLite, keep a small pool of connections (WAL mode)."""
        super().__init__(*args, **kwargs)
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
            tracker = await super().retrieve(sender_id)
        except Exception as error:  # noqa: BLE001 - any failure: tell the patient, never start over
            logger.error("conversation store could not be read: %s", _describe(error))
            record = _TURN.get()
            if record is not None:
                record.unreadable = True
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

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the turn's new events in one transaction, or fail the turn with :class:`TurnNotStored`."""
        record = _TURN.get()
        if getattr(tracker, UNAVAILABLE_ATTRIBUTE, False):
            logger.warning("conversation not saved: the store could not be read this turn")
            if record is not None:
                record.unreadable = True
            return
        try:
            await self._insert(tracker)
        except Exception as error:  # noqa: BLE001 - any failure: the turn fails, nothing is kept to write later
            logger.error("conversation store could not be written: %s; the turn failed", _describe(error))
            raise TurnNotStored(f"write failed: {_describe(error)}") from None
        if record is not None:
            record.stored = True
        await self.stream_events(tracker)


def _describe(error: BaseException) -> str:
    """The error's class and its cause's class, never its message (it may hold message text)."""
    cause = error.__cause__ or error.__context__
    name = type(error).__name__
    return f"{name} ({type(cause).__name__})" if cause is not None else name
