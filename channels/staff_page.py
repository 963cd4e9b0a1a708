"""The staff page, served by the Rasa server at ``/webhooks/staff/``.

Front-desk staff log in with the staff token (``STAFF_TOKEN``; in the demo a
generated one under ``var/``), see every open work item (emergency flags
first, then chats handed to them, call backs and refills), mark items done,
read the transcript of a handed-off or call-back conversation, reply in a
held chat and hand it back to the assistant. The texts the clinic sends first
and the waitlist have their own lists (:mod:`channels.staff_outreach`).

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
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.settings import get_settings
from channels.staff_access import (
    COOKIE,
    COOKIE_PATH,
    DATABASE_DOWN,
    RECORDS_ERRORS,
    Refusal,
    StaffSession,
    audit_transcript_read,
    back,
    close,
    configured_token,
    current_session,
    find_item,
    logged_in,
    open_items,
    posted_item,
    refusal,
    same_origin,
    wants_json,
)
from channels.staff_auth import LoginThrottle, make_session_cookie, token_matches
from channels.staff_conversations import add_staff_reply, deliver, hand_back, held, output_channel_for
from channels.staff_outreach import StaffOutreachPages
from channels.staff_views import (
    SECURITY_HEADERS,
    STYLE,
    Line,
    conversation_page,
    item_json,
    login_form,
    off_page,
    page,
    transcript_json,
    transcript_lines,
    work_list_page,
)

logger = logging.getLogger(__name__)

REPLY_MAX = 1000
WRONG_TOKEN_DELAY_SECONDS = 1.0
NOT_A_HANDOFF = "Work item {} is not a chat handed to the front desk."

Handler = Callable[..., Coroutine[Any, Any, HTTPResponse]]


@dataclass(frozen=True)
class Transcript:
    """What both transcript views show, once the session, the item, the store and the audit allowed it."""

    item: Any
    session: StaffSession
    lines: list[Line]
    held: bool
    channel: str
    delivers: bool


def answering_refusals(handler: Handler) -> Handler:
    """Send the response a :class:`Refusal` carries instead of the handler's own."""

    @functools.wraps(handler)
    async def answer(request: Request, **params: Any) -> HTTPResponse:
        try:
            return await handler(request, **params)
        except Refusal as refused:
            return refused.reply

    return answer


