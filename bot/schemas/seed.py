"""The clinic seed file (``bot/seed_data/*.yml``) as a schema: its shape, its rules, and its cross-references."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import Field, StrictInt, confloat, conint, constr, root_validator, validator

from bot.records.models import RELATIONSHIPS
from bot.records.normalize import fold, normalize_us_mobile, parse_name
from bot.records.sql import patient_number
from bot.records.sql_coverage import best_alias_match
from bot.records.sql_visits import business_day_range
from bot.scheduling.models import APPOINTMENT_STATUSES, STATUS_BOOKED
from bot.schemas.base import FileModel

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Interval = tuple[dt.time, dt.time]
if TYPE_CHECKING:
    Text = str
    Code = str
    Dollars = float
    Minutes = int
    Days = int
else:
    Text = constr(strip_whitespace=True, min_length=1)
    Code = constr(strip_whitespace=True, to_lower=True, regex=r"^[a-z0-9_]+$")
    Dollars = confloat(ge=0)
    Minutes = conint(strict=True, gt=0)
    Days = conint(strict=True, ge=0)


def _cents(dollars: float | None) -> int | None:
    """Dollars as written -> cents as stored."""
    return None if dollars is None else int(round(dollars * 100))


def _clock(value: str) -> dt.time:
    """``"08:00"`` -> 08:00, or a ValueError that says how to write it."""
    try:
        return dt.time.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a HH:MM time") from None


class ClockTime(dt.time):
    """A wall-clock time written as a quoted ``"HH:MM"`` (unquoted, YAML reads 10:00 as a number)."""

    @classmethod
    def __get_validators__(cls) -> Iterator[Callable[[Any], dt.time]]:
        """Pydantic's hook."""
        yield cls.validate

    @classmethod
    def __modify_schema__(cls, schema: dict[str, Any]) -> None:
        """Editors check the quoting and the shape."""
        schema.update(type="string", pattern=r"^\d{2}:\d{2}$", examples=["10:00"])

    @classmethod
    def validate(cls, value: Any) -> dt.time:
        """Only text, then HH:MM."""
        if not isinstance(value, str):
            raise TypeError('write times as quoted "HH:MM" strings')
        return _clock(value)


class TimeBlock(tuple[dt.time, dt.time]):
    """An opening block written ``"HH:MM-HH:MM"``, ending after it starts."""

    @classmethod
    def __get_validators__(cls) -> Iterator[Callable[[Any], TimeBlock]]:
        """Pydantic's hook."""
        yield cls.validate

    @classmethod
    def __modify_schema__(cls, schema: dict[str, Any]) -> None:
        """Editors check the shape."""
        schema.update(type="string", pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}$", examples=["08:00-12:00"])

    @classmethod
    def validate(cls, value: Any) -> TimeBlock:
        """``"08:00-12:00"`` -> (08:00, 12:00)."""
        if not isinstance(value, str) or value.count("-") != 1:
            raise TypeError('write blocks as "HH:MM-HH:MM"')
        start_text, end_text = value.split("-")
        start, end = _clock(start_text), _clock(end_text)
        if end <= start:
            raise ValueError(f"{value!r} ends before it starts")
        return cls((start, end))


class Week(FileModel):
    """Opening blocks per weekday; a missing or empty day is closed."""

    mon: list[TimeBlock] = []
    tue: list[TimeBlock] = []
    wed: list[TimeBlock] = []
    thu: list[TimeBlock] = []
    fri: list[TimeBlock] = []
    sat: list[TimeBlock] = []
    sun: list[TimeBlock] = []

    @validator("*", pre=True)
    def _empty_day(cls, value: Any) -> Any:
        """``sun:`` with nothing after it is a closed day."""
        return [] if value is None else value

    @validator("*")
    def _no_overlap(cls, blocks: list[TimeBlock]) -> list[TimeBlock]:
        """Blocks of one day never overlap; they are kept in time order."""
        ordered = sorted(blocks)
        for (_, prev_end), (next_start, _) in zip(ordered, ordered[1:], strict=False):
            if next_start < prev_end:
                raise ValueError("blocks overlap")
        return ordered

    @property
    def by_weekday(self) -> dict[int, tuple[Interval, ...]]:
        """Weekday number (Monday 0) -> its blocks, open days only."""
        days = {index: tuple(getattr(self, day)) for index, day in enumerate(WEEKDAYS)}
        return {index: blocks for index, blocks in days.items() if blocks}


