"""Written JSON Schemas match the models, the files people edit pass them, and the README table is generated."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from ruamel.yaml import YAML

from bot.schemas.__main__ import SCHEMA_DIR, TABLE_END, TABLE_START, settings_table, written_schemas
from bot.seed import _DatesAsText
from bot.settings import PROJECT_ROOT

EDITED_FILES = {
    "bot/seed_data/demo_clinic.yml": "seed.schema.json",
    "bot/safety/red_flags.yml": "red_flags.schema.json",
    "bot/safety/medical_advice.yml": "medical_advice.schema.json",
    "bot/nlu/clinic_terms.yml": "clinic_terms.schema.json",
    "bot/nlu/us_insurers.yml": "us_insurers.schema.json",
}


@pytest.mark.parametrize("path", sorted(written_schemas()), ids=lambda p: p.name)
def test_written_schema_matches_the_model(path: Path) -> None:
    """A model change without ``python -m bot.schemas write`` fails here."""
    assert path.is_file(), f"{path.name} missing: run python -m bot.schemas write"
    assert path.read_text(encoding="utf-8") == written_schemas()[path], "stale: run python -m bot.schemas write"


@pytest.mark.parametrize("relative, schema_name", sorted(EDITED_FILES.items()))
def test_each_file_points_editors_at_its_schema_and_passes_it(relative: str, schema_name: str) -> None:
    """The first line tells the VS Code YAML extension which schema to check the file with."""
    path = PROJECT_ROOT / relative
    first_line = path.read_text(encoding="utf-8").splitlines()[0]
    target = first_line.removeprefix("# yaml-language-server: $schema=")
    assert first_line != target, first_line
    assert (path.parent / target).resolve() == (SCHEMA_DIR / schema_name).resolve()
    schema = json.loads((SCHEMA_DIR / schema_name).read_text(encoding="utf-8"))
    jsonschema.validate(_read_like_its_loader(path), schema)


def _read_like_its_loader(path: Path) -> object:
    """The seed file as ``bot.seed`` reads it (dates as text); rule files as Rasa's YAML 1.2 reader does."""
    text = path.read_text(encoding="utf-8")
    if path.parent.name == "seed_data":
        return yaml.load(text, Loader=_DatesAsText)  # noqa: S506 (a SafeLoader)
    return YAML(typ="safe", pure=True).load(text)


def test_a_broken_file_fails_the_editor_schema_too() -> None:
    """The editor flags the same mistakes the loader refuses: an unknown key, a missing field."""
    schema = json.loads((SCHEMA_DIR / "seed.schema.json").read_text(encoding="utf-8"))
    with pytest.raises(jsonschema.ValidationError, match="short_nam"):
        jsonschema.validate(
            {
                "clinic": {"name": "c", "address": "a", "phone": "p"},
                "visit_types": [],
                "providers": [
                    {"id": "p", "name": "n", "title": "MD", "specialty": "s", "visit_types": [], "short_nam": 1}
                ],
            },
            schema,
        )


def test_readme_settings_table_is_the_generated_one() -> None:
    """``python -m bot.schemas settings-table`` prints what belongs between the README's markers."""
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert TABLE_START in readme and TABLE_END in readme, "README needs the settings-table markers"
    start = readme.index(TABLE_START)
    end = readme.index(TABLE_END) + len(TABLE_END)
    assert readme[start:end] + "\n" == settings_table()


def test_every_setting_declares_its_variable_and_meaning() -> None:
    """One declaration is all a setting needs; the table row comes from it."""
    table = settings_table()
    for name in ("CLINIC_DATABASE_URL", "TWILIO_AUTH_TOKEN", "PORTAL_JWT_AUDIENCE", "STAFF_TOKEN"):
        assert f"| `{name}` |" in table
    assert "None" not in table
