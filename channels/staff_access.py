"""Who may use the staff page and how a request is refused: the shared state of its routes.

The staff token comes from settings, a session from the signed cookie, a POST
also needs the session's CSRF token and a same-origin request. A check that
fails raises :class:`Refusal` carrying the page (or JSON) to send instead, so
each route handler reads as its happy path. Records calls run in a thread with
the backend timeout.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.records import RecordsError, WorkItemNotFound, get_records_service
from bot.settings import get_settings
from channels.staff_auth import csrf_token, read_session_cookie
from channels.staff_views import SECURITY_HEADERS, error_page, login_form, off_page, page, sort_items

logger = logging.getLogger(__name__)

COOKIE = "staff_session"
COOKIE_PATH = "/webhooks/staff"
PAGE_CHANNEL = "staff-page"
API_PREFIX = "/webhooks/staff/api/"
DATABASE_DOWN = "The clinic database cannot be reached right now; try again shortly."
RECORDS_ERRORS: tuple[type[Exception], ...] = (RecordsError, asyncio.TimeoutError)
"""What a records call raises when the database is down or slow (WorkItemNotFound is a RecordsError)."""

T = TypeVar("T")


class Refusal(Exception):
    """A request the page answers with a refusal instead of its content; ``reply`` is that answer."""

    def __init__(self, reply: HTTPResponse) -> None:
        """Keep the response; the route wrapper sends it."""
        super().__init__(reply.status)
        self.reply = reply


@dataclass(frozen=True)
class StaffSession:
    """A logged-in member of staff: the token their cookie is signed with and the session id."""

    token: str
    sid: str

    @property
    def actor(self) -> str:
        """The audit log's name for this session (a hash: the session id stays secret)."""
        return "staff:web:" + hashlib.sha256(self.sid.encode()).hexdigest()[:10]

    @property
    def csrf(self) -> str:
        """The form token bound to this session."""
        return csrf_token(self.token, self.sid)


def configured_token() -> str | None:
    """The staff token in force (None: the page is off)."""
    return get_settings().effective_staff_token()


def wants_json(request: Request) -> bool:
    """API routes answer refusals in JSON, pages in HTML."""
    return request.path.startswith(API_PREFIX)


def refusal(request: Request, status: int, message: str) -> Refusal:
    """A refusal with ``message`` as JSON or as a page, whichever the route speaks."""
    if wants_json(request):
        return Refusal(response.json({"error": message}, status=status, headers=SECURITY_HEADERS))
    return Refusal(error_page(message, status))


def same_origin(request: Request) -> bool:
    """A missing Origin is a same-site navigation; any other Origin must be this host."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    return origin.split("://", 1)[-1].rstrip("/") == (request.host or "")


def current_session(request: Request) -> StaffSession | None:
    """The request's valid session (None: not logged in); refused when the page is off."""
    token = configured_token()
    if token is None:
        raise Refusal(off_page())
    sid = read_session_cookie(token, request.cookies.get(COOKIE), time.time())
    return None if sid is None else StaffSession(token, sid)


def logged_in(request: Request, post: bool = False) -> StaffSession:
    """The session of a logged-in request; a POST must also carry its CSRF token from this site."""
    session = current_session(request)
    if session is None:
        if wants_json(request):
            raise Refusal(response.json({"error": "not logged in"}, status=401, headers=SECURITY_HEADERS))
        raise Refusal(page("Staff login", login_form("Please log in."), status=401))
    if post:
        sent = (request.form.get("csrf") if request.form else None) or request.headers.get("x-csrf-token")
        if not same_origin(request) or not sent or not hmac.compare_digest(sent, session.csrf):
            raise refusal(
                request, 403, "This form is out of date or came from another site; reload the page and try again."
            )
    return session


async def records(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking records call in a thread, within the backend timeout."""
    timeout = get_settings().backend_timeout_seconds
    return await asyncio.wait_for(asyncio.to_thread(func, *args, **kwargs), timeout)


async def open_items(request: Request, session: StaffSession) -> list[Any]:
    """Every open work item, emergencies first; refused when the database is down."""
    try:
        items = await records(get_records_service().open_work_items, actor=session.actor, channel=PAGE_CHANNEL)
    except RECORDS_ERRORS as exc:
        logger.error("staff page: records unavailable: %s", type(exc).__name__)
        raise refusal(request, 503, DATABASE_DOWN) from None
    return sort_items(items)


async def find_item(request: Request, item_id: str, session: StaffSession) -> Any:
    """The work item ``item_id``; refused when there is none or the database is down."""
    try:
        return await records(get_records_service().get_work_item, item_id, actor=session.actor, channel=PAGE_CHANNEL)
    except WorkItemNotFound:
        raise refusal(request, 404, f"There is no work item {item_id[:20]}.") from None
    except RECORDS_ERRORS as exc:
        logger.error("staff page: records unavailable: %s", type(exc).__name__)
        raise refusal(request, 503, DATABASE_DOWN) from None


async def posted_item(request: Request, item_id: str) -> tuple[Any, StaffSession]:
    """The item and session of a logged-in form post about an existing item."""
    session = logged_in(request, post=True)
    return await find_item(request, item_id, session), session


async def close(item: Any, session: StaffSession) -> None:
    """Mark the item done in the records, audited as this session."""
    await records(
        get_records_service().mark_work_item_done, item.work_item_id, actor=session.actor, channel=PAGE_CHANNEL
    )


async def audit_transcript_read(item: Any, session: StaffSession) -> None:
    """Record who read which patient's transcript (never its content)."""
    await records(
        get_records_service().record_staff_access,
        "read:transcript",
        item.patient_id,
        actor=session.actor,
        channel=PAGE_CHANNEL,
    )


def back(notice: str) -> HTTPResponse:
    """After a form post: back to the list with a notice (303, so a reload does not post again)."""
    return response.redirect("/webhooks/staff/?notice=" + notice, status=303, headers={"Cache-Control": "no-store"})
