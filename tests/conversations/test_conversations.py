"""Every conversation in tests/conversations/*.yml, played against one real running assistant.

One test per conversation (its id); the assistant is started once for all of
them. The summary at the end of the run prints the success rate, the number of
false 911 answers and the failing ids (target: at least 95 % and no false 911;
printed, not asserted).
"""

from __future__ import annotations

import pytest

from tests.conversations.matcher import ResponseMatcher
from tests.conversations.runner import ConversationRunner, Result
from tests.conversations.spec import Conversation, load_all
from tests.e2e.harness import RunningAssistant

pytestmark = pytest.mark.e2e

CONVERSATIONS = load_all()
RESULTS: dict[str, Result] = {}


@pytest.fixture(scope="module")
def runner(conversation_assistant: RunningAssistant) -> ConversationRunner:
    """A runner on the test assistant; domain/'s responses are read once, now."""
    return ConversationRunner(
        conversation_assistant.rasa_url, conversation_assistant.clinic_database_url, ResponseMatcher.from_domain()
    )


def marked(conversation: Conversation) -> object:
    """A conversation as a test case; a declared known gap is expected to fail, strictly."""
    if conversation.known_gap:
        return pytest.param(
            conversation, marks=pytest.mark.xfail(reason=conversation.known_gap, strict=True), id=conversation.id
        )
    return pytest.param(conversation, id=conversation.id)


@pytest.mark.parametrize("conversation", [marked(c) for c in CONVERSATIONS])
def test_conversation(conversation: Conversation, runner: ConversationRunner) -> None:
    result = runner.run(conversation)
    RESULTS[conversation.id] = result
    assert result.passed, f"{conversation.source} {conversation.id} ({conversation.wants}): {result.failure}"
