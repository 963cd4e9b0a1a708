"""Patient data never reaches a log file: one redaction for every record of every process.

:func:`install_log_privacy` runs once at the start of each process (the Rasa
server, the action server, the command line) before anything configures logging.
It wraps the log record factory, so every record of every logger (ours, Rasa's,
rasa-sdk's, Sanic's, at any level, whatever handler later writes it) is
formatted once and scrubbed before any filter or handler sees it, exception
text included; structlog, which Rasa 3.6 uses for most of its debug lines, is
made to redact its events (and to render exceptions without local variables)
and to write through standard logging. Warnings and uncaught exceptions go
through logging too.

What is removed (:func:`scrub`): message texts and slot values where Rasa and
rasa-sdk print them (event reprs, slot dumps, parse data, JSON and dict
payloads under content keys), free text in single quotes, SQL statement
parameters, URL query strings, emails, phone numbers, dates, member ids and
record numbers. Record numbers become :func:`patient_ref` (a keyed hash), so
two lines about one patient can still be matched by someone holding the key.
Identifiers (intent, action, slot and response names) stay readable.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, MutableMapping
from types import TracebackType
from typing import Any

from bot.settings import Settings

REDACTED = "[redacted]"
"""What stands where patient data was: says that something was there, not what."""

_SCRUBBED_FLAG = "_patient_data_scrubbed"

# --- record numbers --------------------------------------------------------

_state: dict[str, Any] = {"installed": False, "key": None}


def _key() -> bytes:
    """The keyed-hash secret set by :func:`install_log_privacy` (the channel secret).

    A process that never installed the redaction (a unit test, a script) gets a
    random key of its own rather than reading or creating the demo's secret file:
    its references are consistent within the process only.
    """
    if _state["key"] is None:
        _state["key"] = secrets.token_bytes(32)
    key: bytes = _state["key"]
    return key


def patient_ref(patient_id: object) -> str:
    """A log-safe stand-in for a medical record number: ``pt-`` and 12 hex digits of an HMAC.

    Keyed with the channel secret (``CHANNEL_ID_SECRET``, or the demo's one
    under ``var/``), so nobody without the key can tell which record it is, and
    the same record gives the same reference in every process.
    """
    if patient_id is None or str(patient_id).strip() == "":
        return "(no record)"
    value = str(patient_id).strip().upper()
    return "pt-" + hmac.new(_key(), f"log-patient-ref\x00{value}".encode(), hashlib.sha256).hexdigest()[:12]


# --- the scrubber ------------------------------------------------------------

# Keys whose value is patient content wherever they appear in a JSON object or a
# Python dict repr (Rasa events, parse data, tracker dumps, rasa-sdk payloads).
_CONTENT_KEYS = (
    "text|value|metadata|message|user_message|json_message|user_text|response_text|parse_data_text|token_text"
    "|slots|slot_values|prefilled_slots|slot_candidates|latest_message|tracker_latest_message"
    "|data|buttons|quick_replies|title|payload|custom|attachment|image|elements|body|args|argv"
    "|full_name|first_name|last_name|patient_name|preferred_name|legal_name|given_name|family_name"
    "|date_of_birth|dob|birth_date|birthdate|phone|mobile|phone_number|email|address|street|member_id"
    "|subscriber|subscriber_name|guardian|contact|emergency_contact|medications|allergies|reason|symptoms"
    "|answers|values|draft|intake|note|notes|summary"
)
_KEYED_VALUE = re.compile(r"""(?P<q>["'])(?:""" + _CONTENT_KEYS + r""")(?P=q)\s*:\s*""", re.IGNORECASE)
# Keys whose value is rendered text that must stay readable (patterns still apply).
_SAFE_JSON_KEYS = frozenset({"event", "event_key", "event_info", "level", "logger", "exception", "stack", "timestamp"})
_JSON_STRING_VALUE = re.compile(r'"(?P<key>[\w.-]+)"\s*:\s*"(?P<value>(?:[^"\\]|\\.)*)"')

# Rasa's event reprs: UserUttered(text: …, intent: …), BotUttered(text: …, data: …),
# SlotSet(key: …, value: …), and what rasa-sdk and Rasa print around them.
_USER_UTTERED = re.compile(
    r"UserUttered\(text: (?P<text>.*?), intent: (?P<intent>[^,)]*)(?P<entities>, entities: .*?)?"
    r"(?=, use_text_for_featurization:|\)\s*$)",
    re.DOTALL,
)
_BOT_UTTERED = re.compile(r"(?P<head>(?:BotUttered|AgentUttered)\(text: ).*?(?=, data: )", re.DOTALL)
_BOT_UTTERED_REPR = re.compile(r"(?P<head>BotUttered\()'.*?'(?=, [\[{n])", re.DOTALL)
_SLOT_SET = re.compile(r"(?P<head>SlotSet\(key: [\w.-]+, value: )")
_SLOT_LINE = re.compile(r"^(?P<head>\t[\w.-]+: )(?P<value>.+)$", re.MULTILINE)
_SLOTS_AFTER_WORDS = re.compile(r"(?P<head>\b(?:slots?|slot values|values|events?)(?: [\w-]+)?: )(?=[\[{])", re.I)
_SQL_PARAMETERS = re.compile(r"\[parameters: .*?\](?=\s*(?:\n|\(Background|$))", re.DOTALL)
_PG_DETAIL = re.compile(r"(?P<head>\bKey \([^)]*\)=\().*?(?=\))")
_QUERY_STRING = re.compile(r"(?<=[\w/])\?[^\s\"'<>]+")
_QUOTED_FREE_TEXT = re.compile(r"(?<![\w\\])'(?P<value>[^'\n]*\s[^'\n]*)'(?!\w)")
_SAFE_VALUE = re.compile(
    r"^(?:None|True|False|null|true|false|\[\]|\{\}|''|\"\"|-?\d{1,3}|-?\d+\.\d+|[a-z][a-z0-9]*(?:_[a-z0-9]+)+)$"
)

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_DATA = re.compile(
    "|".join(
        (
            # dates: ISO (with an optional time), numeric, written
            r"(?<![\w.])\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?(?!\w)",
            r"(?<![\w./-])\d{1,2}(?P<sep>[/-])\d{1,2}(?P=sep)(?:\d{4}|\d{2})(?![\w/-])",
            r"(?<![\w./-])\d{1,2}\.\d{1,2}\.\d{4}(?![\w/-]|\.\d)",  # 14.03.1990, not a version like 3.6.21
            r"(?<![\w/])\d{4}/\d{1,2}/\d{1,2}(?![\w/])",
            rf"(?i:\b{_MONTH}\.?\s+{_DAY}(?:,?\s+\d{{4}})?\b|\b{_DAY}\s+(?:of\s+)?{_MONTH}\.?(?:,?\s+\d{{4}})?\b"
            rf"|\b{_MONTH}\.?,?\s+\d{{4}}\b)",
            # phone numbers: E.164, US with any separators, 7-digit local numbers with a separator
            r"(?<![\w+])\+\d[\d\s().-]{6,18}\d(?!\w)",
            r"(?<![\w+.-])(?:1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}(?![\w-]|\.\d)",
            r"(?<![\w.-])\d{3}[\s.-]\d{4}(?![\w-])",
            # member ids: a few letters then 6+ digits (W123456789, XYZ-1234567), or a long run of digits
            r"(?<![\w-])(?!pt-)[A-Za-z]{1,4}[- ]?\d{6,}[A-Za-z0-9]*(?![\w-])",
            r"(?<![\w.-])\d{8,}(?![\w-]|\.\d)",
        )
    )
)
"""Data of a known shape, anywhere: dates, phone numbers, member ids (one pass)."""
_EMAIL = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+")
_HAS_DIGIT = re.compile(r"\d").search
_RECORD_NUMBER = re.compile(r"(?<![\w-])[Pp]-\d+(?![\w-])")


def _value_end(text: str, start: int) -> int:
    """Where the value that starts at ``start`` ends: a quoted string, a bracketed structure, or a bare word."""
    if start >= len(text):
        return start
    first = text[start]
    if first in "\"'":
        index = start + 1
        while index < len(text):
            char = text[index]
            if char == "\\":
                index += 2
                continue
            if char == first:
                return index + 1
            index += 1
        return len(text)
    if first in "[{(":
        return _bracket_end(text, start)
    index = start
    while index < len(text) and text[index] not in ",}])\n":
        index += 1
    return index


def _bracket_end(text: str, start: int) -> int:
    """The index after the bracket that closes the one at ``start``, skipping quoted parts."""
    end = _enclosure_end(text, start + 1)
    return min(end + 1, len(text))


def _enclosure_end(text: str, start: int) -> int:
    """The index of the first closing bracket after ``start`` that closes nothing opened after it."""
    depth = 0
    index = start
    quote = ""
    while index < len(text):
        char = text[index]
        if quote:
            if char == "\\":
                index += 2
                continue
            if char == quote:
                quote = ""
        elif char in "\"'" and (index == 0 or not text[index - 1].isalnum()):
            quote = char
        elif char in "[{(":
            depth += 1
        elif char in "]})":
            if depth == 0:
                return index
            depth -= 1
        index += 1
    return len(text)


def _redact_keyed_values(text: str) -> str:
    """Replace the value after every content key (``"text": …``, ``'value': …``) by the placeholder."""
    parts: list[str] = []
    position = 0
    for match in _KEYED_VALUE.finditer(text):
        if match.start() < position:
            continue
        end = _value_end(text, match.end())
        value = text[match.end() : end].strip()
        parts.append(text[position : match.end()])
        if _SAFE_VALUE.match(value.strip("\"'")) and value not in ("''", '""'):
            parts.append(text[match.end() : end])
        else:
            quote = text[match.end()] if match.end() < len(text) and text[match.end()] in "\"'" else ""
            parts.append(f"{quote}{REDACTED}{quote}")
        position = end
    parts.append(text[position:])
    return "".join(parts)


def _redact_after(pattern: re.Pattern[str], text: str, until_close: bool) -> str:
    """Replace what follows each match of ``pattern`` (up to the enclosing bracket's close, or one value)."""
    parts: list[str] = []
    position = 0
    for match in pattern.finditer(text):
        if match.start() < position:
            continue
        end = _enclosure_end(text, match.end()) if until_close else _value_end(text, match.end())
        value = text[match.end() : end].strip()
        parts.append(text[position : match.end()])
        parts.append(text[match.end() : end] if _SAFE_VALUE.match(value) else REDACTED)
        position = end
    parts.append(text[position:])
    return "".join(parts)


def _user_uttered(match: re.Match[str]) -> str:
    intent = match.group("intent")
    entities = ", entities: " + REDACTED if match.group("entities") else ""
    return f"UserUttered(text: {REDACTED}, intent: {intent}{entities}"


def _json_string(match: re.Match[str]) -> str:
    """A JSON string value with a space in it (free text) under a key not known to be safe."""
    key, value = match.group("key"), match.group("value")
    if key in _SAFE_JSON_KEYS or " " not in value:
        return match.group(0)
    return f'"{key}": "{REDACTED}"'


def _quoted_free_text(match: re.Match[str]) -> str:
    value = match.group("value")
    return match.group(0) if value.strip() == REDACTED else f"'{REDACTED}'"


def _record_ref(match: re.Match[str]) -> str:
    return patient_ref(match.group(0))


def scrub(text: str) -> str:
    """``text`` with message texts, names, dates, phone numbers, emails, member ids and record numbers removed."""
    if not text:
        return text
    if "Uttered(" in text:
        text = _USER_UTTERED.sub(_user_uttered, text)
        text = _BOT_UTTERED.sub(lambda m: m.group("head") + REDACTED, text)
        text = _BOT_UTTERED_REPR.sub(lambda m: m.group("head") + f"'{REDACTED}'", text)
    if "SlotSet(" in text:
        text = _redact_after(_SLOT_SET, text, until_close=True)
    if ":" in text:
        if "'" in text or '"' in text:
            text = _redact_keyed_values(text)
        if "\t" in text:
            text = _SLOT_LINE.sub(
                lambda m: m.group("head") + (m.group("value") if _SAFE_VALUE.match(m.group("value")) else REDACTED),
                text,
            )
        text = _redact_after(_SLOTS_AFTER_WORDS, text, until_close=False)
        if '"' in text:
            text = _JSON_STRING_VALUE.sub(_json_string, text)
        if "[parameters: " in text:
            text = _SQL_PARAMETERS.sub(f"[parameters: {REDACTED}]", text)
        if "Key (" in text:
            text = _PG_DETAIL.sub(lambda m: m.group("head") + REDACTED, text)
    if "'" in text:
        text = _QUOTED_FREE_TEXT.sub(_quoted_free_text, text)
    if "?" in text:
        text = _QUERY_STRING.sub("?" + REDACTED, text)
    if "-" in text:
        text = _RECORD_NUMBER.sub(_record_ref, text)
    if "@" in text:
        text = _EMAIL.sub(REDACTED, text)
    if _HAS_DIGIT(text):
        text = _DATA.sub(REDACTED, text)
    return text


# --- standard logging ---------------------------------------------------------


def _format_exception(exc_info: tuple[type[BaseException], BaseException, TracebackType | None]) -> str:
    """The traceback as text (no local variables), without its last newline."""
    return "".join(traceback.format_exception(*exc_info)).rstrip("\n")


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Format the record's message once, scrub it and its exception text, in place (idempotent)."""
    if getattr(record, _SCRUBBED_FLAG, False):
        return record
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: keep what can be kept
        message = f"{record.msg!s} (unformattable arguments)"
    record.msg = scrub(message)
    record.args = ()
    if record.exc_info and record.exc_info[0] is not None:
        record.exc_text = scrub(_format_exception(record.exc_info))
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = scrub(record.exc_text)
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)
    setattr(record, _SCRUBBED_FLAG, True)
    return record


