"""The staff page's building blocks: signed expiring sessions, CSRF tokens, the
wrong-token throttle, escaping, and emergencies listed first."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from channels.staff_auth import LoginThrottle, csrf_token, make_session_cookie, read_session_cookie, token_matches
from channels.staff_views import esc, sort_items, transcript_lines

TOKEN = "staff-token-0123456789"
NOW = 1_800_000_000.0


def test_a_session_cookie_is_valid_until_it_expires() -> None:
    cookie = make_session_cookie(TOKEN, NOW, minutes=10)
    sid = read_session_cookie(TOKEN, cookie, NOW + 599)
    assert sid and len(sid) >= 16
    assert read_session_cookie(TOKEN, cookie, NOW + 601) is None
    assert make_session_cookie(TOKEN, NOW, 10) != cookie  # a fresh session id each login


def test_forged_or_foreign_cookies_are_refused() -> None:
    cookie = make_session_cookie(TOKEN, NOW, minutes=10)
    payload, mac = cookie.split(".")
    assert read_session_cookie("another-token-0123456789", cookie, NOW) is None  # a new token ends sessions
    assert read_session_cookie(TOKEN, payload + "." + mac[:-2] + "AA", NOW) is None
    forged_payload = make_session_cookie("attacker-token-000000", NOW + 10**6, 10).split(".")[0]
    assert read_session_cookie(TOKEN, forged_payload + "." + mac, NOW) is None
    for junk in (None, "", "abc", "a.b.c", "x" * 500):
        assert read_session_cookie(TOKEN, junk, NOW) is None


def test_csrf_tokens_are_bound_to_the_session_and_tokens_compare_exactly() -> None:
    assert csrf_token(TOKEN, "sid-1") == csrf_token(TOKEN, "sid-1") != csrf_token(TOKEN, "sid-2")
    assert token_matches(TOKEN, TOKEN) and not token_matches(TOKEN[:-1], TOKEN) and not token_matches("", TOKEN)


def test_wrong_tokens_lock_the_address_out_for_a_while() -> None:
    throttle = LoginThrottle(allowed=3, window=600)
    for second in range(3):
        assert throttle.retry_after("10.0.0.1", NOW + second) == 0
        throttle.failed("10.0.0.1", NOW + second)
    assert 590 <= throttle.retry_after("10.0.0.1", NOW + 10) <= 601
    assert throttle.retry_after("10.0.0.2", NOW + 10) == 0  # other addresses are not affected
    assert throttle.retry_after("10.0.0.1", NOW + 601) == 0  # the window passes
    assert throttle.retry_after("10.0.0.1", NOW + 700) == 0 and "10.0.0.1" not in throttle._failures  # forgotten
    throttle.failed("10.0.0.3", NOW)
    throttle.succeeded("10.0.0.3")
    assert throttle.retry_after("10.0.0.3", NOW) == 0


def test_everything_is_escaped() -> None:
    assert esc('<script>alert("x")</script>') == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
    assert esc(None) == "" and esc("O'Neil") == "O&#x27;Neil"


def test_emergencies_come_first_then_handoffs_callbacks_refills() -> None:
    def item(kind: str, reason: str, minute: int) -> SimpleNamespace:
        return SimpleNamespace(
            kind=kind, reason=reason, created_at=dt.datetime(2026, 12, 2, 10, minute, tzinfo=dt.timezone.utc)
        )

    refill, callback = item("refill", None, 1), item("callback", "billing", 2)
    handoff, emergency = item("handoff", "handoff", 3), item("callback", "emergency", 4)
    assert sort_items([refill, callback, handoff, emergency]) == [emergency, handoff, callback, refill]


def test_transcript_lines_mark_who_spoke() -> None:
    from zoneinfo import ZoneInfo

    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

    events = [
        UserUttered("a person please", timestamp=NOW),
        ActionExecuted("action_handoff", timestamp=NOW + 1),
        BotUttered(
            "I've passed this chat", data={"buttons": [{"title": "OK", "payload": "/affirm"}]}, timestamp=NOW + 2
        ),
        SlotSet("staff_holds", True, timestamp=NOW + 3),
        BotUttered("Hi, Dana here", metadata={"staff": True}, timestamp=NOW + 4),
    ]
    lines = transcript_lines(events, ZoneInfo("America/New_York"))
    assert [(line.speaker, line.text) for line in lines] == [
        ("patient", "a person please"),
        ("assistant", "I've passed this chat [OK]"),
        ("staff", "Hi, Dana here"),
    ]
    assert lines[0].at.tzinfo is not None
