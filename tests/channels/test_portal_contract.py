"""The patient-portal connector against the connector contract (real assistant, signed tokens)."""

from __future__ import annotations

import pytest

from tests.channels.adapters import PortalAdapter
from tests.channels.contract import ChannelAdapter, ConnectorContract
from tests.e2e.harness import RunningAssistant

pytestmark = pytest.mark.e2e


class TestPortalContract(ConnectorContract):
    """Every contract test, through POST /webhooks/portal/webhook with HS256 tokens."""

    @pytest.fixture
    def adapter(self, channel_assistant: RunningAssistant) -> ChannelAdapter:
        """The portal widget with the signed-in patient's token."""
        return PortalAdapter(channel_assistant)


class TestPortalContractRs256(ConnectorContract):
    """The same contract on a second Rasa instance (shared stores) that takes RS256 tokens."""

    @pytest.fixture
    def adapter(self, second_instance: RunningAssistant, rsa_keys: tuple) -> ChannelAdapter:
        """The portal widget, its tokens signed with the portal's RSA key."""
        return PortalAdapter(second_instance, key=rsa_keys[0], algorithm="RS256")
