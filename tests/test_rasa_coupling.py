"""The Rasa patches are written against one release: any other stops the assistant loudly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.rasa_coupling import SUPPORTED_RASA_VERSION, RasaVersionError, check_rasa_version

ROOT = Path(__file__).resolve().parents[1]


def test_the_installed_rasa_is_the_supported_release() -> None:
    check_rasa_version()


@pytest.mark.parametrize("other", ["3.6.20", "3.7.0", "3.6.21rc1", "4.0.0"])
def test_another_release_is_refused_with_what_to_do(other: str) -> None:
    with pytest.raises(RasaVersionError) as raised:
        check_rasa_version(other)
    message = str(raised.value)
    assert other in message and SUPPORTED_RASA_VERSION in message
    assert "bot/rasa_coupling.py" in message


def test_the_project_pins_the_release_the_patches_expect() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    assert f"rasa[spacy]=={SUPPORTED_RASA_VERSION}" in pyproject
    assert re.search(rf"^rasa=={re.escape(SUPPORTED_RASA_VERSION)}$", lock, re.M)


def test_no_other_module_patches_rasa() -> None:
    """Assignments to Rasa classes' methods happen in bot/rasa_coupling.py only."""
    patch = re.compile(r"^\s*(RemoteAction|MessageProcessor|SQLTrackerStore|Agent)\.\w+\s*=", re.M)
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("bot", "actions", "channels")
        for path in (ROOT / folder).rglob("*.py")
        if path.name != "rasa_coupling.py" and patch.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
