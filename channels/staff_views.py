"""Staff page rendering: escaped HTML pages, work item wording, transcripts.

Every value goes through :func:`esc`; pages load one stylesheet and no
scripts, under a strict Content-Security-Policy.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sanic import response
from sanic.response import HTTPResponse

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


def esc(value: Any) -> str:
    """Every value on the page goes through here."""
    return html.escape("" if value is None else str(value), quote=True)


def page(title: str, body: str, status: int = 200, headers: dict[str, str] | None = None) -> HTTPResponse:
    """A complete HTML page with the strict security headers."""
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<title>{esc(title)}</title><link rel="stylesheet" href="/webhooks/staff/style.css"></head>'
        f"<body><h1>{esc(title)}</h1>{body}</body></html>"
    )
    return response.html(document, status=status, headers={**SECURITY_HEADERS, **(headers or {})})


def login_form(message: str = "") -> str:
    """The login form (no CSRF token yet: there is no session to bind it to)."""
    note = f'<p class="error">{esc(message)}</p>' if message else ""
    return (
        f'{note}<form method="post" action="/webhooks/staff/login">'
        '<label>Staff token <input type="password" name="token" autocomplete="current-password" required>'
        '</label> <button type="submit">Log in</button></form>'
    )


def when_text(moment: dt.datetime | None) -> str:
    """A work item's time, short: Wed Dec 02 10:00."""
    return moment.strftime("%a %b %d %H:%M") if moment else ""


def is_emergency(item: Any) -> bool:
    """Emergency flags are listed first and highlighted."""
    return getattr(item, "reason", None) == "emergency" or getattr(item, "kind", None) == "emergency"


def sort_items(items: Iterable[Any]) -> list[Any]:
    """Emergencies first, then handed-off chats, call backs, refills; oldest first within each."""
    order = {"handoff": 1, "callback": 2, "refill": 3}
    return sorted(
        items,
        key=lambda i: (
            0 if is_emergency(i) else order.get(getattr(i, "kind", ""), 4),
            getattr(i, "created_at", None) or dt.datetime.min.replace(tzinfo=dt.timezone.utc),
        ),
    )


def item_details(item: Any) -> str:
    """The item's facts for staff, as plain text (escaped by the caller)."""
    from bot.records.values import describe_work_item

    return describe_work_item(item)


def item_json(item: Any, held: bool | None = None) -> dict[str, Any]:
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


def transcript_lines(events: Iterable[Any], tz: Any) -> list[Line]:
    """User and bot messages of a tracker's events, with their times in the clinic's zone."""
    from rasa.shared.core.events import BotUttered, UserUttered

    lines: list[Line] = []
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
