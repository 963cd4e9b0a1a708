"""Measures the red-flag check: recall on emergency phrasings, false alarms on ordinary messages.

Run from the project root::

    .venv/bin/python -m bot.safety.evaluate            # rules, and the model if trained
    .venv/bin/python -m bot.safety.evaluate --no-model # rules only (fast)

It reads `tests/safety/emergency_phrasings.yml` (messages that must be flagged,
by category) and `tests/safety/ordinary_messages.yml` (messages that must not),
prints recall, right-category rate, false-alarm rate and speed for the rule
check alone, and, when a trained model exists (default `models/clinic.tar.gz`),
for the intent classifier alone and for rules-or-classifier, which is what the
assistant does once `RedFlagDetector` is in the pipeline. The tests hold the
rule check to `REQUIRED_RECALL` and `MAX_FALSE_ALARM_RATE`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.safety.red_flags import CATEGORIES, RedFlagResult, detect_red_flags

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EMERGENCY_FILE = PROJECT_ROOT / "tests" / "safety" / "emergency_phrasings.yml"
ORDINARY_FILE = PROJECT_ROOT / "tests" / "safety" / "ordinary_messages.yml"
DEFAULT_MODEL = PROJECT_ROOT / "models" / "clinic.tar.gz"
EMERGENCY_INTENT = "report_emergency"

REQUIRED_RECALL = 1.0  # every emergency phrasing in the set, with the right category
MAX_FALSE_ALARM_RATE = 0.02


@dataclass(frozen=True)
class Emergency:
    """One message that must be flagged, with the category the dialogue must act on."""

    text: str
    category: str


@dataclass(frozen=True)
class Ordinary:
    """One message that must not be flagged, with the group it was filed under."""

    text: str
    group: str


@dataclass
class Report:
    """What one detector got right and wrong on both sets."""

    name: str
    emergencies: int = 0
    flagged: int = 0
    right_category: int = 0
    by_category: dict[str, tuple[int, int]] = field(default_factory=dict)  # flagged, total
    misses: list[Emergency] = field(default_factory=list)
    wrong_category: list[tuple[Emergency, str]] = field(default_factory=list)
    ordinary: int = 0
    false_alarms: list[tuple[Ordinary, str]] = field(default_factory=list)
    timings_ms: list[float] = field(default_factory=list)

    @property
    def recall(self) -> float:
        """Share of emergency phrasings flagged at all."""
        return self.flagged / self.emergencies if self.emergencies else 1.0

    @property
    def category_accuracy(self) -> float:
        """Share of emergency phrasings flagged with the right category."""
        return self.right_category / self.emergencies if self.emergencies else 1.0

    @property
    def false_alarm_rate(self) -> float:
        """Share of ordinary messages wrongly flagged."""
        return len(self.false_alarms) / self.ordinary if self.ordinary else 0.0


def _load_yaml(path: Path) -> dict[str, Any]:
    """Reads one data set with the same safe YAML loader as the rules."""
    from ruamel.yaml import YAML

    data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top.")
    return data


def load_emergencies(path: Path = EMERGENCY_FILE) -> list[Emergency]:
    """The emergency phrasings, each with its expected category."""
    data = _load_yaml(path)
    items = []
    for category in CATEGORIES:
        for text in data.get(category) or []:
            items.append(Emergency(str(text), category))
    unknown = set(data) - {"version", *CATEGORIES}
    if unknown:
        raise ValueError(f"{path}: unknown sections {sorted(unknown)}.")
    return items


def load_ordinary(path: Path = ORDINARY_FILE) -> list[Ordinary]:
    """The ordinary messages, each with its group (booking, history, tricky words...)."""
    data = _load_yaml(path)
    return [Ordinary(str(text), group) for group, texts in data.items() if group != "version" for text in texts or []]


Verdict = Callable[[str], str | None]  # text -> category (or "emergency") or None


def evaluate(name: str, verdict: Verdict, emergencies: Sequence[Emergency], ordinary: Sequence[Ordinary]) -> Report:
    """Runs a detector over both sets and counts hits, misses and false alarms."""
    report = Report(name, emergencies=len(emergencies), ordinary=len(ordinary))
    counts: dict[str, list[int]] = {c: [0, 0] for c in CATEGORIES}
    for item in emergencies:
        started = time.perf_counter()
        found = verdict(item.text)
        report.timings_ms.append((time.perf_counter() - started) * 1000)
        counts[item.category][1] += 1
        if found is None:
            report.misses.append(item)
            continue
        report.flagged += 1
        counts[item.category][0] += 1
        if found == item.category:
            report.right_category += 1
        elif found in CATEGORIES:
            report.wrong_category.append((item, found))
        else:
            report.right_category += 1  # a classifier has no category: counted as right
    for message in ordinary:
        started = time.perf_counter()
        found = verdict(message.text)
        report.timings_ms.append((time.perf_counter() - started) * 1000)
        if found is not None:
            report.false_alarms.append((message, found))
    report.by_category = {c: (v[0], v[1]) for c, v in counts.items()}
    return report


def rule_verdict(text: str) -> str | None:
    """The rule check's category for one message."""
    result: RedFlagResult = detect_red_flags(text)
    return result.category


