"""Joining and leaving the waitlist and texting consent, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from bot.db import get_engine
from bot.outreach.service import NoTextConsent, OutreachUnavailable
from bot.outreach.sql import SqlOutreachService
from tests.fixtures_db import CLOSED_PORT_URL, NOW, TODAY, race

JORDAN = "P-1001"
ANA = "P-1002"


def service(url: str) -> SqlOutreachService:
    return SqlOutreachService(url)  # type: ignore[abstract]  # other mixins land in this session


def execute(url: str, sql: str, **params: object) -> None:
    with get_engine(url).begin() as conn:
        conn.execute(sa.text(sql), params)


def days(first: int, last: int) -> tuple[dt.date, dt.date]:
    return TODAY + dt.timedelta(days=first), TODAY + dt.timedelta(days=last)


def test_join_stores_one_waiting_entry(db_url: str, scalar: Callable[..., object]) -> None:
    entry = service(db_url).join_waitlist(JORDAN, "sick_visit", "patel", *days(1, 7), channel="rest", now=NOW)
    assert (entry.visit_type, entry.provider_id, entry.status) == ("sick_visit", "patel", "waiting")
    assert (entry.from_date, entry.to_date) == days(1, 7)
    assert scalar("SELECT count(*) FROM waitlist_entries WHERE patient_id = :p", p=JORDAN) == 1
    assert service(db_url).waitlist_of(JORDAN) == [entry]


def test_same_wish_twice_keeps_one_entry_with_the_wider_range(db_url: str, scalar: Callable[..., object]) -> None:
    outreach = service(db_url)
    first = outreach.join_waitlist(JORDAN, "follow_up", None, *days(3, 6), channel="rest", now=NOW)
    second = outreach.join_waitlist(JORDAN, "follow_up", None, *days(1, 10), channel="sms", now=NOW)
    assert second.entry_id == first.entry_id and second.joined_at == first.joined_at
    assert (second.from_date, second.to_date) == days(1, 10)
    narrower = outreach.join_waitlist(JORDAN, "follow_up", None, *days(4, 5), channel="rest", now=NOW)
    assert (narrower.from_date, narrower.to_date) == days(1, 10)
    # Another provider is another wish.
    other = outreach.join_waitlist(JORDAN, "follow_up", "okafor", *days(1, 2), channel="rest", now=NOW)
    assert other.entry_id != first.entry_id
    assert scalar("SELECT count(*) FROM waitlist_entries WHERE status = 'waiting'") == 2


def test_two_joins_at_once_still_keep_one_entry(db_url: str, scalar: Callable[..., object]) -> None:
    outreach = service(db_url)
    results = race(
        [
            lambda: outreach.join_waitlist(JORDAN, "sick_visit", None, *days(1, 5), channel="rest", now=NOW),
            lambda: outreach.join_waitlist(JORDAN, "sick_visit", None, *days(2, 9), channel="sms", now=NOW),
        ]
    )
    assert not [r for r in results if isinstance(r, Exception)]
    assert scalar("SELECT count(*) FROM waitlist_entries") == 1
    assert outreach.waitlist_of(JORDAN)[0].to_date == days(1, 9)[1]


def test_a_range_starting_before_today_starts_today(db_url: str) -> None:
    entry = service(db_url).join_waitlist(JORDAN, "sick_visit", None, *days(-3, 4), channel="rest", now=NOW)
    assert entry.from_date == TODAY


@pytest.mark.parametrize(
    ("first", "last", "words"),
    [(-10, -2, "past"), (5, 2, "ends before"), (0, 60, "longer than 60 days"), (10, 100, "longer")],
)
def test_bad_ranges_are_refused_with_a_reason(db_url: str, first: int, last: int, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        service(db_url).join_waitlist(JORDAN, "sick_visit", None, *days(first, last), channel="rest", now=NOW)
    assert service(db_url).waitlist_of(JORDAN) == []


def test_sixty_days_are_allowed(db_url: str) -> None:
    entry = service(db_url).join_waitlist(JORDAN, "sick_visit", None, *days(0, 59), channel="rest", now=NOW)
    assert (entry.to_date - entry.from_date).days == 59


@pytest.mark.parametrize(
    ("visit_type", "provider", "words"),
    [
        ("brain_surgery", None, "unknown visit type"),
        ("sick_visit", "house", "unknown provider"),
        ("skin_check", "romero", "does not offer"),
    ],
)
def test_unknown_choices_are_refused(db_url: str, visit_type: str, provider: str | None, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        service(db_url).join_waitlist(JORDAN, visit_type, provider, *days(1, 5), channel="rest", now=NOW)


def test_no_consent_then_consent(db_url: str, scalar: Callable[..., object]) -> None:
    execute(db_url, "UPDATE patients SET sms_consent_at = NULL WHERE id = :p", p=ANA)
    outreach = service(db_url)
    assert not outreach.has_text_consent(ANA)
    with pytest.raises(NoTextConsent) as refused:
        outreach.join_waitlist(ANA, "sick_visit", None, *days(1, 5), channel="rest", now=NOW)
    assert refused.value.args == ("no_consent", "0188")  # the number's last four digits, for the question
    assert scalar("SELECT count(*) FROM waitlist_entries") == 0
    outreach.give_text_consent(ANA, now=NOW)
    outreach.give_text_consent(ANA, now=NOW + dt.timedelta(days=1))  # a second yes keeps the first moment
    assert outreach.has_text_consent(ANA)
    assert str(scalar("SELECT sms_consent_at FROM patients WHERE id = :p", p=ANA)).startswith("2026-12-02 13:00")
    assert outreach.join_waitlist(ANA, "sick_visit", None, *days(1, 5), channel="rest", now=NOW).status == "waiting"


def test_no_mobile_means_no_consent_and_no_entry(db_url: str) -> None:
    execute(db_url, "UPDATE patients SET mobile = NULL WHERE id = :p", p=ANA)
    outreach = service(db_url)
    assert not outreach.has_text_consent(ANA)
    with pytest.raises(NoTextConsent, match="no_mobile"):
        outreach.give_text_consent(ANA, now=NOW)
    with pytest.raises(NoTextConsent, match="no_mobile"):
        outreach.join_waitlist(ANA, "sick_visit", None, *days(1, 5), channel="rest", now=NOW)
    with pytest.raises(NoTextConsent):
        outreach.join_waitlist("P-9999", "sick_visit", None, *days(1, 5), channel="rest", now=NOW)


def test_leave_only_ones_own_entry(db_url: str) -> None:
    outreach = service(db_url)
    mine = outreach.join_waitlist(JORDAN, "sick_visit", None, *days(1, 5), channel="rest", now=NOW)
    outreach.leave_waitlist(ANA, mine.entry_id, now=NOW)
    assert [e.entry_id for e in outreach.waitlist_of(JORDAN)] == [mine.entry_id]
    outreach.leave_waitlist(JORDAN, mine.entry_id, now=NOW)
    outreach.leave_waitlist(JORDAN, mine.entry_id, now=NOW)  # twice: no error
    assert outreach.waitlist_of(JORDAN) == []
    again = outreach.join_waitlist(JORDAN, "sick_visit", None, *days(1, 5), channel="rest", now=NOW)
    assert again.entry_id != mine.entry_id  # rejoining puts the patient at the end of the line


def test_waitlist_of_lists_oldest_first(db_url: str) -> None:
    outreach = service(db_url)
    later = NOW + dt.timedelta(minutes=5)
    b = outreach.join_waitlist(JORDAN, "follow_up", None, *days(1, 5), channel="rest", now=later)
    a = outreach.join_waitlist(JORDAN, "sick_visit", None, *days(1, 5), channel="rest", now=NOW)
    assert [e.entry_id for e in outreach.waitlist_of(JORDAN)] == [a.entry_id, b.entry_id]


def test_database_down_is_outreach_unavailable() -> None:
    outreach = service(CLOSED_PORT_URL)
    with pytest.raises(OutreachUnavailable):
        outreach.has_text_consent(JORDAN)
    with pytest.raises(OutreachUnavailable):
        outreach.join_waitlist(JORDAN, "sick_visit", None, *days(1, 5), channel="rest", now=NOW)
