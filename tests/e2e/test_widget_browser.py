"""The chat widget in a real headless Chromium, against the real running assistant.

Chromium is Debian's ``/usr/bin/chromium`` (``make test`` installs it when
missing), driven by the ``playwright`` package from PyPI; Playwright's own
browser downloads are never used. Portal mode talks to a tiny local stand-in
that serves the portal endpoint's contract, not the real endpoint.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import RunningAssistant

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
TIMEOUT_MS = 90_000  # generous: every wait ends as soon as its condition holds
OPEN_CHAT = "Chat with us: open the clinic assistant"  # the visible text leads the name
PWNED = "window.__pwned"
INJECTION = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One headless Chromium for this module."""
    if not CHROMIUM.exists():
        pytest.fail(
            "/usr/bin/chromium is missing: run `make test` (it installs Debian's chromium) or apt-get install chromium"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Tab:
    """A page in its own browser context, with what went wrong on it."""

    page: Any
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


@pytest.fixture
def new_tab(chromium: Any) -> Iterator[Any]:
    """Open pages in fresh browser contexts (own sessionStorage), closed after the test."""
    contexts: list[Any] = []

    def make(viewport: dict[str, int] | None = None) -> Tab:
        context = chromium.new_context(viewport=viewport or {"width": 1280, "height": 800})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        tab = Tab(context.new_page())
        tab.page.on("pageerror", lambda error: tab.errors.append(str(error)))
        tab.page.on(
            "console",
            lambda m: (
                tab.errors.append(m.text)
                if m.type == "error" and "favicon" not in (m.location or {}).get("url", "")
                else None
            ),
        )
        tab.page.on("dialog", lambda d: (tab.dialogs.append(d.message), d.dismiss()))
        return tab

    yield make
    for context in contexts:
        context.close()


def _demo(assistant: RunningAssistant) -> str:
    return f"{assistant.rasa_url}/webhooks/chat/"


def _open_chat(page: Any) -> None:
    """Click the launcher and wait until the web chat is connected."""
    page.get_by_role("button", name=OPEN_CHAT).click()
    _wait_connected(page)


def _wait_connected(page: Any) -> None:
    page.wait_for_function("() => document.querySelector('.cc-status').textContent === 'Connected'", timeout=TIMEOUT_MS)


def _bot_texts(page: Any) -> list[str]:
    return page.locator(".cc-log .cc-bot").all_text_contents()


def _send(page: Any, text: str) -> None:
    """Type a message and send it with Enter, then wait for the turn to end."""
    bots = page.locator(".cc-log .cc-bot").count()
    page.get_by_label("Your message").fill(text)
    page.get_by_label("Your message").press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('.cc-log .cc-bot').length > n && document.querySelector('.cc-typing').hidden",
        arg=bots,
        timeout=TIMEOUT_MS,
    )


def _session_state(page: Any) -> dict[str, Any]:
    raw = page.evaluate(
        "() => { const k = Object.keys(sessionStorage).find(k => k.startsWith('clinic-chat:'));"
        " return k ? sessionStorage.getItem(k) : null; }"
    )
    return json.loads(raw) if raw else {}


def test_type_get_a_reply_with_a_typing_indicator(assistant: RunningAssistant, new_tab: Any) -> None:
    tab = new_tab()
    page = tab.page
    page.goto(_demo(assistant))
    _open_chat(page)
    # Record whether the typing indicator showed before the first answer arrived.
    page.evaluate(
        """() => { window.__seen = [];
        new MutationObserver(() => {
          if (!document.querySelector('.cc-typing').hidden) window.__seen.push('typing');
          if (document.querySelector('.cc-log .cc-bot')) window.__seen.push('answer');
        }).observe(document.querySelector('.cc-panel'), {subtree: true, childList: true, attributes: true}); }"""
    )
    _send(page, "hello")
    assert any("Maple Grove" in text for text in _bot_texts(page))
    seen = page.evaluate("window.__seen")
    assert "typing" in seen and seen.index("typing") < seen.index("answer")
    assert page.locator(".cc-log .cc-user").all_text_contents() == ["You: hello"]
    assert _session_state(page)["sessionId"]
    assert not tab.errors, tab.errors  # no CSP violation, no script error


