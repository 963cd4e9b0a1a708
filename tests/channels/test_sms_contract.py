"""The SMS connector against the connector contract (real assistant, Twilio-signed webhooks)."""

from __future__ import annotations

import pytest

from tests.channels.adapters import SmsAdapter
from tests.channels.contract import ChannelAdapter, ConnectorContract
from tests.e2e.harness import RunningAssistant

pytestmark = pytest.mark.e2e


class TestSmsContract(ConnectorContract):
    """Every contract test, through POST /webhooks/sms/webhook."""

    @pytest.fixture
    def adapter(self, channel_assistant: RunningAssistant) -> ChannelAdapter:
        """Texts from phones, signed by Twilio."""
        return SmsAdapter(channel_assistant)