class Closure(FileModel):
    """A whole-clinic closed day (a holiday)."""

    date: dt.date
    reason: str | None = None


class ClinicFacts(FileModel):
    """The clinic's name, address, phone, opening hours and closures."""

    name: Text
    address: Text
    phone: Text
    hours: Week = Week()
    closures: list[Closure] = []

    @validator("hours", "closures", pre=True)
    def _nothing_is_empty(cls, value: Any, field: Any) -> Any:
        """``closures:`` with nothing after it means none."""
        return field.default if value is None else value


@dataclass(frozen=True)
class Carrier:
    """A carrier the clinic has a policy on, with its folded aliases (name and code included)."""

    code: str
    name: str
    accepted: bool
    note: str | None
    aliases: tuple[str, ...]


class CarrierEntry(FileModel):
    """A carrier as written: a name, or code, name, aliases and an optional note."""

    name: Text = Field(description="what patients read")
    code: Code | None = Field(None, description="stable lower_snake_case key (default: the name folded)")
    aliases: list[Text] = []
    note: str | None = None

    @validator("code", always=True)
    def _default_code(cls, code: str | None, values: dict[str, Any]) -> str | None:
        """Without a code, the folded name is the code."""
        if code is None and values.get("name"):
            return fold(values["name"]).replace(" ", "_")
        return code

    @validator("note")
    def _one_line(cls, note: str | None) -> str | None:
        """Notes are sentences: line breaks from YAML folding are spaces."""
        return " ".join(note.split()) or None if note else None

    def folded_aliases(self) -> tuple[str, ...]:
        """Name, code and aliases, folded the way patients' words are, without repeats."""
        keys = (fold(alias) for alias in [self.name, str(self.code).replace("_", " "), *self.aliases])
        return tuple(dict.fromkeys(key for key in keys if key))


class Insurance(FileModel):
    """Carriers accepted and not accepted."""

    accepted: list[CarrierEntry] = []
    not_accepted: list[CarrierEntry] = []

    @validator("accepted", "not_accepted", pre=True)
    def _none_is_empty(cls, value: Any) -> Any:
        """An empty group may be written bare; ``- Aetna`` is short for ``- {name: Aetna}``."""
        if value is None:
            return []
        if isinstance(value, list):
            return [{"name": item} if isinstance(item, str) else item for item in value]
        return value

    @root_validator(skip_on_failure=True)
    def _one_owner_per_alias(cls, values: dict[str, Any]) -> dict[str, Any]:
        """A code and an alias each belong to one carrier."""
        owner: dict[str, str] = {}
        codes: set[str] = set()
        for group in ("accepted", "not_accepted"):
            for index, entry in enumerate(values[group]):
                if entry.code in codes:
                    raise ValueError(f"insurance.{group}[{index}]: carrier code {entry.code!r} is used twice")
                codes.add(entry.code)
                for alias in entry.folded_aliases():
                    if owner.setdefault(alias, entry.code) != entry.code:
                        raise ValueError(f"insurance.{group}[{index}]: alias {alias!r} also belongs to {owner[alias]}")
        return values

    @property
    def carriers(self) -> tuple[Carrier, ...]:
        """Every carrier, accepted ones first, in file order."""
        return tuple(
            Carrier(str(entry.code), entry.name, accepted, entry.note, entry.folded_aliases())
            for entries, accepted in ((self.accepted, True), (self.not_accepted, False))
            for entry in entries
        )