def test_quick_replies_send_their_payload_and_disappear(assistant: RunningAssistant, new_tab: Any) -> None:
    page = new_tab().page
    page.goto(_demo(assistant))
    _open_chat(page)
    _send(page, "i need an appointment")
    choices = page.locator(".cc-choice")
    assert "Follow-up" in choices.all_text_contents()
    before = page.locator(".cc-log .cc-bot").count()
    page.get_by_role("button", name="Follow-up").click()
    page.wait_for_function("n => document.querySelectorAll('.cc-log .cc-bot').length > n", arg=before)
    assert any("Who would you like to see" in text for text in _bot_texts(page))
    assert page.locator(".cc-log .cc-user").last.text_content() == "You: Follow-up"
    assert page.get_by_role("button", name="Follow-up").count() == 0
    # Buttons of a question also go once the patient answers by typing instead.
    page.wait_for_function("() => document.querySelectorAll('.cc-choice').length > 0")
    _send(page, "anyone is fine")
    groups = page.locator(".cc-choices")
    assert groups.count() <= 1  # only the latest question's buttons, if it has any
    if groups.count():
        assert page.locator(".cc-log > li").last.evaluate("e => e.classList.contains('cc-choices')")


def test_reload_redraws_the_history_and_continues_the_conversation(assistant: RunningAssistant, new_tab: Any) -> None:
    page = new_tab().page
    page.goto(_demo(assistant))
    _open_chat(page)
    _send(page, "i need an appointment")
    page.get_by_role("button", name="Follow-up").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.cc-bot')].some(e => e.textContent.includes('Who would you like'))"
    )
    history = page.locator(".cc-log > li").all_text_contents()
    session_id = _session_state(page)["sessionId"]

    page.reload()
    _wait_connected(page)  # the panel was open, so it opens again and reconnects
    assert page.locator(".cc-panel").is_visible()
    assert page.locator(".cc-log > li").all_text_contents() == history
    assert _session_state(page)["sessionId"] == session_id  # the server gave the same conversation back
    provider_buttons = page.locator(".cc-choice").all_text_contents()
    assert provider_buttons  # the open question's buttons are back too
    _send(page, "anyone")
    assert not any("What kind of visit" in text for text in _bot_texts(page)[-2:])  # the form went on


def test_no_markup_or_script_from_a_message_runs(assistant: RunningAssistant, new_tab: Any) -> None:
    tab = new_tab()
    page = tab.page
    page.goto(_demo(assistant))
    _open_chat(page)
    _send(page, INJECTION)
    assert page.locator(".cc-log .cc-user").last.text_content() == "You: " + INJECTION
    assert page.locator(".cc-log img, .cc-log script").count() == 0
    page.reload()  # the stored history is drawn as text too
    _wait_connected(page)
    assert page.locator(".cc-log .cc-user").last.text_content() == "You: " + INJECTION
    assert page.locator(".cc-log img, .cc-log script").count() == 0
    assert page.evaluate(PWNED) is None and not tab.dialogs


def test_keyboard_only(assistant: RunningAssistant, new_tab: Any) -> None:
    page = new_tab().page
    page.goto(_demo(assistant))
    page.keyboard.press("Tab")
    launcher = page.get_by_role("button", name=OPEN_CHAT)
    assert launcher.evaluate("e => e === document.activeElement")
    assert launcher.evaluate("e => getComputedStyle(e).outlineStyle") != "none"  # visible focus
    page.keyboard.press("Enter")
    _wait_connected(page)
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'clinic-chat-input'")
    assert page.get_by_role("log", name="Conversation").get_attribute("aria-live") == "polite"
    assert page.get_by_role("dialog", name="Clinic assistant").is_visible()
    page.keyboard.type("i need an appointment")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.querySelectorAll('.cc-choice').length > 0 && document.querySelector('.cc-typing').hidden"
    )
    # Shift+Tab from the message box reaches the last quick reply.
    page.keyboard.press("Shift+Tab")
    focused = page.evaluate("document.activeElement.className + '|' + document.activeElement.textContent")
    assert focused.startswith("cc-choice|"), focused
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    chosen = focused.split("|", 1)[1]
    before = page.locator(".cc-log .cc-bot").count()
    page.keyboard.press("Enter")
    page.wait_for_function("n => document.querySelectorAll('.cc-log .cc-bot').length > n", arg=before)
    assert page.locator(".cc-log .cc-user").last.text_content() == "You: " + chosen
    assert page.get_by_role("button", name=chosen, exact=True).count() == 0
    assert page.evaluate("document.activeElement.id") == "clinic-chat-input"  # focus is not lost
    page.keyboard.press("Escape")
    assert page.locator(".cc-panel").is_hidden()
    assert launcher.evaluate("e => e === document.activeElement")
    assert launcher.get_attribute("aria-expanded") == "false"


