"""The chat page handler serves its own static files and nothing else."""

from __future__ import annotations

import pytest
from sanic.exceptions import NotFound

from channels.chat_page import _static_file


def test_serves_the_demo_page_and_the_widget() -> None:
    page = _static_file("index.html")
    assert page.content_type.startswith("text/html")
    assert b'src="/webhooks/chat/widget.js"' in page.body
    assert b"<script>" not in page.body and b"style=" not in page.body  # nothing inline: the CSP forbids it
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    widget = _static_file("widget.js", embeddable=True)
    assert widget.content_type == "application/javascript"
    assert widget.headers["Cross-Origin-Resource-Policy"] == "cross-origin"  # clinics embed it on their pages
    assert _static_file("widget.css", embeddable=True).content_type == "text/css"
    assert _static_file("vendor/socket.io.min.js").content_type == "application/javascript"


@pytest.mark.parametrize(
    "path", ["../chat_page.py", "../../bot/settings.py", "/etc/passwd", "vendor/socket.io.LICENSE", "missing.js"]
)
def test_refuses_anything_outside_static(path: str) -> None:
    with pytest.raises(NotFound):
        _static_file(path)


def test_widget_never_inserts_message_text_as_html() -> None:
    script = _static_file("widget.js").body.decode()
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script and "document.write" not in script
    assert "textContent" in script
    assert "localStorage" not in script  # the session and history end with the tab (sessionStorage)
