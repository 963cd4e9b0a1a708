"""Insurance: the clinic's carrier list from the data file, self-pay prices, and patients' coverage."""

from __future__ import annotations

from collections.abc import Callable

from bot.records import CoverageInfo, InsuranceAnswer, SqlRecordsService
from tests.records.helpers import jordan_answers, submit_time

ACCEPTED = ["aetna", "bcbs", "cigna", "unitedhealthcare", "humana", "medicare", "medicaid"]
NOT_ACCEPTED = ["kaiser", "tricare"]


def test_list_carriers_accepted_first_in_the_clinic_order(records: SqlRecordsService) -> None:
    carriers = records.list_carriers()
    assert [c.code for c in carriers] == ACCEPTED + NOT_ACCEPTED
    assert [c.accepted for c in carriers] == [True] * 7 + [False] * 2
    names = {c.code: c.display_name for c in carriers}
    assert names["bcbs"] == "Blue Cross Blue Shield" and names["kaiser"] == "Kaiser Permanente"
    bcbs = next(c for c in carriers if c.code == "bcbs")
    assert {"blue cross", "bcbs", "blue cross blue shield", "anthem"} <= set(bcbs.aliases)


def test_carrier_by_code(records: SqlRecordsService) -> None:
    aetna = records.carrier(" AETNA ")
    assert aetna is not None and aetna.accepted and aetna.display_name == "Aetna"
    kaiser = records.carrier("kaiser")
    assert kaiser is not None and kaiser.accepted is False
    assert records.carrier("oscar") is None
    assert records.carrier("") is None


MATCHES = [
    ("Blue Cross PPO", "bcbs"),
    ("bluecross", "bcbs"),
    ("I have United Healthcare through work", "unitedhealthcare"),
    ("UHC", "unitedhealthcare"),
    ("Médicare", "medicare"),
    ("medicare advantage", "medicare"),
    ("Kaiser", "kaiser"),
    ("tri-care", "tricare"),
    ("cigna", "cigna"),
    ("Oscar Health", None),
    ("aetna or cigna", None),  # two carriers: never guess
    ("", None),
]


def test_match_carrier_reads_how_patients_write(records: SqlRecordsService) -> None:
    found = {text: records.match_carrier(text) for text, _ in MATCHES}
    assert {text: (c.code if c else None) for text, c in found.items()} == dict(MATCHES)


def test_self_pay_prices_come_from_the_visit_types(records: SqlRecordsService) -> None:
    prices = [(p.visit_type, p.display_name, p.price_cents) for p in records.self_pay_prices()]
    assert prices == [
        ("new_patient", "new patient visit", 18000),
        ("annual_physical", "annual physical", 20000),
        ("follow_up", "follow-up visit", 11000),
        ("sick_visit", "sick visit", 12000),
    ]


def test_demo_coverage(records: SqlRecordsService) -> None:
    jordan = records.coverage_for("P-1001")
    assert jordan is not None
    assert (jordan.carrier_code, jordan.carrier_name, jordan.accepted) == ("aetna", "Aetna", True)
    assert (jordan.plan_name, jordan.member_id, jordan.relationship) == ("PPO", "W123456789", "self")
    assert jordan.subscriber_name == "Jordan Rivera"
    assert jordan.primary_care_copay_cents is None and jordan.specialist_copay_cents is None
    assert (jordan.version, jordan.active, jordan.source) == (1, True, "seed")
    ana = records.coverage_for("p-1002")
    assert ana is not None
    assert (ana.carrier_code, ana.accepted, ana.relationship) == ("medicare", True, "self")
    assert ana.member_id is None and ana.plan_name is None  # not in the design: never invented
    assert records.coverage_for("P-9999") is None
    assert records.coverage_for("Jordan Rivera") is None


def coverage(records: SqlRecordsService, patient_id: str = "P-1001") -> CoverageInfo:
    found = records.coverage_for(patient_id)
    assert found is not None
    return found


def test_intake_with_the_same_insurance_keeps_the_coverage(records: SqlRecordsService, scalar: Callable) -> None:
    records.submit_intake("P-1001", jordan_answers(), "webchat", now=submit_time())
    same = coverage(records)
    assert (same.version, same.source, same.plan_name) == (1, "seed", "PPO")
    records.submit_intake(
        "P-1001", jordan_answers(insurance=InsuranceAnswer("aetna", "W123456789")), "webchat", now=submit_time(1)
    )
    assert coverage(records).version == 1
    assert scalar("SELECT COUNT(*) FROM coverages WHERE patient_id = 'P-1001'") == 1


def test_intake_with_new_insurance_adds_a_coverage_version(records: SqlRecordsService, scalar: Callable) -> None:
    new = InsuranceAnswer("Blue Cross", "xyz 987 654", relationship="spouse", subscriber_name="casey rivera")
    records.submit_intake("P-1001", jordan_answers(insurance=new), "sms", now=submit_time())
    current = coverage(records)
    assert (current.version, current.source, current.active) == (2, "intake", True)
    assert (current.carrier_code, current.carrier_name, current.accepted) == ("bcbs", "Blue Cross Blue Shield", True)
    assert (current.member_id, current.relationship, current.subscriber_name) == (
        "XYZ 987 654",
        "spouse",
        "Casey Rivera",
    )
    assert current.plan_name is None and current.primary_care_copay_cents is None
    # The seeded version is kept, inactive.
    assert scalar("SELECT member_id FROM coverages WHERE patient_id = 'P-1001' AND version = 1") == "W123456789"
    assert scalar("SELECT COUNT(*) FROM coverages WHERE patient_id = 'P-1001' AND active = :yes", yes=True) == 1


def test_intake_with_a_carrier_not_on_the_list(records: SqlRecordsService) -> None:
    records.submit_intake(
        "P-1002",
        jordan_answers(legal_name="Ana Souza", insurance=InsuranceAnswer("Oscar Health", "OSC123")),
        "webchat",
        now=submit_time(),
    )
    current = coverage(records, "P-1002")
    assert (current.carrier_code, current.carrier_name, current.accepted, current.version) == (
        None,
        "Oscar Health",
        None,
        2,
    )
    records.submit_intake(
        "P-1002",
        jordan_answers(legal_name="Ana Souza", insurance=InsuranceAnswer("Kaiser Permanente", "K12345")),
        "webchat",
        now=submit_time(1),
    )
    kaiser = coverage(records, "P-1002")
    assert (kaiser.carrier_code, kaiser.accepted, kaiser.version) == ("kaiser", False, 3)


def test_self_pay_intake_ends_the_coverage(records: SqlRecordsService, scalar: Callable) -> None:
    records.submit_intake("P-1001", jordan_answers(insurance=None), "webchat", now=submit_time())
    assert records.coverage_for("P-1001") is None
    assert scalar("SELECT COUNT(*) FROM coverages WHERE patient_id = 'P-1001' AND active = :yes", yes=True) == 0
    records.submit_intake("P-1001", jordan_answers(), "webchat", now=submit_time(1))
    back = coverage(records)
    assert (back.version, back.carrier_code, back.source) == (2, "aetna", "intake")
