"""The trained model, parsing messages through the whole NLU pipeline with timing."""

from __future__ import annotations

import asyncio
import logging
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.nlu_eval.datasets import Example
from bot.nlu_eval.outcomes import Answer, answer_for, intent_of

WARM_UP_PARSES = 20


@dataclass(frozen=True)
class Parsed:
    """One example with what the pipeline made of it and how long that took."""

    example: Example
    parse: dict[str, Any]
    millis: float

    @property
    def intent(self) -> str:
        """The final intent, after the fallback classifier and the rules."""
        return intent_of(self.parse)

    @property
    def answer(self) -> Answer:
        """The kind of answer the patient gets."""
        return answer_for(self.parse)


def ensure_model(path: Path | None = None) -> Path:
    """The model to evaluate: ``path`` as given, or models/clinic.tar.gz trained if missing or stale."""
    if path is not None:
        if not path.is_file():
            raise FileNotFoundError(f"no trained model at {path}")
        return path
    from bot.cli import model_path, train_if_needed

    train_if_needed()
    return model_path()


def _quiet_rasa() -> None:
    """Rasa's parse logging prints every message text at debug level: keep it to warnings."""
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    logging.getLogger("rasa").setLevel(logging.WARNING)


class NluModel:
    """A trained model loaded once; parses like the Rasa server does (``Agent.parse_message``)."""

    def __init__(self, path: Path) -> None:
        """Loads the model (about ten seconds) and warms it up."""
        from rasa.core.agent import Agent

        _quiet_rasa()
        self.path = path
        self._loop = asyncio.new_event_loop()
        self._agent = Agent.load(str(path))
        self._cache: dict[str, tuple[dict[str, Any], float, float]] = {}
        for _ in range(WARM_UP_PARSES):
            self._parse_now("warm up the pipeline")

    def _parse_now(self, text: str) -> tuple[dict[str, Any], float, float]:
        """One parse through the whole NLU pipeline, with its wall-clock and CPU milliseconds."""
        started, started_cpu = time.perf_counter(), time.process_time()
        parse = self._loop.run_until_complete(self._agent.parse_message(text))
        return parse, (time.perf_counter() - started) * 1000, (time.process_time() - started_cpu) * 1000

    def parse(self, example: Example) -> Parsed:
        """The parse of one example; a text met before is not parsed (or timed) again."""
        if example.text not in self._cache:
            self._cache[example.text] = self._parse_now(example.text)
        parse, millis, _ = self._cache[example.text]
        return Parsed(example, parse, millis)

    def parse_all(self, examples: Iterable[Example]) -> list[Parsed]:
        """The parses of many examples, in order."""
        return [self.parse(example) for example in examples]

    def timings_ms(self) -> list[tuple[float, float]]:
        """Wall-clock and CPU parse time of every distinct message parsed so far."""
        return [(millis, cpu) for _, millis, cpu in self._cache.values()]

    def fallback_thresholds(self) -> tuple[float, float]:
        """FallbackClassifier's ``threshold`` and ``ambiguity_threshold`` in this model."""
        from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier

        for node in self._agent.processor.model_metadata.predict_schema.nodes.values():
            if node.uses is FallbackClassifier:
                config = {**FallbackClassifier.get_default_config(), **node.config}
                return float(config["threshold"]), float(config["ambiguity_threshold"])
        raise ValueError(f"{self.path.name} has no FallbackClassifier in its pipeline")

    def close(self) -> None:
        """Closes the event loop."""
        self._loop.close()


def time_training() -> tuple[float, float]:
    """Wall-clock and CPU seconds of a cold ``rasa train`` (as ``python -m bot train --force`` runs it)."""
    from bot.cli import MODEL_NAME, _rasa_executable, child_environment
    from bot.paths import DOMAIN_PATH
    from bot.settings import PROJECT_ROOT, get_settings

    with tempfile.TemporaryDirectory(prefix="clinic-train-") as scratch:
        env = child_environment(get_settings())
        env["RASA_CACHE_DIRECTORY"] = str(Path(scratch) / "cache")  # no cached components: a cold train
        command = [
            _rasa_executable(),
            "train",
            "--domain",
            str(DOMAIN_PATH),
            "--fixed-model-name",
            MODEL_NAME,
            "--out",
            str(Path(scratch) / "models"),
            "--force",
        ]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        result = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
        seconds = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        print(result.stdout[-3000:], result.stderr[-3000:], sep="\n", file=sys.stderr)
        raise RuntimeError(f"training failed (exit {result.returncode})")
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return seconds, cpu
