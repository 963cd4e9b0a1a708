"""One guard around backend calls, so every action fails the same plain way.

An action wraps its backend calls in ``async with backend_guard(...)`` and
afterwards looks at the guard: ``failed`` when a backend could not answer (the
patient has then been told so, unless the caller says it answers itself), or
``refusal`` when the backend said no in a way the caller explains (a taken
slot, a record that changed meanwhile). Only the action name and the error
class are logged: never message texts, names, dates of birth, phones or ids.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import BackendCallFailed, tell_backend_down

logger = logging.getLogger(__name__)

#: Slots that end the open form unchanged after a backend failure.
BACKEND_DOWN_SLOTS: dict[str, Any] = {"form_outcome": "backend_down", "requested_slot": None}


def backend_down_events() -> list[EventType]:
    """The events that end the open form unchanged after a backend failure."""
    return [SlotSet(name, value) for name, value in BACKEND_DOWN_SLOTS.items()]


def backend_errors() -> tuple[type[Exception], ...]:
    """What the backends raise when they cannot answer (imported late: no database code at import)."""
    from bot.records import RecordsError
    from bot.scheduling import SchedulingError

    return (BackendCallFailed, SchedulingError, RecordsError)


def unavailable_errors() -> tuple[type[Exception], ...]:
    """The backend errors that always mean "down", even where a refusal of the same family is expected."""
    from bot.records import BackendUnavailable as RecordsUnavailable
    from bot.scheduling import BackendUnavailable as SchedulingUnavailable

    return (BackendCallFailed, SchedulingUnavailable, RecordsUnavailable)


@dataclass
class Guard:
    """What happened inside ``backend_guard``."""

    failed: bool = False
    refusal: Exception | None = None


@asynccontextmanager
async def backend_guard(
    action: str,
    dispatcher: CollectingDispatcher | None = None,
    refusals: tuple[type[Exception], ...] = (),
) -> AsyncIterator[Guard]:
    """Turn any backend failure into one logged line and the backend-down message (when given a dispatcher).

    ``refusals`` are errors the caller explains itself: they are kept in
    ``guard.refusal`` and nothing is said, unless they mean the backend is down.
    """
    guard = Guard()
    try:
        yield guard
    # The last line of defence, and the only broad catch in actions/: whatever a
    # backend (or a driver under it) raises, the patient still gets an answer.
    except Exception as exc:  # noqa: BLE001
        kind = type(exc).__name__
        if refusals and isinstance(exc, refusals) and not isinstance(exc, unavailable_errors()):
            logger.info("%s: refused by the backend (%s)", action, kind)
            guard.refusal = exc
            return
        if isinstance(exc, backend_errors()):
            logger.error("%s: backend failed (%s)", action, kind)
        else:
            logger.error("%s: unexpected error around a backend call (%s)", action, kind)
        guard.failed = True
        if dispatcher is not None:
            await tell_backend_down(dispatcher)
