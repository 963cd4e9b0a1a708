"""Channel variants in domain/: each fills from the same values as its default and keeps its choices."""

from __future__ import annotations

import re
from typing import Any

from rasa.shared.core.domain import Domain

from bot.paths import DOMAIN_PATH

PLACEHOLDER = re.compile(r"(?<!\{)\{(\w+)\}(?!\})")


def responses() -> dict[str, list[dict[str, Any]]]:
    """Every response of the domain folder, by name."""
    return Domain.load(DOMAIN_PATH).responses


def test_sms_variants_exist_for_the_long_or_tap_worded_answers() -> None:
    with_sms = {name for name, variants in responses().items() if any(v.get("channel") == "sms" for v in variants)}
    assert {"utter_greet", "utter_default", "utter_booking_done", "utter_slot_choice_not_understood"} <= with_sms


def test_channel_variants_use_only_values_their_default_gets() -> None:
    for name, variants in responses().items():
        defaults = [v for v in variants if not v.get("channel")]
        allowed = {p for v in defaults for p in PLACEHOLDER.findall(v.get("text", ""))}
        for variant in variants:
            if variant.get("channel"):
                assert defaults, f"{name}: a channel variant needs a default for other channels"
                used = set(PLACEHOLDER.findall(variant.get("text", "")))
                assert used <= allowed | {"clinic_name", "clinic_phone"}, (name, used - allowed)


def test_channel_variants_keep_the_default_choices() -> None:
    for name, variants in responses().items():
        default_buttons = [v.get("buttons") for v in variants if not v.get("channel") and v.get("buttons")]
        for variant in variants:
            if variant.get("channel") and default_buttons:
                assert variant.get("buttons") in default_buttons, name


def test_sms_texts_say_reply_with_a_number_not_tap() -> None:
    for name, variants in responses().items():
        for variant in variants:
            if variant.get("channel") == "sms":
                assert "tap" not in variant.get("text", "").lower(), name
