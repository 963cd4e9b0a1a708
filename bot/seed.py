"""Load the demo clinic (``bot/seed_data/demo_clinic.yml``) into the clinic database.

The database is made to match the file: clinic facts, hours, providers, visit
types and schedules are upserted (providers and visit types dropped from the
file are deactivated, not deleted, because appointments refer to them);
demo patients are upserted by record id; demo appointments are upserted by id
at their dates relative to today. Running it twice on the same day changes
nothing; on a later day only the demo appointments move. Nothing personal is
logged.

``python -m bot.seed`` migrates the database first, then seeds it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

import yaml
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from bot.db import session_scope
from bot.records.models import Patient
from bot.records.normalize import normalize_us_mobile, parse_name
from bot.records.sql import allocate_counter_floor, patient_number
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
    self_pay_cents: Optional[int]


@dataclass(frozen=True)
class PatientSeed:
    """A demo patient entry of the data file."""

    patient_id: str
    full_name: str
    date_of_birth: dt.date
    mobile: str


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
    reason: Optional[str]


@dataclass(frozen=True)
class ClinicData:
    """Everything the data file says, validated."""

    name: str
    address: str
    phone: str
    hours: dict[int, tuple[Interval, ...]]
    closures: dict[dt.date, Optional[str]]
    insurance_accepted: tuple[str, ...]
    insurance_not_accepted: tuple[str, ...]
    visit_types: tuple[VisitTypeSeed, ...]
    providers: tuple[ProviderSeed, ...]
    patients: tuple[PatientSeed, ...]
    appointments: tuple[AppointmentSeed, ...]


def _need(mapping: Any, key: str, where: str) -> Any:
    if not isinstance(mapping, dict) or mapping.get(key) in (None, ""):
        raise SeedDataError(f"{where}: '{key}' is required")
    return mapping[key]


def _time(value: Any, where: str) -> dt.time:
    if not isinstance(value, str):
        raise SeedDataError(f"{where}: write times as quoted \"HH:MM\" strings")
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
                raise SeedDataError(f"{where}.{day}: write blocks as \"HH:MM-HH:MM\"")
            start_text, end_text = block.split("-")
            start, end = _time(start_text, f"{where}.{day}"), _time(end_text, f"{where}.{day}")
            if end <= start:
                raise SeedDataError(f"{where}.{day}: {block!r} ends before it starts")
            intervals.append((start, end))
        intervals.sort()
        for (_, prev_end), (next_start, _) in zip(intervals, intervals[1:]):
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


def load_clinic_data(path: Optional[Path] = None) -> ClinicData:
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

    insurance = raw.get("insurance") or {}
    return ClinicData(
        name=str(_need(clinic, "name", "clinic")),
        address=str(_need(clinic, "address", "clinic")),
        phone=str(_need(clinic, "phone", "clinic")),
        hours=_week(clinic.get("hours"), "clinic.hours"),
        closures=closures,
        insurance_accepted=tuple(str(name) for name in insurance.get("accepted") or []),
        insurance_not_accepted=tuple(str(name) for name in insurance.get("not_accepted") or []),
        visit_types=tuple(visit_types),
        providers=tuple(providers),
        patients=tuple(patients),
        appointments=tuple(appointments),
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
                logger.warning("seed: demo appointment %s skipped, its time is taken by %s", seed.appointment_id, clash[0])
                continue
        if row is None:
            session.add(Appointment(id=seed.appointment_id, created_at=stamp, updated_at=stamp, **values))
        else:
            _assign(row, **values)
            row.updated_at = stamp
        session.flush()
        changes += 1
    return changes


def seed_demo_clinic(
    url: Optional[str] = None, today: Optional[dt.date] = None, data_path: Optional[Path] = None
) -> None:
    """Make the clinic database match the demo clinic file, relative to ``today``; idempotent."""
    data = load_clinic_data(data_path)
    day = today or get_settings().today()
    stamp = dt.datetime.now(dt.timezone.utc)
    with session_scope(url) as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEED_LOCK_KEY})
        changes = _sync_clinic(session, data)
        changes += _sync_catalog(session, data)
        changes += _sync_patients(session, data, stamp)
        changes += _sync_appointments(session, data, day, stamp)
    logger.info("seed: demo clinic loaded for %s (%d changes)", day.isoformat(), changes)


def main(argv: Optional[Sequence[str]] = None) -> int:
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
