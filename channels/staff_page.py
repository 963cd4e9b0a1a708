"""The staff page, served by the Rasa server at ``/webhooks/staff/``.

Front-desk staff log in with the staff token (``STAFF_TOKEN``; in the demo a
generated one under ``var/``), see every open work item (emergency flags
first, then chats handed to them, call backs and refills), mark items done,
read the transcript of a handed-off or call-back conversation, reply in a
held chat and hand it back to the assistant.

Registered as an input channel (``channels.staff_page.StaffPageInput`` in
``credentials.yml``) because that is Rasa's extension point for routes on its
server; it receives no patient messages. Server-rendered HTML, every value
escaped, no scripts (strict CSP). The session cookie is signed, expires, is
HttpOnly and SameSite=Strict; every POST also carries a CSRF token bound to
the session. Wrong tokens are slowed down and limited per client address.
Transcript views are audited (who, which record, never the content); nothing
here logs message text or the token.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.settings import get_settings
from channels.staff_auth import (
    LoginThrottle,
    csrf_token,
    make_session_cookie,
    read_session_cookie,
    token_matches,
)
from channels.staff_views import (
    SECURITY_HEADERS,
    STYLE,
    esc,
    is_emergency,
    item_details,
    item_json,
    login_form,
    page,
    sort_items,
    transcript_lines,
    when_text,
)

logger = logging.getLogger(__name__)

COOKIE = "staff_session"
PAGE_CHANNEL = "staff-page"
REPLY_MAX = 1000
WRONG_TOKEN_DELAY_SECONDS = 1.0


async def tracker_of(request: Request, conversation_id: str) -> Any:
    """The conversation's current session from the tracker store (None: not stored)."""
    agent = request.app.ctx.agent
    return await agent.tracker_store.retrieve(conversation_id)


async def held(request: Request, item: Any) -> bool | None:
    """Whether staff hold an open handoff's chat now (None: not a handoff, or unknown)."""
    if getattr(item, "kind", None) != "handoff" or item.status != "open":
        return None
    try:
        tracker = await tracker_of(request, item.conversation_id)
    except Exception as exc:  # noqa: BLE001 - the list still shows without the status
        logger.warning("staff page: tracker unavailable: %s", type(exc).__name__)
        return None
    return bool(tracker and tracker.get_slot("staff_holds") is True)


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
    except Exception as exc:  # noqa: BLE001 - stored anyway; the page says it was not delivered
        logger.error("staff page: delivery on %s failed: %s", name, type(exc).__name__)
        return name, False
    return name, True