CONTRAST_JS = """() => {
  const rgb = c => c.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => {
    const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = e => {
    for (; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length < 4 || c[3] > 0) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const out = {};
  for (const sel of ['.cc-launcher', '.cc-title', '.cc-status', '.cc-bot', '.cc-user', '.cc-choice',
                     '.cc-input', '.cc-send', '.cc-footnote', '.cc-close']) {
    const e = document.querySelector(sel);
    if (!e || !e.getClientRects().length) { out[sel] = null; continue; }
    const a = lum(rgb(getComputedStyle(e).color)), b = lum(background(e));
    out[sel] = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  }
  return out;
}"""


def test_text_contrast_meets_wcag_aa(assistant: RunningAssistant, new_tab: Any) -> None:
    page = new_tab().page
    page.goto(_demo(assistant))
    launcher_ratio = page.evaluate(CONTRAST_JS)[".cc-launcher"]
    _open_chat(page)
    _send(page, "i need an appointment")
    ratios = {**page.evaluate(CONTRAST_JS), ".cc-launcher": launcher_ratio}
    assert all(ratio is not None and ratio >= 4.5 for ratio in ratios.values()), ratios


def test_phone_sized_screen_gets_a_full_screen_panel(assistant: RunningAssistant, new_tab: Any) -> None:
    page = new_tab({"width": 375, "height": 667}).page
    page.goto(_demo(assistant))
    _open_chat(page)
    box = page.locator(".cc-panel").bounding_box()
    assert [round(box[k]) for k in ("x", "y", "width", "height")] == [0, 0, 375, 667]
    _send(page, "hello")
    assert page.get_by_label("Your message").is_visible()
    reply = page.locator(".cc-log .cc-bot").last.bounding_box()
    assert reply["x"] >= 0 and reply["x"] + reply["width"] <= 375  # nothing runs off the screen


def test_reconnects_after_the_connection_drops(assistant: RunningAssistant, new_tab: Any) -> None:
    page = new_tab().page
    sockets: list[Any] = []

    def relay(ws: Any) -> None:
        ws.connect_to_server()
        sockets.append(ws)

    page.route_web_socket(re.compile(r"/socket\.io/"), relay)
    page.goto(_demo(assistant))
    _open_chat(page)
    _send(page, "i need an appointment")
    session_id = _session_state(page)["sessionId"]
    assert len(sockets) == 1

    sockets[0].close()  # the page sees its connection drop
    page.wait_for_function("() => document.querySelector('.cc-status').textContent.startsWith('Connection lost')")
    assert page.get_by_label("Your message").is_disabled()
    _wait_connected(page)  # the widget reconnected by itself
    assert len(sockets) == 2
    assert _session_state(page)["sessionId"] == session_id
    before = page.locator(".cc-log .cc-bot").count()
    page.get_by_role("button", name="Follow-up").click()
    page.wait_for_function("n => document.querySelectorAll('.cc-log .cc-bot').length > n", arg=before)
    assert any("Who would you like to see" in t for t in _bot_texts(page))  # same conversation, same form


# ---------- pages of other sites: a disallowed origin, and portal mode against a stand-in ----------

