"""The evaluation's definitions on hand-made parses: answers, scoring, the post-hoc threshold.

These parses have the shape `Agent.parse_message` returns for our pipeline
(see bot/nlu/red_flag_detector.py and medical_advice_detector.py), so the
floors test and `make eval` rest on definitions pinned here.
"""

from __future__ import annotations

from typing import Any

from bot.nlu_eval.datasets import Example
from bot.nlu_eval.metrics import recommend, report_set, score_intents, sweep
from bot.nlu_eval.model import Parsed
from bot.nlu_eval.outcomes import Answer, answer_for, intent_at_threshold


def parse(intent: str, ranking: list[tuple[str, float]], **extra: Any) -> dict[str, Any]:
    """A parse with that final intent and ranking (plus entities or rule details)."""
    return {
        "intent": {"name": intent, "confidence": ranking[0][1] if ranking else 1.0},
        "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
        "entities": extra.pop("entities", []),
        **extra,
    }


RED_FLAG = {"entity": "red_flag", "value": "medical", "extractor": "RedFlagDetector"}
CRISIS = {"entity": "red_flag", "value": "crisis", "extractor": "RedFlagDetector"}
ADVICE = {"entity": "medical_advice", "value": "advice", "extractor": "MedicalAdviceDetector"}


def item(id_: str, gold: str | None, parsed: dict[str, Any], group: str | None = None) -> Parsed:
    """A parsed example."""
    return Parsed(Example(id_, f"text {id_}", gold, group), parsed, 1.0)


def test_the_answer_follows_the_rules_and_the_entity() -> None:
    """911 and crisis only with the red-flag entity; the classifier alone gets the check question."""
    assert (
        answer_for(parse("report_emergency", [("report_emergency", 1.0)], entities=[RED_FLAG])) is Answer.EMERGENCY_911
    )
    assert answer_for(parse("report_emergency", [("report_emergency", 1.0)], entities=[CRISIS])) is Answer.CRISIS
    assert answer_for(parse("report_emergency", [("report_emergency", 0.8)])) is Answer.EMERGENCY_CHECK
    assert answer_for(parse("ask_medical_advice", [("ask_medical_advice", 1.0)], entities=[ADVICE])) is Answer.CARE_TEAM
    assert answer_for(parse("describe_symptoms", [("describe_symptoms", 0.9)])) is Answer.OFFER_TO_BOOK
    assert answer_for(parse("book_appointment", [("book_appointment", 0.9)])) is Answer.OFFER_TO_BOOK
    assert answer_for(parse("nlu_fallback", [("nlu_fallback", 0.3), ("greet", 0.2)])) is Answer.WHAT_I_CAN_DO
    assert answer_for(parse("ask_billing", [("ask_billing", 0.9)])) is Answer.OTHER


def test_scores_count_the_fallback_as_right_for_out_of_scope_only() -> None:
    """nlu_fallback for gold out_of_scope is right; for gold greet it is a confusion."""
    report = score_intents(
        [
            item("a#1", "out_of_scope", parse("nlu_fallback", [("nlu_fallback", 0.3), ("greet", 0.25)])),
            item("a#2", "out_of_scope", parse("out_of_scope", [("out_of_scope", 0.9)])),
            item("b#1", "greet", parse("greet", [("greet", 0.9)])),
            item("b#2", "greet", parse("nlu_fallback", [("nlu_fallback", 0.3), ("greet", 0.2)])),
            item("b#3", "greet", parse("nlu_fallback", [("nlu_fallback", 0.3), ("thank", 0.2)])),
        ]
    )
    assert (report.total, report.correct, report.fallback_as_out_of_scope) == (5, 3, 1)
    assert report.recall("out_of_scope") == 1.0
    assert report.recall("greet") == 1 / 3
    assert [(c.gold, c.predicted, c.count, c.example_ids) for c in report.confusions] == [
        ("greet", "nlu_fallback", 2, ("b#2", "b#3"))
    ]
    assert report.labels == ("greet", "out_of_scope", "nlu_fallback")
    assert report.matrix == ((1, 0, 2), (0, 2, 0), (0, 0, 0))


def test_the_threshold_applied_after_the_fact_matches_the_fallback_classifier() -> None:
    """Below the threshold or too close to the runner-up: nlu_fallback; the rules win at any threshold."""
    confident = parse("greet", [("greet", 0.6), ("thank", 0.3)])
    assert intent_at_threshold(confident, 0.5, 0.05) == "greet"
    assert intent_at_threshold(confident, 0.7, 0.05) == "nlu_fallback"
    ambiguous = parse("greet", [("greet", 0.42), ("thank", 0.40)])
    assert intent_at_threshold(ambiguous, 0.3, 0.05) == "nlu_fallback"
    fallen = parse("nlu_fallback", [("nlu_fallback", 0.3), ("greet", 0.25), ("thank", 0.1)])
    assert intent_at_threshold(fallen, 0.2, 0.05) == "greet"
    flagged = parse("report_emergency", [("report_emergency", 1.0), ("greet", 0.1)], entities=[RED_FLAG])
    assert intent_at_threshold(flagged, 0.99, 0.05) == "report_emergency"
    advice = parse(
        "ask_medical_advice",
        [("ask_medical_advice", 1.0), ("inform", 0.9)],
        entities=[ADVICE],
        medical_advice={"kind": "advice"},
    )
    assert intent_at_threshold(advice, 0.1, 0.05) == "ask_medical_advice"
    deferred = parse("ask_next_steps", [("ask_next_steps", 0.7), ("inform", 0.2)], medical_advice={"kind": "advice"})
    assert intent_at_threshold(deferred, 0.5, 0.05) == "ask_next_steps"
    assert intent_at_threshold(deferred, 0.8, 0.05) == "ask_medical_advice"


def test_sweep_recommends_the_most_accurate_threshold() -> None:
    """Accuracy per threshold on labelled parses; the best one is recommended."""
    parsed = [
        item("g#1", "greet", parse("greet", [("greet", 0.5), ("thank", 0.2)])),
        item("o#1", "out_of_scope", parse("thank", [("thank", 0.35), ("greet", 0.2)])),
        item("t#1", "thank", parse("thank", [("thank", 0.9), ("greet", 0.05)])),
    ]
    rows = sweep(parsed, [0.3, 0.4, 0.6], 0.05)
    assert [round(row.accuracy, 3) for row in rows] == [0.667, 1.0, 0.667]
    assert recommend(rows).threshold == 0.4


def test_set_report_counts_alarms_checks_and_wrong_categories() -> None:
    """An emergency set: caught by the rules, by the classifier only, missed, wrong category."""
    found = report_set(
        "emergency_phrasings",
        [
            item(
                "e:medical#1",
                None,
                parse("report_emergency", [("report_emergency", 1.0)], entities=[RED_FLAG]),
                "medical",
            ),
            item(
                "e:crisis#1",
                None,
                parse("report_emergency", [("report_emergency", 1.0)], entities=[RED_FLAG]),
                "crisis",
            ),
            item("e:medical#2", None, parse("report_emergency", [("report_emergency", 0.7)]), "medical"),
            item("e:medical#3", None, parse("inform", [("inform", 0.7)]), "medical"),
        ],
    )
    assert found.total == 4
    assert found.ids(lambda a: a.is_alarm) == ["e:crisis#1", "e:medical#1"]
    assert found.ids(lambda a: a is Answer.EMERGENCY_CHECK) == ["e:medical#2"]
    assert found.wrong_category == ("e:crisis#1",)
