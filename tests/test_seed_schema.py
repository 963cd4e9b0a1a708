"""The seed file's schema: every mistake staff can make is refused with the place in the file named."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.seed import DEFAULT_DATA_PATH, SeedDataError, load_clinic_data


def edited(tmp_path: Path, old: str, new: str) -> Path:
    """The demo file with one edit, as staff would make it."""
    text = DEFAULT_DATA_PATH.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "clinic.yml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("    name: Dr. Grace Kim\n", "", "clinic.yml: providers[2].name: field required"),
        (
            "    short_name: Dr. Kim",
            "    short_nam: Dr. Kim",
            "clinic.yml: providers[2] has unknown keys ['short_nam']",
        ),
        ('time: "10:00"', "time: 10:00", 'appointments[0].time: write times as quoted "HH:MM" strings'),
        ('sat: ["09:00-12:00"]', 'sat: ["09:00-12:00", "11:30-13:00"]', "clinic.hours.sat: blocks overlap"),
        ("sun: []", 'sun: ["12:00-09:00"]', "clinic.hours.sun[0]: '12:00-09:00' ends before it starts"),
        ("sun: []", "sunday: []", "clinic.hours has unknown keys ['sunday']"),
        ("date_of_birth: 1990-03-14", "date_of_birth: 1990-13-14", "patients[0].date_of_birth: invalid date"),
        ("  - id: kim", "  - id: romero", "providers: ids must be unique, repeated: romero"),
        ("    provider: kim", "    provider: lee", "appointments[1].provider: unknown provider 'lee'"),
        (
            "    visit_type: follow_up\n    days_from_today: 3",
            "    visit_type: botox\n    days_from_today: 3",
            "appointments[1].visit_type: unknown visit type 'botox'",
        ),
        ("    appointment: A-4RJ2X", "    appointment: A-ZZZZZ", "visits[0].appointment: unknown appointment"),
        ("  - id: P-1002", "  - id: 1002", "patients[1].id: ids look like P-1001"),
        ("    minutes: 15", "    minutes: 0", "visit_types[5].minutes"),
        ("    self_pay_usd: 110", "    self_pay_usd: -5", "visit_types[2].self_pay_usd"),
        ("status: booked", "status: maybe", "appointments[1].status: status must be one of"),
        ("    - code: tricare", "    - code: Tri Care", "insurance.not_accepted[1].code"),
    ],
)
def test_a_mistake_is_refused_naming_its_place(tmp_path: Path, old: str, new: str, message: str) -> None:
    with pytest.raises(SeedDataError) as caught:
        load_clinic_data(edited(tmp_path, old, new))
    assert message in str(caught.value)


def test_anchors_and_the_editor_comment_are_not_data() -> None:
    """``x-weekdays`` only feeds YAML merges; the schema comment on line 1 is a comment."""
    text = DEFAULT_DATA_PATH.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=") and "x-weekdays: &weekdays" in text
    data = load_clinic_data()
    assert [p.provider_id for p in data.providers] == ["patel", "romero", "kim", "okafor"]


def test_bare_keys_mean_empty(tmp_path: Path) -> None:
    """``closures:`` or ``visits:`` with nothing after them are empty, as staff expect."""
    path = edited(tmp_path, "  closures: []", "  closures:")
    path.write_text(path.read_text(encoding="utf-8").split("\nvisits:")[0] + "\nvisits:\n", encoding="utf-8")
    data = load_clinic_data(path)
    assert data.clinic.closures == [] and data.visits == []
