"""A tiny Rasa NLU project with the red-flag component, trained in a temp folder."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

NLU_DATA = """
version: "3.1"
nlu:
  - intent: book_appointment
    examples: |
      - I want to book an appointment
      - can I schedule a visit
      - book me in please
      - I need an appointment with the doctor
      - schedule an appointment for next week
  - intent: greet
    examples: |
      - hello
      - hi there
      - good morning
      - hey
      - hi
  - intent: report_emergency
    examples: |
      - this is an emergency
      - emergency
      - call an ambulance
"""


def train_tiny_model(root: Path, fallback_threshold: float) -> str:
    """Trains a tiny NLU model with the component after FallbackClassifier."""
    import rasa.model_training

    config = root / "config.yml"
    config.write_text(
        textwrap.dedent(
            f"""
            recipe: default.v1
            language: en
            assistant_id: red-flag-test
            pipeline:
              - name: WhitespaceTokenizer
              - name: CountVectorsFeaturizer
              - name: LogisticRegressionClassifier
                random_state: 42
              - name: FallbackClassifier
                threshold: {fallback_threshold}
              - name: bot.nlu.red_flag_detector.RedFlagDetector
            """
        )
    )
    nlu = root / "nlu.yml"
    nlu.write_text(textwrap.dedent(NLU_DATA))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RASA_CACHE_DIRECTORY", str(root / "cache"))
        model = rasa.model_training.train_nlu(str(config), str(nlu), str(root / "models"))
    assert model, "training failed"
    return model
