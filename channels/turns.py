"""One turn of the assistant for a message the channel numbered: answered once, or failed out loud.

The portal (``message_id``), SMS (Twilio's ``MessageSid``) and web chat (the
widget's ``message_id``) give every message an id, claimed in the clinic database (``channels/store.py``) so that a
redelivery is recognised on any Rasa instance. This module runs the turn and
says what became of it:

* **answered**: the turn was stored; the reply is kept for redeliveries;
* **not stored, answered plainly**: the conversation could not be read, the
  patient got "I can't open our conversation right now"; nothing was written;
* **failed**: the lock or the store failed, the caller gets an explicit
  failure (503, or the "can't answer right now, call us" text).

A turn that was stored and then failed (Redis gone while the lock is released)
is answered normally: the patient is never told it failed when it did not, so a
resend is never processed twice. A failed turn keeps its claim: a redelivery of
the same id runs :func:`answer_unfinished`, which takes the conversation lock,
looks for the id in the stored conversation (a turn still running elsewhere,
or one whose answer got lost, is found there and its stored answer given) and
runs the turn only when it is not there. So a killed instance's message is
answered once by another instance after its lock lapses, and never twice.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from rasa.core.channels.channel import UserMessage

from bot.clinic_facts import FALLBACK_CLINIC_VALUES, safe_clinic_values

logger = logging.getLogger(__name__)

_REPLY_KEYS = ("text", "buttons", "image", "custom", "attachment")

UNAVAILABLE_REPLY = (
    "Sorry, I can't answer right now because of a problem on our side. "
    "Please send your message again in a few minutes, or call us at {clinic_phone}."
)
UNAVAILABLE_REPLY_NO_PHONE = (
    "Sorry, I can't answer right now because of a problem on our side. "
    "Please send your message again in a few minutes, or call the clinic."
)


@dataclass
class TurnOutcome:
    """What became of one message: its answer, and whether the turn is stored."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    stored: bool = False
    """The turn is in the conversation store (now, or from an earlier delivery)."""
    unreadable: bool = False
    """The conversation could not be read; ``messages`` is the plain answer saying so."""
    error: BaseException | None = None
    """Why the turn failed (None: it did not); the caller answers with an explicit failure."""

    @property
    def failed(self) -> bool:
        """Whether the caller must be told the message was not answered."""
        return self.error is not None and not self.stored


def store_failures() -> tuple[type[BaseException], ...]:
    """The errors that mean a store (locks, conversations) is down, not a bug."""
    from bot.stores.tracker_store import TurnNotStored
    from channels.store_errors import STORE_ERRORS

    return (TurnNotStored, *STORE_ERRORS)


async def answer(
    on_new_message: Callable[[UserMessage], Awaitable[Any]], message: UserMessage, collected: list[dict[str, Any]]
) -> TurnOutcome:
    """Run one turn through Rasa (its lock, its store); ``collected`` is the output channel's message list."""
    from bot.stores.tracker_store import TurnNotStored, watch_turn

    record = watch_turn()
    try:
        await on_new_message(message)
    except (Exception, TurnNotStored) as error:  # noqa: BLE001 - the caller answers every failure explicitly
        if record.stored:
            # Stored, then failed (e.g. releasing the lock): the answer is real; never say it failed.
            logger.warning("turn stored, then %s; answered normally", type(error).__name__)
            return TurnOutcome(list(collected), stored=True)
        return TurnOutcome(error=error)
    return TurnOutcome(list(collected), stored=record.stored, unreadable=record.unreadable)


async def answer_unfinished(agent: Any, message: UserMessage, collected: list[dict[str, Any]]) -> TurnOutcome:
    """A redelivered message whose first delivery never finished: its stored answer, or its turn now.

    Runs under the conversation lock (queued behind a turn still running, or
    after a dead holder's ticket lapses), so the id is looked up in the
    conversation after any earlier turn of it ended.
    """
    from bot.stores.tracker_store import UNAVAILABLE_ATTRIBUTE, TurnNotStored, watch_turn

    record = watch_turn()
    try:
        async with agent.lock_store.lock(message.sender_id):
            tracker = await agent.tracker_store.retrieve(message.sender_id)
            if tracker is not None and not getattr(tracker, UNAVAILABLE_ATTRIBUTE, False):
                found = stored_answer(tracker.events, message.message_id)
                if found is not None:
                    logger.info("redelivered message found in the conversation: its stored answer, not run again")
                    return TurnOutcome(found, stored=True)
            record.unreadable = False  # the look-up's stand-in does not count; the turn decides
            await agent.processor.handle_message(message)
    except (Exception, TurnNotStored) as error:  # noqa: BLE001 - the caller answers every failure explicitly
        if record.stored:
            logger.warning("turn stored, then %s; answered normally", type(error).__name__)
            return TurnOutcome(list(collected), stored=True)
        return TurnOutcome(error=error)
    return TurnOutcome(list(collected), stored=record.stored, unreadable=record.unreadable)


def stored_answer(events: Any, message_id: str | None) -> list[dict[str, Any]] | None:
    """The assistant's messages after the user message ``message_id`` in stored events; None: not stored."""
    from rasa.shared.core.events import BotUttered, UserUttered

    if not message_id:
        return None
    found: list[dict[str, Any]] | None = None
    for event in events or []:
        if isinstance(event, UserUttered):
            if found is not None and not (event.metadata or {}).get("part_of_message"):
                break  # the next message of the patient: this turn's answer is complete
            if found is None and event.message_id == message_id:
                found = []
        elif found is not None and isinstance(event, BotUttered):
            if (event.metadata or {}).get("out_of_band"):
                continue
            data = event.data or {}
            message = {"text": event.text, **{key: data.get(key) for key in _REPLY_KEYS[1:]}}
            found.append({key: value for key, value in message.items() if value is not None})
    return found


async def unavailable_text() -> str:
    """The plain "can't answer right now, call us" sentence, with the clinic's phone when known."""
    values = await safe_clinic_values()
    phone = values.get("clinic_phone")
    if not phone or phone == FALLBACK_CLINIC_VALUES["clinic_phone"]:
        return UNAVAILABLE_REPLY_NO_PHONE
    return UNAVAILABLE_REPLY.format(clinic_phone=phone)
