"""A way to a person, end to end through the REST channel and the staff page.

In opening hours (the shared assistant runs at CLINIC_TIME 10:00 on a
Wednesday) the chat goes to the front desk and the assistant stays quiet until
staff hand it back; outside them (a second assistant at 19:30) the patient
leaves a call-back request and is told when to expect the call.
"""

from __future__ import annotations

import http.client
import re
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from channels.staff_auth import make_session_cookie
from tests.e2e.harness import Conversation, RunningAssistant, start_assistant

pytestmark = pytest.mark.e2e

HANDED_OFF = "passed this chat to our front desk"


@dataclass
class Staff:
    """A member of staff using the staff page (cookies handled by hand, no redirects followed)."""

    base_url: str
    cookie: str | None = None
    last_headers: dict[str, str] = field(default_factory=dict)

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None, cookie: str | None = None
    ) -> tuple[int, str]:
        """One request; returns status and body text."""
        parts = urllib.parse.urlsplit(self.base_url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        headers = {}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        sent_cookie = cookie if cookie is not None else self.cookie
        if sent_cookie:
            headers["Cookie"] = f"staff_session={sent_cookie}"
        connection.request(method, "/webhooks/staff" + path, body=body, headers=headers)
        answer = connection.getresponse()
        self.last_headers = {k.lower(): v for k, v in answer.getheaders()}
        text = answer.read().decode()
        connection.close()
        return answer.status, text

    def login(self, token: str) -> int:
        """Log in; keeps the session cookie on success."""
        status, _ = self.request("POST", "/login", {"token": token})
        match = re.match(r"staff_session=([^;]+)", self.last_headers.get("set-cookie", ""))
        if status == 303 and match:
            self.cookie = match.group(1)
        return status

    def csrf(self) -> str:
        """The form token on the list page."""
        status, page = self.request("GET", "/")
        assert status == 200, page
        return re.search(r'name="csrf" value="([^"]+)"', page).group(1)

    def items(self) -> dict[str, Any]:
        """Open work items by id (JSON view)."""
        import json

        status, body = self.request("GET", "/api/items")
        assert status == 200, body
        return {item["id"]: item for item in json.loads(body)["items"]}

    def transcript(self, item_id: str) -> dict[str, Any]:
        """A conversation's messages (JSON view)."""
        import json

        status, body = self.request("GET", f"/api/items/{item_id}/transcript")
        assert status == 200, body
        return json.loads(body)


def demo_token(assistant: RunningAssistant) -> str:
    """The token ``python -m bot run`` generated for the demo."""
    return (assistant.var_dir / "staff-token").read_text().strip()


@pytest.fixture
def staff(assistant: RunningAssistant) -> Staff:
    member = Staff(assistant.rasa_url)
    assert member.login(demo_token(assistant)) == 303
    return member


def handoff_id(chat: Conversation) -> str:
    """The handoff item the conversation is held under."""
    slots = chat.tracker()["slots"]
    assert slots["staff_holds"] is True, slots
    return slots["handoff_id"]


def audit_rows(assistant: RunningAssistant, operation: str) -> list:
    engine = sa.create_engine(assistant.clinic_database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT actor, channel, patient_id FROM audit_log WHERE operation = :op"), {"op": operation}
        ).all()
    engine.dispose()
    return rows


def test_in_hours_the_front_desk_takes_over_and_hands_back(
    chat: Conversation, staff: Staff, assistant: RunningAssistant
) -> None:
    chat.say("i want to book an appointment")
    chat.say("can i talk to a real person please")
    assert HANDED_OFF in chat.text and "(555) 010-2000" in chat.text and "5:00 PM" in chat.text
    item_id = handoff_id(chat)

    # The assistant stays quiet; the messages are kept for staff.
    assert chat.say("hello? is anyone there") == []
    assert chat.say("book me with dr patel tomorrow") == []
    # ...except for an emergency.
    chat.say("I have crushing chest pain and can't breathe")
    assert "Call 911" in chat.text
    assert chat.say("ok") == []

    item = staff.items()[item_id]
    assert item["kind"] == "handoff" and item["assistant_quiet"] is True and item["has_transcript"]
    assert item["details"].startswith("Wanted: book a visit. Why a person: asked for a person.")
    assert "dr patel" not in item["details"] and "anyone" not in item["details"]

    views_before = len(audit_rows(assistant, "read:transcript"))
    messages = staff.transcript(item_id)["messages"]
    said = [(m["from"], m["text"]) for m in messages]
    assert ("patient", "hello? is anyone there") in said and ("patient", "ok") in said
    assert any(who == "assistant" and "Call 911" in text for who, text in said)
    assert all(m["at"] for m in messages)
    views = audit_rows(assistant, "read:transcript")
    assert len(views) == views_before + 1 and views[-1][0].startswith("staff:web:") and views[-1][1] == "staff-page"

    # The HTML page escapes what patients wrote.
    chat.say("<script>alert(1)</script>")
    status, page = staff.request("GET", f"/items/{item_id}")
    assert status == 200 and "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "script-src" not in staff.last_headers["content-security-policy"]
    assert "default-src 'none'" in staff.last_headers["content-security-policy"]
    assert "stored in the conversation but not delivered" in page  # REST has no way to push a message

    csrf = staff.csrf()
    assert staff.request("POST", f"/items/{item_id}/reply", {"csrf": csrf, "text": "   "})[0] == 400
    status, _ = staff.request(
        "POST", f"/items/{item_id}/reply", {"csrf": csrf, "text": "Hi, Dana from the front desk here."}
    )
    assert status == 303 and "notice=stored" in staff.last_headers["location"]
    assert ("staff", "Hi, Dana from the front desk here.") in [
        (m["from"], m["text"]) for m in staff.transcript(item_id)["messages"]
    ]
    assert chat.say("thanks dana") == []

    status, _ = staff.request("POST", f"/items/{item_id}/handback", {"csrf": csrf})
    assert status == 303 and "notice=handed-back" in staff.last_headers["location"]
    assert item_id not in staff.items()
    assert staff.request("POST", f"/items/{item_id}/handback", {"csrf": csrf})[0] == 409
    chat.say("what are your opening hours")
    assert "8:00 AM" in chat.text
    assert chat.tracker()["slots"]["staff_holds"] is False


def test_marking_a_handoff_done_also_gives_the_chat_back(chat: Conversation, staff: Staff) -> None:
    chat.say("i want to speak to a human")
    item_id = handoff_id(chat)
    status, _ = staff.request("POST", f"/items/{item_id}/done", {"csrf": staff.csrf()})
    assert status == 303 and item_id not in staff.items()
    chat.say("hello")
    assert chat.last, "the assistant answers again"
    assert staff.request("POST", "/items/H-ZZZZZ/done", {"csrf": staff.csrf()})[0] == 404


def test_two_misunderstood_messages_in_a_row_offer_a_person(chat: Conversation, staff: Staff) -> None:
    chat.say("zxqv blorp")
    # Keyboard mash is out of scope (the answer says what the assistant can do).
    assert "didn't quite get that" in chat.text or "I can only help with" in chat.text
    chat.say("qwpoe zzkr flim")
    assert "still not getting it" in chat.text and "take over this chat" in chat.text
    chat.say("yes")
    assert HANDED_OFF in chat.text
    details = staff.items()[handoff_id(chat)]["details"]
    assert "did not understand them twice" in details and "blorp" not in details


def test_a_verification_lock_out_offers_a_person(chat: Conversation, staff: Staff) -> None:
    chat.say("show my appointments")
    for name, dob in [("John Nobody", "01/01/1980"), ("Jane Nobody", "02/02/1981"), ("Jim Nobody", "03/03/1982")]:
        chat.say(name)
        chat.say(dob)
    assert "couldn't confirm who you are" in chat.text
    assert [b["title"] for b in chat.buttons] == ["Talk to a person"]
    chat.click(0)
    assert HANDED_OFF in chat.text
    details = staff.items()[handoff_id(chat)]["details"]
    assert "identity check locked" in details and "Nobody" not in details and "1980" not in details


def test_the_run_command_says_where_the_demo_token_is_and_never_prints_it(assistant: RunningAssistant) -> None:
    token_file = assistant.var_dir / "staff-token"
    printed = (assistant.var_dir / f"bot-run-{assistant.env['RASA_PORT']}.out").read_text()
    assert f"/webhooks/staff/ (token in {token_file})" in printed
    assert demo_token(assistant) not in printed and demo_token(assistant) not in assistant.logs()
    assert token_file.stat().st_mode & 0o077 == 0  # readable by the clinic's account only


def test_staff_page_refuses_anyone_without_a_valid_session(assistant: RunningAssistant) -> None:
    token = demo_token(assistant)
    visitor = Staff(assistant.rasa_url)
    assert visitor.request("GET", "/api/items")[0] == 401
    status, page = visitor.request("GET", "/")
    assert status == 200 and 'name="token"' in page and "Open work items" not in page
    status, page = visitor.request("POST", "/login", {"token": "not-the-token-at-all"})
    assert status == 401 and "not right" in page and "set-cookie" not in visitor.last_headers
    expired = make_session_cookie(token, time.time() - 3600, minutes=1)
    assert visitor.request("GET", "/api/items", cookie=expired)[0] == 401
    forged = make_session_cookie("some-other-token-0000", time.time(), minutes=60)
    assert visitor.request("GET", "/api/items", cookie=forged)[0] == 401

    assert visitor.login(token) == 303
    set_cookie = visitor.last_headers["set-cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie and "Max-Age=" in set_cookie
    assert visitor.request("GET", "/api/items")[0] == 200
    status, body = visitor.request("GET", "/api/items/H-ZZZZZ/transcript")
    assert status == 404 and "no work item H-ZZZZZ" in body
    # A POST without the session's form token (another site's form) is refused.
    assert visitor.request("POST", "/items/H-ZZZZZ/done", {"csrf": "guess"})[0] == 403
    assert visitor.request("POST", "/items/H-ZZZZZ/done", {})[0] == 403


# --- outside opening hours ------------------------------------------------------


@pytest.fixture(scope="module")
def closed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAssistant]:
    """The same assistant at 19:30 on the Wednesday: the front desk is closed."""
    running = start_assistant(
        tmp_path_factory.mktemp("closed-var"), {"CLINIC_TIME": "19:30", "STAFF_TOKEN": "closed-clinic-token-0123"}
    )
    try:
        yield running
    finally:
        running.stop()


def test_out_of_hours_a_call_back_with_the_expected_call_time(closed: RunningAssistant) -> None:
    chat = Conversation(closed.rasa_url)
    chat.say("can i talk to a real person please")
    assert "closed right now" in chat.text and "Thursday, December 3 at 8:00 AM" in chat.text
    chat.say("yes")
    assert "full name" in chat.text
    chat.say("Maria Lopez")
    chat.say("212 555 0199")
    chat.say("after 3pm")
    assert "call you after we open on Thursday, December 3 at 8:00 AM" in chat.text
    assert chat.tracker()["slots"]["staff_holds"] is False

    staff = Staff(closed.rasa_url)
    assert staff.login("closed-clinic-token-0123") == 303
    [item] = [i for i in staff.items().values() if i["kind"] == "callback"]
    assert item["reason"] == "handoff" and "Maria Lopez, +12125550199, best time after 3pm" in item["details"]
    assert "Maria Lopez" in "\n".join(m["text"] for m in staff.transcript(item["id"])["messages"])
    assert not (Path(closed.var_dir) / "staff-token").exists()  # STAFF_TOKEN set: no demo token made
    assert "Maria" not in closed.logs() and "0199" not in closed.logs()


def test_out_of_hours_two_misses_offer_a_call_back(closed: RunningAssistant) -> None:
    chat = Conversation(closed.rasa_url)
    chat.say("zxqv blorp")
    chat.say("qwpoe zzkr flim")
    assert "still not getting it" in chat.text and "call you back" in chat.text
    chat.say("no thanks")
    assert "anything else" in chat.text


def test_wrong_tokens_are_limited(closed: RunningAssistant) -> None:
    """Runs last in this module: it locks 127.0.0.1 out of the closed clinic's staff page."""
    visitor = Staff(closed.rasa_url)
    statuses = [visitor.request("POST", "/login", {"token": f"wrong-token-{n:010d}"})[0] for n in range(6)]
    assert statuses[:5] == [401] * 5 and statuses[5] == 429
    assert int(visitor.last_headers["retry-after"]) > 0
    assert visitor.login("closed-clinic-token-0123") == 429  # even the right token waits


async def test_web_chat_patients_get_staff_replies_at_once(assistant: RunningAssistant, staff: Staff) -> None:
    """On the web chat the reply and the hand back are pushed to the open page."""
    import asyncio

    import socketio

    from tests.e2e.harness import get_json
    from tests.e2e.webchat_client import conversation_of

    client = socketio.AsyncClient()
    replies: list = []
    confirmed = asyncio.Event()
    issued: dict[str, str] = {}

    @client.on("session_confirm")
    async def _confirm(session: Any) -> None:
        issued["id"] = str(session)  # the server issues the session id
        confirmed.set()

    @client.on("bot_uttered")
    async def _bot(message: dict[str, Any]) -> None:
        replies.append(message.get("text") or "")

    async def arrived(text: str) -> bool:
        for _ in range(100):
            if any(text in reply for reply in replies):
                return True
            await asyncio.sleep(0.1)
        return False

    await client.connect(assistant.rasa_url, socketio_path="/socket.io", transports=["websocket"])
    try:
        await client.emit("session_request", {"session_id": None})
        await asyncio.wait_for(confirmed.wait(), 10)
        session_id = issued["id"]
        await client.emit("user_uttered", {"message": "can i talk to a real person please", "session_id": session_id})
        assert await arrived(HANDED_OFF), replies
        conversation = conversation_of(session_id)
        slots = await asyncio.to_thread(get_json, f"{assistant.rasa_url}/conversations/{conversation}/tracker")
        item_id = slots["slots"]["handoff_id"]
        status, page = await asyncio.to_thread(staff.request, "GET", f"/items/{item_id}")
        assert status == 200 and "sent to the patient at once" in page
        csrf = await asyncio.to_thread(staff.csrf)
        await asyncio.to_thread(
            staff.request, "POST", f"/items/{item_id}/reply", {"csrf": csrf, "text": "Hello from the desk"}
        )
        assert "notice=sent" in staff.last_headers["location"]
        assert await arrived("Hello from the desk"), replies
        await asyncio.to_thread(staff.request, "POST", f"/items/{item_id}/handback", {"csrf": csrf})
        assert await arrived("virtual assistant again"), replies
    finally:
        await client.disconnect()
