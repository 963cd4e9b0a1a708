"""The Rasa launcher's compiled validator accepts and rejects exactly what Rasa's does."""

from __future__ import annotations

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from bot.rasa_coupling import install_action_response_validator

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


SAMPLES = [
    VALID,
    {},
    {"events": []},
    {"events": [{}]},
    {"events": [{"event": 5}]},
    {"events": [{"event": "slot"}]},
    {"events": [{"event": "slot", "name": 5}]},
    {"events": [{"event": "slot", "name": "a", "timestamp": "now"}]},
    {"events": [{"event": "slot", "name": "a", "value": {"x": [1]}, "metadata": None}]},
    {"events": [{"event": "user", "text": "hi", "parse_data": {}}]},
    {"events": [{"event": "bot", "text": None}]},
    {"events": [{"event": "action", "name": "x"}, {"event": "active_loop", "name": None}]},
    {"events": [{"event": "session_started"}, {"event": "reset_slots"}, {"event": "restart"}, {"event": "undo"}]},
    {"events": [{"event": "followup"}]},
    {"events": [{"event": "reminder"}]},
    {"events": [{"event": "slot", "name": "a"}, {"event": "bogus"}]},
    *INVALID,
]


@pytest.mark.parametrize("response", SAMPLES)
def test_the_quick_check_gives_the_full_schema_verdict(response: dict) -> None:
    from bot.rasa_coupling import discriminated_event_validator

    schema = RemoteAction.action_response_format_spec()
    validator_class = jsonschema.validators.validator_for(schema)
    quick = discriminated_event_validator(schema, validator_class)
    assert quick is not None
    assert quick(response) == validator_class(schema).is_valid(response)


def test_an_undiscriminated_schema_gets_no_quick_check() -> None:
    from bot.rasa_coupling import discriminated_event_validator

    schema = {"type": "object", "properties": {"events": {"type": "array", "items": {"oneOf": [{"type": "object"}]}}}}
    assert discriminated_event_validator(schema, jsonschema.validators.validator_for(schema)) is None
