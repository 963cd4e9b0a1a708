"""Load the demo clinic (``bot/seed_data/demo_clinic.yml``) into the clinic database.

The database is made to match the file: clinic facts, hours, providers, visit
types and schedules are upserted (providers and visit types dropped from the
file are deactivated, not deleted, because appointments refer to them);
insurance carriers and their aliases are upserted the same way; demo
patients are upserted by record id, with their coverage (left alone once the
patient has submitted an intake form, whose answers win); demo appointments
and visits are upserted by id at their dates relative to today. Running it
twice on the same day changes nothing; on a later day only the demo
appointments and visits move. Nothing personal is logged.

``python -m bot.seed`` migrates the database first, then seeds it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from bot.db import session_scope
from bot.records.models import (
    RELATIONSHIPS,
    Coverage,
    InsuranceCarrier,
    InsuranceCarrierAlias,
    IntakeSubmission,
    Patient,
    Visit,
)
from bot.records.normalize import fold, normalize_us_mobile, parse_name
from bot.records.sql import allocate_counter_floor, patient_number
from bot.records.sql_coverage import best_alias_match
from bot.records.sql_visits import business_day_range
from bot.records.sqlbase import dumps
from bot.scheduling.models import (
    APPOINTMENT_STATUSES,
    STATUS_BOOKED,
    Appointment,
    Clinic,
    ClinicClosure,
    OpeningHours,
    Provider,
    ProviderVisitType,
    ScheduleBlock,
    VisitType,
)
from bot.settings import get_settings

logger = logging.getLogger(__name__)

DEFAULT_DATA_PATH = Path(__file__).resolve().parent / "seed_data" / "demo_clinic.yml"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SEED_CHANNEL = "seed"
SEED_LOCK_KEY = 727_002


class SeedDataError(ValueError):
    """The clinic data file is malformed; the message names the entry."""


Interval = tuple[dt.time, dt.time]


@dataclass(frozen=True)
class ProviderSeed:
    """A provider entry of the data file."""

    provider_id: str
    name: str
    short_name: str
    title: str
    specialty: str
    visit_types: tuple[str, ...]
    schedule: dict[int, tuple[Interval, ...]]


@dataclass(frozen=True)
class VisitTypeSeed:
    """A visit type entry of the data file."""

    code: str
    name: str
    minutes: int
    self_pay_cents: int | None


@dataclass(frozen=True)
class CarrierSeed:
    """An insurance carrier entry of the data file; ``aliases`` are folded and include name and code."""

    code: str
    name: str
    accepted: bool
    note: str | None
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class CoverageSeed:
    """A demo patient's insurance; ``subscriber`` None means the patient."""

    carrier_code: str
    plan: str | None
    member_id: str | None
    subscriber: str | None
    relationship: str
    primary_care_copay_cents: int | None
    specialist_copay_cents: int | None


@dataclass(frozen=True)
class PatientSeed:
    """A demo patient entry of the data file."""

    patient_id: str
    full_name: str
    date_of_birth: dt.date
    mobile: str
    coverage: CoverageSeed | None = None


@dataclass(frozen=True)
class VisitSeed:
    """A demo visit with its after-visit summary, dated relative to today."""

    visit_id: str
    patient_id: str
    appointment_id: str | None
    provider_id: str
    days_from_today: int
    diagnosis: str
    instructions: tuple[str, ...]
    medications: tuple[tuple[str, str], ...]
    follow_up_text: str | None
    follow_up_days: int | None
    pending_results: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class AppointmentSeed:
    """A demo appointment entry, dated relative to today."""

    appointment_id: str
    patient_id: str
    provider_id: str
    visit_type: str
    days_from_today: int
    time: dt.time
    status: str
    reason: str | None


@dataclass(frozen=True)
class ClinicData:
    """Everything the data file says, validated."""

    name: str
    address: str
    phone: str
    hours: dict[int, tuple[Interval, ...]]
    closures: dict[dt.date, str | None]
    insurance_accepted: tuple[str, ...]
    insurance_not_accepted: tuple[str, ...]
    visit_types: tuple[VisitTypeSeed, ...]
    providers: tuple[ProviderSeed, ...]
    patients: tuple[PatientSeed, ...]
    appointments: tuple[AppointmentSeed, ...]
    carriers: tuple[CarrierSeed, ...] = ()
    visits: tuple[VisitSeed, ...] = ()


