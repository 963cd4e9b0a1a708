"""SMS connector: its parts (keywords, TwiML, numbering, signatures, order of checks) and,
against the real assistant, signed and forged webhooks, opt-out/opt-in, HELP, bare CANCEL,
numbered choices through a real booking, several Rasa instances, staff replies and privacy."""

from __future__ import annotations

import json
import urllib.parse
import xml.etree.ElementTree as ET
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from sanic.request import RequestParameters

from actions.common import format_short_when
from bot.db import get_engine
from bot.scheduling.sql import SqlSchedulingService
from bot.settings import load_settings
from bot.sms_text import SMS_PART_LIMIT
from channels import kit
from channels.sms import EMPTY_TWIML, SmsInput, keyword_of, signature_is_valid, sms_texts, twiml
from tests.channels.adapters import PUBLIC_URL, SMS_PATH, SmsAdapter, new_number
from tests.channels.contract import channel_settings, http
from tests.channels.fake_twilio import AUTH_TOKEN, FakeTwilio, inbound_form, signature
from tests.e2e.harness import RunningAssistant

# --- parts ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, keyword",
    [
        ("STOP", "opt_out"),
        ("stop", "opt_out"),
        (" Stop. ", "opt_out"),
        ("STOPALL", "opt_out"),
        ("unsubscribe", "opt_out"),
        ("End", "opt_out"),
        ("QUIT!", "opt_out"),
        ("CANCEL", "opt_out_cancel"),
        ("cancel", "opt_out_cancel"),
        ("START", "opt_in"),
        ("unstop", "opt_in"),
        ("HELP", "help"),
        ("help", "help"),
        ("stop texting me please", None),
        ("cancel my appointment", None),
        ("I need help", None),
        ("1", None),
        ("", None),
        (None, None),
    ],
)
def test_only_bare_keywords_are_carrier_keywords(body: Any, keyword: Any) -> None:
    assert keyword_of(body) == keyword


def test_twiml_escapes_text_and_is_empty_without_messages() -> None:
    document = twiml(['Fish & chips <b>now</b> "ok"', "  ", "second"])
    root = ET.fromstring(document)
    assert [m.text for m in root.findall("Message")] == ['Fish & chips <b>now</b> "ok"', "second"]
    assert "<b>" not in document
    assert twiml([]) == EMPTY_TWIML
    assert ET.fromstring(EMPTY_TWIML).tag == "Response" and not list(ET.fromstring(EMPTY_TWIML))


def test_buttons_become_numbered_choices() -> None:
    texts = sms_texts(
        [
            {
                "text": "Shall I book it?",
                "buttons": [{"title": "Yes, book it", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}],
            },
        ]
    )
    assert texts == ["Shall I book it?\n1) Yes, book it\n2) No\nReply with a number."]


def test_long_replies_split_on_sentence_ends_within_the_limit() -> None:
    sentences = [f"This is sentence number {i} of a long answer about your visit." for i in range(20)]
    texts = sms_texts([{"text": " ".join(sentences[:10])}, {"text": " ".join(sentences[10:])}])
    assert len(texts) >= 3
    assert all(len(t) <= SMS_PART_LIMIT for t in texts)
    assert all(t.endswith(".") for t in texts)
    assert " ".join(" ".join(texts).split()) == " ".join(sentences)


