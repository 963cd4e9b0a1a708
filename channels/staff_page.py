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
import base64
import datetime as dt
import hashlib
import hmac
import html
import json
import logging
import secrets
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Deque, Dict, Iterable, List, Optional, Text, Tuple

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.settings import get_settings

logger = logging.getLogger(__name__)

COOKIE = "staff_session"
PAGE_CHANNEL = "staff-page"
REPLY_MAX = 1000
FAILED_LOGINS_ALLOWED = 5
FAILED_LOGIN_WINDOW_SECONDS = 15 * 60
WRONG_TOKEN_DELAY_SECONDS = 1.0
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}
STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem auto;max-width:60rem;padding:0 1rem;color:#1b1b1b}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ccc;padding:.4rem;text-align:left;vertical-align:top}
.emergency{background:#fde2e2;font-weight:600}.emergency td:first-child:before{content:"EMERGENCY ";color:#a00}
.note{color:#555}.error{color:#a00}.notice{color:#064}form.inline{display:inline}
.msg{margin:.3rem 0;padding:.3rem .5rem;border-radius:4px}.patient{background:#eef}.assistant{background:#f3f3f3}
.staff{background:#e8f6e8}.time{color:#666;font-size:.85em;margin-right:.5em}textarea{width:100%}
"""


# --- sessions -----------------------------------------------------------------


def _signing_key(token: str) -> bytes:
    """Cookies are signed with a key derived from the token: a new token ends every session."""
    return hashlib.sha256(b"clinic-staff-session\0" + token.encode()).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_session_cookie(token: str, now: float, minutes: int) -> str:
    """A signed ``<payload>.<mac>`` value with a random session id and an expiry."""
    payload = _b64(json.dumps({"sid": secrets.token_urlsafe(16), "exp": int(now + minutes * 60)}).encode())
    mac = _b64(hmac.new(_signing_key(token), payload.encode(), hashlib.sha256).digest())
    return f"{payload}.{mac}"


def read_session_cookie(token: str, value: Optional[str], now: float) -> Optional[str]:
    """The session id of a valid, unexpired cookie; None for anything else."""
    if not value or value.count(".") != 1 or len(value) > 400:
        return None
    payload, mac = value.split(".")
    expected = _b64(hmac.new(_signing_key(token), payload.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(mac, expected):
        return None
    try:
        data = json.loads(_unb64(payload))
        sid, expires = str(data["sid"]), float(data["exp"])
    except (ValueError, KeyError, TypeError):
        return None
    return sid if expires > now else None


def csrf_token(token: str, sid: str) -> str:
    """The form token bound to one session (a page from another site cannot know it)."""
    return _b64(hmac.new(_signing_key(token), b"csrf\0" + sid.encode(), hashlib.sha256).digest())


def token_matches(given: str, expected: str) -> bool:
    """Compare the typed token in constant time."""
    return hmac.compare_digest(given.encode(), expected.encode())


class LoginThrottle:
    """Counts wrong tokens per client address; too many in the window locks that address out."""

    def __init__(self, allowed: int = FAILED_LOGINS_ALLOWED, window: float = FAILED_LOGIN_WINDOW_SECONDS) -> None:
        """Per-process memory is enough: each wrong try also costs a delay."""
        self.allowed = allowed
        self.window = window
        self._failures: Dict[str, Deque[float]] = defaultdict(deque)

    def _recent(self, client: str, now: float) -> Deque[float]:
        failures = self._failures[client]
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def retry_after(self, client: str, now: float) -> int:
        """Seconds until ``client`` may try again (0: now)."""
        failures = self._recent(client, now)
        if not failures:
            self._failures.pop(client, None)  # forget addresses whose window has passed
        if len(failures) < self.allowed:
            return 0
        return max(1, int(failures[0] + self.window - now) + 1)

    def failed(self, client: str, now: float) -> None:
        """Remember a wrong token."""
        self._recent(client, now).append(now)

    def succeeded(self, client: str) -> None:
        """A right token clears the address's record."""
        self._failures.pop(client, None)


# --- rendering ------------------------------------------------------------------


def esc(value: Any) -> str:
    """Every value on the page goes through here."""
    return html.escape("" if value is None else str(value), quote=True)


def page(title: str, body: str, status: int = 200, headers: Optional[Dict[str, str]] = None) -> HTTPResponse:
    """A complete HTML page with the strict security headers."""
    document = (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{esc(title)}</title><link rel=\"stylesheet\" href=\"/webhooks/staff/style.css\"></head>"
        f"<body><h1>{esc(title)}</h1>{body}</body></html>"
    )
    return response.html(document, status=status, headers={**SECURITY_HEADERS, **(headers or {})})


def login_form(message: str = "") -> str:
    """The login form (no CSRF token yet: there is no session to bind it to)."""
    note = f"<p class=\"error\">{esc(message)}</p>" if message else ""
    return (
        f"{note}<form method=\"post\" action=\"/webhooks/staff/login\">"
        "<label>Staff token <input type=\"password\" name=\"token\" autocomplete=\"current-password\" required>"
        "</label> <button type=\"submit\">Log in</button></form>"
    )


def _when(moment: Optional[dt.datetime]) -> str:
    return moment.strftime("%a %b %d %H:%M") if moment else ""


def is_emergency(item: Any) -> bool:
    """Emergency flags are listed first and highlighted."""
    return getattr(item, "reason", None) == "emergency" or getattr(item, "kind", None) == "emergency"


def sort_items(items: Iterable[Any]) -> List[Any]:
    """Emergencies first, then handed-off chats, call backs, refills; oldest first within each."""
    order = {"handoff": 1, "callback": 2, "refill": 3}
    return sorted(
        items,
        key=lambda i: (0 if is_emergency(i) else order.get(getattr(i, "kind", ""), 4), getattr(i, "created_at", None) or dt.datetime.min.replace(tzinfo=dt.timezone.utc)),
    )


def item_details(item: Any) -> str:
    """The item's facts for staff, as plain text (escaped by the caller)."""
    kind = getattr(item, "kind", "")
    if kind == "refill":
        return f"patient {item.patient_id}: {item.medication} -> {item.pharmacy or 'pharmacy not given'}"
    if kind == "handoff":
        return item.summary
    if kind == "callback":
        return (
            f"{item.reason}: {item.name}, {item.phone}, best time {item.best_time or 'any'}"
            + (f", patient {item.patient_id}" if item.patient_id else "")
        )
    return str(getattr(item, "note", None) or getattr(item, "reason", None) or "")


def item_json(item: Any, held: Optional[bool] = None) -> Dict[str, Any]:
    """One work item for the JSON view."""
    return {
        "id": item.work_item_id,
        "kind": getattr(item, "kind", None),
        "reason": getattr(item, "reason", None),
        "emergency": is_emergency(item),
        "created_at": item.created_at.isoformat() if getattr(item, "created_at", None) else None,
        "channel": getattr(item, "channel", None),
        "patient_id": getattr(item, "patient_id", None),
        "details": item_details(item),
        "has_transcript": bool(getattr(item, "conversation_id", None)),
        "assistant_quiet": held,
    }


@dataclass(frozen=True)
class Line:
    """One transcript line: who, when, what."""

    speaker: str
    text: str
    at: dt.datetime


def transcript_lines(events: Iterable[Any], tz: Any) -> List[Line]:
    """User and bot messages of a tracker's events, with their times in the clinic's zone."""
    from rasa.shared.core.events import BotUttered, UserUttered

    lines: List[Line] = []
    for event in events:
        if isinstance(event, UserUttered):
            speaker = "patient"
        elif isinstance(event, BotUttered):
            speaker = "staff" if (event.metadata or {}).get("staff") else "assistant"
        else:
            continue
        text = event.text or ""
        buttons = (event.data or {}).get("buttons") if isinstance(event, BotUttered) else None
        if buttons:
            text += " [" + " | ".join(str(b.get("title", "")) for b in buttons) + "]"
        lines.append(Line(speaker, text, dt.datetime.fromtimestamp(event.timestamp, tz)))
    return lines


# --- the channel ----------------------------------------------------------------


class StaffPageInput(InputChannel):
    """Adds the staff page's routes under ``/webhooks/staff/``."""

    @classmethod
    def name(cls) -> Text:
        """The URL segment: /webhooks/staff/."""
        return "staff"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "StaffPageInput":
        """The token comes from settings, never from credentials.yml."""
        return cls()

    def __init__(self) -> None:
        """One login throttle per server process."""
        self.throttle = LoginThrottle()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Routes: login, the work list, transcripts, replies, hand back, done."""
        staff = Blueprint("staff_page", __name__)
        throttle = self.throttle

        def configured() -> Optional[str]:
            return get_settings().effective_staff_token()

        def off() -> HTTPResponse:
            return page(
                "Staff page is off",
                "<p>The staff page is off because no staff token is set. Set STAFF_TOKEN (at least 16 "
                "characters) in the environment or .env and restart the assistant.</p>",
                status=503,
            )

        def session_of(request: Request, token: str) -> Optional[str]:
            return read_session_cookie(token, request.cookies.get(COOKIE), time.time())

        def actor(sid: str) -> str:
            return "staff:web:" + hashlib.sha256(sid.encode()).hexdigest()[:10]

        def same_origin(request: Request) -> bool:
            origin = request.headers.get("origin")
            if not origin or origin == "null":
                return origin is None
            return origin.split("://", 1)[-1].rstrip("/") == (request.host or "")

        async def guard(request: Request, post: bool = False) -> Tuple[Optional[str], Optional[str], Optional[HTTPResponse]]:
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
                    return None, None, refuse(request, 403, "This form is out of date or came from another site; reload the page and try again.")
            return token, sid, None

        def wants_json(request: Request) -> bool:
            return request.path.startswith("/webhooks/staff/api/")

        def refuse(request: Request, status: int, message: str) -> HTTPResponse:
            if wants_json(request):
                return response.json({"error": message}, status=status, headers=SECURITY_HEADERS)
            return page("Staff page", f"<p class=\"error\">{esc(message)}</p><p><a href=\"/webhooks/staff/\">Back to the list</a></p>", status=status)

        async def records(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            return await asyncio.wait_for(asyncio.to_thread(func, *args, **kwargs), get_settings().backend_timeout_seconds)

        async def find_item(request: Request, item_id: str, sid: str) -> Tuple[Any, Optional[HTTPResponse]]:
            from bot.records import WorkItemNotFound, get_records_service

            try:
                item = await records(get_records_service().get_work_item, item_id, actor=actor(sid), channel=PAGE_CHANNEL)
            except WorkItemNotFound:
                return None, refuse(request, 404, f"There is no work item {item_id[:20]}.")
            except Exception as exc:  # noqa: BLE001 - database down: say so
                logger.error("staff page: records unavailable: %s", type(exc).__name__)
                return None, refuse(request, 503, "The clinic database cannot be reached right now; try again shortly.")
            return item, None

        async def tracker_of(request: Request, conversation_id: str) -> Any:
            agent = request.app.ctx.agent
            return await agent.tracker_store.retrieve(conversation_id)

        async def held(request: Request, item: Any) -> Optional[bool]:
            if getattr(item, "kind", None) != "handoff" or item.status != "open":
                return None
            try:
                tracker = await tracker_of(request, item.conversation_id)
            except Exception as exc:  # noqa: BLE001 - the list still shows without the status
                logger.warning("staff page: tracker unavailable: %s", type(exc).__name__)
                return None
            return bool(tracker and tracker.get_slot("staff_holds") is True)

        def output_channel_for(request: Request, tracker: Any) -> Tuple[str, Any]:
            """The patient's channel and its out-of-band sender (None: the channel has none)."""
            name = tracker.get_latest_input_channel() or "unknown"
            for channel in getattr(request.app.ctx, "input_channels", None) or []:
                if channel.name() == name:
                    return name, channel.get_output_channel()
            return name, None

        async def append(request: Request, conversation_id: str, events: List[Any]) -> Any:
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

        async def deliver(request: Request, tracker: Any, text: str) -> Tuple[str, bool]:
            name, output = output_channel_for(request, tracker)
            if output is None:
                return name, False
            try:
                await output.send_text_message(tracker.sender_id, text)
            except Exception as exc:  # noqa: BLE001 - stored anyway; the page says it was not delivered
                logger.error("staff page: delivery on %s failed: %s", name, type(exc).__name__)
                return name, False
            return name, True

        async def close(item: Any, sid: str) -> None:
            from bot.records import get_records_service

            await records(get_records_service().mark_work_item_done, item.work_item_id, actor=actor(sid), channel=PAGE_CHANNEL)

        def back(notice: str) -> HTTPResponse:
            return response.redirect(
                "/webhooks/staff/?notice=" + notice, status=303, headers={"Cache-Control": "no-store"}
            )

        async def hand_back(request: Request, item: Any) -> Tuple[bool, str, bool]:
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
                    BotUttered(text, metadata={"utter_action": "utter_handed_back"}),
                    ActionExecuted("action_listen"),
                ],
            )
            channel, delivered = await deliver(request, tracker, text)
            return True, channel, delivered

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
                items = sort_items(await records(get_records_service().open_work_items, actor=actor(sid), channel=PAGE_CHANNEL))
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
                status = "" if quiet is None else (" (assistant quiet: you have this chat)" if quiet else " (assistant answering)")
                links = (
                    f"<a href=\"/webhooks/staff/items/{esc(item.work_item_id)}\">Transcript</a> "
                    if getattr(item, "conversation_id", None)
                    else ""
                )
                rows.append(
                    f"<tr class=\"{'emergency' if is_emergency(item) else ''}\"><td>{esc(item.work_item_id)}</td>"
                    f"<td>{esc(getattr(item, 'kind', ''))}{esc(status)}</td><td>{esc(_when(item.created_at))}</td>"
                    f"<td>{esc(getattr(item, 'channel', ''))}</td><td>{esc(item_details(item))}</td>"
                    f"<td>{links}<form class=\"inline\" method=\"post\" action=\"/webhooks/staff/items/{esc(item.work_item_id)}/done\">"
                    f"<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button type=\"submit\">Done</button></form></td></tr>"
                )
            table = (
                "<table><thead><tr><th>Item</th><th>Kind</th><th>Created</th><th>Channel</th><th>Details</th><th></th></tr>"
                f"</thead><tbody>{''.join(rows)}</tbody></table>"
                if rows
                else "<p>No open work items.</p>"
            )
            body = (
                (f"<p class=\"notice\">{esc(notice)}</p>" if notice else "")
                + f"<p>{len(items)} open item(s). Emergencies first.</p>{table}"
                + f"<form method=\"post\" action=\"/webhooks/staff/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">"
                "<button type=\"submit\">Log out</button></form>"
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
                items = sort_items(await records(get_records_service().open_work_items, actor=actor(sid), channel=PAGE_CHANNEL))
            except Exception as exc:  # noqa: BLE001 - database down: say so
                logger.error("staff page: records unavailable: %s", type(exc).__name__)
                return refuse(request, 503, "The clinic database cannot be reached right now; try again shortly.")
            return response.json(
                {"items": [item_json(item, await held(request, item)) for item in items]}, headers=SECURITY_HEADERS
            )

        async def transcript(request: Request, item_id: str) -> Tuple[Optional[Dict[str, Any]], Optional[HTTPResponse]]:
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
                return None, refuse(request, 503, "The conversation store cannot be reached right now; try again shortly.")
            if tracker is None:
                return None, refuse(request, 404, f"The conversation of {item.work_item_id} is no longer stored.")
            try:
                await records(
                    get_records_service().record_staff_access,
                    "read:transcript", item.patient_id, actor=actor(sid), channel=PAGE_CHANNEL,
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
            lines = "".join(
                f"<div class=\"msg {esc(l.speaker)}\"><span class=\"time\">{esc(l.at.strftime('%b %d %H:%M'))}</span>"
                f"<strong>{esc(l.speaker)}:</strong> {esc(l.text)}</div>"
                for l in view["lines"]
            ) or "<p>No messages.</p>"
            actions = ""
            if item.kind == "handoff" and view["held"]:
                delivery = (
                    "Your reply is sent to the patient at once."
                    if view["delivers"]
                    else f"The patient's channel ({view['channel']}) cannot receive messages the patient did not "
                    "ask for: your reply is stored in the conversation but not delivered. Call the patient if needed."
                )
                actions = (
                    f"<h2>Reply</h2><p class=\"note\">{esc(delivery)}</p>"
                    f"<form method=\"post\" action=\"/webhooks/staff/items/{esc(item.work_item_id)}/reply\">"
                    f"<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">"
                    f"<textarea name=\"text\" rows=\"3\" maxlength=\"{REPLY_MAX}\" required></textarea>"
                    "<button type=\"submit\">Send reply</button></form>"
                    f"<form method=\"post\" action=\"/webhooks/staff/items/{esc(item.work_item_id)}/handback\">"
                    f"<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">"
                    "<button type=\"submit\">Hand back to the assistant</button></form>"
                )
            elif item.kind == "handoff":
                actions = "<p class=\"note\">The assistant is answering this chat.</p>"
            body = (
                f"<p>{esc(item.work_item_id)} ({esc(item.kind)}, {esc(item.status)}), channel {esc(view['channel'])}: "
                f"{esc(item_details(item))}</p>{lines}{actions}"
                "<p><a href=\"/webhooks/staff/\">Back to the list</a></p>"
            )
            return page(f"Conversation of {item.work_item_id}", body)

        @staff.route("/items/<item_id>/reply", methods=["POST"])
        async def reply(request: Request, item_id: str) -> HTTPResponse:
            from rasa.shared.core.events import BotUttered

            _, sid, refused = await guard(request, post=True)
            if refused:
                return refused
            item, missing = await find_item(request, item_id, sid)
            if missing:
                return missing
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
                tracker = await append(request, item.conversation_id, [BotUttered(text, metadata={"staff": True})])
            except Exception as exc:  # noqa: BLE001 - store down: nothing was sent
                logger.error("staff page: conversation store unavailable: %s", type(exc).__name__)
                return refuse(request, 503, "The conversation store cannot be reached right now; your reply was not sent.")
            channel, delivered = await deliver(request, tracker, text)
            logger.info("staff page: reply in %s (%s, %s)", item.work_item_id, channel, "delivered" if delivered else "stored")
            if wants_json(request):
                return response.json({"delivered": delivered, "channel": channel}, headers=SECURITY_HEADERS)
            return back("sent" if delivered else "stored")

        @staff.route("/items/<item_id>/handback", methods=["POST"])
        async def handback(request: Request, item_id: str) -> HTTPResponse:
            _, sid, refused = await guard(request, post=True)
            if refused:
                return refused
            item, missing = await find_item(request, item_id, sid)
            if missing:
                return missing
            if getattr(item, "kind", None) != "handoff":
                return refuse(request, 409, f"Work item {item.work_item_id} is not a chat handed to the front desk.")
            try:
                was_held, channel, _ = await hand_back(request, item)
                if not was_held:
                    return refuse(request, 409, "The assistant already has this chat.")
                await close(item, sid)
            except Exception as exc:  # noqa: BLE001 - a store is down: say what did not happen
                logger.error("staff page: hand back failed: %s", type(exc).__name__)
                return refuse(request, 503, "A store cannot be reached right now; the chat may still be yours. Try again shortly.")
            logger.info("staff page: %s handed back to the assistant (%s)", item.work_item_id, channel)
            return back("handed-back")

        @staff.route("/items/<item_id>/done", methods=["POST"])
        async def done(request: Request, item_id: str) -> HTTPResponse:
            _, sid, refused = await guard(request, post=True)
            if refused:
                return refused
            item, missing = await find_item(request, item_id, sid)
            if missing:
                return missing
            try:
                if getattr(item, "kind", None) == "handoff":
                    await hand_back(request, item)  # a closed handoff must not leave the patient unanswered
                await close(item, sid)
            except Exception as exc:  # noqa: BLE001 - a store is down: nothing was closed
                logger.error("staff page: marking done failed: %s", type(exc).__name__)
                return refuse(request, 503, "A store cannot be reached right now; the item is still open. Try again shortly.")
            return back("done")

        return staff
