"""Name folding and US mobile normalization used by identity checks and registration."""

from __future__ import annotations

import pytest

from bot.records import InvalidPatientData, normalize_us_mobile
from bot.records.normalize import name_key, parse_name


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Jordan Rivera", "jordan rivera"),
        ("  JORDAN \t rivera  ", "jordan rivera"),
        ("Rivera, Jordan", "jordan rivera"),
        ("Rivera,   Jordan Alex", "jordan rivera"),
        ("José Álvarez", "jose alvarez"),
        ("Jose\u0301 Alvarez", "jose alvarez"),  # decomposed accent
        ("Pat O'Brien", "pat obrien"),
        ("Pat O’Brien", "pat obrien"),
        ("Maria de la Cruz", "maria cruz"),
        ("Jordan Rivera III", "jordan rivera"),
        ("Cher", "cher cher"),
    ],
)
def test_name_key_folds_case_accents_order_and_middle_names(raw: str, key: str) -> None:
    assert name_key(raw) == key


@pytest.mark.parametrize("raw", ["", "   ", "R2D2", "Jordan <script>", "a" + "-" * 60 + "!", "x" * 201])
def test_not_a_name(raw: str) -> None:
    assert name_key(raw) is None
    with pytest.raises(InvalidPatientData) as caught:
        parse_name(raw)
    assert caught.value.field == "full_name"


def test_parse_name_keeps_deliberate_casing_and_fixes_shouting() -> None:
    assert parse_name("JORDAN RIVERA").full_name == "Jordan Rivera"
    assert parse_name("jordan rivera").first_name == "Jordan"
    mac = parse_name("Ewan McGregor")
    assert (mac.full_name, mac.first_name, mac.last_name) == ("Ewan McGregor", "Ewan", "McGregor")
    assert parse_name("Maria de la Cruz").last_name == "de la Cruz"
    assert parse_name("Rivera, Jordan").full_name == "Jordan Rivera"


@pytest.mark.parametrize(
    "raw",
    [
        "+15555550123",
        "+1 (555) 555-0123",
        "(555) 555-0123",
        "555.555.0123",
        "1-555-555-0123",
        "5555550123",
        " 555 555 0123 ",
    ],
)
def test_us_mobile_formats_normalize_to_e164(raw: str) -> None:
    assert normalize_us_mobile(raw) == "+15555550123"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "555-0123",
        "+44 20 7946 0958",
        "1-800-FLOWERS",
        "055-555-0123",
        "555-155-0123",
        "911-555-0123",
        "+1+5555550123",
        "55555501234",
        "555 555 0123 x12",
    ],
)
def test_invalid_us_mobiles_are_refused(raw: str) -> None:
    with pytest.raises(InvalidPatientData) as caught:
        normalize_us_mobile(raw)
    assert caught.value.field == "mobile"