_STANDARD_ATTRIBUTES = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys() | {"message", "asctime", _SCRUBBED_FLAG}
)


def redact_extras(record: logging.LogRecord) -> logging.LogRecord:
    """Scrub the string attributes a caller added with ``extra=`` (Sanic's access log puts the URL there)."""
    for name, value in list(record.__dict__.items()):
        if name not in _STANDARD_ATTRIBUTES and isinstance(value, str):
            record.__dict__[name] = scrub(value)
    return record


def _install_record_factory() -> None:
    """Every record is scrubbed when it is made, before any filter sees it."""
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact_record(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)


def _install_handler_guard() -> None:
    """Every handler, whoever configured it and whenever, scrubs what it is handed (extras included).

    Records made without the factory (``logging.makeLogRecord``) and the
    ``extra=`` attributes, which are set after the factory ran, are caught here.
    """
    original: Callable[[logging.Handler, logging.LogRecord], Any] = logging.Handler.handle

    def handle(self: logging.Handler, record: logging.LogRecord) -> Any:
        return original(self, redact_extras(redact_record(record)))

    logging.Handler.handle = handle  # type: ignore[method-assign]


# --- structlog -----------------------------------------------------------------

# structlog keys whose value is content (Rasa's own anonymizer list, and more).
_STRUCTLOG_CONTENT_KEYS = frozenset(
    {
        "text",
        "response_text",
        "user_text",
        "slot_values",
        "parse_data_text",
        "parse_data_entities",
        "prediction_events",
        "tracker_latest_message",
        "prefilled_slots",
        "message",
        "response",
        "slot_candidates",
        "rasa_event",
        "rasa_events",
        "tracker_states",
        "current_states",
        "old_states",
        "successes",
        "current_entity",
        "next_entity",
        "states",
        "entity",
        "token_text",
        "user_message",
        "json_message",
        "events",
        "metadata",
        "value",
        "slots",
        "payload",
        "body",
        "headers",
    }
)