async def hand_back(request: Request, item: Any) -> tuple[bool, str, bool]:
    """Give the chat back to the assistant; (was held, channel, delivered)."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet

    agent = request.app.ctx.agent
    tracker = await tracker_of(request, item.conversation_id)
    if tracker is None or tracker.get_slot("staff_holds") is not True:
        return False, "", False
    name, _ = output_channel_for(request, tracker)
    generated = await agent.processor.nlg.generate("utter_handed_back", tracker, name)
    text = (generated or {}).get("text") or "You're chatting with the clinic's virtual assistant again."
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


class StaffPageInput(InputChannel):
    """Adds the staff page's routes under ``/webhooks/staff/``."""

    @classmethod
    def name(cls) -> str:
        """The URL segment: /webhooks/staff/."""
        return "staff"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> StaffPageInput:
        """The token comes from settings, never from credentials.yml."""
        return cls()

    def __init__(self) -> None:
        """One login throttle per server process."""
        self.throttle = LoginThrottle()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Routes: login, the work list, transcripts, replies, hand back, done."""
        staff = Blueprint("staff_page", __name__)
        throttle = self.throttle

        def configured() -> str | None:
            return get_settings().effective_staff_token()

        def off() -> HTTPResponse:
            return page(
                "Staff page is off",
                "<p>The staff page is off because no staff token is set. Set STAFF_TOKEN (at least 16 "
                "characters) in the environment or .env and restart the assistant.</p>",
                status=503,
            )

        def session_of(request: Request, token: str) -> str | None:
            return read_session_cookie(token, request.cookies.get(COOKIE), time.time())

        def actor(sid: str) -> str:
            return "staff:web:" + hashlib.sha256(sid.encode()).hexdigest()[:10]

        def same_origin(request: Request) -> bool:
            origin = request.headers.get("origin")
            if not origin or origin == "null":
                return origin is None
            return origin.split("://", 1)[-1].rstrip("/") == (request.host or "")

        async def guard(request: Request, post: bool = False) -> tuple[str | None, str | None, HTTPResponse | None]:
            """(token, session id, None) for a logged-in request; otherwise the refusal to send."""
            token = configured()
            if token is None:
                return None, None, off()
            sid = session_of(request, token)
            if sid is None:
                if wants_json(request):
                    return None, None, response.json({"error": "not logged in"}, status=401, headers=SECURITY_HEADERS)
                return None, None, page("Staff login", login_form("Please log in."), status=401)
            if post:
                sent = (request.form.get("csrf") if request.form else None) or request.headers.get("x-csrf-token")
                if not same_origin(request) or not sent or not hmac.compare_digest(sent, csrf_token(token, sid)):
                    return (
                        None,
                        None,
                        refuse(
                            request,
                            403,
                            "This form is out of date or came from another site; reload the page and try again.",
                        ),
                    )
            return token, sid, None

        def wants_json(request: Request) -> bool:
            return request.path.startswith("/webhooks/staff/api/")

        def refuse(request: Request, status: int, message: str) -> HTTPResponse:
            if wants_json(request):
                return response.json({"error": message}, status=status, headers=SECURITY_HEADERS)
            return page(
                "Staff page",
                f'<p class="error">{esc(message)}</p><p><a href="/webhooks/staff/">Back to the list</a></p>',
                status=status,
            )

        async def records(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            return await asyncio.wait_for(
                asyncio.to_thread(func, *args, **kwargs), get_settings().backend_timeout_seconds
            )

        async def find_item(request: Request, item_id: str, sid: str) -> tuple[Any, HTTPResponse | None]:
            from bot.records import WorkItemNotFound, get_records_service

            try:
                item = await records(
                    get_records_service().get_work_item, item_id, actor=actor(sid), channel=PAGE_CHANNEL
                )
            except WorkItemNotFound:
                return None, refuse(request, 404, f"There is no work item {item_id[:20]}.")
            except Exception as exc:  # noqa: BLE001 - database down: say so
                logger.error("staff page: records unavailable: %s", type(exc).__name__)
                return None, refuse(request, 503, "The clinic database cannot be reached right now; try again shortly.")
            return item, None

        async def posted_item(request: Request, item_id: str) -> tuple[Any, str | None, HTTPResponse | None]:
            """(item, session id, None) for a logged-in form post about an existing item; else the refusal."""
            _, sid, refused = await guard(request, post=True)
            if refused:
                return None, None, refused
            item, missing = await find_item(request, item_id, sid)
            return item, sid, missing

        async def close(item: Any, sid: str) -> None:
            from bot.records import get_records_service

            await records(
                get_records_service().mark_work_item_done, item.work_item_id, actor=actor(sid), channel=PAGE_CHANNEL
            )

        def back(notice: str) -> HTTPResponse:
            return response.redirect(
                "/webhooks/staff/?notice=" + notice, status=303, headers={"Cache-Control": "no-store"}
            )

        @staff.route("/", methods=["GET"])
        async def home(request: Request) -> HTTPResponse:
            token = configured()
            if token is None:
                return off()
            sid = session_of(request, token)
            if sid is None:
                return page("Staff login", login_form())
            from bot.records import get_records_service

            try:
                items = sort_items(
                    await records(get_records_service().open_work_items, actor=actor(sid), channel=PAGE_CHANNEL)
                )
            except Exception as exc:  # noqa: BLE001 - database down: say so
                logger.error("staff page: records unavailable: %s", type(exc).__name__)
                return refuse(request, 503, "The clinic database cannot be reached right now; try again shortly.")
            csrf = esc(csrf_token(token, sid))
            notices = {
                "done": "Marked done.",
                "handed-back": "The assistant has the chat again.",
                "sent": "Reply sent to the patient.",
                "stored": "Reply stored in the conversation.",
            }
            notice = notices.get(request.args.get("notice", ""), "")
            rows = []
            for item in items:
                quiet = await held(request, item)
                status = (
                    ""
                    if quiet is None
                    else (" (assistant quiet: you have this chat)" if quiet else " (assistant answering)")
                )
                links = (
                    f'<a href="/webhooks/staff/items/{esc(item.work_item_id)}">Transcript</a> '
                    if getattr(item, "conversation_id", None)
                    else ""
                )
                rows.append(
                    f'<tr class="{"emergency" if is_emergency(item) else ""}"><td>{esc(item.work_item_id)}</td>'
                    f"<td>{esc(getattr(item, 'kind', ''))}{esc(status)}</td><td>{esc(when_text(item.created_at))}</td>"
                    f"<td>{esc(getattr(item, 'channel', ''))}</td><td>{esc(item_details(item))}</td>"
                    f'<td>{links}<form class="inline" method="post" action="/webhooks/staff/items/{esc(item.work_item_id)}/done">'
                    f'<input type="hidden" name="csrf" value="{csrf}"><button type="submit">Done</button></form></td></tr>'
                )
            table = (
                "<table><thead><tr><th>Item</th><th>Kind</th><th>Created</th><th>Channel</th><th>Details</th><th></th></tr>"
                f"</thead><tbody>{''.join(rows)}</tbody></table>"
                if rows
                else "<p>No open work items.</p>"
            )
            body = (
                (f'<p class="notice">{esc(notice)}</p>' if notice else "")
                + f"<p>{len(items)} open item(s). Emergencies first.</p>{table}"
                + f'<form method="post" action="/webhooks/staff/logout"><input type="hidden" name="csrf" value="{csrf}">'
                '<button type="submit">Log out</button></form>'
            )
            return page("Open work items", body)

        @staff.route("/style.css", methods=["GET"])
        async def style(_: Request) -> HTTPResponse:
            return response.text(STYLE, content_type="text/css", headers=SECURITY_HEADERS)

        @staff.route("/health", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if configured() else "off"})

        @staff.route("/login", methods=["POST"])
        async def login(request: Request) -> HTTPResponse:
            token = configured()
            if token is None:
                return off()
            client = request.remote_addr or request.ip or "unknown"
            now = time.time()
            wait = throttle.retry_after(client, now)
            if wait:
                return page(
                    "Staff login",
                    login_form(f"Too many wrong tokens. Try again in {max(1, wait // 60)} minute(s)."),
                    status=429,
                    headers={"Retry-After": str(wait)},
                )
            if not same_origin(request):
                return page("Staff login", login_form("Please log in from the staff page itself."), status=403)
            given = (request.form.get("token") if request.form else None) or ""
            if not token_matches(given.strip(), token):
                throttle.failed(client, now)
                logger.warning("staff page: wrong token")
                await asyncio.sleep(WRONG_TOKEN_DELAY_SECONDS)
                return page("Staff login", login_form("That token is not right."), status=401)
            throttle.succeeded(client)
            minutes = get_settings().staff_session_minutes
            result = response.redirect("/webhooks/staff/", status=303, headers={"Cache-Control": "no-store"})
            result.cookies[COOKIE] = make_session_cookie(token, now, minutes)
            cookie = result.cookies[COOKIE]
            cookie["httponly"] = True
            cookie["samesite"] = "Strict"
            cookie["path"] = "/webhooks/staff"
            cookie["max-age"] = minutes * 60
            cookie["secure"] = get_settings().public_url.startswith("https://")
            logger.info("staff page: logged in")
            return result

        @staff.route("/logout", methods=["POST"])
        async def logout(request: Request) -> HTTPResponse:
            _, _, refused = await guard(request, post=True)
            if refused:
                return refused
            result = response.redirect("/webhooks/staff/", status=303)
            result.cookies[COOKIE] = ""
            result.cookies[COOKIE]["max-age"] = 0
            result.cookies[COOKIE]["path"] = "/webhooks/staff"
            return result

        @staff.route("/api/items", methods=["GET"])
        async def items_json(request: Request) -> HTTPResponse:
            _, sid, refused = await guard(request)
            if refused:
                return refused
            from bot.records import get_records_service

            try:
                items = sort_items(
                    await records(get_records_service().open_work_items, actor=actor(sid), channel=PAGE_CHANNEL)
                )
            except Exception as exc:  # noqa: BLE001 - database down: say so
                logger.error("staff page: records unavailable: %s", type(exc).__name__)
                return refuse(request, 503, "The clinic database cannot be reached right now; try again shortly.")
            return response.json(
                {"items": [item_json(item, await held(request, item)) for item in items]}, headers=SECURITY_HEADERS
            )

        async def transcript(request: Request, item_id: str) -> tuple[dict[str, Any] | None, HTTPResponse | None]:
            token, sid, refused = await guard(request)
            if refused:
                return None, refused
            item, missing = await find_item(request, item_id, sid)
            if missing:
                return None, missing
            if not getattr(item, "conversation_id", None):
                return None, refuse(request, 404, f"Work item {item.work_item_id} has no conversation to show.")
            from bot.records import get_records_service

            agent = request.app.ctx.agent
            try:
                tracker = await agent.tracker_store.retrieve_full_tracker(item.conversation_id)
            except Exception as exc:  # noqa: BLE001 - store down: say so
                logger.error("staff page: conversation store unavailable: %s", type(exc).__name__)
                return None, refuse(
                    request, 503, "The conversation store cannot be reached right now; try again shortly."
                )
            if tracker is None:
                return None, refuse(request, 404, f"The conversation of {item.work_item_id} is no longer stored.")
            try:
                await records(
                    get_records_service().record_staff_access,
                    "read:transcript",
                    item.patient_id,
                    actor=actor(sid),
                    channel=PAGE_CHANNEL,
                )
            except Exception as exc:  # noqa: BLE001 - no audit row, no transcript
                logger.error("staff page: audit unavailable: %s", type(exc).__name__)
                return None, refuse(request, 503, "The clinic database cannot be reached right now; try again shortly.")
            logger.info("staff page: transcript of %s viewed", item.work_item_id)
            lines = transcript_lines(tracker.events, get_settings().tz)
            return {
                "item": item,
                "token": token,
                "sid": sid,
                "lines": lines,
                "held": tracker.get_slot("staff_holds") is True,
                "channel": tracker.get_latest_input_channel() or "unknown",
                "delivers": output_channel_for(request, tracker)[1] is not None,
            }, None

        @staff.route("/api/items/<item_id>/transcript", methods=["GET"])
        async def transcript_json(request: Request, item_id: str) -> HTTPResponse:
            view, refused = await transcript(request, item_id)
            if refused:
                return refused
            assert view is not None
            return response.json(
                {
                    "item": item_json(view["item"], view["held"] if view["item"].kind == "handoff" else None),
                    "assistant_quiet": view["held"],
                    "channel": view["channel"],
                    "messages": [{"from": l.speaker, "text": l.text, "at": l.at.isoformat()} for l in view["lines"]],
                },
                headers=SECURITY_HEADERS,
            )

        @staff.route("/items/<item_id>", methods=["GET"])
        async def transcript_page(request: Request, item_id: str) -> HTTPResponse:
            view, refused = await transcript(request, item_id)
            if refused:
                return refused
            assert view is not None
            item = view["item"]
            csrf = esc(csrf_token(view["token"], view["sid"]))
            lines = (
                "".join(
                    f'<div class="msg {esc(l.speaker)}"><span class="time">{esc(l.at.strftime("%b %d %H:%M"))}</span>'
                    f"<strong>{esc(l.speaker)}:</strong> {esc(l.text)}</div>"
                    for l in view["lines"]
                )
                or "<p>No messages.</p>"
            )
            actions = ""
            if item.kind == "handoff" and view["held"]:
                delivery = (
                    "Your reply is sent to the patient at once."
                    if view["delivers"]
                    else f"The patient's channel ({view['channel']}) cannot receive messages the patient did not "
                    "ask for: your reply is stored in the conversation but not delivered. Call the patient if needed."
                )
                actions = (
                    f'<h2>Reply</h2><p class="note">{esc(delivery)}</p>'
                    f'<form method="post" action="/webhooks/staff/items/{esc(item.work_item_id)}/reply">'
                    f'<input type="hidden" name="csrf" value="{csrf}">'
                    f'<textarea name="text" rows="3" maxlength="{REPLY_MAX}" required></textarea>'
                    '<button type="submit">Send reply</button></form>'
                    f'<form method="post" action="/webhooks/staff/items/{esc(item.work_item_id)}/handback">'
                    f'<input type="hidden" name="csrf" value="{csrf}">'
                    '<button type="submit">Hand back to the assistant</button></form>'
                )
            elif item.kind == "handoff":
                actions = '<p class="note">The assistant is answering this chat.</p>'
            body = (
                f"<p>{esc(item.work_item_id)} ({esc(item.kind)}, {esc(item.status)}), channel {esc(view['channel'])}: "
                f"{esc(item_details(item))}</p>{lines}{actions}"
                '<p><a href="/webhooks/staff/">Back to the list</a></p>'
            )
            return page(f"Conversation of {item.work_item_id}", body)

        @staff.route("/items/<item_id>/reply", methods=["POST"])
        async def reply(request: Request, item_id: str) -> HTTPResponse:
            from rasa.shared.core.events import BotUttered

            item, sid, refused = await posted_item(request, item_id)
            if refused:
                return refused
            text = " ".join(((request.form.get("text") if request.form else None) or "").split())
            if getattr(item, "kind", None) != "handoff":
                return refuse(request, 409, f"Work item {item.work_item_id} is not a chat handed to the front desk.")
            if not text:
                return refuse(request, 400, "Write a reply first; nothing was sent.")
            if len(text) > REPLY_MAX:
                return refuse(request, 400, f"A reply can be at most {REPLY_MAX} characters; nothing was sent.")
            try:
                tracker = await tracker_of(request, item.conversation_id)
                if tracker is None or tracker.get_slot("staff_holds") is not True:
                    return refuse(request, 409, "The assistant has this chat again; your reply was not sent.")
                tracker = await append(
                    request, item.conversation_id, [BotUttered(text, metadata={"staff": True, "out_of_band": True})]
                )
            except Exception as exc:  # noqa: BLE001 - store down: nothing was sent
                logger.error("staff page: conversation store unavailable: %s", type(exc).__name__)
                return refuse(
                    request, 503, "The conversation store cannot be reached right now; your reply was not sent."
                )
            channel, delivered = await deliver(request, tracker, text)
            logger.info(
                "staff page: reply in %s (%s, %s)", item.work_item_id, channel, "delivered" if delivered else "stored"
            )
            if wants_json(request):
                return response.json({"delivered": delivered, "channel": channel}, headers=SECURITY_HEADERS)
            return back("sent" if delivered else "stored")

        @staff.route("/items/<item_id>/handback", methods=["POST"])
        async def handback(request: Request, item_id: str) -> HTTPResponse:
            item, sid, refused = await posted_item(request, item_id)
            if refused:
                return refused
            if getattr(item, "kind", None) != "handoff":
                return refuse(request, 409, f"Work item {item.work_item_id} is not a chat handed to the front desk.")
            try:
                was_held, channel, _ = await hand_back(request, item)
                if not was_held:
                    return refuse(request, 409, "The assistant already has this chat.")
                await close(item, sid)
            except Exception as exc:  # noqa: BLE001 - a store is down: say what did not happen
                logger.error("staff page: hand back failed: %s", type(exc).__name__)
                return refuse(
                    request, 503, "A store cannot be reached right now; the chat may still be yours. Try again shortly."
                )
            logger.info("staff page: %s handed back to the assistant (%s)", item.work_item_id, channel)
            return back("handed-back")

        @staff.route("/items/<item_id>/done", methods=["POST"])
        async def done(request: Request, item_id: str) -> HTTPResponse:
            item, sid, refused = await posted_item(request, item_id)
            if refused:
                return refused
            try:
                if getattr(item, "kind", None) == "handoff":
                    await hand_back(request, item)  # a closed handoff must not leave the patient unanswered
                await close(item, sid)
            except Exception as exc:  # noqa: BLE001 - a store is down: nothing was closed
                logger.error("staff page: marking done failed: %s", type(exc).__name__)
                return refuse(
                    request, 503, "A store cannot be reached right now; the item is still open. Try again shortly."
                )
            return back("done")

        return staff