def _need(mapping: Any, key: str, where: str) -> Any:
    if not isinstance(mapping, dict) or mapping.get(key) in (None, ""):
        raise SeedDataError(f"{where}: '{key}' is required")
    return mapping[key]


def _time(value: Any, where: str) -> dt.time:
    if not isinstance(value, str):
        raise SeedDataError(f'{where}: write times as quoted "HH:MM" strings')
    try:
        return dt.time.fromisoformat(value.strip())
    except ValueError as exc:
        raise SeedDataError(f"{where}: {value!r} is not a HH:MM time") from exc


def _week(value: Any, where: str) -> dict[int, tuple[Interval, ...]]:
    """Parse ``{mon: ["08:00-12:00", ...], ...}`` into weekday -> sorted intervals."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SeedDataError(f"{where}: expected weekdays mon..sun")
    week: dict[int, tuple[Interval, ...]] = {}
    for day, blocks in value.items():
        if day not in WEEKDAYS:
            raise SeedDataError(f"{where}: {day!r} is not one of {', '.join(WEEKDAYS)}")
        intervals = []
        for block in blocks or []:
            if not isinstance(block, str) or block.count("-") != 1:
                raise SeedDataError(f'{where}.{day}: write blocks as "HH:MM-HH:MM"')
            start_text, end_text = block.split("-")
            start, end = _time(start_text, f"{where}.{day}"), _time(end_text, f"{where}.{day}")
            if end <= start:
                raise SeedDataError(f"{where}.{day}: {block!r} ends before it starts")
            intervals.append((start, end))
        intervals.sort()
        for (_, prev_end), (next_start, _) in zip(intervals, intervals[1:], strict=False):
            if next_start < prev_end:
                raise SeedDataError(f"{where}.{day}: blocks overlap")
        if intervals:
            week[WEEKDAYS.index(day)] = tuple(intervals)
    return week


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise SeedDataError(f"{where}: {value!r} is not a YYYY-MM-DD date") from exc


def _usd_cents(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise SeedDataError(f"{where}: amounts must be non-negative numbers of dollars")
    return int(round(value * 100))


def _carriers(insurance: Any) -> tuple[CarrierSeed, ...]:
    """Parse ``insurance.accepted`` / ``not_accepted``: names, or mappings with code, name, aliases, note."""
    if not isinstance(insurance, dict):
        raise SeedDataError("insurance: expected 'accepted' and 'not_accepted' lists")
    carriers: list[CarrierSeed] = []
    owner: dict[str, str] = {}
    for group, accepted in (("accepted", True), ("not_accepted", False)):
        for index, item in enumerate(insurance.get(group) or []):
            where = f"insurance.{group}[{index}]"
            if isinstance(item, str):
                item = {"name": item}
            name = str(_need(item, "name", where))
            code = str(item.get("code") or fold(name).replace(" ", "_")).strip().lower()
            if not code or not all(ch.isalnum() or ch == "_" for ch in code):
                raise SeedDataError(f"{where}: code must be lower_snake_case")
            raw_aliases = item.get("aliases") or []
            if not isinstance(raw_aliases, list):
                raise SeedDataError(f"{where}: aliases must be a list")
            aliases = []
            for alias in [name, code.replace("_", " "), *map(str, raw_aliases)]:
                key = fold(alias)
                if not key or key in aliases:
                    continue
                if owner.get(key, code) != code:
                    raise SeedDataError(f"{where}: alias {alias!r} also belongs to {owner[key]}")
                owner[key] = code
                aliases.append(key)
            note = item.get("note")
            carriers.append(
                CarrierSeed(
                    code=code,
                    name=name,
                    accepted=accepted,
                    note=" ".join(str(note).split()) if note else None,
                    aliases=tuple(aliases),
                )
            )
    codes = [c.code for c in carriers]
    if len(set(codes)) != len(codes):
        raise SeedDataError("insurance: carrier codes must be unique")
    return tuple(carriers)


def _coverage(item: Any, where: str, carriers: tuple[CarrierSeed, ...]) -> CoverageSeed | None:
    if item is None:
        return None
    if not isinstance(item, dict):
        raise SeedDataError(f"{where}: expected a mapping")
    carrier_text = str(_need(item, "carrier", where))
    codes = {c.code for c in carriers}
    code = carrier_text.strip().lower()
    if code not in codes:
        code = best_alias_match(carrier_text, {a: c.code for c in carriers for a in c.aliases}) or ""
    if code not in codes:
        raise SeedDataError(f"{where}: carrier is not in the insurance lists")
    relationship = str(item.get("relationship") or "self").strip().lower()
    if relationship not in RELATIONSHIPS:
        raise SeedDataError(f"{where}: relationship must be one of {', '.join(RELATIONSHIPS)}")
    subscriber = item.get("subscriber")
    if subscriber is None and relationship != "self":
        raise SeedDataError(f"{where}: a subscriber is required unless the relationship is self")
    member_id = item.get("member_id")
    return CoverageSeed(
        carrier_code=code,
        plan=str(item["plan"]) if item.get("plan") else None,
        member_id=str(member_id).strip().upper() if member_id else None,
        subscriber=parse_name(str(subscriber)).full_name if subscriber else None,
        relationship=relationship,
        primary_care_copay_cents=_usd_cents(item.get("copay_primary_care_usd"), f"{where}.copay_primary_care_usd"),
        specialist_copay_cents=_usd_cents(item.get("copay_specialist_usd"), f"{where}.copay_specialist_usd"),
    )


def _text_list(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise SeedDataError(f"{where}: expected a list of sentences")
    return tuple(" ".join(v.split()) for v in value)


def _visit(
    item: Any, where: str, patient_ids: set[str], provider_ids: set[str], appointment_ids: set[str]
) -> VisitSeed:
    patient_id = str(_need(item, "patient", where))
    provider_id = str(_need(item, "provider", where))
    appointment_id = item.get("appointment")
    if patient_id not in patient_ids:
        raise SeedDataError(f"{where}: unknown patient")
    if provider_id not in provider_ids:
        raise SeedDataError(f"{where}: unknown provider")
    if appointment_id is not None and str(appointment_id) not in appointment_ids:
        raise SeedDataError(f"{where}: unknown appointment")
    medications = []
    for index, med in enumerate(item.get("medications") or []):
        medications.append(
            (
                str(_need(med, "name", f"{where}.medications[{index}]")),
                str(_need(med, "how_to_take", f"{where}.medications[{index}]")),
            )
        )
    follow_up = item.get("follow_up")
    follow_up_text: str | None = None
    follow_up_days: int | None = None
    if follow_up is not None:
        follow_up_text = str(_need(follow_up, "text", f"{where}.follow_up"))
        follow_up_days = follow_up.get("due_in_days")
        if follow_up_days is not None and (not isinstance(follow_up_days, int) or follow_up_days < 0):
            raise SeedDataError(f"{where}.follow_up: due_in_days must be a whole number of days")
    pending = []
    for index, result in enumerate(item.get("pending_results") or []):
        at = f"{where}.pending_results[{index}]"
        entry: dict[str, Any] = {"test": str(_need(result, "test", at))}
        if result.get("expected_by_date") is not None:
            entry["expected_by_date"] = _date(result["expected_by_date"], at).isoformat()
        else:
            try:
                low, high = business_day_range(_need(result, "expected_business_days", at))
            except ValueError as exc:
                raise SeedDataError(f"{at}: {exc}") from exc
            entry["expected_business_days"] = [low, high]
        pending.append(entry)
    days = item.get("days_from_today", 0)
    if not isinstance(days, int):
        raise SeedDataError(f"{where}: days_from_today must be a whole number")
    return VisitSeed(
        visit_id=str(_need(item, "id", where)),
        patient_id=patient_id,
        appointment_id=str(appointment_id) if appointment_id is not None else None,
        provider_id=provider_id,
        days_from_today=days,
        diagnosis=" ".join(str(_need(item, "diagnosis", where)).split()),
        instructions=_text_list(item.get("instructions"), f"{where}.instructions"),
        medications=tuple(medications),
        follow_up_text=follow_up_text,
        follow_up_days=follow_up_days,
        pending_results=tuple(pending),
    )


def load_clinic_data(path: Path | None = None) -> ClinicData:
    """Read and validate the clinic data file (default: the demo clinic)."""
    source = Path(path or DEFAULT_DATA_PATH)
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SeedDataError(f"{source.name}: not valid YAML ({exc.__class__.__name__})") from exc
    if not isinstance(raw, dict):
        raise SeedDataError(f"{source.name}: expected a mapping at the top")

    clinic = _need(raw, "clinic", "file")
    closures = {}
    for index, item in enumerate(clinic.get("closures") or []):
        where = f"clinic.closures[{index}]"
        closures[_date(_need(item, "date", where), where)] = item.get("reason")

    visit_types = []
    for index, item in enumerate(_need(raw, "visit_types", "file")):
        where = f"visit_types[{index}]"
        minutes = _need(item, "minutes", where)
        price = item.get("self_pay_usd")
        if not isinstance(minutes, int) or minutes <= 0:
            raise SeedDataError(f"{where}: minutes must be a positive whole number")
        if price is not None and (not isinstance(price, (int, float)) or price < 0):
            raise SeedDataError(f"{where}: self_pay_usd must be a non-negative number")
        visit_types.append(
            VisitTypeSeed(
                code=str(_need(item, "code", where)),
                name=str(_need(item, "name", where)),
                minutes=minutes,
                self_pay_cents=None if price is None else int(round(price * 100)),
            )
        )
    codes = {vt.code for vt in visit_types}
    if len(codes) != len(visit_types):
        raise SeedDataError("visit_types: codes must be unique")

    providers = []
    for index, item in enumerate(_need(raw, "providers", "file")):
        where = f"providers[{index}]"
        offered = tuple(str(code) for code in _need(item, "visit_types", where))
        unknown = set(offered) - codes
        if unknown:
            raise SeedDataError(f"{where}: unknown visit types {sorted(unknown)}")
        providers.append(
            ProviderSeed(
                provider_id=str(_need(item, "id", where)),
                name=str(_need(item, "name", where)),
                short_name=str(item.get("short_name") or item["name"]),
                title=str(_need(item, "title", where)),
                specialty=str(_need(item, "specialty", where)),
                visit_types=offered,
                schedule=_week(item.get("schedule"), f"{where}.schedule"),
            )
        )
    provider_ids = {p.provider_id for p in providers}
    if len(provider_ids) != len(providers):
        raise SeedDataError("providers: ids must be unique")

    insurance = raw.get("insurance") or {}
    carriers = _carriers(insurance)

    patients = []
    for index, item in enumerate(raw.get("patients") or []):
        where = f"patients[{index}]"
        patient_id = str(_need(item, "id", where))
        if patient_number(patient_id) is None:
            raise SeedDataError(f"{where}: ids look like P-1001")
        patients.append(
            PatientSeed(
                patient_id=patient_id,
                full_name=str(_need(item, "full_name", where)),
                date_of_birth=_date(_need(item, "date_of_birth", where), where),
                mobile=normalize_us_mobile(str(_need(item, "mobile", where))),
                coverage=_coverage(item.get("coverage"), f"{where}.coverage", carriers),
            )
        )
    patient_ids = {p.patient_id for p in patients}

    appointments = []
    for index, item in enumerate(raw.get("appointments") or []):
        where = f"appointments[{index}]"
        seed = AppointmentSeed(
            appointment_id=str(_need(item, "id", where)),
            patient_id=str(_need(item, "patient", where)),
            provider_id=str(_need(item, "provider", where)),
            visit_type=str(_need(item, "visit_type", where)),
            days_from_today=int(item.get("days_from_today") or 0),
            time=_time(_need(item, "time", where), where),
            status=str(item.get("status") or STATUS_BOOKED),
            reason=item.get("reason"),
        )
        if seed.patient_id not in patient_ids:
            raise SeedDataError(f"{where}: unknown patient")
        if seed.provider_id not in provider_ids or seed.visit_type not in codes:
            raise SeedDataError(f"{where}: unknown provider or visit type")
        if seed.status not in APPOINTMENT_STATUSES:
            raise SeedDataError(f"{where}: status must be one of {', '.join(APPOINTMENT_STATUSES)}")
        appointments.append(seed)

    appointment_ids = {a.appointment_id for a in appointments}
    visits = [
        _visit(item, f"visits[{index}]", patient_ids, provider_ids, appointment_ids)
        for index, item in enumerate(raw.get("visits") or [])
    ]
    if len({v.visit_id for v in visits}) != len(visits):
        raise SeedDataError("visits: ids must be unique")

    return ClinicData(
        name=str(_need(clinic, "name", "clinic")),
        address=str(_need(clinic, "address", "clinic")),
        phone=str(_need(clinic, "phone", "clinic")),
        hours=_week(clinic.get("hours"), "clinic.hours"),
        closures=closures,
        insurance_accepted=tuple(c.name for c in carriers if c.accepted),
        insurance_not_accepted=tuple(c.name for c in carriers if not c.accepted),
        visit_types=tuple(visit_types),
        providers=tuple(providers),
        patients=tuple(patients),
        appointments=tuple(appointments),
        carriers=carriers,
        visits=tuple(visits),
    )


def _assign(row: Any, **values: Any) -> int:
    """Set attributes that differ; the count of changes keeps re-runs write-free."""
    changed = 0
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed += 1
    return changed


def _sync_clinic(session: Session, data: ClinicData) -> int:
    changes = 0
    clinic = session.get(Clinic, 1)
    if clinic is None:
        session.add(Clinic(id=1, name=data.name, address=data.address, phone=data.phone))
        changes += 1
    else:
        changes += _assign(clinic, name=data.name, address=data.address, phone=data.phone)

    wanted_hours = {(day, start, end) for day, blocks in data.hours.items() for start, end in blocks}
    for row in session.execute(select(OpeningHours)).scalars():
        key = (row.weekday, row.opens_at, row.closes_at)
        if key in wanted_hours:
            wanted_hours.discard(key)
        else:
            session.delete(row)
            changes += 1
    session.flush()
    for day, start, end in sorted(wanted_hours):
        session.add(OpeningHours(weekday=day, opens_at=start, closes_at=end))
        changes += 1

    existing_closures = {row.day: row for row in session.execute(select(ClinicClosure)).scalars()}
    for day, row in existing_closures.items():
        if day not in data.closures:
            session.delete(row)
            changes += 1
    for day, reason in data.closures.items():
        if day in existing_closures:
            changes += _assign(existing_closures[day], reason=reason)
        else:
            session.add(ClinicClosure(day=day, reason=reason))
            changes += 1
    return changes


def _sync_catalog(session: Session, data: ClinicData) -> int:
    changes = 0
    visit_types = {row.code: row for row in session.execute(select(VisitType)).scalars()}
    for order, seed in enumerate(data.visit_types):
        values = dict(
            display_name=seed.name,
            duration_minutes=seed.minutes,
            self_pay_price_cents=seed.self_pay_cents,
            active=True,
            sort_order=order,
        )
        row = visit_types.pop(seed.code, None)
        if row is None:
            session.add(VisitType(code=seed.code, **values))
            changes += 1
        else:
            changes += _assign(row, **values)
    for row in visit_types.values():
        changes += _assign(row, active=False)

    providers = {row.id: row for row in session.execute(select(Provider)).scalars()}
    for order, seed in enumerate(data.providers):
        values = dict(
            display_name=seed.name,
            short_name=seed.short_name,
            title=seed.title,
            specialty=seed.specialty,
            active=True,
            sort_order=order,
        )
        row = providers.pop(seed.provider_id, None)
        if row is None:
            session.add(Provider(id=seed.provider_id, **values))
            changes += 1
        else:
            changes += _assign(row, **values)
    for row in providers.values():
        changes += _assign(row, active=False)
    session.flush()

    wanted_offers = {(p.provider_id, code) for p in data.providers for code in p.visit_types}
    seeded = {p.provider_id for p in data.providers}
    for row in session.execute(select(ProviderVisitType)).scalars():
        key = (row.provider_id, row.visit_type_code)
        if key in wanted_offers:
            wanted_offers.discard(key)
        elif row.provider_id in seeded:
            session.delete(row)
            changes += 1
    for provider_id, code in sorted(wanted_offers):
        session.add(ProviderVisitType(provider_id=provider_id, visit_type_code=code))
        changes += 1

    wanted_blocks = {
        (p.provider_id, day, start, end)
        for p in data.providers
        for day, blocks in p.schedule.items()
        for start, end in blocks
    }
    for row in session.execute(select(ScheduleBlock)).scalars():
        key = (row.provider_id, row.weekday, row.starts_at, row.ends_at)
        if key in wanted_blocks:
            wanted_blocks.discard(key)
        elif row.provider_id in seeded:
            session.delete(row)
            changes += 1
    session.flush()
    for provider_id, day, start, end in sorted(wanted_blocks):
        session.add(ScheduleBlock(provider_id=provider_id, weekday=day, starts_at=start, ends_at=end))
        changes += 1
    return changes


def _sync_patients(session: Session, data: ClinicData, stamp: dt.datetime) -> int:
    changes = 0
    for seed in data.patients:
        name = parse_name(seed.full_name)
        values = dict(
            full_name=name.full_name,
            first_name=name.first_name,
            last_name=name.last_name,
            name_key=name.key,
            date_of_birth=seed.date_of_birth,
            mobile=seed.mobile,
        )
        clash = session.execute(
            select(Patient.id).where(
                Patient.name_key == name.key,
                Patient.date_of_birth == seed.date_of_birth,
                Patient.id != seed.patient_id,
            )
        ).first()
        if clash is not None:
            logger.warning("seed: demo patient %s skipped, identity registered as %s", seed.patient_id, clash[0])
            continue
        row = session.get(Patient, seed.patient_id)
        if row is None:
            session.add(Patient(id=seed.patient_id, created_at=stamp, **values))
            changes += 1
        else:
            changes += _assign(row, **values)
    highest = max((patient_number(p.patient_id) or 0 for p in data.patients), default=0)
    if highest:
        allocate_counter_floor(session, highest)
    return changes


def _sync_appointments(session: Session, data: ClinicData, today: dt.date, stamp: dt.datetime) -> int:
    tz = get_settings().tz
    durations = {vt.code: vt.minutes for vt in data.visit_types}
    changes = 0
    session.flush()
    for seed in data.appointments:
        start = dt.datetime.combine(today + dt.timedelta(days=seed.days_from_today), seed.time, tzinfo=tz)
        end = start + dt.timedelta(minutes=durations[seed.visit_type])
        values = dict(
            patient_id=seed.patient_id,
            provider_id=seed.provider_id,
            visit_type_code=seed.visit_type,
            start_at=start,
            end_at=end,
            status=seed.status,
            reason=seed.reason,
            channel=SEED_CHANNEL,
            cancelled_at=None,
            rescheduled_from_id=None,
        )
        row = session.get(Appointment, seed.appointment_id)
        if row is not None and all(getattr(row, key) == value for key, value in values.items()):
            continue
        if row is not None and row.status != seed.status:
            successor = session.execute(
                select(Appointment.id).where(
                    Appointment.rescheduled_from_id == row.id, Appointment.status == STATUS_BOOKED
                )
            ).first()
            if successor is not None:
                # The patient moved it during the demo; restoring would double-book them.
                continue
        if seed.status == STATUS_BOOKED:
            clash = session.execute(
                select(Appointment.id).where(
                    Appointment.provider_id == seed.provider_id,
                    Appointment.status == STATUS_BOOKED,
                    Appointment.start_at < end,
                    Appointment.end_at > start,
                    Appointment.id != seed.appointment_id,
                )
            ).first()
            if clash is not None:
                logger.warning(
                    "seed: demo appointment %s skipped, its time is taken by %s", seed.appointment_id, clash[0]
                )
                continue
        if row is None:
            session.add(Appointment(id=seed.appointment_id, created_at=stamp, updated_at=stamp, **values))
        else:
            _assign(row, **values)
            row.updated_at = stamp
        session.flush()
        changes += 1
    return changes


def _sync_carriers(session: Session, data: ClinicData) -> int:
    changes = 0
    rows = {row.code: row for row in session.execute(select(InsuranceCarrier)).scalars()}
    for order, seed in enumerate(data.carriers):
        values = dict(display_name=seed.name, accepted=seed.accepted, note=seed.note, active=True, sort_order=order)
        row = rows.pop(seed.code, None)
        if row is None:
            session.add(InsuranceCarrier(code=seed.code, **values))
            changes += 1
        else:
            changes += _assign(row, **values)
    for row in rows.values():
        changes += _assign(row, active=False)
    session.flush()
    wanted = {alias: seed.code for seed in data.carriers for alias in seed.aliases}
    for row in session.execute(select(InsuranceCarrierAlias)).scalars():
        if wanted.get(row.alias) == row.carrier_code:
            del wanted[row.alias]
        else:
            session.delete(row)
            changes += 1
    session.flush()
    for alias, code in sorted(wanted.items()):
        session.add(InsuranceCarrierAlias(alias=alias, carrier_code=code))
        changes += 1
    return changes


def _sync_coverage(session: Session, data: ClinicData, stamp: dt.datetime) -> int:
    """Demo coverage as in the file, unless the patient's own intake answers have replaced it."""
    changes = 0
    session.flush()
    for seed in data.patients:
        patient = session.get(Patient, seed.patient_id)
        if patient is None:
            continue
        submitted = session.execute(
            select(IntakeSubmission.id).where(IntakeSubmission.patient_id == seed.patient_id).limit(1)
        ).first()
        if submitted is not None:
            continue
        active = session.execute(
            select(Coverage).where(Coverage.patient_id == seed.patient_id, Coverage.active.is_(True))
        ).scalar_one_or_none()
        if active is not None and active.source != "seed":
            continue
        cover = seed.coverage
        if cover is None:
            if active is not None:
                changes += _assign(active, active=False)
            continue
        carrier = session.get(InsuranceCarrier, cover.carrier_code)
        values = dict(
            carrier_code=cover.carrier_code,
            carrier_name=carrier.display_name if carrier is not None else cover.carrier_code,
            plan_name=cover.plan,
            member_id=cover.member_id,
            subscriber_name=cover.subscriber or patient.full_name,
            relationship=cover.relationship,
            primary_care_copay_cents=cover.primary_care_copay_cents,
            specialist_copay_cents=cover.specialist_copay_cents,
        )
        if active is not None:
            changes += _assign(active, **values)
            continue
        latest = session.execute(
            select(Coverage.version).where(Coverage.patient_id == seed.patient_id).order_by(Coverage.version.desc())
        ).first()
        session.add(
            Coverage(
                patient_id=seed.patient_id,
                version=(latest[0] if latest else 0) + 1,
                active=True,
                source="seed",
                created_at=stamp,
                **values,
            )
        )
        changes += 1
    return changes


