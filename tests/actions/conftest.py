"""Actions run through rasa-sdk against a real, seeded SQLite clinic database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.paths import DOMAIN_PATH
from bot.records import set_records_service
from bot.scheduling import set_scheduling_service

TODAY = "2026-12-02"  # a Wednesday


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    """The real domain, as the action server receives it."""
    from rasa.shared.core.domain import Domain

    return Domain.load(DOMAIN_PATH).as_dict()


@pytest.fixture
def clinic_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated and seeded clinic database; settings and services point at it."""
    from bot.migrate import upgrade
    from bot.seed import seed_demo_clinic
    from bot.settings import reset_settings_cache

    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    monkeypatch.setenv("CLINIC_DATABASE_URL", url)
    monkeypatch.setenv("CLINIC_TODAY", TODAY)
    monkeypatch.setenv("CLINIC_VAR_DIR", str(tmp_path))
    reset_settings_cache()
    upgrade(url)
    seed_demo_clinic(url, today=dt.date.fromisoformat(TODAY))
    set_scheduling_service(None)
    set_records_service(None)
    yield url
    set_scheduling_service(None)
    set_records_service(None)


def make_tracker(
    slots: dict[str, Any] | None = None,
    text: str = "",
    intent: str = "inform",
    entities: list[dict[str, Any]] | None = None,
    active_loop: str | None = None,
    events: list[dict[str, Any]] | None = None,
    just_set: list[str] | None = None,
) -> Tracker:
    """A rasa-sdk tracker as the action server would build it from Rasa's call.

    ``just_set`` names the slots the latest message filled (Rasa's slot extraction
    runs before the validation action, which validates exactly those).
    """
    slots = dict(slots or {})
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": entities or []}
    if events is None:
        events = [{"event": "user", "text": text, "parse_data": latest}] + [
            {"event": "slot", "name": name, "value": slots.get(name)} for name in (just_set or [])
        ]
    return Tracker(
        sender_id="test",
        slots=slots,
        latest_message=latest,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def texts(dispatcher: CollectingDispatcher) -> list[str]:
    """Response names and texts the action sent."""
    return [m.get("response") or m.get("text") or "" for m in dispatcher.messages]


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The slots an action set, as a dict (last value wins)."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
