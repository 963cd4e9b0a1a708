"""Insurance, cost and billing answers come from clinic data and the patient's coverage."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.insurance import ActionBillingHelp, ActionInsuranceAccepted, ActionVisitCost
from tests.actions.conftest import make_tracker, slot_events, texts


def ins(value: str, text: str, start: int = 0) -> dict[str, Any]:
    return {"entity": "insurance", "value": value, "start": start, "end": start + len(text), "text": text}


async def run(action, slots=None, text="", intent="ask_insurance_accepted", entities=None, domain=None):
    dispatcher = CollectingDispatcher()
    events = await action.run(
        dispatcher, make_tracker(slots or {}, text=text, intent=intent, entities=entities), domain or {}
    )
    return dispatcher, events


async def test_accepted_carrier(clinic_db: str) -> None:
    dispatcher, _ = await run(ActionInsuranceAccepted(), text="do u take bcbs", entities=[ins("bcbs", "bcbs", 10)])
    assert texts(dispatcher) == ["utter_insurance_accepted"]
    assert dispatcher.messages[0]["carrier_name"] == "Blue Cross Blue Shield"


async def test_not_accepted_carrier(clinic_db: str) -> None:
    dispatcher, _ = await run(ActionInsuranceAccepted(), text="i have kaiser", entities=[ins("kaiser", "kaiser", 7)])
    assert texts(dispatcher) == ["utter_insurance_not_accepted"]
    assert dispatcher.messages[0]["carrier_name"] == "Kaiser Permanente"


async def test_carrier_not_on_our_list_gets_an_honest_answer(clinic_db: str) -> None:
    text = "do you accept medi-cal"
    dispatcher, _ = await run(ActionInsuranceAccepted(), text=text, entities=[ins("medi_cal", "medi-cal", 14)])
    message = dispatcher.messages[0]
    assert message["response"] == "utter_insurance_not_listed"
    assert message["carrier_text"] == "medi-cal"
    assert "Aetna" in message["accepted_text"] and "Kaiser" not in message["accepted_text"]


@pytest.mark.parametrize(
    "text, value, typed",
    [
        ("r u in network w oscar", "Oscar Health", "oscar"),
        ("do u guys accept molna", "Molina Healthcare", "molna"),
        ("I have Ambetter, is that ok", "Ambetter", "Ambetter"),
    ],
)
async def test_a_carrier_from_the_broad_list_is_not_on_our_list(
    clinic_db: str, domain: dict[str, Any], text: str, value: str, typed: str
) -> None:
    """An insurer the clinic has no policy on: named properly, with the phone to call and our plans."""
    entities = [ins(value, typed, text.index(typed))]
    dispatcher, events = await run(ActionInsuranceAccepted(), text=text, entities=entities)
    assert events == []
    said_keys = ("response", "carrier_text", "clinic_phone", "accepted_text")
    assert [{key: m.get(key) for key in said_keys} for m in dispatcher.messages] == [
        {
            "response": "utter_insurance_not_listed",
            "carrier_text": value,
            "clinic_phone": "(555) 010-2000",
            "accepted_text": "- Aetna.\n- Blue Cross Blue Shield.\n- Cigna.\n- UnitedHealthcare.\n"
            "- Humana.\n- Medicare.\n- Medicaid.",
        }
    ]
    template = domain["responses"]["utter_insurance_not_listed"][0]["text"]
    said = template.format(**dispatcher.messages[0])
    assert said.startswith(f"I don't see {value} on our list")
    assert "call us at (555) 010-2000" in said and "- Medicaid." in said


async def test_an_unlisted_carrier_found_by_the_real_extractor_gets_the_honest_answer(clinic_db: str) -> None:
    """End to end through the extractor: "do you take wellcare" names WellCare, never a yes."""
    from bot.nlu.clinic_entities import ClinicEntityExtractor

    text = "do you take wellcare?"
    entities = ClinicEntityExtractor({}).extract(text)
    dispatcher, _ = await run(ActionInsuranceAccepted(), text=text, entities=entities)
    assert texts(dispatcher) == ["utter_insurance_not_listed"]
    assert dispatcher.messages[0]["carrier_text"] == "WellCare"


async def test_medicaid_with_a_provider_named_is_accepted(clinic_db: str) -> None:
    """ "does dr romero take medicaid?" is answered for the clinic's Medicaid: yes."""
    text = "does dr romero take medicaid?"
    entities = [
        {"entity": "provider", "value": "romero", "start": 5, "end": 14, "text": "dr romero"},
        ins("medicaid", "medicaid", 20),
    ]
    dispatcher, events = await run(ActionInsuranceAccepted(), text=text, entities=entities)
    assert events == []
    assert texts(dispatcher) == ["utter_insurance_accepted"]
    assert dispatcher.messages[0]["carrier_name"] == "Medicaid"


