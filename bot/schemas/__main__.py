"""``python -m bot.schemas write | check | settings-table``: JSON Schemas for editors, the README table."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel

from bot.schemas.rules import RuleFile
from bot.schemas.seed import SeedFile
from bot.schemas.vocabulary import ClinicTermsFile, InsurersFile
from bot.settings import PROJECT_ROOT, Settings, env_name

SCHEMA_DIR = PROJECT_ROOT / "schemas"
README = PROJECT_ROOT / "README.md"
TABLE_START = "<!-- settings-table:start -->"
TABLE_END = "<!-- settings-table:end -->"

# schema file -> (model, title); the YAML files point at these with a yaml-language-server comment
SCHEMAS: dict[str, tuple[type[BaseModel], str]] = {
    "settings.schema.json": (Settings, "Settings (environment variables)"),
    "seed.schema.json": (SeedFile, "Clinic seed file (bot/seed_data/*.yml)"),
    "red_flags.schema.json": (RuleFile, "Red-flag rules (bot/safety/red_flags.yml)"),
    "medical_advice.schema.json": (RuleFile, "Medical-advice rules (bot/safety/medical_advice.yml)"),
    "clinic_terms.schema.json": (ClinicTermsFile, "Clinic vocabulary (bot/nlu/clinic_terms.yml)"),
    "us_insurers.schema.json": (InsurersFile, "US carriers and plans (bot/nlu/us_insurers.yml)"),
}


def schema_text(model: type[BaseModel], title: str) -> str:
    """One model as a JSON Schema document, stable byte for byte."""
    schema = {"$schema": "http://json-schema.org/draft-07/schema#", **model.schema(by_alias=True), "title": title}
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def readme_with_table(readme: str) -> str:
    """The README's text with the generated settings table between its markers."""
    start, end = readme.index(TABLE_START), readme.index(TABLE_END) + len(TABLE_END) + 1
    return readme[:start] + settings_table() + readme[end:]


def written_schemas() -> dict[Path, str]:
    """Every generated file (the schemas and the README with its table) and the text it should hold."""
    files = {SCHEMA_DIR / name: schema_text(model, title) for name, (model, title) in SCHEMAS.items()}
    files[README] = readme_with_table(README.read_text(encoding="utf-8"))
    return files


def settings_table() -> str:
    """The README's settings table, from the settings' field declarations, between its markers."""
    rows = [TABLE_START, "| name | default | meaning |", "| --- | --- | --- |"]
    for field in Settings.__fields__.values():
        unset = field.field_info.extra.get("unset")
        default = field.default
        if unset:
            shown = unset
        elif isinstance(default, bool):
            shown = f"`{str(default).lower()}`"
        else:
            shown = f"`{default}`"
        description = str(field.field_info.description).replace("|", "\\|")
        rows.append(f"| `{env_name(field)}` | {shown} | {description} |")
    rows.append(TABLE_END)
    return "\n".join(rows) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: write the schemas and the README table, check they are current, or print the table."""
    parser = argparse.ArgumentParser(prog="python -m bot.schemas", description=__doc__)
    parser.add_argument("command", choices=["write", "check", "settings-table"])
    args = parser.parse_args(argv)
    if args.command == "settings-table":
        sys.stdout.write(settings_table())
        return 0
    stale = [path for path, text in written_schemas().items() if not path.is_file() or path.read_text("utf-8") != text]
    if args.command == "check":
        for path in stale:
            print(f"stale: {path.relative_to(PROJECT_ROOT)} (run python -m bot.schemas write)", file=sys.stderr)
        return 1 if stale else 0
    SCHEMA_DIR.mkdir(exist_ok=True)
    for path in stale:
        path.write_text(written_schemas()[path], encoding="utf-8")
        print(f"wrote {path.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
