"""The evaluation as text for the terminal, JSON for tools and a confusion-matrix picture for staff.

Message texts appear only in the terminal text (and only when asked for);
the JSON and the picture carry ids and counts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bot.nlu_eval.metrics import (
    Check,
    Evaluation,
    IntentReport,
    SetReport,
    SweepRow,
    is_alarm,
    is_care_offer,
    is_check,
    is_missed,
)
from bot.nlu_eval.outcomes import Answer

FALLBACK_NOTE = 'nlu_fallback counts as correct for gold out_of_scope: both get the "here is what I can do" answer.'


def _share(count: int, total: int) -> str:
    """``count/total = xx.x %``."""
    return f"{count}/{total} = {100 * count / total:.1f} %" if total else "0/0"


def _quote(text: str | None, width: int = 70) -> str:
    """A message text shortened for one terminal line."""
    if text is None:
        return ""
    text = " ".join(text.split())
    return '"' + (text if len(text) <= width else text[: width - 1] + "…") + '"'


def format_intents(report: IntentReport, texts: Mapping[str, str] | None, confusions: int = 10) -> list[str]:
    """Accuracy, macro F1, the per-intent table and the top confusion pairs."""
    lines = [
        f"  intent accuracy {report.accuracy:.3f} ({report.correct}/{report.total}), macro F1 {report.macro_f1:.3f}",
        f"  {FALLBACK_NOTE} ({report.fallback_as_out_of_scope} here)",
        f"  {'intent':<24} {'precision':>9} {'recall':>7} {'F1':>6} {'support':>8}",
    ]
    for score in sorted(report.scores, key=lambda s: s.f1):
        lines.append(
            f"  {score.intent:<24} {score.precision:>9.3f} {score.recall:>7.3f} {score.f1:>6.3f} {score.support:>8}"
        )
    lines.append(f"  Top confusions (gold -> predicted, count, first example; {len(report.confusions)} pairs in all):")
    for pair in report.confusions[:confusions]:
        first = pair.example_ids[0]
        shown = f" {_quote(texts.get(first))}" if texts else ""
        lines.append(f"    {pair.gold} -> {pair.predicted}: {pair.count}  [{first}]{shown}")
    if not report.confusions:
        lines.append("    none")
    return lines


def _listed(title: str, ids: Sequence[str], texts: Mapping[str, str] | None, limit: int) -> list[str]:
    """Some ids (with their texts when given) under a title."""
    if not ids:
        return []
    lines = [f"    {title}:"]
    for id_ in ids[:limit]:
        lines.append(f"      [{id_}] {_quote(texts.get(id_)) if texts else ''}".rstrip())
    if len(ids) > limit:
        lines.append(f"      ... and {len(ids) - limit} more (--all lists them)")
    return lines


def format_ordinary(found: SetReport, texts: Mapping[str, str] | None, limit: int) -> list[str]:
    """What ordinary messages get: alarms, check questions, offers, the rest."""
    lines = [
        f"  {found.name} ({found.total} messages)",
        f"    911 answer (red-flag rules; a false alarm): {_share(found.count(is_alarm), found.total)}",
        f"    emergency check question (classifier only): {_share(found.count(is_check), found.total)}",
        f"    offer to book or care-team answer: {_share(found.count(is_care_offer), found.total)}",
        "    by answer: "
        + ", ".join(
            f"{answer.value} {len(ids)}"
            for answer, ids in sorted(found.ids_by_answer.items(), key=lambda kv: -len(kv[1]))
        ),
    ]
    lines += _listed("false alarms", found.ids(is_alarm), texts, limit)
    lines += _listed("check questions", found.ids(is_check), texts, limit)
    return lines


def format_emergency(found: SetReport, texts: Mapping[str, str] | None, limit: int) -> list[str]:
    """Red-flag recall on an emergency set: by the rules, by the check question, missed."""
    caught = found.count(is_alarm)
    checked = found.count(is_check)
    lines = [
        f"  {found.name} ({found.total} messages)",
        f"    caught by the red-flag rules (911 or crisis answer): {_share(caught, found.total)}",
        f'    caught by the classifier only (check question; a "yes" gets 911): {checked}',
        f"    caught at all, counting the check question: {_share(caught + checked, found.total)}",
        f"    missed: {found.count(is_missed)}",
    ]
    if found.wrong_category:
        lines.append(f"    caught with the wrong category (crisis vs medical): {len(found.wrong_category)}")
    lines += _listed("check question only", found.ids(is_check), texts, limit)
    lines += _listed("missed", found.ids(is_missed), texts, limit)
    lines += _listed("wrong category", list(found.wrong_category), texts, limit)
    return lines


def format_checks(title: str, checks: Sequence[Check], labels: tuple[str, str], word: str = "target") -> list[str]:
    """Floors or targets, each with its verdict, measured figure and limit."""
    good, bad = labels
    lines = [title]
    for check in checks:
        verdict = good if check.ok else bad
        if check.measured is None:
            measured = "not measured"
        elif check.unit:
            measured = f"{check.measured:.1f}{check.unit}"
        else:
            measured = f"{check.measured:.3f}"
        relation = ">=" if check.at_least else "<="
        limit = f"{check.limit:g}{check.unit}"
        lines.append(f"  [{verdict}] {check.name}: {measured} ({word} {relation} {limit})")
    return lines


def format_evaluation(evaluation: Evaluation, texts: Mapping[str, str] | None, limit: int = 12) -> list[str]:
    """The whole report as terminal lines (texts only when ``texts`` is given)."""
    lines = [
        f"Model {evaluation.model}: FallbackClassifier threshold {evaluation.fallback_threshold:g},"
        f" ambiguity {evaluation.ambiguity_threshold:g}; every message parsed through the whole NLU pipeline.",
    ]
    for problem in evaluation.problems:
        lines.append(f"  DATA MISSING: {problem}")
    leak_lines = [f"{name}: {len(ids)}" for name, ids in evaluation.leaks.items()]
    lines.append(
        "Splits kept apart? Same text (case, spacing and end punctuation ignored): "
        + "; ".join(leak_lines)
        + ". Those examples are left out of the scores."
    )
    for name, ids in evaluation.leaks.items():
        lines += _listed(name, ids, texts, min(limit, 5))
    lines.append("")
    if evaluation.heldout:
        left_out = len(evaluation.leaks["heldout in training data"])
        lines.append(
            f"Held-out test split (tests/nlu/heldout/): {evaluation.heldout.total} messages never trained on"
            + (f" ({left_out} more left out: also in data/nlu/)" if left_out else "")
        )
        lines += format_intents(evaluation.heldout, texts)
        lines.append("")
    if "ordinary_symptoms" in evaluation.ordinary:
        lines.append("What a patient gets for an ordinary symptom description:")
        lines += format_ordinary(evaluation.ordinary["ordinary_symptoms"], texts, limit)
        lines.append("")
    lines.append("Red-flag recall on the emergency sets (the whole pipeline):")
    for found in evaluation.emergency.values():
        lines += format_emergency(found, texts, limit)
    lines.append("")
    lines.append("False alarms (the 911 answer) on ordinary messages:")
    for name, found in evaluation.ordinary.items():
        if name != "ordinary_symptoms":
            lines += format_ordinary(found, texts, limit)
        else:
            lines.append(f"  {name}: {_share(found.count(is_alarm), found.total)} (above)")
    lines.append("")
    timing = evaluation.timing
    lines.append(
        f"NLU parse time per message: mean {timing.mean_ms:.2f} ms (CPU {timing.cpu_mean_ms:.2f} ms),"
        f" p95 {timing.p95_ms:.2f} ms"
        f" ({timing.count} distinct messages, one at a time, as the server parses them;"
        f" load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )
    return lines


def format_sweep(rows: Sequence[SweepRow], chosen: SweepRow, current: float) -> list[str]:
    """The threshold sweep as a table, the current value and the recommendation marked."""
    lines = [f"  {'threshold':>9} {'accuracy':>9} {'macro F1':>9} {'re-asks':>8} {'wrong':>7}"]
    for row in rows:
        marks = (" <- recommended" if row is chosen else "") + (
            " (config.yml now)" if abs(row.threshold - current) < 1e-9 else ""
        )
        lines.append(
            f"  {row.threshold:>9.2f} {row.accuracy:>9.3f} {row.macro_f1:>9.3f}"
            f" {100 * row.fallback_rate:>7.1f}% {100 * row.wrong_rate:>6.1f}%{marks}"
        )
    return lines


def _jsonable(value: Any) -> Any:
    """Dataclasses, enums and tuples as plain JSON values."""
    if isinstance(value, Answer):
        return value.name.lower()
    if isinstance(value, dict):
        return {str(_jsonable(k)): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def report_json(evaluation: Evaluation, floors: Sequence[Check], targets: Sequence[Check]) -> dict[str, Any]:
    """The figures as JSON: counts, rates and example ids, never message texts."""

    def set_json(found: SetReport) -> dict[str, Any]:
        rates: dict[str, Callable[[Answer], bool]] = {
            "alarm_911": is_alarm,
            "check_question": is_check,
            "care_offer": is_care_offer,
            "missed_emergency": is_missed,
        }
        return {
            "total": found.total,
            **{f"{name}_rate": found.rate(test) for name, test in rates.items()},
            "ids_by_answer": _jsonable(found.ids_by_answer),
            "wrong_category": list(found.wrong_category),
        }

    heldout = evaluation.heldout
    return {
        "model": evaluation.model,
        "fallback_threshold": evaluation.fallback_threshold,
        "ambiguity_threshold": evaluation.ambiguity_threshold,
        "note": FALLBACK_NOTE,
        "problems": list(evaluation.problems),
        "leaks": evaluation.leaks,
        "heldout": None
        if heldout is None
        else {
            "total": heldout.total,
            "accuracy": heldout.accuracy,
            "macro_f1": heldout.macro_f1,
            "per_intent": [asdict(score) for score in heldout.scores],
            "confusions": [asdict(pair) for pair in heldout.confusions],
            "labels": list(heldout.labels),
            "matrix": [list(row) for row in heldout.matrix],
        },
        "emergency_sets": {name: set_json(found) for name, found in evaluation.emergency.items()},
        "ordinary_sets": {name: set_json(found) for name, found in evaluation.ordinary.items()},
        "parse_ms": asdict(evaluation.timing),
        "floors": [{**asdict(check), "ok": check.ok} for check in floors],
        "targets": [{**asdict(check), "ok": check.ok} for check in targets],
    }


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Writes the JSON report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n", encoding="utf-8")


def write_confusion_matrix(report: IntentReport, path: Path) -> None:
    """A confusion-matrix picture: rows gold, columns predicted, colour by share of the row, counts written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(report.labels)
    size = len(labels)
    rows = len({score.intent for score in report.scores})
    shares = [[count / max(1, sum(row)) for count in row] for row in report.matrix]
    figure, axes = plt.subplots(figsize=(max(8.0, 0.55 * size + 4), max(6.0, 0.5 * rows + 3)))
    image = axes.imshow(shares[:rows], cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
    for r, row in enumerate(report.matrix[:rows]):
        for c, count in enumerate(row):
            if count:
                colour = "white" if shares[r][c] > 0.5 else ("black" if r == c else "firebrick")
                axes.text(c, r, str(count), ha="center", va="center", fontsize=9, color=colour)
    axes.set_xticks(range(size))
    axes.set_xticklabels(labels, rotation=60, ha="right", fontsize=9)
    axes.set_yticks(range(rows))
    axes.set_yticklabels([f"{label} ({sum(report.matrix[n])})" for n, label in enumerate(labels[:rows])], fontsize=9)
    axes.set_xlabel("what the assistant understood (predicted)")
    axes.set_ylabel("what the patient meant (gold, with number of examples)")
    axes.set_title(
        f"Held-out test split: accuracy {report.accuracy:.3f}, macro F1 {report.macro_f1:.3f}\n"
        "nlu_fallback for out_of_scope counted as out_of_scope (same answer); red numbers are mistakes",
        fontsize=10,
    )
    figure.colorbar(image, ax=axes, fraction=0.03, label="share of the row")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
