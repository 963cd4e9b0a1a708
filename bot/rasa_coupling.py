"""Everything that depends on Rasa 3.6.21's insides, in one place.

Rasa has no extension point for four things this assistant needs, so this
module reaches into Rasa's private code, and nothing else in the project does:

1. ``RemoteAction._validate_action_result`` (speed). Rasa 3.6 checks every
   action server response with ``jsonschema.validate``, which re-validates the
   large schema itself and builds a new validator on every call: profiled at
   about 60 % of the Rasa server's CPU in a form-heavy conversation. We use one
   validator built once and check each event only against the ``oneOf`` branch
   its ``event`` name selects (same verdict, about 9x faster).
2. ``RemoteAction.run`` (failure). When the action server is down, times out
   or answers with an error, Rasa logs it, drops the action's events and goes
   on: the patient gets no answer. It also waits up to five minutes, far longer
   than its 60-second conversation lock. We bound each call to
   ``BACKEND_TIMEOUT_SECONDS`` + 10 s (at most 40 s) and on failure answer
   ``utter_service_unavailable`` once per message (logged by action name and
   error class only).
3. ``MessageProcessor.handle_message`` (two requests in one message). Rasa
   answers one intent per message; the message's parts are read too
   (``bot.second_request``) and a part that asks for something else is handled
   as its own turn, inside the same conversation lock and the same save.
4. ``SQLTrackerStore._retrieve`` / ``_additional_events`` and its ``SQLEvent``
   table (:class:`SQLEventRows`): reads select only the event data and a save
   inserts only the new events in one statement (the stock store took about a
   third of the Rasa server's CPU under load).

One more dependence lives beside the store it concerns: Rasa wraps every
tracker store in ``FailSafeTrackerStore``, which catches any ``Exception`` from
``save`` and keeps the turn in memory, silently. A turn that cannot be written
must fail out loud instead, so ``bot.stores.tracker_store.TurnNotStored`` is a
``BaseException`` that passes through that wrapper to the channel.

Each of these is written against Rasa 3.6.21's source. Importing this module
checks the installed version and stops with :class:`RasaVersionError` on any
other: an upgrade means reading each patched method in the new release,
porting or deleting the patch, and running the whole test suite (README,
"Why Rasa 3.6").
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from rasa.shared.utils.common import all_subclasses

logger = logging.getLogger("bot.rasa_server")

SUPPORTED_RASA_VERSION = "3.6.21"
"""The one Rasa release the patches below were written against."""


class RasaVersionError(RuntimeError):
    """The installed Rasa is not the release this project's patches were written for."""


def check_rasa_version(found: str | None = None) -> None:
    """Stop loudly unless the installed Rasa is exactly :data:`SUPPORTED_RASA_VERSION`."""
    if found is None:
        import rasa.version

        found = rasa.version.__version__
    if found != SUPPORTED_RASA_VERSION:
        raise RasaVersionError(
            f"Rasa {found} is installed, but this assistant patches private parts of Rasa "
            f"{SUPPORTED_RASA_VERSION} (bot/rasa_coupling.py: RemoteAction.run, "
            "RemoteAction._validate_action_result, MessageProcessor.handle_message, "
            f"SQLTrackerStore._retrieve/_additional_events). Install rasa=={SUPPORTED_RASA_VERSION} "
            "(make setup does), or port each patch to the new release first."
        )


check_rasa_version()

_installed = False
_failure_answer_installed = False
_second_request_installed = False
STORED_EVENTS_ATTRIBUTE = "_clinic_stored_events"
SERVICE_UNAVAILABLE = "utter_service_unavailable"
SERVICE_UNAVAILABLE_NO_PHONE = "utter_service_unavailable_no_phone"
ALSO_ASKED = "utter_also_asked"


def install_patches() -> None:
    """Install the three patches of Rasa's action calls and message handling (idempotent)."""
    install_action_response_validator()
    install_action_failure_answer()
    install_second_request_answer()


def action_call_timeout() -> float:
    """Seconds Rasa waits for one custom action: the backends' timeout plus 10 s, at most 40 s."""
    from bot.settings import get_settings

    return min(get_settings().backend_timeout_seconds + 10.0, 40.0)