class VisitTypeEntry(FileModel):
    """A kind of visit, its length and self-pay price."""

    code: Text
    name: Text
    minutes: Minutes
    self_pay_usd: Dollars | None = None

    @property
    def self_pay_cents(self) -> int | None:
        """The self-pay price in cents, as the database keeps it."""
        return _cents(self.self_pay_usd)


class ProviderEntry(FileModel):
    """A provider, the visit types they offer and their weekly schedule."""

    provider_id: Text = Field(alias="id")
    name: Text
    short_name: Text | None = None
    title: Text
    specialty: Text
    visit_types: list[Text]
    schedule: Week = Week()

    @validator("schedule", pre=True)
    def _no_schedule(cls, value: Any) -> Any:
        """``schedule:`` with nothing after it: never bookable."""
        return {} if value is None else value

    @validator("short_name", always=True)
    def _short_is_name(cls, short: str | None, values: dict[str, Any]) -> str | None:
        """Without a short name, the full name is used."""
        return short or values.get("name")


class CoverageEntry(FileModel):
    """A demo patient's insurance; no subscriber means the patient."""

    carrier: Text = Field(description="a carrier code or name from the insurance lists")
    plan: str | None = None
    member_id: str | None = None
    subscriber: str | None = None
    relationship: str = Field("self", enum=list(RELATIONSHIPS))
    copay_primary_care_usd: Dollars | None = None
    copay_specialist_usd: Dollars | None = None

    @validator("member_id")
    def _upper_member_id(cls, value: str | None) -> str | None:
        """Member ids are compared in capitals."""
        return value.upper() if value else None

    @validator("relationship", pre=True)
    def _known_relationship(cls, value: Any) -> str:
        """One of the relationships the records know."""
        text = str(value or "self").strip().lower()
        if text not in RELATIONSHIPS:
            raise ValueError(f"relationship must be one of {', '.join(RELATIONSHIPS)}")
        return text

    @validator("subscriber")
    def _subscriber_name(cls, value: str | None) -> str | None:
        """The subscriber's name, tidied like patients' names."""
        return parse_name(value).full_name if value else None

    @root_validator(skip_on_failure=True)
    def _subscriber_unless_self(cls, values: dict[str, Any]) -> dict[str, Any]:
        """Someone else's plan names them."""
        if values["subscriber"] is None and values["relationship"] != "self":
            raise ValueError("a subscriber is required unless the relationship is self")
        return values

    @property
    def primary_care_copay_cents(self) -> int | None:
        """The primary-care copay in cents."""
        return _cents(self.copay_primary_care_usd)

    @property
    def specialist_copay_cents(self) -> int | None:
        """The specialist copay in cents."""
        return _cents(self.copay_specialist_usd)


class PatientEntry(FileModel):
    """A demo patient."""

    patient_id: Text = Field(alias="id", pattern=r"^P-\d+$")
    full_name: Text
    date_of_birth: dt.date
    mobile: Text
    texts: bool = Field(False, description="The patient agreed to texts the clinic sends first (reminders, offers).")
    coverage: CoverageEntry | None = None

    @validator("patient_id", pre=True)
    def _record_id(cls, value: Any) -> Any:
        """Record ids look like P-1001 (the counter continues after them)."""
        if patient_number(str(value)) is None:
            raise ValueError("ids look like P-1001")
        return value

    @validator("mobile")
    def _us_mobile(cls, value: str) -> str:
        """Mobiles are kept as +1 and ten digits."""
        return normalize_us_mobile(value)


class AppointmentEntry(FileModel):
    """A demo appointment, dated relative to today."""

    appointment_id: Text = Field(alias="id")
    patient_id: Text = Field(alias="patient")
    provider_id: Text = Field(alias="provider")
    visit_type: Text
    days_from_today: StrictInt = 0
    time: ClockTime
    status: str = Field(STATUS_BOOKED, enum=list(APPOINTMENT_STATUSES))
    reason: str | None = None

    @validator("status")
    def _known_status(cls, value: str) -> str:
        """One of the statuses the scheduler knows."""
        if value not in APPOINTMENT_STATUSES:
            raise ValueError(f"status must be one of {', '.join(APPOINTMENT_STATUSES)}")
        return value