def _percent(value: float) -> str:
    """Formats a share as a percentage with one decimal."""
    return f"{value * 100:.1f} %"


def format_report(report: Report, show_timing: bool = True, limit: int | None = None) -> str:
    """The report as the lines printed on the console, listing at most `limit` errors."""
    lines = [report.name]
    per_category = ", ".join(f"{c} {hit}/{total}" for c, (hit, total) in report.by_category.items())
    lines.append(f"  recall: {report.flagged}/{report.emergencies} = {_percent(report.recall)}  ({per_category})")
    lines.append(
        f"  right category: {report.right_category}/{report.emergencies} = {_percent(report.category_accuracy)}"
    )
    lines.append(f"  false alarms: {len(report.false_alarms)}/{report.ordinary} = {_percent(report.false_alarm_rate)}")
    if show_timing and report.timings_ms:
        ordered = sorted(report.timings_ms)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        lines.append(
            f"  speed: median {statistics.median(ordered):.3f} ms, p99 {p99:.3f} ms,"
            f" max {ordered[-1]:.3f} ms per message"
        )
    errors = [f"  MISSED ({item.category}): {item.text}" for item in report.misses]
    errors += [
        f"  WRONG CATEGORY ({found}, expected {item.category}): {item.text}" for item, found in report.wrong_category
    ]
    errors += [f"  FALSE ALARM ({found}) [{message.group}]: {message.text}" for message, found in report.false_alarms]
    if limit is not None and len(errors) > limit:
        errors = errors[:limit] + [f"  ... and {len(errors) - limit} more (--all lists them)"]
    return "\n".join(lines + errors)


def model_verdicts(model_path: Path) -> tuple[Verdict, Verdict]:
    """Classifier-alone and final (as the assistant would act) verdicts of a trained model."""
    import logging

    import structlog
    from rasa.core.agent import Agent

    # Rasa's parse logging prints every message at debug level; the report is enough.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    logging.getLogger("rasa").setLevel(logging.WARNING)
    agent = Agent.load(str(model_path))
    loop = asyncio.new_event_loop()
    cache: dict[str, dict[str, Any]] = {}

    def parse(text: str) -> dict[str, Any]:
        """Parses once per text; both verdicts read the same parse."""
        if text not in cache:
            cache[text] = loop.run_until_complete(agent.parse_message(text))
        return cache[text]

    def classifier(text: str) -> str | None:
        """The intent classifier's own verdict (before any red-flag override)."""
        parsed = parse(text)
        details = parsed.get("red_flag") or {}
        intent = (details.get("classifier_intent") or parsed.get("intent") or {}).get("name")
        return "emergency" if intent == EMERGENCY_INTENT else None

    def final(text: str) -> str | None:
        """What the assistant acts on: the model's final intent, or the rule check."""
        rules = rule_verdict(text)
        if rules is not None:
            return rules
        intent = (parse(text).get("intent") or {}).get("name")
        return "emergency" if intent == EMERGENCY_INTENT else None

    return classifier, final


def main(argv: Sequence[str] | None = None) -> int:
    """Prints the figures; exit status 1 when the rule check misses its targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="trained model to add")
    parser.add_argument("--no-model", action="store_true", help="measure the rule check only")
    parser.add_argument("--all", action="store_true", help="list every error of the model too")
    args = parser.parse_args(argv)

    emergencies = load_emergencies()
    ordinary = load_ordinary()
    detect_red_flags("warm up")  # compile the rules before timing
    rules = evaluate("Rule check alone (bot/safety/red_flags.yml)", rule_verdict, emergencies, ordinary)
    print(f"{len(emergencies)} emergency phrasings, {len(ordinary)} ordinary messages")
    print(format_report(rules))
    if not args.no_model:
        if args.model.exists():
            classifier, final = model_verdicts(args.model)
            limit = None if args.all else 12
            alone = evaluate(f"Intent classifier alone ({args.model.name})", classifier, emergencies, ordinary)
            print(format_report(alone, show_timing=False, limit=limit))
            combined = evaluate("Rules or classifier (what the assistant acts on)", final, emergencies, ordinary)
            print(format_report(combined, show_timing=False, limit=limit))
        else:
            print(f"No trained model at {args.model}: rules only.")
    ok = rules.category_accuracy >= REQUIRED_RECALL and rules.false_alarm_rate <= MAX_FALSE_ALARM_RATE
    print(
        f"Targets for the rule check: recall with the right category {_percent(REQUIRED_RECALL)},"
        f" false alarms at most {_percent(MAX_FALSE_ALARM_RATE)}: {'met' if ok else 'NOT MET'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
