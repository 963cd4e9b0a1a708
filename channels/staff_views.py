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

from bot.outreach.staff_words import answer_text, kind_text, status_text, text_time, visit_text

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
table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ccc;padding:.4rem;text-align:left;vertical-align:top}
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


def off_page() -> HTTPResponse:
    """What every route answers while no staff token is set (503)."""
    return page(
        "Staff page is off",
        "<p>The staff page is off because no staff token is set. Set STAFF_TOKEN (at least 16 "
        "characters) in the environment or .env and restart the assistant.</p>",
        status=503,
    )


def error_page(message: str, status: int) -> HTTPResponse:
    """A refusal as a page, with the way back to the list."""
    return page(
        "Staff page",
        f'<p class="error">{esc(message)}</p><p><a href="/webhooks/staff/">Back to the list</a></p>',
        status=status,
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


NOTICES = {
    "done": "Marked done.",
    "handed-back": "The assistant has the chat again.",
    "sent": "Reply sent to the patient.",
    "stored": "Reply stored in the conversation.",
}
"""What the list says after a form post (``?notice=<key>``; unknown keys say nothing)."""


def hidden_csrf(csrf: str) -> str:
    """The CSRF field every staff form carries."""
    return f'<input type="hidden" name="csrf" value="{esc(csrf)}">'


NAV_LINKS = (
    ("items", "/webhooks/staff/", "Work items"),
    ("texts", "/webhooks/staff/texts", "Texts"),
    ("waitlist", "/webhooks/staff/waitlist", "Waitlist"),
)


def nav(current: str) -> str:
    """The links between the staff page's lists; the current one is plain text."""
    links = [
        f"<strong>{esc(label)}</strong>" if key == current else f'<a href="{esc(url)}">{esc(label)}</a>'
        for key, url, label in NAV_LINKS
    ]
    return f'<p class="nav">{" | ".join(links)}</p>'


def work_item_row(item: Any, quiet: bool | None, csrf: str) -> str:
    """One row of the work list: facts, who answers a handoff, transcript link, Done button."""
    status = "" if quiet is None else (" (assistant quiet: you have this chat)" if quiet else " (assistant answering)")
    item_url = f"/webhooks/staff/items/{esc(item.work_item_id)}"
    link = f'<a href="{item_url}">Transcript</a> ' if getattr(item, "conversation_id", None) else ""
    if getattr(item, "kind", None) == "outreach":  # a text that could not be sent: the Texts list shows it
        link = '<a href="/webhooks/staff/texts">Texts</a> '

    done = (
        f'<form class="inline" method="post" action="{item_url}/done">'
        f'{hidden_csrf(csrf)}<button type="submit">Done</button></form>'
    )
    return (
        f'<tr class="{"emergency" if is_emergency(item) else ""}"><td>{esc(item.work_item_id)}</td>'
        f"<td>{esc(getattr(item, 'kind', ''))}{esc(status)}</td><td>{esc(when_text(item.created_at))}</td>"
        f"<td>{esc(getattr(item, 'channel', ''))}</td><td>{esc(item_details(item))}</td>"
        f"<td>{link}{done}</td></tr>"
    )


def work_list_page(items: list[Any], quiet: list[bool | None], csrf: str, notice_key: str) -> HTTPResponse:
    """The open work items (``quiet``: whether staff hold each one's chat), a notice and Log out."""
    rows = [work_item_row(item, held, csrf) for item, held in zip(items, quiet, strict=True)]
    head = "<tr><th>Item</th><th>Kind</th><th>Created</th><th>Channel</th><th>Details</th><th></th></tr>"
    table = (
        f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>" if rows else "<p>No open work items.</p>"
    )
    notice = NOTICES.get(notice_key, "")
    body = (
        nav("items")
        + (f'<p class="notice">{esc(notice)}</p>' if notice else "")
        + f"<p>{len(items)} open item(s). Emergencies first.</p>{table}"
        + f'<form method="post" action="/webhooks/staff/logout">{hidden_csrf(csrf)}'
        '<button type="submit">Log out</button></form>'
    )
    return page("Open work items", body)


def transcript_html(lines: list[Line]) -> str:
    """The messages, each with its speaker and time."""
    return (
        "".join(
            f'<div class="msg {esc(line.speaker)}"><span class="time">{esc(line.at.strftime("%b %d %H:%M"))}</span>'
            f"<strong>{esc(line.speaker)}:</strong> {esc(line.text)}</div>"
            for line in lines
        )
        or "<p>No messages.</p>"
    )


def reply_forms(item: Any, csrf: str, delivers: bool, channel: str, reply_max: int) -> str:
    """Reply and hand-back forms for a chat staff hold, saying whether a reply reaches the patient."""
    delivery = (
        "Your reply is sent to the patient at once."
        if delivers
        else f"The patient's channel ({channel}) cannot receive messages the patient did not "
        "ask for: your reply is stored in the conversation but not delivered. Call the patient if needed."
    )
    item_url = f"/webhooks/staff/items/{esc(item.work_item_id)}"
    return (
        f'<h2>Reply</h2><p class="note">{esc(delivery)}</p>'
        f'<form method="post" action="{item_url}/reply">{hidden_csrf(csrf)}'
        f'<textarea name="text" rows="3" maxlength="{reply_max}" required></textarea>'
        '<button type="submit">Send reply</button></form>'
        f'<form method="post" action="{item_url}/handback">{hidden_csrf(csrf)}'
        '<button type="submit">Hand back to the assistant</button></form>'
    )


def conversation_page(
    item: Any, lines: list[Line], csrf: str, held: bool, delivers: bool, channel: str, reply_max: int
) -> HTTPResponse:
    """A work item's conversation; a held handoff also gets the reply and hand-back forms."""
    if item.kind == "handoff" and held:
        actions = reply_forms(item, csrf, delivers, channel, reply_max)
    elif item.kind == "handoff":
        actions = '<p class="note">The assistant is answering this chat.</p>'
    else:
        actions = ""
    body = (
        f"<p>{esc(item.work_item_id)} ({esc(item.kind)}, {esc(item.status)}), channel {esc(channel)}: "
        f"{esc(item_details(item))}</p>{transcript_html(lines)}{actions}"
        '<p><a href="/webhooks/staff/">Back to the list</a></p>'
    )
    return page(f"Conversation of {item.work_item_id}", body)


def transcript_json(lines: list[Line]) -> list[dict[str, str]]:
    """The messages for the JSON view."""
    return [{"from": line.speaker, "text": line.text, "at": line.at.isoformat()} for line in lines]


def text_json(view: Any, names: dict[str, str]) -> dict[str, Any]:
    """One text for the JSON view (no number, no message body)."""
    return {
        "outbox_id": view.outbox_id,
        "kind": view.kind,
        "patient_id": view.patient_id,
        "appointment_id": view.appointment_id,
        "visit_id": view.visit_id,
        "provider_id": view.provider_id,
        "provider": names.get(view.provider_id or "", view.provider_id),
        "visit_start": view.visit_start.isoformat() if view.visit_start else None,
        "send_at": view.send_at.isoformat(),
        "sent_at": view.sent_at.isoformat() if view.sent_at else None,
        "status": view.status,
        "status_reason": view.status_reason,
        "status_text": status_text(view),
        "answer": view.answer,
        "answer_text": answer_text(view),
        "attempts": view.attempts,
    }


def _texts_table(views: list[Any], names: dict[str, str]) -> str:
    head = "<tr><th>When</th><th>Text</th><th>Patient</th><th>Visit</th><th>Status</th><th>Answer</th></tr>"
    rows = "".join(
        f'<tr class="{esc(view.status)}"><td>{esc(when_text(text_time(view)))}</td>'
        f"<td>{esc(kind_text(view.kind))}</td><td>{esc(view.patient_id)}</td>"
        f"<td>{esc(visit_text(view, names))}</td><td>{esc(status_text(view))}</td>"
        f"<td>{esc(answer_text(view))}</td></tr>"
        for view in views
    )
    return f"<table><thead>{head}</thead><tbody>{rows}</tbody></table>"


def texts_page(views: list[Any], names: dict[str, str], days: int, day: dt.date | None) -> HTTPResponse:
    """Texts the clinic sends first, ``days`` back and ahead (or on one ``day``), with status and answer."""
    span = f"on {day:%a %b %d}" if day else f"in the last {days} and the next {days} day(s)"
    picker = (
        '<form method="get" action="/webhooks/staff/texts">'
        f'<label>Day <input type="date" name="day" value="{esc(day.isoformat() if day else "")}"></label> '
        f'<input type="hidden" name="days" value="{esc(days)}"><button type="submit">Show</button> '
        '<a href="/webhooks/staff/texts">All days</a></form>'
    )
    table = _texts_table(views, names) if views else "<p>No texts.</p>"
    body = (
        f"{nav('texts')}<p>{len(views)} text(s) {esc(span)}, by time (clinic time). "
        "Reminders, waitlist offers, follow-up offers and notes-ready texts.</p>"
        f"{picker}{table}"
    )
    return page("Texts to patients", body)


def waitlist_page(entries: list[Any], offers: list[Any], names: dict[str, str], days: int) -> HTTPResponse:
    """Everyone waiting, in order of joining, and the offers of the last ``days`` days with their outcomes."""
    head = "<tr><th>#</th><th>Patient</th><th>Visit type</th><th>Provider</th><th>Days</th><th>Joined</th></tr>"
    rows = "".join(
        f"<tr><td>{place}</td><td>{esc(entry.patient_id)}</td>"
        f"<td>{esc(names.get(entry.visit_type, entry.visit_type))}</td>"
        f"<td>{esc(names.get(entry.provider_id, entry.provider_id) if entry.provider_id else 'any')}</td>"
        f"<td>{esc(f'{entry.from_date:%a %b %d} to {entry.to_date:%a %b %d}')}</td>"
        f"<td>{esc(when_text(entry.joined_at))}</td></tr>"
        for place, entry in enumerate(entries, start=1)
    )
    waiting = f"<table><thead>{head}</thead><tbody>{rows}</tbody></table>" if entries else "<p>Nobody is waiting.</p>"
    recent = _texts_table(offers, names) if offers else "<p>No offers.</p>"
    body = (
        f"{nav('waitlist')}<p>{len(entries)} patient wish(es) waiting, in order of joining.</p>{waiting}"
        f"<h2>Offers of the last {esc(days)} day(s)</h2>"
        "<p>A freed time is offered by text in order of joining; the first yes books it.</p>"
        f"{recent}"
    )
    return page("Waitlist", body)
