"""The staff page's Texts and Waitlist lists, served in this process by Sanic on a seeded SQLite clinic.

Outbox, waitlist and offer rows are written straight into the database, as the
planner and the worker would leave them; the page is read over real HTTP with a
real session cookie. What staff must see: every text with its visit, status in
plain words and answer; the waitlist in order of joining; never a phone number
or a message text; every value escaped; nothing without a login.
"""

from __future__ import annotations

import datetime as dt
import re
import socket
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
import sqlalchemy as sa
from sanic import Sanic

from bot.db import get_engine, session_scope
from bot.outreach.models import OutboxMessage, WaitlistEntry, WaitlistOffer
from bot.outreach.service import get_outreach_service, set_outreach_service
from bot.records import get_records_service
from bot.scheduling import get_scheduling_service
from channels.staff_auth import csrf_token, make_session_cookie, read_session_cookie
from channels.staff_page import StaffPageInput  # imports Rasa's channels, which run git once: not inside a test
from tests.actions.conftest import clinic_db  # noqa: F401 - the seeded database fixture
from tests.fixtures_db import db_url, migrated_url  # noqa: F401 - SQLite and a throwaway PostgreSQL

TOKEN = "staff-token-for-outreach-tests"
TZ = ZoneInfo("America/New_York")
NOW = dt.datetime(2026, 12, 2, 9, 0, tzinfo=TZ)  # CLINIC_TODAY of clinic_db, CLINIC_TIME 09:00
SECRET_BODY = "Hi Jordan, SECRET-BODY-TEXT reply 1 to confirm"


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A clinic-local time in December 2026."""
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=TZ)


def add_text(url: str, key: str, kind: str, patient: str, send_at: dt.datetime, **fields: Any) -> int:
    """An outbox row as the planner and worker leave it."""
    with session_scope(url) as session:
        row = OutboxMessage(
            dedupe_key=key,
            kind=kind,
            patient_id=patient,
            send_at=send_at,
            status=fields.pop("status", "planned"),
            attempts=fields.pop("attempts", 0),
            created_at=NOW,
            updated_at=NOW,
            **fields,
        )
        session.add(row)
        session.flush()
        return int(row.id)


def add_entry(url: str, patient: str, visit_type: str, provider: str | None, joined: dt.datetime, **fields: Any) -> int:
    """A waitlist entry as the booking conversation leaves it."""
    with session_scope(url) as session:
        entry = WaitlistEntry(
            patient_id=patient,
            visit_type_code=visit_type,
            provider_id=provider,
            from_date=fields.pop("from_date", dt.date(2026, 12, 3)),
            to_date=fields.pop("to_date", dt.date(2026, 12, 10)),
            status=fields.pop("status", "waiting"),
            channel="sms",
            joined_at=joined,
            updated_at=joined,
            **fields,
        )
        session.add(entry)
        session.flush()
        return int(entry.id)


def add_offer(url: str, entry_id: int, start: dt.datetime, status: str, booked: str | None = None) -> int:
    """A freed time offered to one waiting entry."""
    with session_scope(url) as session:
        offer = WaitlistOffer(
            entry_id=entry_id,
            freed_appointment_id="A-FREED1",
            provider_id="kim",
            visit_type_code="skin_check",
            start_at=start,
            status=status,
            created_at=NOW,
            appointment_id=booked,
        )
        session.add(offer)
        session.flush()
        return int(offer.id)


@dataclass(frozen=True)
class Clinic:
    """The seeded clinic with its texts: the database URL and the ids the rows got."""

    url: str
    booked: str  # Jordan's visit with Dr. Patel on Fri Dec 4
    texts: dict[str, int]


@pytest.fixture
def clinic(clinic_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Clinic]:  # noqa: F811
    """Texts of every status around today, a waitlist and one offer race already decided."""
    from bot.settings import reset_settings_cache

    monkeypatch.setenv("CLINIC_TIME", "09:00")
    monkeypatch.setenv("STAFF_TOKEN", TOKEN)
    reset_settings_cache()
    set_outreach_service(None)
    url = clinic_db
    scheduling = get_scheduling_service()
    friday = dt.date(2026, 12, 4)
    slot = scheduling.search_slots("sick_visit", "patel", friday, friday, exact_time=dt.time(9, 0), limit=1)[0]
    booked = scheduling.book("P-1001", "patel", "sick_visit", slot.start, channel="rest").appointment_id
    texts = {
        "planned": add_text(url, "r:A-7K3Q9:2d", "reminder", "P-1002", at(3, 10), appointment_id="A-7K3Q9"),
        "confirmed": add_text(
            url,
            "r:booked:2d",
            "reminder",
            "P-1001",
            at(2, 8, 30),
            appointment_id=booked,
            status="sent",
            sent_at=at(2, 8, 31),
            answer="confirmed",
            attempts=1,
            body=SECRET_BODY,
            number_key="k" * 64,
        ),
        "unanswered": add_text(
            url,
            "r:booked:0d",
            "reminder",
            "P-1001",
            at(1, 10),
            appointment_id=booked,
            status="sent",
            sent_at=at(1, 10, 1),
            attempts=1,
            body=SECRET_BODY,
        ),
        "dropped": add_text(
            url, "r:A-OLD:2d", "reminder", "P-1001", at(3, 8), status="dropped", status_reason="visit_moved"
        ),
        "failed": add_text(
            url,
            "r:A-7K3Q9:0d",
            "reminder",
            "P-1002",
            at(2, 8),
            appointment_id="A-7K3Q9",
            status="failed",
            status_reason="send_failed",
            attempts=5,
        ),
        "skipped": add_text(
            url,
            "n:V-4RJ2X",
            "notes_ready",
            "P-1001",
            at(2, 8, 45),
            visit_id="V-4RJ2X",
            status="skipped",
            status_reason="no_consent",
        ),
        "far": add_text(url, "r:far", "reminder", "P-1002", at(20, 10), appointment_id="A-7K3Q9"),
        "escaped": add_text(url, "r:escape", "reminder", "<script>alert(1)</script>", at(4, 9)),
    }
    # The waitlist: joined out of insertion order; one entry left, one booked by an offer.
    second = add_entry(url, "P-1002", "skin_check", None, at(1, 12))
    first = add_entry(url, "P-1001", "skin_check", "kim", at(1, 9))
    add_entry(url, "P-1001", "annual_physical", "patel", at(1, 10), status="left")
    gone = add_offer(url, first, at(7, 9), "gone")
    won = add_offer(url, second, at(7, 9), "accepted", booked="A-WON01")
    texts["offer_gone"] = add_text(
        url, "w:gone", "waitlist_offer", "P-1001", at(2, 8, 40), offer_id=gone, status="sent", sent_at=at(2, 8, 40)
    )
    texts["offer_won"] = add_text(
        url,
        "w:won",
        "waitlist_offer",
        "P-1002",
        at(2, 8, 41),
        offer_id=won,
        status="sent",
        sent_at=at(2, 8, 41),
        answer="accepted",
    )
    yield Clinic(url, booked, texts)
    set_outreach_service(None)


def free_socket() -> socket.socket:
    """A listening-ready socket on a free loopback port (Sanic takes port 0 for its default 8000)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