class StaffPage:
    """The staff page's route handlers; the login throttle is their only state."""

    def __init__(self, throttle: LoginThrottle) -> None:
        """One throttle per server process, shared by every login."""
        self.throttle = throttle

    def routes(self) -> list[tuple[str, str, Handler]]:
        """Every route of the page: (path under /webhooks/staff, method, handler)."""
        return [
            ("/", "GET", self.home),
            ("/style.css", "GET", self.style),
            ("/health", "GET", self.health),
            ("/login", "POST", self.login),
            ("/logout", "POST", self.logout),
            ("/api/items", "GET", self.items_json),
            ("/api/items/<item_id>/transcript", "GET", self.transcript_json),
            ("/items/<item_id>", "GET", self.transcript_page),
            ("/items/<item_id>/reply", "POST", self.reply),
            ("/items/<item_id>/handback", "POST", self.handback),
            ("/items/<item_id>/done", "POST", self.done),
            *StaffOutreachPages().routes(),
        ]

    async def home(self, request: Request) -> HTTPResponse:
        """The open work items, or the login form."""
        session = current_session(request)
        if session is None:
            return page("Staff login", login_form())
        items = await open_items(request, session)
        quiet = [await held(request, item) for item in items]
        return work_list_page(items, quiet, session.csrf, request.args.get("notice", ""))

    async def style(self, _: Request) -> HTTPResponse:
        """The one stylesheet (CSP allows no inline styles)."""
        return response.text(STYLE, content_type="text/css", headers=SECURITY_HEADERS)

    async def health(self, _: Request) -> HTTPResponse:
        """Says "ok", or "off" while no staff token is set (for monitoring)."""
        return response.json({"status": "ok" if configured_token() else "off"})

    async def login(self, request: Request) -> HTTPResponse:
        """Check the typed token (throttled per address) and start a session."""
        token = configured_token()
        if token is None:
            return off_page()
        client = request.remote_addr or request.ip or "unknown"
        now = time.time()
        wait = self.throttle.retry_after(client, now)
        if wait:
            message = f"Too many wrong tokens. Try again in {max(1, wait // 60)} minute(s)."
            return page("Staff login", login_form(message), status=429, headers={"Retry-After": str(wait)})
        if not same_origin(request):
            return page("Staff login", login_form("Please log in from the staff page itself."), status=403)
        given = (request.form.get("token") if request.form else None) or ""
        if not token_matches(given.strip(), token):
            self.throttle.failed(client, now)
            logger.warning("staff page: wrong token")
            await asyncio.sleep(WRONG_TOKEN_DELAY_SECONDS)
            return page("Staff login", login_form("That token is not right."), status=401)
        self.throttle.succeeded(client)
        minutes = get_settings().staff_session_minutes
        result = response.redirect("/webhooks/staff/", status=303, headers={"Cache-Control": "no-store"})
        result.cookies[COOKIE] = make_session_cookie(token, now, minutes)
        cookie = result.cookies[COOKIE]
        cookie["httponly"] = True
        cookie["samesite"] = "Strict"
        cookie["path"] = COOKIE_PATH
        cookie["max-age"] = minutes * 60
        cookie["secure"] = get_settings().public_url.startswith("https://")
        logger.info("staff page: logged in")
        return result

    async def logout(self, request: Request) -> HTTPResponse:
        """End the session (the cookie is cleared)."""
        logged_in(request, post=True)
        result = response.redirect("/webhooks/staff/", status=303)
        result.cookies[COOKIE] = ""
        result.cookies[COOKIE]["max-age"] = 0
        result.cookies[COOKIE]["path"] = COOKIE_PATH
        return result

    async def items_json(self, request: Request) -> HTTPResponse:
        """The open work items as JSON."""
        items = await open_items(request, logged_in(request))
        listed = [item_json(item, await held(request, item)) for item in items]
        return response.json({"items": listed}, headers=SECURITY_HEADERS)

    async def transcript(self, request: Request, item_id: str) -> Transcript:
        """A work item's whole conversation, after the read is audited (no audit row, no transcript)."""
        from channels.store_errors import STORE_ERRORS

        session = logged_in(request)
        item = await find_item(request, item_id, session)
        if not getattr(item, "conversation_id", None):
            raise refusal(request, 404, f"Work item {item.work_item_id} has no conversation to show.")
        try:
            tracker = await request.app.ctx.agent.tracker_store.retrieve_full_tracker(item.conversation_id)
        except STORE_ERRORS as exc:
            logger.error("staff page: conversation store unavailable: %s", type(exc).__name__)
            raise refusal(
                request, 503, "The conversation store cannot be reached right now; try again shortly."
            ) from None
        if tracker is None:
            raise refusal(request, 404, f"The conversation of {item.work_item_id} is no longer stored.")
        try:
            await audit_transcript_read(item, session)
        except RECORDS_ERRORS as exc:
            logger.error("staff page: audit unavailable: %s", type(exc).__name__)
            raise refusal(request, 503, DATABASE_DOWN) from None
        logger.info("staff page: transcript of %s viewed", item.work_item_id)
        return Transcript(
            item=item,
            session=session,
            lines=transcript_lines(tracker.events, get_settings().tz),
            held=tracker.get_slot("staff_holds") is True,
            channel=tracker.get_latest_input_channel() or "unknown",
            delivers=output_channel_for(request, tracker)[1] is not None,
        )

    async def transcript_json(self, request: Request, item_id: str) -> HTTPResponse:
        """A work item's conversation as JSON."""
        view = await self.transcript(request, item_id)
        quiet = view.held if view.item.kind == "handoff" else None
        return response.json(
            {
                "item": item_json(view.item, quiet),
                "assistant_quiet": view.held,
                "channel": view.channel,
                "messages": transcript_json(view.lines),
            },
            headers=SECURITY_HEADERS,
        )

    async def transcript_page(self, request: Request, item_id: str) -> HTTPResponse:
        """A work item's conversation, with reply and hand-back forms while staff hold it."""
        view = await self.transcript(request, item_id)
        return conversation_page(
            view.item, view.lines, view.session.csrf, view.held, view.delivers, view.channel, REPLY_MAX
        )

    async def reply(self, request: Request, item_id: str) -> HTTPResponse:
        """Add a staff reply to a held chat and send it when the patient's channel can."""
        from channels.store_errors import STORE_ERRORS

        item, _ = await posted_item(request, item_id)
        text = " ".join(((request.form.get("text") if request.form else None) or "").split())
        if getattr(item, "kind", None) != "handoff":
            raise refusal(request, 409, NOT_A_HANDOFF.format(item.work_item_id))
        if not text:
            raise refusal(request, 400, "Write a reply first; nothing was sent.")
        if len(text) > REPLY_MAX:
            raise refusal(request, 400, f"A reply can be at most {REPLY_MAX} characters; nothing was sent.")
        try:
            tracker = await add_staff_reply(request, item.conversation_id, text)
        except STORE_ERRORS as exc:
            logger.error("staff page: conversation store unavailable: %s", type(exc).__name__)
            message = "The conversation store cannot be reached right now; your reply was not sent."
            raise refusal(request, 503, message) from None
        if tracker is None:
            raise refusal(request, 409, "The assistant has this chat again; your reply was not sent.")
        channel, delivered = await deliver(request, tracker, text)
        outcome = "delivered" if delivered else "stored"
        logger.info("staff page: reply in %s (%s, %s)", item.work_item_id, channel, outcome)
        if wants_json(request):
            return response.json({"delivered": delivered, "channel": channel}, headers=SECURITY_HEADERS)
        return back("sent" if delivered else "stored")

    async def handback(self, request: Request, item_id: str) -> HTTPResponse:
        """Give a held chat back to the assistant and close its work item."""
        from channels.store_errors import STORE_ERRORS

        item, session = await posted_item(request, item_id)
        if getattr(item, "kind", None) != "handoff":
            raise refusal(request, 409, NOT_A_HANDOFF.format(item.work_item_id))
        try:
            was_held, channel, _ = await hand_back(request, item)
            if not was_held:
                raise refusal(request, 409, "The assistant already has this chat.")
            await close(item, session)
        except (*STORE_ERRORS, *RECORDS_ERRORS) as exc:
            logger.error("staff page: hand back failed: %s", type(exc).__name__)
            message = "A store cannot be reached right now; the chat may still be yours. Try again shortly."
            raise refusal(request, 503, message) from None
        logger.info("staff page: %s handed back to the assistant (%s)", item.work_item_id, channel)
        return back("handed-back")

    async def done(self, request: Request, item_id: str) -> HTTPResponse:
        """Close a work item; a handoff's chat goes back to the assistant first."""
        from channels.store_errors import STORE_ERRORS

        item, session = await posted_item(request, item_id)
        try:
            if getattr(item, "kind", None) == "handoff":
                await hand_back(request, item)  # a closed handoff must not leave the patient unanswered
            await close(item, session)
        except (*STORE_ERRORS, *RECORDS_ERRORS) as exc:
            logger.error("staff page: marking done failed: %s", type(exc).__name__)
            message = "A store cannot be reached right now; the item is still open. Try again shortly."
            raise refusal(request, 503, message) from None
        return back("done")


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
        """Every route of :meth:`StaffPage.routes`, each answering refusals the same way."""
        staff = Blueprint("staff_page", __name__)
        for path, method, handler in StaffPage(self.throttle).routes():
            staff.add_route(answering_refusals(handler), path, methods=[method], name=handler.__name__)
        return staff
