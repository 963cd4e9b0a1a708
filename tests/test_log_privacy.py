"""The log redaction (bot/log_privacy.py): patient data out, identifiers in, at every level and from every source."""

from __future__ import annotations

import copy
import io
import json
import logging
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from bot import log_privacy
from bot.log_privacy import REDACTED, install_log_privacy, patient_ref, redact_event_dict, redact_record, scrub
from bot.settings import load_settings

KEY = "k" * 40

PHONES = [
    "(555) 201-1234",
    "555-201-1234",
    "555.201.1234",
    "555 201 1234",
    "5552011234",
    "+1 555 201 1234",
    "+1-555-201-1234",
    "1-555-201-1234",
    "1 (555) 201-1234",
    "+15555550123",
    "+1 (555) 555-0188",
    "+44 20 7946 0958",
    "201-1234",
]
EMAILS = ["jordan.rivera@example.com", "j+clinic@mail.example.org", "JORDAN_R@EXAMPLE.COM", "ana.souza@clinic.co.uk"]
DATES = [
    "03/14/1990",
    "3/14/1990",
    "3/14/90",
    "03-14-1990",
    "14.03.1990",
    "1990-03-14",
    "1990/03/14",
    "1978-11-02",
    "11/02/1978",
    "March 14 1990",
    "March 14, 1990",
    "march 14th 1990",
    "Mar 14 1990",
    "Mar. 14th, 1990",
    "14 March 1990",
    "14th of March 1990",
    "Nov 2, 1978",
    "November 2nd",
    "March 1990",
    "2026-12-02T10:00:00-05:00",
    "2026-12-02 10:00",
]
MEMBER_IDS = ["W123456789", "w123456789", "XYZ-1234567", "ABC 12345678", "123456789012", "MBR98765432"]
RECORD_NUMBERS = ["P-1001", "P-1002", "p-1001", "P-42", "P-123456"]
CARRIERS = [
    "{}",
    "patient said {}.",
    "value={}",
    "'{}'",
    '"{}"',
    "({})",
    "[{}]",
    "x: {}, y: 1",
    "<{}>",
]


def carried(values: list[str]) -> list[tuple[str, str]]:
    """Every value in every carrier line."""
    return [(value, carrier.format(value)) for value in values for carrier in CARRIERS]


@pytest.fixture(autouse=True)
def _fixed_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A known keyed-hash secret, never the developer's var/."""
    monkeypatch.setenv("CLINIC_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CHANNEL_ID_SECRET", KEY)
    monkeypatch.setitem(log_privacy._state, "key", KEY.encode())


@pytest.mark.parametrize(("value", "line"), carried(PHONES + EMAILS + DATES + MEMBER_IDS))
def test_personal_data_is_removed_in_any_shape(value: str, line: str) -> None:
    scrubbed = scrub(line)
    assert value.lower() not in scrubbed.lower() and REDACTED in scrubbed


@pytest.mark.parametrize(("value", "line"), carried(RECORD_NUMBERS))
def test_record_numbers_become_their_keyed_hash(value: str, line: str) -> None:
    scrubbed = scrub(line)
    assert value not in scrubbed and patient_ref(value) in scrubbed


def test_patient_ref_is_a_stable_keyed_hash() -> None:
    ref = patient_ref("P-1001")
    assert ref.startswith("pt-") and len(ref) == 15 and "1001" not in ref
    assert patient_ref(" p-1001 ") == ref != patient_ref("P-1002")
    assert scrub(f"booked for {ref}") == f"booked for {ref}"  # a reference survives a second scrub
    log_privacy._state["key"] = b"another key entirely, another hash"
    assert patient_ref("P-1001") != ref
    assert patient_ref(None) == patient_ref("") == "(no record)"