def test_signature_must_sign_the_public_url_and_the_whole_form() -> None:
    settings = load_settings({"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "CLINIC_PUBLIC_URL": PUBLIC_URL, "CLINIC_DOTENV": "0"})
    form = inbound_form("+15555550123", "hi")
    good = signature(PUBLIC_URL + SMS_PATH, form)
    params = RequestParameters({k: [v] for k, v in form.items()})
    assert signature_is_valid(settings, SMS_PATH, "", params, good)
    assert not signature_is_valid(settings, SMS_PATH, "", params, None)
    assert not signature_is_valid(settings, SMS_PATH, "", params, "")
    assert not signature_is_valid(settings, SMS_PATH, "", params, signature("http://127.0.0.1:5005" + SMS_PATH, form))
    tampered = RequestParameters({**{k: [v] for k, v in form.items()}, "Body": ["cancel my appointment"]})
    assert not signature_is_valid(settings, SMS_PATH, "", tampered, good)


def fake_request(form: dict, signature_value: Any) -> Any:
    """The little of a Sanic request the connector reads."""
    headers = {"content-type": "application/x-www-form-urlencoded"}
    if signature_value is not None:
        headers["X-Twilio-Signature"] = signature_value
    return SimpleNamespace(
        body=urllib.parse.urlencode(form).encode(),
        path=SMS_PATH,
        query_string="",
        headers=headers,
        app=SimpleNamespace(ctx=SimpleNamespace()),  # no agent: nothing may reach the assistant
    )


async def never_called(_: Any) -> None:
    raise AssertionError("the assistant must not be reached")


async def test_without_auth_token_the_webhook_answers_503_and_logs_why(caplog: pytest.LogCaptureFixture) -> None:
    connector = SmsInput(
        load_settings({"CLINIC_DOTENV": "0", "CLINIC_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/x"})
    )
    form = inbound_form("+15555550123", "hi")
    reply = await connector._receive(fake_request(form, "anything"), never_called)
    assert reply.status == 503
    assert b"TWILIO_AUTH_TOKEN" in reply.body
    assert "TWILIO_AUTH_TOKEN is not set" in caplog.text
    assert "+15555550123" not in caplog.text


@pytest.mark.parametrize("forged", [None, "", "bm90IGEgc2lnbmF0dXJl"])
async def test_a_bad_signature_is_refused_before_the_database_or_the_assistant(forged: Any) -> None:
    # The database URL points at a closed port: touching it would answer 503, not 403.
    connector = SmsInput(
        load_settings(
            {
                "CLINIC_DOTENV": "0",
                "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                "CLINIC_PUBLIC_URL": PUBLIC_URL,
                "CLINIC_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/x",
            }
        )
    )
    reply = await connector._receive(fake_request(inbound_form("+15555550123", "hi"), forged), never_called)
    assert reply.status == 403
    assert b"X-Twilio-Signature" in reply.body


# --- end to end ----------------------------------------------------------------

pytest_e2e = pytest.mark.e2e


@pytest.fixture
def sms(channel_assistant: RunningAssistant) -> SmsAdapter:
    """Texts from phones to the running assistant."""
    return SmsAdapter(channel_assistant)


def clinic_scalar(assistant: RunningAssistant, sql: str, **params: Any) -> Any:
    """One value from the assistant's clinic database."""
    with get_engine(assistant.clinic_database_url).connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


@pytest_e2e
def test_unsigned_forged_and_tampered_webhooks_are_refused(sms: SmsAdapter) -> None:
    number = new_number()
    form = inbound_form(number, "hi")
    assert sms.post(form, signed=None).status == 403
    assert sms.post(form, signed="forged").status == 403
    internal_url_signature = signature(sms.assistant.rasa_url + SMS_PATH, form)
    assert sms.post(form, signed=internal_url_signature).status == 403
    tampered = dict(form, Body="cancel my appointment")
    assert sms.post(tampered, signed=signature(PUBLIC_URL + SMS_PATH, form)).status == 403
    assert sms.user_events(number) == []
    assert (
        clinic_scalar(
            sms.assistant, "SELECT COUNT(*) FROM channel_deliveries WHERE delivery_key = :k", k=form["MessageSid"]
        )
        == 0
    )


@pytest_e2e
def test_health_route_and_signed_message_metadata(sms: SmsAdapter) -> None:
    status, _, body = http("GET", sms.assistant.rasa_url + "/webhooks/sms/")
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    number = new_number()
    assert sms.send(number, "hi").status == 200
    [event] = sms.user_events(number)
    claim = dict(event["metadata"][kit.CHANNEL_IDENTITY_KEY])
    assert len(claim.pop("sig")) == 64  # signed by the connector; the actions check it
    assert claim == {"kind": "sms", "phone": number}
    assert number not in sms.conversation_id(number)


@pytest_e2e
def test_missing_fields_get_a_precise_400(sms: SmsAdapter) -> None:
    form = inbound_form(new_number(), "hi")
    del form["From"]
    reply = sms.post(form)
    assert reply.status == 400 and "From" in reply.raw


@pytest_e2e
def test_stop_opts_out_silences_and_start_opts_back_in(sms: SmsAdapter) -> None:
    number = new_number()
    sms.send(number, "hi")
    stopped = sms.send(number, "Stop")
    assert "unsubscribed" in stopped.text and "START" in stopped.text
    key = number_key_for(number)
    assert clinic_scalar(sms.assistant, "SELECT COUNT(*) FROM sms_opt_outs WHERE number_key = :k", k=key) == 1
    assert clinic_scalar(sms.assistant, "SELECT COUNT(*) FROM sms_opt_outs WHERE number_key = :k", k=number) == 0
    silent = sms.send(number, "what are your hours")
    assert silent.status == 200 and silent.texts == [] and silent.raw.strip().endswith("<Response/>")
    assert [e["text"] for e in sms.user_events(number)] == ["hi"]
    assert "unsubscribed" in sms.send(number, "QUIT").text  # idempotent
    back = sms.send(number, "start")
    assert "Welcome back" in back.text
    assert clinic_scalar(sms.assistant, "SELECT COUNT(*) FROM sms_opt_outs WHERE number_key = :k", k=key) == 0
    assert "open" in sms.send(number, "what are your hours").text


@pytest_e2e
def test_bare_cancel_opts_out_and_says_how_to_cancel_a_visit(sms: SmsAdapter) -> None:
    number = new_number()
    reply = sms.send(number, "CANCEL")
    assert "unsubscribed" in reply.text
    assert "START" in reply.text and "cancel my appointment" in reply.text and "(555) 010-2000" in reply.text
    assert (
        clinic_scalar(
            sms.assistant, "SELECT COUNT(*) FROM sms_opt_outs WHERE number_key = :k", k=number_key_for(number)
        )
        == 1
    )
    assert sms.send(number, "cancel my appointment").texts == []
    assert sms.user_events(number) == []
    sms.send(number, "START")
    reply = sms.send(number, "cancel my appointment")
    assert "date of birth" in reply.text
    assert [e["text"] for e in sms.user_events(number)] == ["cancel my appointment"]


@pytest_e2e
def test_help_names_the_clinic_and_its_phone(sms: SmsAdapter) -> None:
    reply = sms.send(new_number(), "HELP")
    assert "Maple Grove Family Clinic" in reply.text and "(555) 010-2000" in reply.text and "STOP" in reply.text


@pytest_e2e
def test_numbered_choices_complete_a_real_booking(sms: SmsAdapter) -> None:
    number = new_number()
    reply = sms.send(number, "hi i need an appointment")
    assert "1) Sick visit" in reply.text and "Reply with a number." in reply.text
    reply = sms.send(number, "1")
    assert "Who would you like to see" in reply.text
    reply = sms.send(number, "1")  # Anyone available
    assert "When would you like to come in" in reply.text
    reply = sms.send(number, "tomorrow afternoon")
    assert reply.choices and all("Thu Dec 3" in c for c in reply.choices), reply.text
    picked = reply.choices[0]
    reply = sms.send(number, "1")
    assert "date of birth" in reply.text  # by text, the date of birth is tried with the number first
    reply = sms.send(number, "03/14/1990")
    assert "couldn't match" in reply.text and "full name" in reply.text  # not Jordan's number
    reply = sms.send(number, "Jordan Rivera")
    assert "Shall I book it?" in reply.text and "1) Yes, book it" in reply.text
    reply = sms.send(number, "1")
    assert "You're booked" in reply.text and "Appointment number" in reply.text
    appointment_id = reply.text.split("Appointment number: ")[1].rstrip(".").strip()
    booked = SqlSchedulingService(sms.assistant.clinic_database_url).get_appointment(appointment_id, "P-1001")
    assert booked.is_active and booked.visit_type == "sick_visit"
    assert picked.startswith(format_short_when(booked.start)), (picked, booked.start)
    assert sms.slot(number, "patient_id") == "P-1001"


@pytest_e2e
def test_a_digit_answer_works_on_another_rasa_instance(
    channel_assistant: RunningAssistant, second_instance: RunningAssistant
) -> None:
    number = new_number()
    first, second = SmsAdapter(channel_assistant), SmsAdapter(second_instance)
    assert "1) Sick visit" in first.send(number, "I want to book an appointment").text
    reply = second.send(number, "3")
    assert "Who would you like to see" in reply.text
    assert first.slot(number, "visit_type") == "annual_physical"


@pytest_e2e
def test_the_number_on_record_needs_only_the_date_of_birth(sms: SmsAdapter) -> None:
    jordan = "+15555550123"  # Jordan Rivera's mobile in the demo records
    reply = sms.send(jordan, "what appointments do i have")
    assert "date of birth" in reply.text and "full name" not in reply.text
    reply = sms.send(jordan, "3/14/1990")
    assert "Jordan" in reply.text
    assert sms.slot(jordan, "patient_id") == "P-1001"


@pytest_e2e
def test_a_digit_without_offered_choices_is_passed_on_as_text(sms: SmsAdapter) -> None:
    number = new_number()
    sms.send(number, "what are your hours")
    sms.send(number, "2")
    assert [e["text"] for e in sms.user_events(number)] == ["what are your hours", "2"]


def staff_reply(assistant: RunningAssistant, conversation: str, text: str) -> tuple:
    """What a staff tool does during a hand-off: a bot message, sent on the conversation's channel."""
    path = f"/conversations/{urllib.parse.quote(conversation, safe=':')}/tracker/events"
    url = f"{assistant.rasa_url}{path}?output_channel=latest&execute_side_effects=true"
    return http(
        "POST", url, json.dumps([{"event": "bot", "text": text}]).encode(), {"Content-Type": "application/json"}
    )


@pytest_e2e
def test_staff_replies_reach_the_patient_by_sms_split_at_sentences(sms: SmsAdapter, fake_twilio: FakeTwilio) -> None:
    number = new_number()
    sms.send(number, "I want to talk to a person")
    text = " ".join(f"This is part {i} of the answer from the front desk about your bill." for i in range(10))
    status, _, body = staff_reply(sms.assistant, sms.conversation_id(number), text)
    assert status == 200, body
    sent = fake_twilio.sent_to(number)
    assert len(sent) >= 3 and all(len(m.body) <= SMS_PART_LIMIT for m in sent)
    assert " ".join(m.body for m in sent) == text
    assert all(m.from_ == "+15555550100" and m.basic_auth.endswith(":" + AUTH_TOKEN) for m in sent)


@pytest_e2e
def test_staff_replies_never_reach_an_opted_out_number(sms: SmsAdapter, fake_twilio: FakeTwilio) -> None:
    number = new_number()
    sms.send(number, "hi")
    sms.send(number, "STOP")
    status, _, body = staff_reply(sms.assistant, sms.conversation_id(number), "We tried to reach you.")
    assert status >= 400 and b"opted out" in body
    assert fake_twilio.sent_to(number) == []


@pytest_e2e
def test_logs_hold_no_numbers_or_texts(sms: SmsAdapter) -> None:
    number = new_number()
    for body in ("my secret rash question xyzzy", "STOP", "START", "HELP", "1"):
        sms.send(number, body)
    sms.post(inbound_form(number, "forged plover"), signed="forged")
    logs = sms.assistant.logs()
    assert number not in logs and number[2:] not in logs
    assert "xyzzy" not in logs and "plover" not in logs
    assert AUTH_TOKEN not in logs


def number_key_for(number: str) -> str:
    """The opt-out key the server stores for a number (same channel secret)."""
    return kit.keyed_hash(number, "sms-opt-out", channel_settings())


@pytest_e2e
def test_an_out_of_band_message_for_a_conversation_that_never_texted_is_refused(
    sms: SmsAdapter, fake_twilio: FakeTwilio
) -> None:
    before = len(fake_twilio.sent)
    url = (
        f"{sms.assistant.rasa_url}/conversations/sms:never-texted/tracker/events"
        "?output_channel=sms&execute_side_effects=true"
    )
    status, _, body = http(
        "POST", url, json.dumps([{"event": "bot", "text": "hello"}]).encode(), {"Content-Type": "application/json"}
    )
    assert status >= 400 and b"no SMS number is known" in body
    # Only this message counts: the outreach worker of the same assistant may text a reminder meanwhile.
    assert [m for m in fake_twilio.sent[before:] if m.body == "hello"] == []


@pytest_e2e
def test_sms_gets_the_sms_variant_and_the_portal_the_default(sms: SmsAdapter) -> None:
    from tests.channels.adapters import PortalAdapter

    assert sms.send(new_number(), "hi").text.startswith("Hi! This is the Maple Grove Family Clinic assistant.")
    portal = PortalAdapter(sms.assistant)
    assert not portal.send(portal.new_sender(), "hi").text.startswith("Hi! This is the")


@pytest_e2e
def test_a_long_answer_arrives_as_several_texts_split_at_sentence_ends(sms: SmsAdapter) -> None:
    number = new_number()
    sms.send(number, "what should I do after my visit")
    sms.send(number, "03/14/1990")
    reply = sms.send(number, "Jordan Rivera")
    assert "Here are the notes from your visit" in reply.text, reply.text
    assert len(reply.texts) >= 2, reply.texts  # each within SMS_PART_LIMIT (checked by the adapter)
    assert all(t.rstrip().endswith((".", "!", "?", "number.", "that.")) for t in reply.texts), reply.texts
