"""Command line: ``python -m bot.nlu_eval [report | threshold | targets]``.

- ``report`` (the default, ``make eval``): every figure on the held-out split
  and the safety sets, the floors of tests/nlu/floors.yml; exit status 1 when
  a floor is not met. Writes var/eval/confusion_matrix.png and report.json.
- ``threshold``: sweeps FallbackClassifier's threshold on the validation split
  only and recommends one (prints the config.yml line; edits nothing).
- ``targets``: the issue's targets, [MET] or [MISSED], with a timed cold training.

Without ``--model`` the project's model is used, trained first when missing or stale.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.nlu_eval.datasets import FLOORS_FILE, VALIDATION_DIR, DataError, load_floors
from bot.nlu_eval.metrics import (
    as_good_as,
    check_floors,
    check_targets,
    evaluate,
    leaks,
    load_eval_data,
    recommend,
    reproduces_pipeline,
    sweep,
    unseen,
)
from bot.nlu_eval.model import NluModel, ensure_model, time_training
from bot.nlu_eval.report import (
    format_checks,
    format_evaluation,
    format_sweep,
    report_json,
    write_confusion_matrix,
    write_json,
)
from bot.settings import PROJECT_ROOT, get_settings

FLOOR_LABELS = ("OK", "BELOW FLOOR")
TARGET_LABELS = ("MET", "MISSED")


def _relative(path: Path) -> str:
    """A path as the user sees it from the project root."""
    try:
        return str(path.relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def run_report(
    model: NluModel, show_text: bool, limit: int, training_seconds: float | None, targets_only: bool = False
) -> int:
    """Evaluates, prints, writes the picture and JSON; 1 when a floor is not met."""
    floors_file = load_floors()
    data = load_eval_data()
    evaluation = evaluate(model, data)
    # Ids are per file ("start_intake.yml#11") and both splits have that file: the
    # held-out text must win, since the report's misses are held-out ones.
    texts = {
        example.id: example.text
        for example in [
            *data.validation,
            *data.heldout,
            *(e for s in (*data.emergency.values(), *data.ordinary.values()) for e in s),
        ]
    }
    floors = check_floors(evaluation, floors_file.floors)
    targets = check_targets(evaluation, floors_file.targets, training_seconds)
    if not targets_only:
        print("\n".join(format_evaluation(evaluation, texts if show_text else None, limit)))
        print()
        print(
            "\n".join(
                format_checks(f"Floors ({_relative(FLOORS_FILE)}; CI fails below them):", floors, FLOOR_LABELS, "floor")
            )
        )
        print()
    print("\n".join(format_checks("Targets (the issue's goals; printed, not tested):", targets, TARGET_LABELS)))
    if training_seconds is None:
        print("  (training time: python -m bot.nlu_eval targets times a cold training)")
    out_dir = get_settings().var_dir / "eval"
    written = [out_dir / "report.json"]
    write_json(written[0], report_json(evaluation, floors, targets))
    if evaluation.heldout:
        written.append(out_dir / "confusion_matrix.png")
        write_confusion_matrix(evaluation.heldout, written[1])
    print("\nWritten: " + ", ".join(_relative(path) for path in written))
    if evaluation.problems:
        print("Some evaluation data is missing (above): the figures are partial.")
    return 0 if all(check.ok for check in floors) else 1


def run_threshold(model: NluModel, low: float, high: float, step: float) -> int:
    """Sweeps the fallback threshold on the validation split and recommends one."""
    data = load_eval_data(with_safety_sets=False)
    if not data.validation:
        raise DataError("; ".join(data.problems) or "the validation split is empty")
    found = leaks(data)
    kept = unseen(data.validation, found["validation in training data"], found["validation in held-out split"])
    validation = model.parse_all(kept)
    current, ambiguity = model.fallback_thresholds()
    disagree = reproduces_pipeline(validation, current, ambiguity)
    count = int(round((high - low) / step)) + 1
    thresholds = sorted({round(low + n * step, 4) for n in range(count)} | {current})
    rows = sweep(validation, thresholds, ambiguity)
    chosen = recommend(rows)
    print(
        f"Validation split ({_relative(VALIDATION_DIR)}): {len(validation)} messages, leaving out"
        f" {len(data.validation) - len(kept)} also in the training data or the test split (the test split is"
        " only read for that check, never scored)."
        f"\nThe threshold is applied after the fact to the classifier's confidence in each parse's"
        f" intent_ranking (ambiguity threshold kept at {ambiguity:g}); rules and red flags as in the pipeline."
        f"\nAt the model's own threshold {current:g} this reproduces the pipeline on"
        f" {len(validation) - len(disagree)}/{len(validation)} messages."
        "\nnlu_fallback counts as correct for gold out_of_scope; 're-asks' are in-scope messages sent to"
        " the fallback, 'wrong' are answered as another intent."
    )
    print("\n".join(format_sweep(rows, chosen, current)))
    close = as_good_as(rows, chosen)
    print(f"\nRecommended: {chosen.threshold:g} (highest validation accuracy; ties go to fewer wrong answers).")
    print(
        f"Within half a point of its accuracy: {close[0].threshold:g} to {close[-1].threshold:g}"
        f" ({len(close)} of {len(rows)} values swept)."
    )
    print("In config.yml, under FallbackClassifier:")
    print(f"    threshold: {chosen.threshold:g}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m bot.nlu_eval``."""
    parser = argparse.ArgumentParser(prog="python -m bot.nlu_eval", description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", default="report", choices=["report", "threshold", "targets"])
    parser.add_argument("--model", type=Path, help="a trained model (default: models/clinic.tar.gz, trained if stale)")
    parser.add_argument("--no-text", action="store_true", help="ids only: no message texts in the output")
    parser.add_argument("--all", action="store_true", help="list every miss and false alarm")
    parser.add_argument("--min", type=float, default=0.05, help="threshold sweep: lowest value")
    parser.add_argument("--max", type=float, default=0.9, help="threshold sweep: highest value")
    parser.add_argument("--step", type=float, default=0.05, help="threshold sweep: step")
    parser.add_argument("--skip-training", action="store_true", help="targets: do not time a training")
    args = parser.parse_args(argv)

    try:
        path = ensure_model(args.model)
        training_seconds = None
        if args.command == "targets" and not args.skip_training:
            print("Timing a cold training into a temporary folder (about a minute)...", flush=True)
            training_seconds, cpu_seconds = time_training()
            print(
                f"Trained in {training_seconds:.0f} s ({cpu_seconds:.0f} s of CPU;"
                f" load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores).",
                flush=True,
            )
        model = NluModel(path)
        if args.command == "threshold":
            return run_threshold(model, args.min, args.max, args.step)
        return run_report(
            model, not args.no_text, 10**9 if args.all else 12, training_seconds, targets_only=args.command == "targets"
        )
    except (DataError, FileNotFoundError) as error:
        print(f"Cannot evaluate: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
