"""Insurance and money questions: is my plan accepted, what a visit costs, my bill.

Every fact comes from clinic data (accepted carriers, self-pay prices) or the
patient's coverage on record; the wording is in ``domain/insurance.yml``. No number is
ever made up: an unknown copay is said to be unknown, and a price is always
called an estimate.

The ``insurance`` entity holds either a clinic carrier code (``aetna``, from
``bot/nlu/clinic_terms.yml``) or, for any other US carrier, the carrier's name
(``Oscar Health``, from ``bot/nlu/us_insurers.yml``). Whether the clinic takes
it is only ever decided by the records service; a carrier it does not know
gets "not on our list, call us to check".
"""

from __future__ import annotations

import logging
import re

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend_guard import backend_guard
from actions.common import (
    actor_of,
    call_backend,
    channel_of,
    entity_values,
    latest_text,
    safe_clinic_values,
)

logger = logging.getLogger(__name__)

# Billing words a patient may ask about, and the response that explains each.
BILLING_TERMS = {
    "deductible": re.compile(r"\bdeduct\w*", re.I),
    "copay": re.compile(r"\bco-?pays?\b|\bco-?payments?\b", re.I),
    "coinsurance": re.compile(r"\bco-?insurance\b", re.I),
    "balance": re.compile(r"\b(balance|owe|due|statement|bill(ed|ing)?|charged?|charges)\b", re.I),
}


def dollars(cents: int) -> str:
    """$180, or $12.50 when there are cents."""
    return f"${cents // 100}" if cents % 100 == 0 else f"${cents / 100:.2f}"


def entity_value(tracker: Tracker, entity: str) -> str | None:
    """The first value of an entity in the latest message."""
    return next(iter(entity_values(tracker, entity)), None)


def entity_text(tracker: Tracker, entity: str) -> str | None:
    """What the patient actually typed for an entity (for "we don't know X")."""
    for item in (tracker.latest_message or {}).get("entities") or []:
        if item.get("entity") == entity:
            start, end = item.get("start"), item.get("end")
            if isinstance(start, int) and isinstance(end, int):
                return latest_text(tracker)[start:end]
            return item.get("text") or item.get("value")
    return None


CARRIER_CODE = re.compile(r"^[a-z][a-z0-9_]*$")


def carrier_label(code: str, typed: str | None) -> str:
    """How to name a carrier we have no policy on: its name from the carrier list, else the words typed."""
    if not CARRIER_CODE.match(code):
        return code
    return " ".join((typed or code).split())


async def accepted_names() -> str:
    """Accepted carriers, one short line each (easy to scan, easy to read), from clinic data."""
    from bot.records import get_records_service

    carriers = await call_backend(get_records_service().list_carriers)
    return "\n".join(f"- {c.display_name}." for c in carriers if c.accepted)


class ActionInsuranceAccepted(Action):
    """Answers "do you take my insurance?" from the clinic's carrier list."""

    def name(self) -> str:
        """Triggered by ``ask_insurance_accepted`` (and a bare carrier name)."""
        return "action_insurance_accepted"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Say accepted, not accepted, or not on our list, and what to do next."""
        from bot.records import get_records_service

        service = get_records_service()
        async with backend_guard(self.name(), dispatcher) as guard:
            carrier = None
            code = entity_value(tracker, "insurance")
            if code:
                carrier = await call_backend(service.carrier, code)
            if carrier is None and code is None:
                carrier = await call_backend(service.match_carrier, latest_text(tracker))
            if carrier is None and code is None and tracker.get_slot("patient_id"):
                coverage = await call_backend(
                    service.coverage_for,
                    tracker.get_slot("patient_id"),
                    actor=actor_of(tracker),
                    channel=channel_of(tracker),
                )
                if coverage and coverage.carrier_code:
                    carrier = await call_backend(service.carrier, coverage.carrier_code)
            # The list of accepted plans is only read when the answer names it.
            accepted_text = await accepted_names() if carrier is None else ""
        if guard.failed:
            return []
        if carrier is not None and carrier.accepted:
            dispatcher.utter_message(response="utter_insurance_accepted", carrier_name=carrier.display_name)
        elif carrier is not None:
            dispatcher.utter_message(
                response="utter_insurance_not_accepted",
                carrier_name=carrier.display_name,
                note_text=carrier.note or "",
            )
        elif code is not None:
            logger.info("insurance: carrier recognised but not on the clinic's list")
            clinic = await safe_clinic_values()
            dispatcher.utter_message(
                response="utter_insurance_not_listed",
                carrier_text=carrier_label(code, entity_text(tracker, "insurance")),
                accepted_text=accepted_text,
                clinic_phone=clinic["clinic_phone"],
            )
        else:
            dispatcher.utter_message(response="utter_insurance_which", accepted_text=accepted_text)
        return []


class ActionVisitCost(Action):
    """Answers "how much is a visit?" with the patient's copay on record or self-pay prices."""

    def name(self) -> str:
        """Triggered by ``ask_visit_cost``."""
        return "action_visit_cost"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Copay when on file; otherwise self-pay prices; always called an estimate."""
        from bot.records import get_records_service

        service = get_records_service()
        patient_id = tracker.get_slot("patient_id")
        async with backend_guard(self.name(), dispatcher) as guard:
            prices = await call_backend(service.self_pay_prices)
            coverage = None
            if patient_id:
                coverage = await call_backend(
                    service.coverage_for, patient_id, actor=actor_of(tracker), channel=channel_of(tracker)
                )
        if guard.failed:
            return []
        visit_type = entity_value(tracker, "visit_type")
        wanted = [p for p in prices if p.visit_type == visit_type] or prices
        price_lines = "\n".join(f"- {p.display_name}: {dollars(p.price_cents)}." for p in wanted)
        if coverage is not None and coverage.primary_care_copay_cents is not None:
            dispatcher.utter_message(
                response="utter_cost_copay_on_file",
                carrier_name=coverage.carrier_name,
                copay_text=dollars(coverage.primary_care_copay_cents),
            )
        elif coverage is not None:
            dispatcher.utter_message(response="utter_cost_copay_unknown", carrier_name=coverage.carrier_name)
            dispatcher.utter_message(response="utter_cost_self_pay", prices_text=price_lines)
        else:
            dispatcher.utter_message(response="utter_cost_self_pay", prices_text=price_lines)
            if not patient_id:
                dispatcher.utter_message(response="utter_cost_insurance_depends")
        return []


class ActionBillingHelp(Action):
    """Explains the words on a medical bill and offers a call from billing staff."""

    def name(self) -> str:
        """Triggered by ``ask_billing``."""
        return "action_billing_help"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Explain the terms the patient used (all of them if none), then offer a callback."""
        text = latest_text(tracker)
        terms = [term for term, pattern in BILLING_TERMS.items() if pattern.search(text)]
        if not terms or terms == ["balance"]:
            terms = ["balance", "deductible", "copay", "coinsurance"] if not terms else terms
        for term in terms:
            dispatcher.utter_message(response=f"utter_explain_{term}")
        dispatcher.utter_message(response="utter_offer_billing_callback")
        return [SlotSet("callback_reason", "billing")]


__all__ = ["ActionBillingHelp", "ActionInsuranceAccepted", "ActionVisitCost", "dollars"]