async def test_a_broad_list_name_of_a_carrier_the_clinic_lists_is_answered_from_clinic_data(clinic_db: str) -> None:
    """If the carrier list names one of the clinic's own carriers, the clinic's policy still decides."""
    dispatcher, _ = await run(ActionInsuranceAccepted(), text="tricare?", entities=[ins("Tricare", "tricare")])
    assert texts(dispatcher) == ["utter_insurance_not_accepted"]
    assert dispatcher.messages[0]["carrier_name"] == "Tricare"


async def test_carrier_in_free_text_without_entity(clinic_db: str) -> None:
    dispatcher, _ = await run(ActionInsuranceAccepted(), text="is united health care ok")
    assert texts(dispatcher) == ["utter_insurance_accepted"]


async def test_no_carrier_named_asks_which(clinic_db: str) -> None:
    dispatcher, _ = await run(ActionInsuranceAccepted(), text="what insurance do you take")
    assert texts(dispatcher) == ["utter_insurance_which"]


async def test_verified_patient_without_carrier_named_gets_their_plan(clinic_db: str) -> None:
    dispatcher, _ = await run(ActionInsuranceAccepted(), {"patient_id": "P-1001"}, text="is my insurance ok with you")
    assert texts(dispatcher) == ["utter_insurance_accepted"]
    assert dispatcher.messages[0]["carrier_name"] == "Aetna"


async def test_cost_without_coverage_lists_self_pay_prices(clinic_db: str) -> None:
    dispatcher, _ = await run(ActionVisitCost(), text="how much is a visit", intent="ask_visit_cost")
    assert texts(dispatcher) == ["utter_cost_self_pay", "utter_cost_insurance_depends"]
    prices = dispatcher.messages[0]["prices_text"]
    assert "$180" in prices and "$110" in prices and "$120" in prices and "$200" in prices


async def test_cost_of_one_visit_type(clinic_db: str) -> None:
    entities = [{"entity": "visit_type", "value": "annual_physical"}]
    dispatcher, _ = await run(
        ActionVisitCost(), text="how much for a physical", intent="ask_visit_cost", entities=entities
    )
    assert dispatcher.messages[0]["prices_text"].count("$") == 1 and "$200" in dispatcher.messages[0]["prices_text"]


async def test_cost_with_coverage_but_no_copay_on_file_never_invents_one(clinic_db: str) -> None:
    dispatcher, _ = await run(
        ActionVisitCost(), {"patient_id": "P-1001"}, text="whats my copay", intent="ask_visit_cost"
    )
    assert texts(dispatcher) == ["utter_cost_copay_unknown", "utter_cost_self_pay"]
    assert dispatcher.messages[0]["carrier_name"] == "Aetna"


async def test_billing_explains_the_words_used_and_offers_a_call(clinic_db: str) -> None:
    dispatcher, events = await run(ActionBillingHelp(), text="what is a deductible", intent="ask_billing")
    assert texts(dispatcher) == ["utter_explain_deductible", "utter_offer_billing_callback"]
    assert slot_events(events)["callback_reason"] == "billing"


async def test_cost_with_a_copay_on_file_says_it_is_an_estimate(clinic_db: str, domain: dict[str, Any]) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(clinic_db)
    with engine.begin() as connection:  # a plan whose copay the clinic knows (test data only)
        connection.execute(
            sa.text("UPDATE coverages SET primary_care_copay_cents = 2500 WHERE patient_id = 'P-1001' AND active")
        )
    engine.dispose()
    dispatcher, _ = await run(
        ActionVisitCost(), {"patient_id": "P-1001"}, text="whats my copay", intent="ask_visit_cost"
    )
    assert texts(dispatcher) == ["utter_cost_copay_on_file"]
    assert dispatcher.messages[0]["copay_text"] == "$25"
    assert "estimate" in domain["responses"]["utter_cost_copay_on_file"][0]["text"]
