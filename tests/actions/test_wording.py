"""What the patient reads: whole sentences, as the assistant would send them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict

import yaml


def demo_birth_dates() -> list[str]:
    """Every demo patient's date of birth, in the spellings a prompt could use."""
    seed = yaml.safe_load(Path("bot/seed_data/demo_clinic.yml").read_text(encoding="utf-8"))
    spellings = []
    for patient in seed["patients"]:
        born = patient["date_of_birth"]
        spellings += [f"{born:%m/%d/%Y}", f"{born.month}/{born.day}/{born.year}", born.isoformat()]
    return spellings


def test_no_prompt_shows_a_real_patients_date_of_birth() -> None:
    """Example dates of birth in prompts belong to nobody in the demo clinic."""
    responses = yaml.safe_load(Path("domain.yml").read_text(encoding="utf-8"))["responses"]
    texts = [variant.get("text", "") for variants in responses.values() for variant in variants]
    born = demo_birth_dates()
    assert len(born) >= 6
    leaks = [text for text in texts for dob in born if dob in text]
    assert leaks == []
    examples = [text for text in texts if re.search(r"\d{2}/\d{2}/\d{4}", text)]
    assert examples and all("07/04/1985" in text for text in examples)
