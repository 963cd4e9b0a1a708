"""Insurance, cost and billing answers come from clinic data and the patient's coverage."""

from __future__ import annotations

from typing import Any, Dict

from rasa_sdk.executor import CollectingDispatcher

from actions.insurance import ActionBillingHelp, ActionInsuranceAccepted, ActionVisitCost
from tests.actions.conftest import make_tracker, slot_events, texts


def ins(value: str, text: str, start: int = 0) -> Dict[str, Any]:
    return {"entity": "insurance", "value": value, "start": start, "end": start + len(text), "text": text}


async def run(action, slots=None, text="", intent="ask_insurance_accepted", entities=None, domain=None):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, make_tracker(slots or {}, text=text, intent=intent, entities=entities), domain or {})
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
    dispatcher, _ = await run(ActionVisitCost(), text="how much for a physical", intent="ask_visit_cost", entities=entities)
    assert dispatcher.messages[0]["prices_text"].count("$") == 1 and "$200" in dispatcher.messages[0]["prices_text"]


async def test_cost_with_coverage_but_no_copay_on_file_never_invents_one(clinic_db: str) -> None:
    dispatcher, _ = await run(ActionVisitCost(), {"patient_id": "P-1001"}, text="whats my copay", intent="ask_visit_cost")
    assert texts(dispatcher) == ["utter_cost_copay_unknown", "utter_cost_self_pay"]
    assert dispatcher.messages[0]["carrier_name"] == "Aetna"


async def test_billing_explains_the_words_used_and_offers_a_call(clinic_db: str) -> None:
    dispatcher, events = await run(ActionBillingHelp(), text="what is a deductible", intent="ask_billing")
    assert texts(dispatcher) == ["utter_explain_deductible", "utter_offer_billing_callback"]
    assert slot_events(events)["callback_reason"] == "billing"


async def test_cost_with_a_copay_on_file_says_it_is_an_estimate(clinic_db: str, domain: Dict[str, Any]) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(clinic_db)
    with engine.begin() as connection:  # a plan whose copay the clinic knows (test data only)
        connection.execute(sa.text(
            "UPDATE coverages SET primary_care_copay_cents = 2500 WHERE patient_id = 'P-1001' AND active"
        ))
    engine.dispose()
    dispatcher, _ = await run(ActionVisitCost(), {"patient_id": "P-1001"}, text="whats my copay", intent="ask_visit_cost")
    assert texts(dispatcher) == ["utter_cost_copay_on_file"]
    assert dispatcher.messages[0]["copay_text"] == "$25"
    assert "estimate" in domain["responses"]["utter_cost_copay_on_file"][0]["text"]
