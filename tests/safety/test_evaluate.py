"""`python -m bot.safety.evaluate`: the figures a reviewer reads, for the rules and with a model."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.safety.evaluate import (
    MAX_FALSE_ALARM_RATE,
    Emergency,
    Ordinary,
    evaluate,
    format_report,
    main,
)
from tests.safety.helpers import train_tiny_model


def test_counting_hits_misses_wrong_categories_and_false_alarms() -> None:
    """The report counts exactly what a stub detector got right and wrong."""
    answers = {"a": "medical", "b": "medical", "c": None, "x": "crisis", "y": None}

    def verdict(text: str) -> str | None:
        """A stub detector answering from the table."""
        return answers[text]

    emergencies = [Emergency("a", "medical"), Emergency("b", "crisis"), Emergency("c", "crisis")]
    ordinary = [Ordinary("x", "booking"), Ordinary("y", "booking")]
    report = evaluate("stub", verdict, emergencies, ordinary)
    assert (report.flagged, report.right_category, report.emergencies) == (2, 1, 3)
    assert report.by_category == {"crisis": (1, 2), "medical": (1, 1)}
    assert report.misses == [Emergency("c", "crisis")]
    assert report.wrong_category == [(Emergency("b", "crisis"), "medical")]
    assert report.false_alarm_rate == 0.5
    text = format_report(report)
    assert "recall: 2/3 = 66.7 %" in text
    assert "MISSED (crisis): c" in text
    assert "WRONG CATEGORY (medical, expected crisis): b" in text
    assert "FALSE ALARM (crisis) [booking]: x" in text


def test_the_rule_check_meets_its_targets(capsys: pytest.CaptureFixture[str]) -> None:
    """The command prints recall and false alarms for the rules and exits 0 when targets are met."""
    assert main(["--no-model"]) == 0
    out = capsys.readouterr().out
    recall = re.search(r"recall: (\d+)/(\d+) = 100\.0 %", out)
    assert recall and int(recall.group(2)) >= 150
    rate = re.search(r"false alarms: (\d+)/(\d+) = ([\d.]+) %", out)
    assert rate and int(rate.group(2)) >= 200
    assert float(rate.group(3)) <= MAX_FALSE_ALARM_RATE * 100
    assert "median" in out and "ms" in out
    assert out.strip().endswith("met")


@pytest.mark.model
def test_with_a_model_it_reports_classifier_and_combined_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given a trained model, the classifier alone and rules-or-classifier are measured too."""
    model = train_tiny_model(tmp_path, 0.3)
    assert main(["--model", model]) == 0
    out = capsys.readouterr().out
    assert "Intent classifier alone" in out
    combined = out.split("Rules or classifier")[1]
    assert re.search(r"recall: (\d+)/\1 = 100\.0 %", combined)


def test_without_a_model_it_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing model is reported, not an error: the rule figures still print."""
    assert main(["--model", str(tmp_path / "none.tar.gz")]) == 0
    assert "No trained model" in capsys.readouterr().out
