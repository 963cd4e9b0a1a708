"""The figures: intent scores on the held-out split, answers on the safety sets, floors and targets.

Everything here works on parses already made (``model.Parsed``), so the
command line, the threshold sweep and the CI floors test share one set of
definitions and one model load.
"""

from __future__ import annotations

import functools
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from bot.nlu_eval.datasets import (
    EMERGENCY_SETS,
    HELDOUT_DIR,
    ORDINARY_SETS,
    VALIDATION_DIR,
    DataError,
    Example,
    Floors,
    Targets,
    load_labelled,
    load_message_set,
    normalise,
    overlap,
    training_texts,
)
from bot.nlu_eval.model import NluModel, Parsed
from bot.nlu_eval.outcomes import (
    FALLBACK_INTENT,
    OUT_OF_SCOPE_INTENT,
    Answer,
    intent_at_threshold,
    red_flag_category,
    scored_intent,
)

TOP_CONFUSIONS = 10


@dataclass(frozen=True)
class IntentScore:
    """Precision, recall and F1 of one intent; support is its number of gold examples."""

    intent: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Confusion:
    """Gold intent taken for another one, how often, and the examples (ids)."""

    gold: str
    predicted: str
    count: int
    example_ids: tuple[str, ...]


@dataclass(frozen=True)
class IntentReport:
    """How well the final intents match the gold ones on a labelled split."""

    total: int
    correct: int
    macro_f1: float
    scores: tuple[IntentScore, ...]
    confusions: tuple[Confusion, ...]  # most frequent first
    labels: tuple[str, ...]  # rows: gold labels first, then labels only ever predicted
    matrix: tuple[tuple[int, ...], ...]  # matrix[gold][predicted], in `labels` order
    fallback_as_out_of_scope: int  # gold out_of_scope answered nlu_fallback, counted right

    @property
    def accuracy(self) -> float:
        """Share of examples whose (scored) intent is the gold one."""
        return self.correct / self.total if self.total else 0.0

    def recall(self, intent: str) -> float | None:
        """Recall of one gold intent, None when the split has none of it."""
        for score in self.scores:
            if score.intent == intent:
                return score.recall
        return None


