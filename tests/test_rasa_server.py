"""The Rasa launcher's compiled validator accepts and rejects exactly what Rasa's does."""

from __future__ import annotations

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from bot.rasa_server import install_action_response_validator

VALID = {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "hi"}]}
INVALID = [
    {"events": [{"event": "no_such_event"}]},
    {"events": "not a list"},
    {"responses": [1, 2]},
]


def test_same_verdicts_as_rasa() -> None:
    action = RemoteAction("action_x", None)
    schema = RemoteAction.action_response_format_spec()
    stock = [jsonschema.validators.validator_for(schema)(schema).is_valid(r) for r in [VALID, *INVALID]]
    assert stock == [True, False, False, False]
    install_action_response_validator()
    assert action._validate_action_result(VALID) is True
    for response in INVALID:
        with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server response"):
            action._validate_action_result(response)