def install_action_failure_answer() -> None:
    """Bound every custom-action call and turn its failure into a plain answer to the patient."""
    global _failure_answer_installed
    if _failure_answer_installed:
        return
    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
    from rasa.shared.core.events import BotUttered, UserUttered

    original_run = RemoteAction.run
    timeout = action_call_timeout()

    async def run(self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> list[Any]:
        """Rasa's ``RemoteAction.run``, bounded in time, answering the patient when it fails."""
        try:
            return await asyncio.wait_for(original_run(self, output_channel, nlg, tracker, domain), timeout)
        except ActionExecutionRejection:
            raise  # a form rejecting an answer is normal dialogue, not a failure
        except Exception as error:  # noqa: BLE001 - down, timed out, bad answer: all the same to the patient
            cause = error.__cause__ or error.__context__
            logger.error(
                "custom action %s failed (%s%s); the patient was told to try again or call",
                self.name(),
                type(error).__name__,
                f" from {type(cause).__name__}" if cause is not None else "",
            )
            for event in reversed(tracker.events):
                if isinstance(event, UserUttered):
                    break
                if isinstance(event, BotUttered) and event.metadata.get("utter_action") in (
                    SERVICE_UNAVAILABLE,
                    SERVICE_UNAVAILABLE_NO_PHONE,
                ):
                    return []  # told already for this message
            response = SERVICE_UNAVAILABLE if tracker.get_slot("clinic_phone") else SERVICE_UNAVAILABLE_NO_PHONE
            return await RemoteAction._utter_responses([{"response": response}], output_channel, nlg, tracker)

    RemoteAction.run = run
    _failure_answer_installed = True


def discriminated_event_validator(schema: dict[str, Any], validator_class: Any) -> Any | None:
    """A faster check with the same verdict as ``schema``, or None when the schema's shape is unexpected.

    Each event in a response must match exactly one of ~23 ``oneOf`` branches,
    and jsonschema tries them all for every event (about 3 ms for a ten-event
    form turn, ~10 % of the Rasa server's CPU under load). Every branch pins
    ``event`` to its own constant, so an event matches exactly one branch if and
    only if it matches the branch named by its ``event`` field: we check the
    response without the ``oneOf`` and then each event against that one branch.
    The returned function answers True (valid) or False (let the full validator
    say why).
    """
    import copy

    try:
        base = copy.deepcopy(schema)
        items = base["properties"]["events"]["items"]
        branches = items.pop("oneOf")
        by_event = {branch["properties"]["event"]["const"]: validator_class(branch) for branch in branches}
    except (KeyError, TypeError):
        return None
    if len(by_event) != len(branches):
        return None  # two branches share an event name: not discriminated
    base_validator = validator_class(base)

    def is_valid(result: Any) -> bool:
        """True when ``result`` satisfies the full schema."""
        if not base_validator.is_valid(result):
            return False
        for event in (result.get("events") or []) if isinstance(result, dict) else []:
            branch = by_event.get(event.get("event"))
            if branch is None or not branch.is_valid(event):
                return False
        return True

    return is_valid


def install_action_response_validator() -> None:
    """Make ``RemoteAction`` reuse one compiled validator for action server responses."""
    global _installed
    if _installed:
        return
    from jsonschema import ValidationError, validators
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)
    quick = discriminated_event_validator(schema, validator_class)

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        """Same contract as Rasa's method: True, or a ValidationError with Rasa's hint."""
        try:
            if quick is None or not quick(result):
                validator.validate(result)  # the full check, for Rasa's exact error
            return True
        except ValidationError as error:
            error.message += (
                ". Failed to validate Action server response from API, "
                "make sure your response from the Action endpoint is valid. "
                f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
            )
            raise error

    RemoteAction._validate_action_result = _validate_action_result
    _installed = True


