"""The base of our rule-free policies: they decide from facts of the conversation, with nothing to learn."""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import Policy
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrackerWithCachedStates


class UntrainedPolicy(Policy):
    """A policy whose decision reads slots, metadata and recent events; training leaves it as it is."""

    def train(self, training_trackers: list[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        """Nothing to learn."""
        return self._resource
