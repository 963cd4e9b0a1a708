"""The staff page's side of a held conversation: is it held, add a staff reply, hand it back.

Events are added under the conversation's lock, as Rasa's own HTTP API does; a
message goes out on the patient's channel when that channel can send out of
band, and is stored in the conversation either way.
"""

from __future__ import annotations

import logging
from typing import Any

from sanic.request import Request

logger = logging.getLogger(__name__)

HANDED_BACK_FALLBACK = "You're chatting with the clinic's virtual assistant again."


async def tracker_of(request: Request, conversation_id: str) -> Any:
    """The conversation's current session from the tracker store (None: not stored)."""
    agent = request.app.ctx.agent
    return await agent.tracker_store.retrieve(conversation_id)


def holds(tracker: Any) -> bool:
    """Whether staff hold this conversation (the assistant stays quiet)."""
    return bool(tracker is not None and tracker.get_slot("staff_holds") is True)


async def held(request: Request, item: Any) -> bool | None:
    """Whether staff hold an open handoff's chat now (None: not a handoff, or unknown)."""
    from channels.store_errors import STORE_ERRORS

    if getattr(item, "kind", None) != "handoff" or item.status != "open":
        return None
    try:
        tracker = await tracker_of(request, item.conversation_id)
    except STORE_ERRORS as exc:  # the list still shows, without the status
        logger.warning("staff page: tracker unavailable: %s", type(exc).__name__)
        return None
    return holds(tracker)


def output_channel_for(request: Request, tracker: Any) -> tuple[str, Any]:
    """The patient's channel and its out-of-band sender (None: the channel has none)."""
    name = tracker.get_latest_input_channel() or "unknown"
    for channel in getattr(request.app.ctx, "input_channels", None) or []:
        if channel.name() == name:
            return name, channel.get_output_channel()
    return name, None


async def append(request: Request, conversation_id: str, events: list[Any]) -> Any:
    """Add events to the conversation under its lock (as Rasa's own API does)."""
    agent = request.app.ctx.agent
    async with agent.lock_store.lock(conversation_id):
        tracker = await agent.tracker_store.retrieve(conversation_id)
        if tracker is None:
            return None
        for event in events:
            tracker.update(event)
        await agent.tracker_store.save(tracker)
        return tracker


async def deliver(request: Request, tracker: Any, text: str) -> tuple[str, bool]:
    """Push a message on the patient's channel when it can; (channel name, delivered)."""
    name, output = output_channel_for(request, tracker)
    if output is None:
        return name, False
    try:
        await output.send_text_message(tracker.sender_id, text)
    except Exception as exc:  # noqa: BLE001 - any channel's sender may fail its own way; the message is stored
        logger.error("staff page: delivery on %s failed: %s", name, type(exc).__name__)
        return name, False
    return name, True


async def add_staff_reply(request: Request, conversation_id: str, text: str) -> Any:
    """Store a staff reply in a held conversation (None: the assistant has the chat again)."""
    from rasa.shared.core.events import BotUttered

    if not holds(await tracker_of(request, conversation_id)):
        return None
    return await append(request, conversation_id, [BotUttered(text, metadata={"staff": True, "out_of_band": True})])


async def hand_back(request: Request, item: Any) -> tuple[bool, str, bool]:
    """Give the chat back to the assistant; (was held, channel, delivered)."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet

    agent = request.app.ctx.agent
    tracker = await tracker_of(request, item.conversation_id)
    if not holds(tracker):
        return False, "", False
    name, _ = output_channel_for(request, tracker)
    generated = await agent.processor.nlg.generate("utter_handed_back", tracker, name)
    text = (generated or {}).get("text") or HANDED_BACK_FALLBACK
    tracker = await append(
        request,
        item.conversation_id,
        [
            SlotSet("staff_holds", False),
            SlotSet("handoff_id", None),
            ActionExecuted("utter_handed_back"),
            BotUttered(text, metadata={"utter_action": "utter_handed_back", "out_of_band": True}),
            ActionExecuted("action_listen"),
        ],
    )
    channel, delivered = await deliver(request, tracker, text)
    return True, channel, delivered
