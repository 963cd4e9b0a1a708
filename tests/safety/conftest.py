"""Shared fixture for the red-flag tests: the bundled rules, compiled once."""

from __future__ import annotations

import pytest

from bot.safety.red_flags import RedFlagMatcher


@pytest.fixture(scope="session")
def matcher() -> RedFlagMatcher:
    """The bundled rules, compiled once for the whole run."""
    return RedFlagMatcher.default()
