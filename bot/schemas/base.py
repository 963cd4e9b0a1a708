"""What every file schema shares: strict models and error messages that name the place in the file."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError, validator
from pydantic.fields import ModelField

_SENTENCES = {
    "type_error.dict": "must be a mapping",
    "type_error.list": "must be a list",
    "value_error.missing": "field required",
}


class FileModel(BaseModel):
    """A part of a file staff edit: unknown keys are refused (a misspelt key is never silently ignored)."""

    class Config:
        """Strict, immutable, and named by the keys people write."""

        extra = "forbid"
        allow_mutation = False
        allow_population_by_field_name = True
        anystr_strip_whitespace = True

    @validator("*", pre=True)
    def _bare_key_is_default(cls, value: Any, field: ModelField) -> Any:
        """A key written with nothing after it (``closures:``) means its default."""
        return field.default if value is None and not field.required else value


def place(loc: tuple[Any, ...]) -> str:
    """``("providers", 2, "name")`` -> ``providers[2].name``."""
    text = ""
    for part in loc:
        if part == "__root__":
            continue
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def describe(error: ValidationError, source: str) -> str:
    """One line per problem, ``<file>: <place>: <what is wrong>``; unknown keys are grouped per place."""
    lines: list[str] = []
    unknown: dict[str, list[str]] = {}
    for item in error.errors():
        loc = tuple(item["loc"])
        if item["type"] == "value_error.extra":
            unknown.setdefault(place(loc[:-1]) or "the file", []).append(str(loc[-1]))
            continue
        where = place(loc)
        message = _SENTENCES.get(item["type"], item["msg"])
        if item["type"] in ("type_error.dict", "type_error.list"):
            lines.append(f"{source}: '{where or 'the file'}' {message}.")
        else:
            lines.extend(f"{source}: {where}: {line}" if where else f"{source}: {line}" for line in message.split("\n"))
    for where, keys in unknown.items():
        lines.append(f"{source}: {where} has unknown keys {sorted(keys)}.")
    return "\n".join(lines)