def score_intents(parsed: Sequence[Parsed], predict: Callable[[Parsed], str] | None = None) -> IntentReport:
    """Scores labelled parses; ``predict`` picks the prediction (default: the pipeline's final intent)."""
    predict = predict or (lambda item: item.intent)
    golds = [str(item.example.intent) for item in parsed]
    predictions = [scored_intent(gold, predict(item)) for gold, item in zip(golds, parsed, strict=False)]
    fallback_as_oos = sum(
        1
        for gold, item in zip(golds, parsed, strict=False)
        if gold == OUT_OF_SCOPE_INTENT and predict(item) == FALLBACK_INTENT
    )
    gold_labels = sorted(set(golds))
    labels = gold_labels + sorted(set(predictions) - set(gold_labels))
    index = {label: n for n, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    pairs: dict[tuple[str, str], list[str]] = defaultdict(list)
    for gold, predicted, item in zip(golds, predictions, parsed, strict=False):
        matrix[index[gold]][index[predicted]] += 1
        if gold != predicted:
            pairs[(gold, predicted)].append(item.example.id)
    predicted_counts = Counter(predictions)
    scores = []
    for label in gold_labels:
        hits = matrix[index[label]][index[label]]
        support = sum(matrix[index[label]])
        precision = hits / predicted_counts[label] if predicted_counts[label] else 0.0
        recall = hits / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores.append(IntentScore(label, precision, recall, f1, support))
    confusions = sorted(
        (Confusion(gold, predicted, len(ids), tuple(ids)) for (gold, predicted), ids in pairs.items()),
        key=lambda c: (-c.count, c.gold, c.predicted),
    )
    return IntentReport(
        total=len(parsed),
        correct=sum(1 for gold, predicted in zip(golds, predictions, strict=False) if gold == predicted),
        macro_f1=statistics.fmean(s.f1 for s in scores) if scores else 0.0,
        scores=tuple(scores),
        confusions=tuple(confusions),
        labels=tuple(labels),
        matrix=tuple(tuple(row) for row in matrix),
        fallback_as_out_of_scope=fallback_as_oos,
    )


@dataclass(frozen=True)
class SetReport:
    """The answers a set of messages gets (ids by answer kind, never texts)."""

    name: str
    ids_by_answer: dict[Answer, tuple[str, ...]]
    wrong_category: tuple[str, ...] = ()  # emergency sets by category: crisis taken as medical or back

    @property
    def total(self) -> int:
        """Number of messages in the set."""
        return sum(len(ids) for ids in self.ids_by_answer.values())

    def count(self, test: Callable[[Answer], bool]) -> int:
        """Messages whose answer passes ``test``."""
        return sum(len(ids) for answer, ids in self.ids_by_answer.items() if test(answer))

    def rate(self, test: Callable[[Answer], bool]) -> float:
        """Share of messages whose answer passes ``test``."""
        return self.count(test) / self.total if self.total else 0.0

    def ids(self, test: Callable[[Answer], bool]) -> list[str]:
        """Ids of the messages whose answer passes ``test``, in file order."""
        found = [i for answer, ids in self.ids_by_answer.items() if test(answer) for i in ids]
        return sorted(found, key=id_order)


def id_order(id_: str) -> tuple[str, int]:
    """Sort key of an example id: its file (and group), then its number."""
    where, _, number = id_.rpartition("#")
    return where, int(number) if number.isdigit() else 0


def is_alarm(answer: Answer) -> bool:
    """911 or 988 said outright: the red-flag rules fired."""
    return answer.is_alarm


def is_check(answer: Answer) -> bool:
    """Only the classifier said emergency: the check question."""
    return answer is Answer.EMERGENCY_CHECK


def is_care_offer(answer: Answer) -> bool:
    """An offer to book, or the care-team answer."""
    return answer.is_care_offer


def is_missed(answer: Answer) -> bool:
    """Neither the rules nor the classifier saw an emergency."""
    return not answer.is_alarm and answer is not Answer.EMERGENCY_CHECK


def report_set(name: str, parsed: Sequence[Parsed]) -> SetReport:
    """Groups a message set's ids by the answer each message gets."""
    by_answer: dict[Answer, list[str]] = defaultdict(list)
    wrong = []
    for item in parsed:
        by_answer[item.answer].append(item.example.id)
        category = red_flag_category(item.parse)
        if item.example.group in ("medical", "crisis") and category and category != item.example.group:
            wrong.append(item.example.id)
    return SetReport(name, {a: tuple(ids) for a, ids in by_answer.items()}, tuple(wrong))


@dataclass(frozen=True)
class Timing:
    """Parse time per distinct message through the whole NLU pipeline (wall clock, and CPU of this process)."""

    count: int
    mean_ms: float
    p95_ms: float
    cpu_mean_ms: float


def timing_of(timings: Sequence[tuple[float, float]]) -> Timing:
    """Mean and 95th percentile of (wall, CPU) parse times in milliseconds."""
    if not timings:
        return Timing(0, 0.0, 0.0, 0.0)
    wall = sorted(w for w, _ in timings)
    return Timing(
        len(wall),
        statistics.fmean(wall),
        wall[min(len(wall) - 1, int(0.95 * len(wall)))],
        statistics.fmean(c for _, c in timings),
    )


@dataclass
class EvalData:
    """Every evaluation set, loaded; a set that is missing or malformed is named in ``problems``."""

    heldout: list[Example] = field(default_factory=list)
    validation: list[Example] = field(default_factory=list)
    emergency: dict[str, list[Example]] = field(default_factory=dict)
    ordinary: dict[str, list[Example]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def load_eval_data(with_safety_sets: bool = True) -> EvalData:
    """Loads every set it can and notes the others (the safety sets only when asked)."""
    data = EvalData()

    def attempt(load: Callable[[], list[Example]]) -> list[Example] | None:
        try:
            return load()
        except DataError as error:
            data.problems.append(str(error))
            return None

    data.heldout = attempt(lambda: load_labelled(HELDOUT_DIR)) or []
    data.validation = attempt(lambda: load_labelled(VALIDATION_DIR)) or []
    if not with_safety_sets:
        return data
    for target, sets in ((data.emergency, EMERGENCY_SETS), (data.ordinary, ORDINARY_SETS)):
        for name, path in sets.items():
            examples = attempt(functools.partial(load_message_set, path))
            if examples is not None:
                target[name] = examples
    return data


def leaks(data: EvalData) -> dict[str, list[str]]:
    """Ids of held-out and validation examples that are also training examples (or in both splits)."""
    trained = training_texts()
    heldout_texts = {normalise(e.text) for e in data.heldout}
    return {
        "heldout in training data": overlap(data.heldout, trained),
        "validation in training data": overlap(data.validation, trained),
        "validation in held-out split": overlap(data.validation, heldout_texts),
    }


def unseen(examples: Sequence[Example], *left_out: Iterable[str]) -> list[Example]:
    """The examples whose ids are in none of ``left_out``: what a split scores on."""
    dropped = {id_ for ids in left_out for id_ in ids}
    return [example for example in examples if example.id not in dropped]


@dataclass(frozen=True)
class Evaluation:
    """Everything ``python -m bot.nlu_eval`` reports, for one model and the data as it stands."""

    model: str
    fallback_threshold: float
    ambiguity_threshold: float
    heldout: IntentReport | None
    heldout_parsed: tuple[Parsed, ...]
    emergency: dict[str, SetReport]
    ordinary: dict[str, SetReport]
    timing: Timing
    leaks: dict[str, list[str]]  # held-out examples listed here are left out of the scores
    problems: tuple[str, ...]


def evaluate(model: NluModel, data: EvalData) -> Evaluation:
    """Parses every set through the model's whole NLU pipeline and computes every figure."""
    found_leaks = leaks(data)
    heldout_parsed = model.parse_all(unseen(data.heldout, found_leaks["heldout in training data"]))
    threshold, ambiguity = model.fallback_thresholds()
    return Evaluation(
        model=model.path.name,
        fallback_threshold=threshold,
        ambiguity_threshold=ambiguity,
        heldout=score_intents(heldout_parsed) if heldout_parsed else None,
        heldout_parsed=tuple(heldout_parsed),
        emergency={name: report_set(name, model.parse_all(ex)) for name, ex in data.emergency.items()},
        ordinary={name: report_set(name, model.parse_all(ex)) for name, ex in data.ordinary.items()},
        timing=timing_of(model.timings_ms()),
        leaks=found_leaks,
        problems=tuple(data.problems),
    )


@dataclass(frozen=True)
class Check:
    """One floor or target: the measured figure against its limit (None: could not be measured)."""

    kind: str  # what is measured: "intent accuracy", "intent recall", "red-flag recall", "false alarms", ...
    name: str
    measured: float | None
    limit: float
    at_least: bool  # True: measured >= limit; False: measured <= limit
    unit: str = ""

    @property
    def ok(self) -> bool:
        """Met; a figure that could not be measured is not met."""
        if self.measured is None:
            return False
        return self.measured >= self.limit if self.at_least else self.measured <= self.limit


def check_floors(evaluation: Evaluation, floors: Floors) -> list[Check]:
    """Every floor of tests/nlu/floors.yml against the evaluation."""
    heldout = evaluation.heldout
    checks = [
        Check(
            "intent accuracy",
            "intent accuracy (held-out split)",
            heldout.accuracy if heldout else None,
            floors.intent_accuracy,
            True,
        ),
    ]
    for intent, floor in floors.intent_recall.items():
        checks.append(
            Check(
                "intent recall",
                f"{intent} recall (held-out split)",
                heldout.recall(intent) if heldout else None,
                floor,
                True,
            )
        )
    for name, floor in floors.red_flag_recall.items():
        found = evaluation.emergency.get(name)
        checks.append(
            Check(
                "red-flag recall",
                f"red-flag recall by the rules ({name})",
                found.rate(is_alarm) if found else None,
                floor,
                True,
            )
        )
    for name, ceiling in floors.max_false_alarm_rate.items():
        found = evaluation.ordinary.get(name)
        checks.append(
            Check(
                "false alarms",
                f"false alarms, 911 answer ({name})",
                found.rate(is_alarm) if found else None,
                ceiling,
                False,
            )
        )
    return checks


def check_targets(evaluation: Evaluation, targets: Targets, training_seconds: float | None) -> list[Check]:
    """The issue's targets against the evaluation (training time only when measured)."""
    heldout = evaluation.heldout
    symptoms = evaluation.ordinary.get("ordinary_symptoms")
    checks = [
        Check(
            "false alarms",
            "ordinary symptoms get the 911 answer",
            symptoms.rate(is_alarm) if symptoms else None,
            targets.symptoms_911_rate_max,
            False,
        ),
        Check(
            "care offers",
            "ordinary symptoms get an offer to book or the care team",
            symptoms.rate(is_care_offer) if symptoms else None,
            targets.symptoms_offer_rate_min,
            True,
        ),
        Check(
            "intent accuracy",
            "intent accuracy (held-out split)",
            heldout.accuracy if heldout else None,
            targets.intent_accuracy,
            True,
        ),
    ]
    for intent, target in targets.intent_recall.items():
        checks.append(
            Check(
                "intent recall",
                f"{intent} recall (held-out split)",
                heldout.recall(intent) if heldout else None,
                target,
                True,
            )
        )
    checks.append(
        Check(
            "speed",
            "NLU parse time per message (mean)",
            evaluation.timing.mean_ms or None,
            targets.parse_ms_mean_max,
            False,
            " ms",
        )
    )
    checks.append(
        Check(
            "speed",
            "training time (cold, python -m bot train --force)",
            training_seconds,
            targets.training_seconds_max,
            False,
            " s",
        )
    )
    return checks


def failure_summary(evaluation: Evaluation, checks: Sequence[Check], confusions: int = 8) -> str:
    """The figures behind failed checks and the worst confusions, by id only (safe for CI logs)."""
    lines = []
    for check in checks:
        measured = "not measured" if check.measured is None else f"{check.measured:.3f}"
        relation = ">=" if check.at_least else "<="
        lines.append(f"{'ok  ' if check.ok else 'FAIL'} {check.name}: {measured} (floor {relation} {check.limit:g})")
    lines += [f"data missing: {problem}" for problem in evaluation.problems]
    if evaluation.heldout:
        lines.append("worst confusions on the held-out split (gold -> predicted: count, first ids):")
        for pair in evaluation.heldout.confusions[:confusions]:
            lines.append(f"  {pair.gold} -> {pair.predicted}: {pair.count}  {', '.join(pair.example_ids[:3])}")
    for found in (*evaluation.emergency.values(), *evaluation.ordinary.values()):
        emergency = found.name in EMERGENCY_SETS
        wrong = found.ids((lambda answer: not answer.is_alarm) if emergency else is_alarm)
        if wrong:
            what = "not caught by the rules" if emergency else "false alarms"
            lines.append(f"{found.name}, {what}: {', '.join(wrong[:10])}" + (" ..." if len(wrong) > 10 else ""))
    lines.append("Details with texts: .venv/bin/python -m bot.nlu_eval")
    return "\n".join(lines)


@dataclass(frozen=True)
class SweepRow:
    """Validation figures at one fallback threshold."""

    threshold: float
    accuracy: float
    macro_f1: float
    fallback_rate: float  # in-scope messages answered with the re-ask
    wrong_rate: float  # messages answered as another (wrong) intent


def sweep(parsed: Sequence[Parsed], thresholds: Iterable[float], ambiguity: float) -> list[SweepRow]:
    """Accuracy on a labelled split at each threshold, applied post hoc to the classifier's ranking."""
    rows = []
    for threshold in thresholds:

        def predict(item: Parsed, threshold: float = threshold) -> str:
            return intent_at_threshold(item.parse, threshold, ambiguity)

        report = score_intents(parsed, predict)
        fallbacks = sum(
            1 for item in parsed if predict(item) == FALLBACK_INTENT and item.example.intent != OUT_OF_SCOPE_INTENT
        )
        wrong = report.total - report.correct - fallbacks
        rows.append(
            SweepRow(threshold, report.accuracy, report.macro_f1, fallbacks / report.total, wrong / report.total)
        )
    return rows


def recommend(rows: Sequence[SweepRow]) -> SweepRow:
    """The most accurate threshold; among equals, the one with fewer wrong answers, then the lowest."""
    return max(rows, key=lambda row: (round(row.accuracy, 6), -round(row.wrong_rate, 6), -row.threshold))


def as_good_as(rows: Sequence[SweepRow], best: SweepRow, tolerance: float = 0.005) -> list[SweepRow]:
    """The thresholds whose accuracy is within ``tolerance`` of the best (a flat curve means little to choose)."""
    return [row for row in rows if row.accuracy >= best.accuracy - tolerance]


def reproduces_pipeline(parsed: Sequence[Parsed], threshold: float, ambiguity: float) -> list[str]:
    """Ids where the post-hoc threshold at the model's own value disagrees with the pipeline (should be none)."""
    return [item.example.id for item in parsed if intent_at_threshold(item.parse, threshold, ambiguity) != item.intent]