def redact_event_dict(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: content keys replaced, other values scrubbed, exceptions rendered without locals."""
    exc_info = event_dict.pop("exc_info", None)
    if exc_info:
        if exc_info is True:
            exc_info = sys.exc_info()
        elif isinstance(exc_info, BaseException):
            exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
        if isinstance(exc_info, tuple) and exc_info[0] is not None:
            event_dict["exception"] = scrub(_format_exception(exc_info))
    for key, value in list(event_dict.items()):
        if key == "exception":
            continue
        if key in _STRUCTLOG_CONTENT_KEYS:
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _scrub_value(value)
    return event_dict


_CONTENT_KEY_SET = frozenset(_CONTENT_KEYS.split("|"))


def _scrub_value(value: Any, depth: int = 0) -> Any:
    """A structlog value made safe, keeping its shape (so JSON stays JSON): content keys replaced, text scrubbed."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value if scrub(str(value)) == str(value) else REDACTED
    if isinstance(value, str):
        return scrub(value)
    if depth < 6 and isinstance(value, dict):
        return {
            key: REDACTED if str(key).lower() in _CONTENT_KEY_SET else _scrub_value(item, depth + 1)
            for key, item in value.items()
        }
    if depth < 6 and isinstance(value, (list, tuple, set, frozenset)):
        return [_scrub_value(item, depth + 1) for item in value]
    return scrub(str(value))


def _is_exception_renderer(processor: Any) -> bool:
    import structlog

    return isinstance(processor, structlog.processors.ExceptionRenderer) or processor is getattr(
        structlog.processors, "format_exc_info", None
    )


def with_redaction(processors: Iterable[Any]) -> list[Any]:
    """``processors`` with :func:`redact_event_dict` before any exception rendering and before the renderer."""
    chain = [p for p in processors if p is not redact_event_dict]
    position = next((i for i, p in enumerate(chain) if _is_exception_renderer(p)), max(len(chain) - 1, 0))
    chain.insert(position, redact_event_dict)
    return chain


def _install_structlog(level: int) -> None:
    """Make every structlog configuration (ours now, Rasa's later) redact and write through logging."""
    try:
        import structlog
    except ImportError:  # pragma: no cover - Rasa always brings it
        return
    original: Callable[..., None] = getattr(structlog.configure, "__wrapped_by_log_privacy__", structlog.configure)

    def configure(*args: Any, **kwargs: Any) -> None:
        processors = kwargs.get("processors")
        if processors is not None:
            kwargs["processors"] = with_redaction(processors)
        kwargs["logger_factory"] = structlog.stdlib.LoggerFactory()
        original(*args, **kwargs)

    configure.__wrapped_by_log_privacy__ = original  # type: ignore[attr-defined]
    structlog.configure = configure
    configure(
        processors=[
            structlog.stdlib.filter_by_level,
            structlog.processors.add_log_level,
            structlog.dev.set_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=False,
    )


# --- uncaught exceptions ------------------------------------------------------


def _install_excepthooks() -> None:
    log = logging.getLogger("bot.uncaught")

    def excepthook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, error, tb)
            return
        log.critical("uncaught %s", kind.__name__, exc_info=(kind, error, tb))

    def thread_excepthook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit or args.exc_value is None:
            return
        log.critical(
            "uncaught %s in a thread",
            args.exc_type.__name__,
            exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
        )

    sys.excepthook = excepthook
    threading.excepthook = thread_excepthook


# --- installation -----------------------------------------------------------------


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def install_log_privacy(settings: Settings, fmt: str = LOG_FORMAT) -> None:
    """Install the redaction for this process and set its log level from ``LOG_LEVEL``; idempotent.

    Call it first thing in a process, before Rasa or Sanic configure logging:
    the record factory then scrubs every record created afterwards, whatever
    logger, level or handler. ``LOG_LEVEL`` is also put in the environment,
    where Rasa reads it and child processes inherit it.
    """
    from bot.channel_identity import ChannelNotConfigured, channel_secret

    try:
        _state["key"] = channel_secret(settings)
    except (ChannelNotConfigured, OSError):
        _state["key"] = None
    level = logging.getLevelName(settings.log_level)
    os.environ["LOG_LEVEL"] = settings.log_level
    if not _state["installed"]:
        _install_record_factory()
        _install_handler_guard()
        logging.captureWarnings(True)
        _install_excepthooks()
        _state["installed"] = True
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=level, format=fmt)
    root.setLevel(level)
    _install_structlog(level)