class Medication(FileModel):
    """A medicine in an after-visit summary."""

    name: Text
    how_to_take: Text


class FollowUp(FileModel):
    """The follow-up advice of a visit."""

    text: Text
    due_in_days: Days | None = None


class PendingResult(FileModel):
    """A test whose result is not back: expected within business days or by a date."""

    test: Text
    expected_business_days: StrictInt | list[StrictInt] | None = Field(
        None, description="a number, or [fewest, most] working days after the visit"
    )
    expected_by_date: dt.date | None = None

    @validator("expected_business_days", pre=True)
    def _days(cls, value: Any) -> Any:
        """3 or [3, 5], fewest first."""
        if value is None:
            return None
        low, high = business_day_range(value)
        return [low, high]

    @root_validator(skip_on_failure=True)
    def _when(cls, values: dict[str, Any]) -> dict[str, Any]:
        """A pending result says when it is expected."""
        if values["expected_by_date"] is None and values["expected_business_days"] is None:
            raise ValueError("expected_business_days or expected_by_date is required")
        return values

    def stored(self) -> dict[str, Any]:
        """The form the visit record keeps (a date wins over business days)."""
        if self.expected_by_date is not None:
            return {"test": self.test, "expected_by_date": self.expected_by_date.isoformat()}
        return {"test": self.test, "expected_business_days": self.expected_business_days}


class VisitEntry(FileModel):
    """A visit that took place, with its after-visit summary, dated relative to today."""

    visit_id: Text = Field(alias="id")
    patient_id: Text = Field(alias="patient")
    appointment_id: Text | None = Field(None, alias="appointment")
    provider_id: Text = Field(alias="provider")
    days_from_today: StrictInt = 0
    diagnosis: Text
    instructions: list[Text] = []
    medications: list[Medication] = []
    follow_up: FollowUp | None = None
    pending_results: list[PendingResult] = []

    @validator("diagnosis")
    def _one_line(cls, value: str) -> str:
        """Line breaks from YAML folding are spaces."""
        return " ".join(value.split())

    @validator("instructions", each_item=True)
    def _one_line_each(cls, value: str) -> str:
        """Each instruction is one sentence on one line."""
        return " ".join(value.split())


def _duplicates(ids: list[str]) -> list[str]:
    """Ids that occur more than once."""
    return sorted(key for key, count in Counter(ids).items() if count > 1)


class ReminderOffset(FileModel):
    """One reminder before a visit: so many days before, at a clinic-local time."""

    days_before: int = Field(..., ge=0, le=30)
    at: ClockTime


class QuietHours(FileModel):
    """No text leaves between ``start`` and ``end`` (clinic time; across midnight when start > end)."""

    start: ClockTime
    end: ClockTime


class Outreach(FileModel):
    """What the clinic texts first, and when (``python -m bot worker`` sends it)."""

    reminders: list[ReminderOffset] = []
    quiet_hours: QuietHours
    follow_up_offer_at: ClockTime | None = Field(
        None, description="Time of day a due follow-up is offered by text; leave out to never offer one."
    )
    notes_ready_at: ClockTime | None = Field(
        None, description="Time of day, the day after a visit, the visit-notes text goes out; leave out for none."
    )
    waitlist: bool = Field(True, description="Whether freed times are offered to the waitlist.")

    @validator("reminders", pre=True)
    def _none_is_empty(cls, value: Any) -> Any:
        """``reminders:`` with nothing after it means none."""
        return [] if value is None else value


