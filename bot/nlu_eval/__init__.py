"""How well the assistant understands patients, measured on data it was never trained on.

``python -m bot.nlu_eval`` (what ``make eval`` runs) parses every message of
the held-out split (``tests/nlu/heldout/``) and of the safety sets through the
trained model's whole NLU pipeline (classifier, fallback, medical-advice and
red-flag rules) and prints intent scores, confusions, what patients with
ordinary symptoms get, red-flag recall, false alarms and parse time; it writes
``var/eval/confusion_matrix.png`` and ``var/eval/report.json``.
``python -m bot.nlu_eval threshold`` chooses the fallback threshold on the
validation split (``tests/nlu/validation/``) only; ``... targets`` prints the
issue's targets, timing a cold training too. The floors CI holds the model to
live in ``tests/nlu/floors.yml`` (checked by ``tests/nlu/test_quality_floors.py``).
"""