def install_second_request_answer() -> None:
    """Answer every request of a message with several, in a sensible order (``bot.second_request``)."""
    global _second_request_installed
    if _second_request_installed:
        return
    from rasa.core.actions.action import create_bot_utterance
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.core.processor import MessageProcessor
    from rasa.shared.data import TrainingType

    from bot.second_request import Plan, answerable_now, plan_message, request_parts

    async def plan_for(processor: MessageProcessor, message: UserMessage, tracker: DialogueStateTracker) -> Plan:
        """Parse the message (and its parts, when it has several) and decide what to answer in which order."""
        if message.parse_data:  # the channel read it already (a tapped choice)
            return Plan(message.parse_data)
        whole = await processor.parse_message(message, tracker)
        parts = request_parts(message.text or "")
        parsed = [
            await processor.parse_message(UserMessage(part, sender_id=message.sender_id), tracker) for part in parts
        ]
        plan = plan_message(whole, parsed, tracker.active_loop_name is not None)
        for part in ([plan.before] if plan.before else []) + list(plan.after):
            logger.info("another request in the same message: %s", part["intent"]["name"])
        return plan

    def part_message(message: UserMessage, parse: dict[str, Any]) -> UserMessage:
        """A part of the patient's message, handled as its own turn."""
        return UserMessage(
            parse["text"],
            message.output_channel,
            message.sender_id,
            parse_data=parse,
            input_channel=message.input_channel,
            metadata={**(message.metadata or {}), "part_of_message": True},
        )

    async def say_also_asked(processor: MessageProcessor, second: UserMessage, tracker: DialogueStateTracker) -> None:
        """'You also asked: "can I come Saturday?"', so the patient sees which part is answered now."""
        channel = second.output_channel.name() if second.output_channel else None
        response = await processor.nlg.generate(ALSO_ASKED, tracker, channel, request_text=second.text)
        if response is None:
            return
        response["utter_action"] = ALSO_ASKED
        events = [create_bot_utterance(response)]
        await processor.execute_side_effects(events, tracker, second.output_channel)
        tracker.update(events[0], processor.domain)

    async def answer(processor: MessageProcessor, message: UserMessage, tracker: DialogueStateTracker) -> None:
        """Log one user turn and run the dialogue until it listens again (Rasa's own steps)."""
        await processor._handle_message_with_tracker(message, tracker)
        tracker = await processor.run_action_extract_slots(message.output_channel, tracker)
        await processor._run_prediction_loop(message.output_channel, tracker)

    async def handle_message(self: MessageProcessor, message: UserMessage) -> list[dict[str, Any]] | None:
        """Rasa's processor.handle_message, answering every request of a message with several."""
        tracker = await self.fetch_tracker_and_update_session(
            message.sender_id, message.output_channel, message.metadata
        )
        if self.model_metadata.training_type == TrainingType.NLU:
            await self._handle_message_with_tracker(message, tracker)
            await self.save_tracker(tracker)
            return None
        plan = await plan_for(self, message, tracker)
        if plan.before is not None:
            await answer(self, part_message(message, plan.before), tracker)
        whole = UserMessage(
            message.text,
            message.output_channel,
            message.sender_id,
            parse_data=plan.whole,
            input_channel=message.input_channel,
            message_id=message.message_id,
            metadata=message.metadata,
        )
        await answer(self, whole, tracker)
        for part in plan.after:
            if not answerable_now(part["intent"]["name"], tracker.active_loop_name):
                break  # a form is asking; its rules would take this part as the answer
            second = part_message(message, part)
            await say_also_asked(self, second, tracker)
            await answer(self, second, tracker)
        await self.run_anonymization_pipeline(tracker)
        await self.save_tracker(tracker)
        if isinstance(message.output_channel, CollectingOutputChannel):
            return message.output_channel.messages
        return None

    MessageProcessor.handle_message = handle_message
    _second_request_installed = True


_event_classes: dict[str, type[Event]] | None = None


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


class SQLEventRows(SQLTrackerStore):
    """Rasa's SQL tracker store reading and writing its ``events`` rows directly.

    Same rows as Rasa's store. Reads select only the ``data`` column and find each
    event's class in a table built once (Rasa scans every ``Event`` subclass per
    event); a save does not re-count the stored events of a tracker this store
    has just read (the conversation lock guarantees nobody wrote meanwhile), and
    new events go in with one insert instead of one ORM object each.
    """

    engine: Any  # set by Rasa's __init__ (untyped there)

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

        stored = getattr(tracker, STORED_EVENTS_ATTRIBUTE, None)
        if stored is None or stored > len(tracker.events):
            return super()._additional_events(session, tracker)
        return itertools.islice(tracker.events, stored, len(tracker.events))

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
