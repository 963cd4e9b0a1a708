"""The chat page handler serves its own static files and nothing else."""

from __future__ import annotations

import pytest
from sanic.exceptions import NotFound

from channels.chat_page import _static_file


def test_serves_the_page_and_its_assets() -> None:
    page = _static_file("index.html")
    assert page.content_type.startswith("text/html")
    assert b"chat.js" in page.body
    assert _static_file("vendor/socket.io.min.js").content_type == "application/javascript"


@pytest.mark.parametrize(
    "path", ["../chat_page.py", "../../bot/settings.py", "/etc/passwd", "vendor/socket.io.LICENSE", "missing.js"]
)
def test_refuses_anything_outside_static(path: str) -> None:
    with pytest.raises(NotFound):
        _static_file(path)


def test_page_never_inserts_message_text_as_html() -> None:
    script = _static_file("chat.js").body.decode()
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script
    assert "textContent" in script