class SeedFile(FileModel):
    """The whole seed file; keys starting with ``x-`` hold YAML anchors and are ignored."""

    clinic: ClinicFacts
    insurance: Insurance = Insurance()
    visit_types: list[VisitTypeEntry]
    providers: list[ProviderEntry]
    patients: list[PatientEntry] = []
    appointments: list[AppointmentEntry] = []
    visits: list[VisitEntry] = []
    outreach: Outreach | None = None

    class Config:
        """``x-`` keys are allowed in editors too."""

        @staticmethod
        def schema_extra(schema: dict[str, Any]) -> None:
            """Anchors live under ``x-`` keys."""
            schema["patternProperties"] = {"^x-": {}}

    @root_validator(pre=True)
    def _drop_anchors(cls, values: Any) -> Any:
        """``x-weekdays: &weekdays`` only exists to be merged elsewhere; empty lists may be written bare."""
        if not isinstance(values, dict):
            return values
        kept = {k: v for k, v in values.items() if not str(k).startswith("x-")}
        for key in ("insurance", "patients", "appointments", "visits"):
            if key in kept and kept[key] is None:
                del kept[key]
        return kept

    @root_validator(skip_on_failure=True)
    def _references(cls, values: dict[str, Any]) -> dict[str, Any]:
        """Ids are unique and every reference points at something the file defines."""
        problems: list[str] = []
        for key, attr in (
            ("visit_types", "code"),
            ("providers", "provider_id"),
            ("patients", "patient_id"),
            ("appointments", "appointment_id"),
            ("visits", "visit_id"),
        ):
            repeated = _duplicates([getattr(item, attr) for item in values[key]])
            if repeated:
                problems.append(f"{key}: ids must be unique, repeated: {', '.join(repeated)}")
        codes = {vt.code for vt in values["visit_types"]}
        providers = {p.provider_id for p in values["providers"]}
        patients = {p.patient_id for p in values["patients"]}
        appointments = {a.appointment_id for a in values["appointments"]}
        for index, provider in enumerate(values["providers"]):
            unknown = set(provider.visit_types) - codes
            if unknown:
                problems.append(f"providers[{index}].visit_types: unknown visit types {sorted(unknown)}")
        aliases = {alias: c.code for c in values["insurance"].carriers for alias in c.aliases}
        carrier_codes = set(aliases.values())
        for index, patient in enumerate(values["patients"]):
            cover = patient.coverage
            if cover is not None and _carrier_code(cover.carrier, carrier_codes, aliases) is None:
                problems.append(f"patients[{index}].coverage.carrier: {cover.carrier!r} is not in the insurance lists")
        for key, items in (("appointments", values["appointments"]), ("visits", values["visits"])):
            for index, item in enumerate(items):
                if item.patient_id not in patients:
                    problems.append(f"{key}[{index}].patient: unknown patient {item.patient_id!r}")
                if item.provider_id not in providers:
                    problems.append(f"{key}[{index}].provider: unknown provider {item.provider_id!r}")
                if key == "appointments" and item.visit_type not in codes:
                    problems.append(f"{key}[{index}].visit_type: unknown visit type {item.visit_type!r}")
                if key == "visits" and item.appointment_id is not None and item.appointment_id not in appointments:
                    problems.append(f"{key}[{index}].appointment: unknown appointment {item.appointment_id!r}")
        if problems:
            raise ValueError("\n".join(problems))
        return values

    @property
    def carriers(self) -> tuple[Carrier, ...]:
        """Every carrier of the insurance lists."""
        return self.insurance.carriers

    @property
    def insurance_accepted(self) -> tuple[str, ...]:
        """Names of the accepted carriers, in file order."""
        return tuple(c.name for c in self.carriers if c.accepted)

    @property
    def insurance_not_accepted(self) -> tuple[str, ...]:
        """Names of the carriers the clinic does not take, in file order."""
        return tuple(c.name for c in self.carriers if not c.accepted)

    def carrier_code(self, written: str) -> str:
        """The code of the carrier a coverage entry names (by code, name or alias); validated at load."""
        aliases = {alias: c.code for c in self.carriers for alias in c.aliases}
        return _carrier_code(written, set(aliases.values()), aliases) or ""


def _carrier_code(written: str, codes: set[str], aliases: dict[str, str]) -> str | None:
    """A code as written, else the carrier whose alias the text holds."""
    code = written.strip().lower()
    return code if code in codes else best_alias_match(written, aliases)