def test_without_the_installed_key_references_use_a_key_of_the_process(tmp_path: Path) -> None:
    log_privacy._state["key"] = None
    ref = patient_ref("P-1001")
    assert ref.startswith("pt-") and ref == patient_ref("P-1001") and "1001" not in ref
    assert not (tmp_path / "channel_id_secret").exists()  # the demo's secret file is neither read nor made


@pytest.mark.parametrize(
    "line",
    [
        "Predicted next action 'action_listen' with confidence 1.00.",
        "Received request to run 'action_book_appointment'",
        "Request next slot 'patient_name'",
        "Policy prediction ended with events '[]'.",
        "Starting a new session for conversation ID 'test-3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c'.",
        "appointment A-7K2M9 booked for pt-0a1b2c3d4e5f",
        "work item R-6VB3K done",
        "utter_greet",
        "Loaded model in 12.34 seconds; listening on 127.0.0.1:5005",
        "Rasa 3.6.21, rasa-sdk 3.6.2, Python 3.10.14",
        "action server error 3f2a1b0c9d8e: KeyError on /webhook",
        "intent {'name': 'book_appointment', 'confidence': 0.9812}",
        "rasa_sdk.executor Finished running 'validate_booking_form'",
        '{"event": "processor.actions.log", "action_name": "utter_greet", "level": "debug"}',
    ],
)
def test_identifiers_and_ids_stay_readable(line: str) -> None:
    assert scrub(line) == line


# --- Rasa's and rasa-sdk's real formats ---------------------------------------------