def _sync_visits(session: Session, data: ClinicData, today: dt.date, stamp: dt.datetime) -> int:
    providers = {p.provider_id: p.name for p in data.providers}
    changes = 0
    for seed in data.visits:
        if session.get(Patient, seed.patient_id) is None:
            continue
        values = dict(
            patient_id=seed.patient_id,
            appointment_id=seed.appointment_id,
            provider_id=seed.provider_id,
            provider_name=providers[seed.provider_id],
            visit_date=today + dt.timedelta(days=seed.days_from_today),
            diagnosis_plain=seed.diagnosis,
            instructions_json=dumps(list(seed.instructions)),
            medications_json=dumps([{"name": name, "how_to_take": how} for name, how in seed.medications]),
            follow_up_text=seed.follow_up_text,
            follow_up_due_in_days=seed.follow_up_days,
            pending_results_json=dumps(list(seed.pending_results)),
        )
        row = session.get(Visit, seed.visit_id)
        if row is None:
            session.add(Visit(id=seed.visit_id, created_at=stamp, **values))
            changes += 1
        else:
            changes += _assign(row, **values)
    return changes


def seed_demo_clinic(url: str | None = None, today: dt.date | None = None, data_path: Path | None = None) -> None:
    """Make the clinic database match the demo clinic file, relative to ``today``; idempotent."""
    data = load_clinic_data(data_path)
    day = today or get_settings().today()
    stamp = dt.datetime.now(dt.timezone.utc)
    with session_scope(url) as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEED_LOCK_KEY})
        changes = _sync_clinic(session, data)
        changes += _sync_catalog(session, data)
        changes += _sync_carriers(session, data)
        changes += _sync_patients(session, data, stamp)
        changes += _sync_coverage(session, data, stamp)
        changes += _sync_appointments(session, data, day, stamp)
        changes += _sync_visits(session, data, day, stamp)
    logger.info("seed: demo clinic loaded for %s (%d changes)", day.isoformat(), changes)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: migrate, then seed the demo clinic (``--today`` to pin the date)."""
    parser = argparse.ArgumentParser(prog="python -m bot.seed", description=__doc__)
    parser.add_argument("--url", help="database URL (default: CLINIC_DATABASE_URL)")
    parser.add_argument("--today", type=dt.date.fromisoformat, help="the day (default: CLINIC_TODAY or today)")
    parser.add_argument("--no-migrate", action="store_true", help="skip the schema upgrade")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if not args.no_migrate:
        from bot.migrate import upgrade

        upgrade(args.url)
    seed_demo_clinic(args.url, args.today)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