GOOD_TOKEN = "h." + base64.urlsafe_b64encode(json.dumps({"sub": "P-1001"}).encode()).decode().rstrip("=") + ".s"
EXPIRED_TOKEN = "h." + base64.urlsafe_b64encode(json.dumps({"sub": "P-1001"}).encode()).decode().rstrip("=") + ".x"
UNCONFIGURED_TOKEN = "h.e30.u"


class StandIn:
    """A host site on another origin, and a stand-in for the portal endpoint's contract."""

    def __init__(self, rasa_url: str) -> None:
        """Serve on a free loopback port; ``rasa_url`` is where the widget script lives."""
        self.rasa_url = rasa_url
        self.requests: list[dict[str, Any]] = []
        self.updates: list[Any] = []  # (time, message) a front-desk person sent out of band
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                """Keep test output quiet."""

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                if self.path.startswith("/webhooks/portal/updates"):
                    stand_in.requests.append({"path": self.path, "auth": self.headers.get("Authorization") or ""})
                    after = float(self.path.split("after=")[1]) if "after=" in self.path else 0.0
                    fresh = [m for at, m in stand_in.updates if at > after]
                    latest = max([at for at, _ in stand_in.updates if at > after] or [after])
                    return self._send(
                        200, json.dumps({"messages": fresh, "latest": latest}).encode(), "application/json"
                    )
                mode = ' data-mode="portal"' if self.path.startswith("/portal") else ""
                server = stand_in.url if mode else stand_in.rasa_url
                page = (
                    "<!doctype html><html lang=en><head><title>Host</title></head><body><h1>Our clinic</h1>"
                    f'<script src="{stand_in.rasa_url}/webhooks/chat/widget.js" data-server="{server}"'
                    f"{mode} defer></script></body></html>"
                )
                self._send(200, page.encode(), "text/html; charset=utf-8")

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")
                auth = self.headers.get("Authorization") or ""
                stand_in.requests.append({"path": self.path, "auth": auth, "body": body})
                if self.path != "/webhooks/portal/webhook":
                    return self._send(404, b"{}", "application/json")
                if auth == f"Bearer {UNCONFIGURED_TOKEN}":
                    return self._send(503, b'{"error": "portal_not_configured"}', "application/json")
                if not auth.startswith("Bearer "):
                    return self._send(401, b'{"error": "missing_token", "reason": "no token"}', "application/json")
                if auth != f"Bearer {GOOD_TOKEN}":
                    return self._send(401, b'{"error": "expired_token", "reason": "expired"}', "application/json")
                message = body.get("message")
                if message == "/book_appointment":
                    answer = [{"text": "What kind of visit do you need?"}]
                else:
                    answer = [
                        {
                            "text": "Hi Jordan! Your notes: https://portal.example/notes/7.\nSee you soon.",
                            "buttons": [{"title": "Book a visit", "payload": "/book_appointment"}],
                        },
                        {"text": INJECTION + " javascript:alert(1)"},
                    ]
                self._send(200, json.dumps(answer).encode(), "application/json")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stand_in(assistant: RunningAssistant) -> Iterator[StandIn]:
    """The other site, for one test."""
    site = StandIn(assistant.rasa_url)
    try:
        yield site
    finally:
        site.close()


def test_a_page_on_a_disallowed_origin_cannot_chat(stand_in: StandIn, new_tab: Any) -> None:
    page = new_tab().page
    page.goto(f"{stand_in.url}/host.html")  # not in WEBCHAT_ALLOWED_ORIGINS
    page.get_by_role("button", name=OPEN_CHAT).click()
    page.wait_for_function(
        "() => document.querySelector('.cc-status').textContent.startsWith('The chat cannot connect')"
    )
    assert page.get_by_label("Your message").is_disabled()
    assert _session_state(page).get("sessionId") is None