@pytest.fixture
def events() -> dict[str, object]:
    """Rasa events of a conversation, with a name, a date of birth and a phone in them."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

    return {
        "user": UserUttered(
            "my name is Jordan Rivera and my cell is 555-201-1234",
            intent={"name": "inform", "confidence": 0.93},
            entities=[{"entity": "PERSON", "value": "Jordan Rivera", "start": 11, "end": 24}],
        ),
        "bot": BotUttered(
            "Thanks, Jordan Rivera. Is your date of birth 03/14/1990?",
            data={"buttons": [{"title": "Yes, 03/14/1990", "payload": "/affirm"}]},
            metadata={"utter_action": "utter_confirm_identity"},
        ),
        "slot": SlotSet("patient_name", "Jordan Rivera"),
        "dob": SlotSet("patient_dob", "1990-03-14"),
        "requested": SlotSet("requested_slot", "patient_dob"),
        "action": ActionExecuted("validate_booking_form"),
    }


SECRETS = ["Jordan", "Rivera", "555-201-1234", "2011234", "03/14/1990", "1990-03-14", "my name is", "cell"]


def assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret.lower() not in text.lower(), f"{secret!r} left in {text!r}"


def test_event_reprs_lose_their_content_and_keep_their_names(events: dict[str, object]) -> None:
    user, bot, slot, dob, requested = (events[k] for k in ("user", "bot", "slot", "dob", "requested"))
    lines = {
        "user": scrub(str(user)),
        "bot": scrub(str(bot)),
        "bot_repr": scrub(repr(bot)),
        "slots": scrub(repr([slot, dob, requested])),
        "extracted": scrub(
            "The execution of 'action_extract_slots' resulted in these events: "
            + "\n".join(str(e) for e in (slot, dob, requested))
            + "."
        ),
        "events": scrub(f"Policy prediction ended with events '{[user, bot, slot]}'."),
    }
    for line in lines.values():
        assert_clean(line)
    assert "intent: inform" in lines["user"] and "use_text_for_featurization" in lines["user"]
    assert "utter_confirm_identity" in lines["bot"]
    assert "SlotSet(key: requested_slot, value: patient_dob)" in lines["slots"]
    assert "SlotSet(key: patient_name, value: [redacted])" in lines["slots"]


def test_tracker_dumps_and_slot_logs_lose_their_content(events: dict[str, object]) -> None:
    from rasa.shared.core.slots import AnySlot, TextSlot
    from rasa.shared.core.trackers import DialogueStateTracker

    slots = [TextSlot("patient_name", mappings=[]), TextSlot("patient_dob", mappings=[]), AnySlot("x", mappings=[])]
    tracker = DialogueStateTracker.from_events("test-1", list(events.values()), slots=slots)
    state = tracker.current_state()
    dumps = [
        json.dumps(state),
        repr(state),
        json.dumps([e.as_dict() for e in tracker.events]),  # type: ignore[attr-defined]
        "\n".join(f"\t{s.name}: {s.value}" for s in tracker.slots.values()),  # Rasa's processor.slots.log
        f"Validating extracted slots: {tracker.current_slot_values()}",
        f"Received user message '{tracker.latest_message.text}' with intent '{tracker.latest_message.intent}'",
    ]
    for dump in dumps:
        scrubbed = scrub(dump)
        assert_clean(scrubbed)
    assert "patient_name" in scrub(dumps[3]) and "inform" in scrub(dumps[5])


def test_sql_parameters_and_database_details_are_removed() -> None:
    import sqlalchemy

    engine = sqlalchemy.create_engine("sqlite://")
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text("CREATE TABLE patients (name TEXT UNIQUE, dob TEXT)"))
    insert = sqlalchemy.text("INSERT INTO patients VALUES (:name, :dob)")
    with pytest.raises(sqlalchemy.exc.IntegrityError) as raised, engine.begin() as connection:
        connection.execute(insert, {"name": "Jordan Rivera", "dob": "1990-03-14"})
        connection.execute(insert, {"name": "Jordan Rivera", "dob": "1990-03-14"})
    scrubbed = scrub(str(raised.value))
    assert_clean(scrubbed)
    assert "IntegrityError" in scrubbed and "INSERT INTO patients" in scrubbed
    detail = scrub(
        "duplicate key value violates unique constraint\nDETAIL:  Key (email)=(jordan@x.org) already exists."
    )
    assert "jordan" not in detail and "Key (email)=" in detail


def test_query_strings_and_free_text_in_quotes_are_removed() -> None:
    assert scrub("POST /webhooks/sms/webhook?From=%2B15555550123&Body=hi+Jordan 200") == (
        f"POST /webhooks/sms/webhook?{REDACTED} 200"
    )
    assert_clean(scrub("ValueError: could not parse 'my name is Jordan Rivera'"))
    assert_clean(scrub('{"who": "Jordan Rivera", "event": "x"}'))
    assert_clean(scrub("{'text': \"I'm Jordan Rivera\", 'intent': 'inform'}"))


def test_scrubbing_an_ordinary_line_is_cheap() -> None:
    line = "appointment A-7K2M9 booked for pt-0a1b2c3d4e5f via webchat (slot offered 3 times)"
    started = time.perf_counter()
    for _ in range(10_000):
        scrub(line)
    assert time.perf_counter() - started < 2.0


# --- records, structlog, exceptions: the installed redaction ---------------------------


def make_record(msg: str, *args: object, exc_info: object = None) -> logging.LogRecord:
    return logging.LogRecord("rasa.core.processor", logging.DEBUG, __file__, 1, msg, args, exc_info)  # type: ignore[arg-type]


def test_a_record_is_formatted_once_and_scrubbed_with_its_exception() -> None:
    try:
        raise KeyError("no patient named 'Jordan Rivera' born 03/14/1990")
    except KeyError:
        record = make_record(
            "Received user message %r from %s", "my name is Jordan", "555-201-1234", exc_info=sys.exc_info()
        )
    redact_record(record)
    assert record.args == () and record.exc_info is None
    assert record.getMessage() == f"Received user message '{REDACTED}' from {REDACTED}"
    assert record.exc_text is not None and "KeyError" in record.exc_text and "Traceback" in record.exc_text
    assert_clean(logging.Formatter().format(record))


def test_structlog_events_are_redacted_and_exceptions_have_no_locals() -> None:
    text = "my name is Jordan Rivera, born 03/14/1990"
    try:
        raise RuntimeError("turn failed")
    except RuntimeError:
        event = redact_event_dict(
            None,
            "exception",
            {"event": "rest.message.received.failure", "text": copy.deepcopy(text), "exc_info": True, "n": 3},
        )
    assert event["text"] == REDACTED and event["n"] == 3 and event["event"] == "rest.message.received.failure"
    assert "RuntimeError: turn failed" in event["exception"] and "exc_info" not in event
    assert_clean(json.dumps(event))


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[io.StringIO]:
    """The redaction installed as a server installs it (LOG_LEVEL=DEBUG), undone afterwards; the root log."""
    root = logging.getLogger()
    saved_level, saved_config = root.level, structlog.get_config()
    original_configure = structlog.configure
    monkeypatch.setattr(logging, "_logRecordFactory", logging.getLogRecordFactory())
    monkeypatch.setattr(logging.Handler, "handle", logging.Handler.handle)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    monkeypatch.setattr(structlog, "configure", structlog.configure)
    monkeypatch.setenv("LOG_LEVEL", "INFO")
    monkeypatch.setitem(log_privacy._state, "installed", False)
    output = io.StringIO()
    handler = logging.StreamHandler(output)
    root.addHandler(handler)
    try:
        install_log_privacy(load_settings({"CLINIC_VAR_DIR": str(tmp_path), "LOG_LEVEL": "DEBUG"}))
        yield output
    finally:
        root.removeHandler(handler)
        root.setLevel(saved_level)
        logging.captureWarnings(False)
        original_configure(**saved_config)


def test_installed_every_logger_and_handler_is_scrubbed(installed: io.StringIO) -> None:
    quiet = logging.getLogger("sanic.access")
    own = logging.StreamHandler(io.StringIO())
    quiet.addHandler(own)  # a handler added later, by someone else, on a logger that does not propagate
    quiet.propagate = False
    try:
        quiet.info("", extra={"request": "GET http://127.0.0.1:5005/webhooks/sms?From=%2B15555550123", "status": 200})
        logging.getLogger("rasa.core.actions.action").debug(
            "Validating extracted slots: %s", {"patient_name": "Jordan"}
        )
        logging.getLogger("bot.records.sql").info("identity check by mobile: %s", "P-1001")
    finally:
        quiet.removeHandler(own)
        quiet.propagate = True
    written = own.stream.getvalue() if isinstance(own.stream, io.StringIO) else ""
    assert written == "\n" and "+15555550123" not in written
    log = installed.getvalue()
    assert "Validating extracted slots: [redacted]" in log and "Jordan" not in log
    assert f"identity check by mobile: {patient_ref('P-1001')}" in log and "P-1001" not in log


def test_installed_rasa_structlog_is_redacted(installed: io.StringIO) -> None:
    from rasa.utils.log_utils import configure_structlog

    configure_structlog()  # what `rasa run` does after our install, with LOG_LEVEL=DEBUG
    structlogger = structlog.get_logger()
    text = "my name is Jordan Rivera, born 03/14/1990, cell 555-201-1234"
    try:
        raise ValueError("the turn failed")
    except ValueError:
        structlogger.exception("rest.message.received.failure", text=copy.deepcopy(text))
    structlogger.debug("processor.slots.log", slot_values="\tpatient_name: Jordan Rivera")
    structlogger.debug("processor.message.parse", parse_data_text=text, parse_data_intent={"name": "inform"})
    log = installed.getvalue()
    assert "rest.message.received.failure" in log and "ValueError: the turn failed" in log
    assert "processor.message.parse" in log and "inform" in log
    assert "locals" not in log
    assert_clean(log)


def test_installed_uncaught_exceptions_are_logged_scrubbed(installed: io.StringIO) -> None:
    sys.excepthook(ValueError, ValueError("bad date 03/14/1990 for Jordan Rivera's file"), None)
    log = installed.getvalue()
    assert "uncaught ValueError" in log and "03/14/1990" not in log
