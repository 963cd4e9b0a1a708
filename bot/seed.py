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
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from bot.db import session_scope
from bot.log_privacy import patient_ref
from bot.outreach.models import OutreachPolicy
from bot.records.models import (
    Coverage,
    InsuranceCarrier,
    InsuranceCarrierAlias,
    IntakeSubmission,
    Patient,
    Visit,
)
from bot.records.normalize import parse_name
from bot.records.sql import allocate_counter_floor, patient_number
from bot.records.sqlbase import dumps
from bot.scheduling.models import (
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
from bot.schemas.base import describe
from bot.schemas.seed import SeedFile
from bot.settings import get_settings

logger = logging.getLogger(__name__)

DEFAULT_DATA_PATH = Path(__file__).resolve().parent / "seed_data" / "demo_clinic.yml"
SEED_CHANNEL = "seed"
SEED_LOCK_KEY = 727_002


class SeedDataError(ValueError):
    """The clinic data file is malformed; the message names the file and the place in it."""


class _DatesAsText(yaml.SafeLoader):
    """YAML without implicit dates: a wrong date reaches the schema, which names its place."""

    yaml_implicit_resolvers = {
        first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


def load_clinic_data(path: Path | None = None) -> SeedFile:
    """Read and validate the clinic data file (default: the demo clinic) against its schema."""
    source = Path(path or DEFAULT_DATA_PATH)
    try:
        raw = yaml.load(source.read_text(encoding="utf-8"), Loader=_DatesAsText)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        raise SeedDataError(f"{source.name}: not valid YAML ({exc.__class__.__name__})") from exc
    if not isinstance(raw, dict):
        raise SeedDataError(f"{source.name}: expected a mapping at the top")
    try:
        return SeedFile.parse_obj(raw)
    except ValidationError as exc:
        raise SeedDataError(describe(exc, source.name)) from None


def _assign(row: Any, **values: Any) -> int:
    """Set attributes that differ; the count of changes keeps re-runs write-free."""
    changed = 0
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed += 1
    return changed


def _sync_clinic(session: Session, data: SeedFile) -> int:
    changes = 0
    facts = data.clinic
    closures = {closure.date: closure.reason for closure in facts.closures}
    clinic = session.get(Clinic, 1)
    if clinic is None:
        session.add(Clinic(id=1, name=facts.name, address=facts.address, phone=facts.phone))
        changes += 1
    else:
        changes += _assign(clinic, name=facts.name, address=facts.address, phone=facts.phone)

    wanted_hours = {
        (weekday, start, end) for weekday, blocks in facts.hours.by_weekday.items() for start, end in blocks
    }
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
    for closed_day, closure_row in existing_closures.items():
        if closed_day not in closures:
            session.delete(closure_row)
            changes += 1
    for closed_day, reason in closures.items():
        if closed_day in existing_closures:
            changes += _assign(existing_closures[closed_day], reason=reason)
        else:
            session.add(ClinicClosure(day=closed_day, reason=reason))
            changes += 1
    return changes


def _sync_catalog(session: Session, data: SeedFile) -> int:
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
    for order, provider in enumerate(data.providers):
        values = dict(
            display_name=provider.name,
            short_name=provider.short_name,
            title=provider.title,
            specialty=provider.specialty,
            active=True,
            sort_order=order,
        )
        provider_row = providers.pop(provider.provider_id, None)
        if provider_row is None:
            session.add(Provider(id=provider.provider_id, **values))
            changes += 1
        else:
            changes += _assign(provider_row, **values)
    for provider_row in providers.values():
        changes += _assign(provider_row, active=False)
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
        for day, blocks in p.schedule.by_weekday.items()
        for start, end in blocks
    }
    for block_row in session.execute(select(ScheduleBlock)).scalars():
        block = (block_row.provider_id, block_row.weekday, block_row.starts_at, block_row.ends_at)
        if block in wanted_blocks:
            wanted_blocks.discard(block)
        elif block_row.provider_id in seeded:
            session.delete(block_row)
            changes += 1
    session.flush()
    for provider_id, day, start, end in sorted(wanted_blocks):
        session.add(ScheduleBlock(provider_id=provider_id, weekday=day, starts_at=start, ends_at=end))
        changes += 1
    return changes


def _sync_patients(session: Session, data: SeedFile, stamp: dt.datetime) -> int:
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
            logger.warning(
                "seed: demo patient %s skipped, identity registered as %s",
                patient_ref(seed.patient_id),
                patient_ref(clash[0]),
            )
            continue
        row = session.get(Patient, seed.patient_id)
        if row is None:
            row = Patient(id=seed.patient_id, created_at=stamp, **values)
            session.add(row)
            changes += 1
        else:
            changes += _assign(row, **values)
        if seed.texts and row.sms_consent_at is None:
            # `texts: yes` records consent; `no` never withdraws what the patient said themselves.
            row.sms_consent_at = stamp
            changes += 1
    highest = max((patient_number(p.patient_id) or 0 for p in data.patients), default=0)
    if highest:
        allocate_counter_floor(session, highest)
    return changes


def _sync_outreach(session: Session, data: SeedFile) -> int:
    """The clinic's texting rules (no ``outreach:`` section: no row, so nothing is texted first)."""
    row = session.get(OutreachPolicy, 1)
    if data.outreach is None:
        if row is not None:
            session.delete(row)
            return 1
        return 0
    policy = data.outreach
    values = dict(
        reminders_json=dumps([{"days_before": r.days_before, "at": r.at.strftime("%H:%M")} for r in policy.reminders]),
        quiet_start=policy.quiet_hours.start,
        quiet_end=policy.quiet_hours.end,
        follow_up_offer_at=policy.follow_up_offer_at,
        notes_ready_at=policy.notes_ready_at,
        waitlist_offers=1 if policy.waitlist else 0,
    )
    if row is None:
        session.add(OutreachPolicy(id=1, **values))
        return 1
    return _assign(row, **values)


def _sync_appointments(session: Session, data: SeedFile, today: dt.date, stamp: dt.datetime) -> int:
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


def _sync_carriers(session: Session, data: SeedFile) -> int:
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


def _sync_coverage(session: Session, data: SeedFile, stamp: dt.datetime) -> int:
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
        carrier_code = data.carrier_code(cover.carrier)
        carrier = session.get(InsuranceCarrier, carrier_code)
        values = dict(
            carrier_code=carrier_code,
            carrier_name=carrier.display_name if carrier is not None else carrier_code,
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


def _sync_visits(session: Session, data: SeedFile, today: dt.date, stamp: dt.datetime) -> int:
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
            medications_json=dumps([{"name": m.name, "how_to_take": m.how_to_take} for m in seed.medications]),
            follow_up_text=seed.follow_up.text if seed.follow_up else None,
            follow_up_due_in_days=seed.follow_up.due_in_days if seed.follow_up else None,
            pending_results_json=dumps([result.stored() for result in seed.pending_results]),
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
        changes += _sync_outreach(session, data)
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