def test_portal_mode_talks_http_with_the_portal_token(stand_in: StandIn, new_tab: Any) -> None:
    tab = new_tab()
    page = tab.page
    page.goto(f"{stand_in.url}/portal.html")
    page.wait_for_function("() => window.ClinicChat && window.ClinicChat.init")
    page.evaluate("t => ClinicChat.init({mode: 'portal', token: t})", GOOD_TOKEN)
    page.get_by_role("button", name=OPEN_CHAT).click()
    page.get_by_label("Your message").fill("hello")
    page.get_by_label("Your message").press("Enter")
    page.wait_for_function("() => document.querySelectorAll('.cc-log .cc-bot').length >= 2")
    assert stand_in.requests[-1] == {
        "path": "/webhooks/portal/webhook",
        "auth": f"Bearer {GOOD_TOKEN}",
        "body": {"message": "hello"},
    }
    first = page.locator(".cc-log .cc-bot").first
    assert first.text_content() == "Assistant: Hi Jordan! Your notes: https://portal.example/notes/7.\nSee you soon."
    link = first.locator("a")
    assert link.get_attribute("href") == "https://portal.example/notes/7"  # the full stop is not part of it
    assert link.get_attribute("rel") == "noopener noreferrer"
    injected = page.locator(".cc-log .cc-bot").nth(1)
    assert injected.text_content() == "Assistant: " + INJECTION + " javascript:alert(1)"
    assert injected.locator("a").count() == 0  # only http(s) becomes a link
    assert page.locator(".cc-root img, .cc-root script").count() == 0
    assert page.evaluate(PWNED) is None and not tab.dialogs

    page.get_by_role("button", name="Book a visit").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.cc-bot')].some(e => e.textContent.includes('What kind of visit'))"
    )
    assert stand_in.requests[-1]["body"] == {"message": "/book_appointment"}
    assert page.get_by_role("button", name="Book a visit").count() == 0

    # The portal session ends: a plain message, not an error code.
    page.evaluate("t => ClinicChat.setToken(t)", EXPIRED_TOKEN)
    page.get_by_label("Your message").fill("are you there?")
    page.get_by_label("Your message").press("Enter")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.cc-note')].some(e => e.textContent.includes('Please sign in again'))"
    )
    assert (
        "Your portal session has ended. Please sign in again." in page.locator(".cc-log .cc-note").all_text_contents()
    )

    page.evaluate("t => ClinicChat.setToken(t)", UNCONFIGURED_TOKEN)
    page.get_by_label("Your message").fill("hello again")
    page.get_by_label("Your message").press("Enter")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.cc-note')].some(e => e.textContent.includes('not available'))"
    )

    # The history is kept across a reload in this tab, and the conversation goes on with the token.
    page.reload()
    page.wait_for_function("() => window.ClinicChat && window.ClinicChat.init")
    page.evaluate("t => ClinicChat.init({mode: 'portal', token: t})", GOOD_TOKEN)
    page.wait_for_function("() => document.querySelectorAll('.cc-log .cc-bot').length >= 3")
    assert "What kind of visit do you need?" in page.locator(".cc-log .cc-bot").last.text_content()


def test_portal_mode_shows_what_the_front_desk_writes(stand_in: StandIn, new_tab: Any) -> None:
    page = new_tab().page
    page.goto(f"{stand_in.url}/portal.html")
    page.wait_for_function("() => window.ClinicChat && window.ClinicChat.init")
    page.evaluate("t => ClinicChat.init({mode: 'portal', token: t, pollSeconds: 1})", GOOD_TOKEN)
    page.get_by_role("button", name=OPEN_CHAT).click()
    stand_in.updates.append((100.0, {"text": "Hi, this is Maria at the front desk. <b>How can I help?</b>"}))
    page.wait_for_function("() => [...document.querySelectorAll('.cc-bot')].some(e => e.textContent.includes('Maria'))")
    polls = [r for r in stand_in.requests if r["path"].startswith("/webhooks/portal/updates")]
    assert polls and all(r["auth"] == f"Bearer {GOOD_TOKEN}" for r in polls)
    assert page.locator(".cc-root b").count() == 0  # shown as text
    # Asked again later, the same message is not shown twice: the widget asks only for newer ones.
    page.wait_for_function(
        "() => performance.getEntriesByType('resource').filter(e => e.name.includes('after=100')).length >= 1"
    )
    assert page.locator(".cc-bot", has_text="Maria").count() == 1
