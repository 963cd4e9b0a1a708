"""The domain folder: YAML anchors do not cross files, so the copied anchor lists must stay equal."""

from __future__ import annotations

import re
from collections import defaultdict

import yaml

from bot.paths import DOMAIN_PATH

ANCHORED_LIST = re.compile(r"&(?P<name>[\w-]+)\s+(?P<items>\[[^\]]*\])")


def anchored_lists() -> dict[str, dict[str, list[str]]]:
    """Anchor name -> {file name: the list it anchors}, for every anchored flow list in domain/."""
    found: dict[str, dict[str, list[str]]] = defaultdict(dict)
    for path in sorted(DOMAIN_PATH.glob("*.yml")):
        for match in ANCHORED_LIST.finditer(path.read_text(encoding="utf-8")):
            found[match.group("name")][path.name] = yaml.safe_load(match.group("items"))
    return found


def test_the_anchor_lists_are_found() -> None:
    lists = anchored_lists()
    assert "interruptions" in lists and len(lists["interruptions"]) >= 2


def test_every_copy_of_an_anchor_is_the_same_list() -> None:
    for name, copies in anchored_lists().items():
        distinct = {tuple(items) for items in copies.values()}
        assert len(distinct) == 1, f"&{name} differs between {sorted(copies)}: change every copy together"