@dataclass
class Browser:
    """A member of staff: an HTTP client on the in-process server, logged in or not."""

    http: aiohttp.ClientSession
    base: str
    cookie: str | None = None

    async def get(self, path: str) -> tuple[int, str, dict[str, str]]:
        headers = {"Cookie": f"staff_session={self.cookie}"} if self.cookie else {}
        async with self.http.get(self.base + path, headers=headers, allow_redirects=False) as answer:
            return answer.status, await answer.text(), dict(answer.headers)

    async def post(self, path: str, form: dict[str, str]) -> tuple[int, dict[str, str]]:
        headers = {"Cookie": f"staff_session={self.cookie}"} if self.cookie else {}
        async with self.http.post(self.base + path, data=form, headers=headers, allow_redirects=False) as answer:
            return answer.status, dict(answer.headers)

    @property
    def csrf(self) -> str:
        assert self.cookie
        sid = read_session_cookie(TOKEN, self.cookie, time.time())
        assert sid
        return csrf_token(TOKEN, sid)


@pytest.fixture
async def staff(clinic: Clinic, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Browser]:
    """The staff page on its own Sanic app in this process, and a logged-in member of staff."""
    monkeypatch.setattr(Sanic, "test_mode", True)  # Sanic rewrites its own methods once per process otherwise
    app = Sanic(f"staff_outreach_{time.monotonic_ns()}")
    app.config.MOTD = False  # its platform line starts a process (uname)
    app.blueprint(StaffPageInput().blueprint(lambda _: None), url_prefix="/webhooks/staff")
    sock = free_socket()
    port = sock.getsockname()[1]
    server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
    assert server is not None
    await server.startup()
    try:
        async with aiohttp.ClientSession() as http:
            cookie = make_session_cookie(TOKEN, time.time(), 30)
            yield Browser(http, f"http://127.0.0.1:{port}/webhooks/staff", cookie)
    finally:
        server.close()
        await server.wait_closed()


