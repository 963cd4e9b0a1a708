"""Logs at INFO carry no message text and no patient data."""

from __future__ import annotations

import pytest

from tests.e2e.harness import Conversation, RunningAssistant

pytestmark = pytest.mark.e2e

PATIENT_DATA = ["Jordan", "Rivera", "1990", "03/14", "Souza", "1978", "+1555", "555 201", "W123456789"]
MESSAGE_TEXTS = ["sore throat since monday", "my cell is", "blue elephants", "zebra-kumquat"]


def test_logs_hold_no_message_text_or_patient_data(chat: Conversation, assistant: RunningAssistant) -> None:
    chat.say("zebra-kumquat Jordan Rivera 03/14/1990")
    chat.say("show my appointments")
    chat.say("Jordan Rivera")
    chat.say("03/14/1990")
    logs = assistant.logs()
    assert "rasa" in logs.lower() and "action" in logs.lower()  # the logs are really there
    for secret in PATIENT_DATA + MESSAGE_TEXTS:
        assert secret not in logs, f"{secret!r} appears in the logs"
