"""send_sms: the one way out for texts (staff replies, reminders), against a stand-in for Twilio's API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot import sms_opt_out as opt_out
from bot.migrate import upgrade
from bot.settings import get_settings, reset_settings_cache
from bot.sms_gateway import SmsNotConfigured, SmsOptedOut, SmsSendFailed, send_sms
from bot.sms_text import SMS_PART_LIMIT
from tests.channels.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio

NUMBER = "+15555550123"


@pytest.fixture
def twilio(tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTwilio]:
    """Twilio settings pointing at a local stand-in, and a migrated SQLite clinic database."""
    fake = FakeTwilio().start()
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    upgrade(url)
    for name, value in {
        "CLINIC_DATABASE_URL": url,
        "CHANNEL_ID_SECRET": "outbound-test-secret",
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_API_URL": fake.url,
    }.items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()  # migrating read the settings before these were set
    try:
        yield fake
    finally:
        fake.stop()


def test_sends_through_twilio_with_the_account_credentials(twilio: FakeTwilio) -> None:
    sent = send_sms(NUMBER, "Your visit is tomorrow at 9:00 AM.")
    assert len(sent.message_sids) == 1 and sent.message_sids[0].startswith("SM")
    [message] = twilio.sent
    assert (message.to, message.from_, message.body) == (NUMBER, FROM_NUMBER, "Your visit is tomorrow at 9:00 AM.")
    assert message.account_sid == ACCOUNT_SID and message.basic_auth == f"{ACCOUNT_SID}:{AUTH_TOKEN}"


def test_long_texts_are_split_at_sentence_ends(twilio: FakeTwilio) -> None:
    body = " ".join(f"Sentence {i} of a long note from the front desk." for i in range(20))
    sent = send_sms(NUMBER, body)
    assert len(sent.message_sids) == len(twilio.sent) >= 3
    assert all(len(m.body) <= SMS_PART_LIMIT and m.body.endswith(".") for m in twilio.sent)
    assert " ".join(m.body for m in twilio.sent) == body


def test_refuses_an_opted_out_number_without_calling_twilio(twilio: FakeTwilio) -> None:
    opt_out.set_opted_out(NUMBER, True)
    with pytest.raises(SmsOptedOut):
        send_sms(NUMBER, "Hello")
    assert twilio.sent == []
    opt_out.set_opted_out(NUMBER, False)
    send_sms(NUMBER, "Hello")
    assert len(twilio.sent) == 1


def test_not_configured_names_the_missing_settings(twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TWILIO_FROM_NUMBER")
    monkeypatch.delenv("TWILIO_ACCOUNT_SID")
    reset_settings_cache()
    with pytest.raises(SmsNotConfigured, match="TWILIO_ACCOUNT_SID, TWILIO_FROM_NUMBER"):
        send_sms(NUMBER, "Hello")
    assert twilio.sent == []


def test_twilio_errors_and_outages_are_clear_and_leak_nothing(
    twilio: FakeTwilio, caplog: pytest.LogCaptureFixture
) -> None:
    twilio.fail_with = {"status": 400, "code": 21610, "message": "Attempt to send to unsubscribed recipient"}
    with pytest.raises(SmsSendFailed, match="HTTP 400, code 21610"):
        send_sms(NUMBER, "private words")
    twilio.stop()
    with pytest.raises(SmsSendFailed, match="could not be reached"):
        send_sms(NUMBER, "private words")
    assert NUMBER not in caplog.text and "private words" not in caplog.text
    assert get_settings().twilio_auth_token not in caplog.text


def test_the_twilio_api_url_must_be_https_except_on_loopback() -> None:
    from bot.settings import SettingsError, load_settings

    assert load_settings({"CLINIC_DOTENV": "0"}).twilio_api_url == "https://api.twilio.com"
    assert load_settings({"TWILIO_API_URL": "http://127.0.0.1:8080/"}).twilio_api_url == "http://127.0.0.1:8080"
    with pytest.raises(SettingsError, match="TWILIO_API_URL"):
        load_settings({"TWILIO_API_URL": "http://api.twilio.example"})
