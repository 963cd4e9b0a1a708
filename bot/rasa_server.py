"""Starts Rasa's own command line (``rasa run ...``) with one performance fix.

Rasa 3.6 checks every action server response against its response schema with
``jsonschema.validate``, which re-validates the (large) schema itself and builds
a new validator on every call. Profiling showed that to be about 60 % of the
Rasa server's CPU time in a form-heavy conversation. The fix below validates
against the same schema, with the same errors, using a validator built once.
Nothing else about Rasa changes.
"""

from __future__ import annotations

import sys
from typing import Any, Dict, List, Optional, Sequence, Text

from bot.settings import PROJECT_ROOT

_installed = False


def install_action_response_validator() -> None:
    """Make ``RemoteAction`` reuse one compiled validator for action server responses."""
    global _installed
    if _installed:
        return
    from jsonschema import ValidationError, validators
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)

    def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
        """Same contract as Rasa's method: True, or a ValidationError with Rasa's hint."""
        try:
            validator.validate(result)
            return True
        except ValidationError as error:
            error.message += (
                ". Failed to validate Action server response from API, "
                "make sure your response from the Action endpoint is valid. "
                f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
            )
            raise error

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[assignment]
    _installed = True


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Run ``rasa`` with the given arguments (e.g. ``run --model ...``)."""
    install_action_response_validator()
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    from rasa.__main__ import main as rasa_main

    arguments: List[str] = list(argv if argv is not None else sys.argv[1:])
    sys.argv = ["rasa", *arguments]
    rasa_main()


if __name__ == "__main__":
    main()
