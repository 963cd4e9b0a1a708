"""Web chat connector pieces: session ids the server issues, and the Origin rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import load_settings
from channels.kit import keyed_hash
from channels.webchat import SessionIds, WebChatInput, cors_setting, default_session_ids, origin_allowed


@pytest.fixture
def ids(tmp_path: Path) -> SessionIds:
    """Session ids keyed like the running server's (the demo key under var/)."""
    settings = load_settings({"CLINIC_VAR_DIR": str(tmp_path)})
    return SessionIds(lambda value: keyed_hash(value, "webchat-session", settings))


def test_issued_ids_are_random_verify_and_map_to_a_namespaced_conversation(ids: SessionIds) -> None:
    first, second = ids.issue(), ids.issue()
    assert first != second
    assert ids.verify(first) == first
    conversation = SessionIds.conversation_id(first)
    assert conversation.startswith("webchat:") and conversation != SessionIds.conversation_id(second)
    assert first.split(".")[1] not in conversation  # the id in logs and trackers is not the bearer secret


@pytest.mark.parametrize(
    "proposed",
    [None, "", 42, {"id": 1}, "a" * 32, "webchat:" + "a" * 32, "a" * 32 + "." + "b" * 32, "A" * 32 + "." + "0" * 32],
)
def test_ids_the_server_did_not_issue_are_refused(ids: SessionIds, proposed: object) -> None:
    assert ids.verify(proposed) is None


def test_a_forged_mac_on_a_real_random_part_is_refused(ids: SessionIds) -> None:
    random_part, mac = ids.issue().split(".")
    forged = f"{random_part}.{'0' * 32 if mac != '0' * 32 else '1' * 32}"
    assert ids.verify(forged) is None


def test_another_key_does_not_accept_our_ids(ids: SessionIds, tmp_path: Path) -> None:
    other = SessionIds(
        lambda value: keyed_hash(value, "webchat-session", load_settings({"CHANNEL_ID_SECRET": "x" * 40}))
    )
    assert other.verify(ids.issue()) is None


def test_without_a_secret_outside_the_demo_ids_still_work_for_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLINIC_DEMO", "false")
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "t")
    monkeypatch.delenv("CHANNEL_ID_SECRET", raising=False)
    ids = default_session_ids()
    session = ids.issue()
    assert ids.verify(session) == session
    assert default_session_ids().verify(session) is None  # another process key


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        (None, True),
        ("", True),
        ("http://127.0.0.1:5005", True),
        ("https://www.example-clinic.org", True),
        ("https://www.example-clinic.org/", True),
        ("https://evil.example", False),
        ("http://www.example-clinic.org", False),
        ("https://www.example-clinic.org.evil.example", False),
    ],
)
def test_origin_rule(origin: str, allowed: bool) -> None:
    origins = ("http://127.0.0.1:5005", "https://www.example-clinic.org")
    assert origin_allowed(origin, origins) is allowed


def test_python_socketio_gets_the_list_never_the_empty_list_that_disables_it() -> None:
    assert cors_setting(("https://a.example", "https://b.example/")) == ["https://a.example", "https://b.example"]
    assert cors_setting(("*",)) == "*"


def test_credentials_build_the_connector_with_persistence_and_the_settings_origins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WEBCHAT_ALLOWED_ORIGINS", "https://www.example-clinic.org")
    channel = WebChatInput.from_credentials({"session_persistence": False})
    assert channel.name() == "socketio"
    assert channel.session_persistence is True
    assert channel.allowed_origins == ("https://www.example-clinic.org",)
