"""The held-out and validation phrasings are never trained on: no text of theirs is in data/nlu."""

from __future__ import annotations

from bot.nlu_eval.datasets import load_labelled, normalise, training_texts
from bot.settings import PROJECT_ROOT


def test_no_heldout_or_validation_text_is_training_data() -> None:
    train = training_texts()
    for split in ("heldout", "validation"):
        examples = load_labelled(PROJECT_ROOT / "tests" / "nlu" / split)
        copied = [example.id for example in examples if normalise(example.text) in train]
        assert not copied, (
            f"{len(copied)} {split} phrasings are also in data/nlu (e.g. {copied[:5]}): "
            "take them out of data/nlu, or out of the split if they are everyday words like 'yes'."
        )