def rows_of(page: str) -> list[str]:
    """The table rows of a page, tags stripped, cells joined by " | "."""
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", page, flags=re.S)
    return [" | ".join(re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td>(.*?)</td>", row)) for row in rows]


async def test_nothing_is_listed_without_a_login(staff: Browser) -> None:
    staff.cookie = None
    for path in ("/texts", "/waitlist"):
        status, page, _ = await staff.get(path)
        assert status == 401 and "Please log in." in page and "P-1001" not in page
    status, body, _ = await staff.get("/api/texts")
    assert status == 401 and "not logged in" in body
    staff.cookie = make_session_cookie("another-token-0123456789", time.time(), 30)  # signed with another token
    assert (await staff.get("/texts"))[0] == 401


async def test_the_texts_page_lists_every_text_with_its_visit_status_and_answer(staff: Browser, clinic: Clinic) -> None:
    status, page, headers = await staff.get("/texts")
    assert status == 200 and "default-src 'none'" in headers["Content-Security-Policy"]
    assert '<a href="/webhooks/staff/waitlist">Waitlist</a>' in page and "<strong>Texts</strong>" in page
    assert rows_of(page)[1:] == [  # by time, clinic time; the one 18 days ahead is not in the 7-day window
        f"Tue Dec 01 10:01 | visit reminder | P-1001 | {clinic.booked}, Dr. Amina Patel, Fri Dec 04 09:00 "
        "| sent | no answer",
        "Wed Dec 02 08:00 | visit reminder | P-1002 | A-7K3Q9, Dr. Grace Kim, Sat Dec 05 10:00 "
        "| failed after 5 tries: Twilio refused it (see the work item) | ",
        f"Wed Dec 02 08:31 | visit reminder | P-1001 | {clinic.booked}, Dr. Amina Patel, Fri Dec 04 09:00 "
        "| sent | confirmed",
        "Wed Dec 02 08:40 | waitlist offer | P-1001 | Dr. Grace Kim, Mon Dec 07 09:00 | sent "
        "| gone (someone else took it)",
        "Wed Dec 02 08:41 | waitlist offer | P-1002 | A-WON01, Dr. Grace Kim, Mon Dec 07 09:00 | sent "
        "| accepted (booked)",
        "Wed Dec 02 08:45 | notes ready | P-1001 | V-4RJ2X, Dr. Amina Patel | skipped: no texting consent | ",
        "Thu Dec 03 08:00 | visit reminder | P-1001 |  | dropped: visit moved | ",
        "Thu Dec 03 10:00 | visit reminder | P-1002 | A-7K3Q9, Dr. Grace Kim, Sat Dec 05 10:00 | planned | ",
        "Fri Dec 04 09:00 | visit reminder | &lt;script&gt;alert(1)&lt;/script&gt; |  | planned | ",
    ]
    assert "<script>" not in page
    assert "SECRET-BODY-TEXT" not in page and "+1555" not in page and "k" * 64 not in page


async def test_the_texts_json_and_the_day_filter(staff: Browser, clinic: Clinic) -> None:
    import json

    status, body, _ = await staff.get("/api/texts?days=31")
    texts = json.loads(body)["texts"]
    assert status == 200 and len(texts) == len(clinic.texts)  # 31 days reach the one on Dec 20 too
    confirmed = next(t for t in texts if t["outbox_id"] == clinic.texts["confirmed"])
    assert confirmed == {
        "outbox_id": clinic.texts["confirmed"],
        "kind": "reminder",
        "patient_id": "P-1001",
        "appointment_id": clinic.booked,
        "visit_id": None,
        "provider_id": "patel",
        "provider": "Dr. Amina Patel",
        "visit_start": "2026-12-04T09:00:00-05:00",
        "send_at": "2026-12-02T08:30:00-05:00",
        "sent_at": "2026-12-02T08:31:00-05:00",
        "status": "sent",
        "status_reason": None,
        "status_text": "sent",
        "answer": "confirmed",
        "answer_text": "confirmed",
        "attempts": 1,
    }
    assert "SECRET-BODY-TEXT" not in body
    status, page, _ = await staff.get("/texts?day=2026-12-03")
    assert status == 200 and [row.split(" | ")[0] for row in rows_of(page)[1:]] == [
        "Thu Dec 03 08:00",
        "Thu Dec 03 10:00",
    ]
    status, page, _ = await staff.get("/texts?day=2026-12-20")  # outside the 7 days: the window widens
    assert status == 200 and len(rows_of(page)) == 2


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("days=0", "Days must be a whole number from 1 to 31."),
        ("days=32", "Days must be a whole number from 1 to 31."),
        ("days=abc", "Days must be a whole number from 1 to 31."),
        ("days=-1", "Days must be a whole number from 1 to 31."),
        ("day=tomorrow", "The day must be a date like 2026-12-03."),
        ("day=2026-13-01", "The day must be a date like 2026-12-03."),
        ("day=0001-01-01", "Pick a day within 366 days of today."),
    ],
)
async def test_bad_filters_get_a_clear_message(staff: Browser, query: str, message: str) -> None:
    for path in ("/texts?", "/waitlist?" if query.startswith("days") else "/texts?"):
        status, page, _ = await staff.get(path + query)
        assert status == 400 and message in page and "Back to the list" in page


async def test_the_waitlist_in_order_of_joining_and_the_recent_offers(staff: Browser) -> None:
    status, page, _ = await staff.get("/waitlist")
    assert status == 200 and "<strong>Waitlist</strong>" in page
    rows = rows_of(page)
    waiting = [row for row in rows if row.startswith(("1 |", "2 |", "3 |"))]
    assert waiting == [
        "1 | P-1001 | skin check | Dr. Grace Kim | Thu Dec 03 to Thu Dec 10 | Tue Dec 01 09:00",
        "2 | P-1002 | skin check | any | Thu Dec 03 to Thu Dec 10 | Tue Dec 01 12:00",
    ]  # the entry that left the list is not shown
    offers = [row for row in rows if "waitlist offer" in row]
    assert [row.split(" | ")[-1] for row in offers] == ["gone (someone else took it)", "accepted (booked)"]
    assert all("visit reminder" not in row for row in rows)


async def test_reading_the_lists_is_audited_per_patient(staff: Browser, clinic: Clinic) -> None:
    def reads(operation: str) -> list[tuple[str, str]]:
        with get_engine(clinic.url).connect() as conn:
            query = sa.text("SELECT patient_id, actor FROM audit_log WHERE operation = :op ORDER BY patient_id")
            return [(row[0], row[1]) for row in conn.execute(query, {"op": operation})]

    await staff.get("/texts")
    patients = [patient for patient, _ in reads("read:outreach_texts")]
    assert patients == [None, "P-1001", "P-1002"]  # a made-up record id is audited without it
    assert all(actor.startswith("staff:web:") for _, actor in reads("read:outreach_texts"))
    await staff.get("/waitlist")
    assert [patient for patient, _ in reads("read:waitlist")] == ["P-1001", "P-1002"]


async def test_a_failed_text_is_a_work_item_staff_can_read_and_close(staff: Browser, clinic: Clinic) -> None:
    note = f"Reminder (outbox {clinic.texts['failed']}) for visit A-7K3Q9 not sent after 5 tries: Twilio HTTP 400"
    item = get_records_service().flag_outreach_failure("P-1002", note)  # as the worker leaves it
    status, page, _ = await staff.get("/")
    assert status == 200 and '<a href="/webhooks/staff/texts">Texts</a>' in page
    row = next(row for row in rows_of(page) if row.startswith(item.work_item_id))
    assert row.startswith(f"{item.work_item_id} | outreach | ") and f"{note}, patient P-1002 | Texts" in row
    status, headers = await staff.post(f"/items/{item.work_item_id}/done", {"csrf": staff.csrf})
    assert status == 303 and "notice=done" in headers["Location"]
    assert item.work_item_id not in (await staff.get("/"))[1]
    assert get_records_service().get_work_item(item.work_item_id).status == "done"


async def test_the_database_down_is_said_plainly(staff: Browser, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.settings import reset_settings_cache

    monkeypatch.setenv("CLINIC_DATABASE_URL", "sqlite:////nonexistent-dir/clinic.db")
    reset_settings_cache()
    for path in ("/texts", "/waitlist"):
        status, page, _ = await staff.get(path)
        assert status == 503 and "The clinic database cannot be reached right now" in page


def test_the_service_reads_in_one_window_around_now(clinic: Clinic) -> None:
    views = get_outreach_service().upcoming_texts(1, now=NOW)
    assert [view.outbox_id for view in views] == [
        clinic.texts[key]
        for key in ("unanswered", "failed", "confirmed", "offer_gone", "offer_won", "skipped", "dropped")
    ]
    assert all(view.send_at.tzinfo is not None and view.send_at.utcoffset() == dt.timedelta(hours=-5) for view in views)
    assert [entry.patient_id for entry in get_outreach_service().waitlist()] == ["P-1001", "P-1002"]


def test_upcoming_texts_on_sqlite_and_postgresql_in_one_query(db_url: str) -> None:  # noqa: F811
    """Thousands of rows, joined with their visits and offers, by time; texts outside the window left out."""
    from bot.outreach.sql import SqlOutreachService

    with session_scope(db_url) as session:
        session.add_all(
            OutboxMessage(
                dedupe_key=f"bulk:{n}",
                kind="reminder",
                patient_id="P-1002",
                appointment_id="A-7K3Q9",
                send_at=at(3, 9) - dt.timedelta(minutes=n),
                status="planned",
                created_at=NOW,
                updated_at=NOW,
            )
            for n in range(1500)
        )
    entry = add_entry(db_url, "P-1001", "skin_check", None, at(1, 9))
    offer = add_offer(db_url, entry, at(7, 9), "open")
    add_text(db_url, "w:open", "waitlist_offer", "P-1001", at(2, 7), offer_id=offer, status="sent", sent_at=at(2, 7))
    add_text(db_url, "r:old", "reminder", "P-1002", at(20, 9, 0) - dt.timedelta(days=30), status="sent")
    views = SqlOutreachService(db_url).upcoming_texts(7, now=at(2, 8))
    assert len(views) == 1501
    assert [view.send_at for view in views] == sorted(view.send_at for view in views)
    offered, reminder = views[0], views[1]
    assert offered.kind == "waitlist_offer" and (offered.provider_id, offered.visit_start) == ("kim", at(7, 9))
    assert (offered.status, offered.answer, offered.appointment_id) == ("sent", None, None)  # open: no answer yet
    assert (reminder.kind, reminder.provider_id, reminder.visit_start, reminder.answer) == (
        "reminder",
        "kim",
        at(5, 10),
        None,
    )


def test_status_and_answer_words() -> None:
    from bot.outreach.service import ReminderView
    from bot.outreach.staff_words import answer_text, status_text

    def view(status: str, reason: str | None = None, attempts: int = 0, kind: str = "reminder") -> ReminderView:
        return ReminderView(1, kind, "P-1001", None, None, None, NOW, status, reason, None, attempts, None)

    assert status_text(view("planned", "retry", 2)) == "planned (try 3): Twilio refused it, trying again later"
    assert status_text(view("skipped", "opted_out")) == "skipped: number opted out"
    assert status_text(view("dropped", "visit_cancelled")) == "dropped: visit cancelled"
    assert status_text(view("skipped", "some_new_code")) == "skipped: some new code"  # unknown codes still read
    assert status_text(view("sending")) == "sending"
    assert answer_text(view("sent")) == "no answer" and answer_text(view("planned")) == ""
    assert answer_text(view("sent", kind="notes_ready")) == ""  # nothing was asked
