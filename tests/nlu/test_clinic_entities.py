"""What the assistant understands from a patient's words about providers, visits and plans.

The component runs for real (spaCy's blank tokenizer, the bundled terms file);
the last test trains a small Rasa model with it in the pipeline and parses a
message through `Agent`, proving it registers and runs inside Rasa.

Decisions pinned here: "kim chi" and "my son Sam" are not providers; a bare
"rash" is no visit type (it could be a sick visit or a skin check, so the bot
asks); "Romeo" is read as a slip for Romero; "medical" is never Medi-Cal.
Carriers the clinic has no policy on come from the broad US list with their
name as value ("Oscar Health"); the clinic's carriers keep their codes and
win wherever both lists match ("anthem" is the clinic's bcbs); "human" is
never Humana and "signal" never Cigna.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.clinic_entities import ClinicEntityExtractor, ClinicTermsError, ClinicVocabulary

PROJECT_ROOT = Path(__file__).resolve().parents[2]

Found = tuple[str, str, str]  # (entity, value, text as typed)


def build(tmp_path: Path, **config: Any) -> ClinicEntityExtractor:
    """Creates the component the way Rasa's graph does: defaults merged with the config."""
    return ClinicEntityExtractor.create(
        {**ClinicEntityExtractor.get_default_config(), **config},
        LocalModelStorage(tmp_path),
        Resource("clinic_entities"),
        ExecutionContext(GraphSchema({}), "test-model"),
    )


@pytest.fixture(scope="module")
def extractor(tmp_path_factory: pytest.TempPathFactory) -> ClinicEntityExtractor:
    """One component with the default config and the bundled vocabulary."""
    return build(tmp_path_factory.mktemp("storage"))


def run(extractor: ClinicEntityExtractor, text: Any) -> list[dict[str, Any]]:
    """Runs `process` on one message and returns the entities the bot would see."""
    message = Message(data={"text": text})
    [processed] = extractor.process([message])
    return processed.get("entities")


def found(extractor: ClinicEntityExtractor, text: str) -> list[Found]:
    """The (entity, value, typed text) triples for one message."""
    return [(e["entity"], e["value"], e["text"]) for e in run(extractor, text)]


@pytest.mark.parametrize(
    "text, value, typed",
    [
        ("Can I see Dr. Patel on Tuesday?", "patel", "Dr. Patel"),
        ("dr patel please", "patel", "dr patel"),
        ("DR PATEL", "patel", "DR PATEL"),
        ("Is Patel's schedule open", "patel", "Patel"),
        ("book me with dr.patel", "patel", "dr.patel"),
        ("Doctor Amina Patel", "patel", "Doctor Amina Patel"),
        ("with Dr Amina", "patel", "Dr Amina"),
        ("amina is my doctor", "patel", "amina"),
        ("dr p is great", "patel", "dr p"),
        ("I want to book with Romero", "romero", "Romero"),
        ("Dr. Luis", "romero", "Dr. Luis"),
        ("my kid needs to see the pediatrician", "romero", "pediatrician"),
        ("the kids doctor", "romero", "kids doctor"),
        ("the kid's doctor", "romero", "kid's doctor"),
        ("una cita con el pediatra", "romero", "pediatra"),
        ("Dr Kim", "kim", "Dr Kim"),
        ("Dr. Grace please", "kim", "Dr. Grace"),
        ("I need the dermatologist", "kim", "dermatologist"),
        ("can the skin doctor see me", "kim", "skin doctor"),
        ("derm appointment", "kim", "derm"),
        ("Sam Okafor", "okafor", "Sam Okafor"),
        ("sam is fine", "okafor", "sam"),
        ("can I see the NP", "okafor", "the NP"),
        ("the nurse practitioner", "okafor", "nurse practitioner"),
        ("anyone is fine", "any", "anyone"),
        ("whoever is available", "any", "whoever is available"),
        ("no preference", "any", "no preference"),
        ("It doesn't matter", "any", "doesn't matter"),
        ("it doesn\u2019t matter", "any", "doesn\u2019t matter"),
        ("first available doctor", "any", "first available doctor"),
        ("cualquiera", "any", "cualquiera"),
    ],
)
def test_provider_phrasings(extractor: ClinicEntityExtractor, text: str, value: str, typed: str) -> None:
    """Every common way to name a provider gives that provider's code and the typed words."""
    assert found(extractor, text) == [("provider", value, typed)]


@pytest.mark.parametrize(
    "text, value, typed",
    [
        ("dr patle", "patel", "dr patle"),
        ("Dr. Pattel tomorrow", "patel", "Dr. Pattel"),
        ("can I see Romro", "romero", "Romro"),
        ("Dr. Romeo", "romero", "Dr. Romeo"),
        ("okafr", "okafor", "okafr"),
        ("Okafro on Friday", "okafor", "Okafro"),
    ],
)
def test_one_slip_in_a_surname_is_understood(
    extractor: ClinicEntityExtractor, text: str, value: str, typed: str
) -> None:
    """A misspelt surname still finds the provider, title included in the span."""
    assert found(extractor, text) == [("provider", value, typed)]


@pytest.mark.parametrize(
    "text",
    [
        "I need a blood panel",
        "a pastel color",
        "pate and crackers",
        "Dr. Pxtxl",  # two slips
        "dr kin",  # surnames under 4 letters get no typo tolerance
        "hotel",
        "rodeo",
    ],
)
def test_words_near_a_surname_are_not_providers(extractor: ClinicEntityExtractor, text: str) -> None:
    """Real words one letter from a surname, and two-slip garbles, are not read as providers."""
    assert found(extractor, text) == []


@pytest.mark.parametrize(
    "text, value, typed",
    [
        ("I'm a new patient", "new_patient", "new patient"),
        ("I've never been there before", "new_patient", "never been there"),
        ("I want to establish care", "new_patient", "establish care"),
        ("first visit", "new_patient", "first visit"),
        ("I need a physical", "annual_physical", "physical"),
        ("my annual", "annual_physical", "annual"),
        ("time for a check up", "annual_physical", "check up"),
        ("checkup", "annual_physical", "checkup"),
        ("a check-up", "annual_physical", "check-up"),
        ("wellness visit", "annual_physical", "wellness visit"),
        ("yearly exam", "annual_physical", "yearly exam"),
        ("a follow up", "follow_up", "follow up"),
        ("follow-up visit", "follow_up", "follow-up visit"),
        ("followup", "follow_up", "followup"),
        ("a recheck", "follow_up", "recheck"),
        ("Dr said to come back in two weeks", "follow_up", "come back"),
        ("I'm sick", "sick_visit", "sick"),
        ("my son has a fever", "sick_visit", "fever"),
        ("sore throat and a cough", "sick_visit", "sore throat"),
        ("I think I have the flu", "sick_visit", "the flu"),
        ("ear infection", "sick_visit", "ear infection"),
        ("I'm not feeling well", "sick_visit", "not feeling well"),
        ("skin check", "skin_check", "skin check"),
        ("I have a mole I'm worried about", "skin_check", "mole"),
        ("skin cancer screening", "skin_check", "skin cancer screening"),
        ("my acne is bad", "skin_check", "acne"),
        ("eczema flare", "skin_check", "eczema"),
        ("I need a shot", "vaccination", "shot"),
        ("my kids need their shots", "vaccination", "shots"),
        ("flu shot", "vaccination", "flu shot"),
        ("covid vaccine", "vaccination", "covid vaccine"),
        ("vaccination", "vaccination", "vaccination"),
        ("immunization records and an immunization", "vaccination", "immunization"),
        ("Necesito una vacuna", "vaccination", "vacuna"),
        ("a booster", "vaccination", "booster"),
    ],
)
def test_visit_type_phrasings(extractor: ClinicEntityExtractor, text: str, value: str, typed: str) -> None:
    """Each visit type is found from everyday words, first mention first."""
    assert found(extractor, text)[0] == ("visit_type", value, typed)


@pytest.mark.parametrize(
    "text, value, typed",
    [
        ("Do you take Aetna?", "aetna", "Aetna"),
        ("I have blue cross", "bcbs", "blue cross"),
        ("Blue Shield PPO", "bcbs", "Blue Shield"),
        ("BCBS", "bcbs", "BCBS"),
        ("Anthem", "bcbs", "Anthem"),
        ("cigna", "cigna", "cigna"),
        ("United Healthcare", "unitedhealthcare", "United Healthcare"),
        ("UHC", "unitedhealthcare", "UHC"),
        ("I'm on united", "unitedhealthcare", "united"),
        ("humana", "humana", "humana"),
        ("medicare", "medicare", "medicare"),
        ("Medicaid", "medicaid", "Medicaid"),
        ("I have Medi-Cal", "Medi-Cal", "Medi-Cal"),
        ("medi cal", "Medi-Cal", "medi cal"),
        ("Kaiser Permanente", "kaiser", "Kaiser Permanente"),
        ("kaiser", "kaiser", "kaiser"),
        ("Tricare", "tricare", "Tricare"),
    ],
)
def test_insurance_phrasings(extractor: ClinicEntityExtractor, text: str, value: str, typed: str) -> None:
    """Each carrier, accepted or not, gets its code so the bot can answer honestly."""
    assert found(extractor, text) == [("insurance", value, typed)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("r u in network w oscar", [("insurance", "Oscar Health", "oscar")]),
        ("I have Ambetter, is that ok", [("insurance", "Ambetter", "Ambetter")]),
        ("do u guys accept molina", [("insurance", "Molina Healthcare", "molina")]),
        ("Do you take Wellcare?", [("insurance", "WellCare", "Wellcare")]),
        ("centene", [("insurance", "Centene", "centene")]),
        ("Highmark", [("insurance", "Highmark", "Highmark")]),
        ("premera", [("insurance", "Premera Blue Cross", "premera")]),
        ("my plan is caresource", [("insurance", "CareSource", "caresource")]),
        ("care source", [("insurance", "CareSource", "care source")]),
        ("emblemhealth", [("insurance", "EmblemHealth", "emblemhealth")]),
        ("Harvard Pilgrim", [("insurance", "Harvard Pilgrim", "Harvard Pilgrim")]),
        ("tufts health plan", [("insurance", "Tufts Health Plan", "tufts health plan")]),
        ("geisinger", [("insurance", "Geisinger Health Plan", "geisinger")]),
        ("priority health", [("insurance", "Priority Health", "priority health")]),
        ("HMSA", [("insurance", "HMSA", "HMSA")]),
        ("Oscar Health", [("insurance", "Oscar Health", "Oscar Health")]),
        ("Florida Blue", [("insurance", "Florida Blue", "Florida Blue")]),
        ("bcbstx", [("insurance", "Blue Cross and Blue Shield of Texas", "bcbstx")]),
        ("I'm on MassHealth", [("insurance", "MassHealth", "MassHealth")]),
        ("tenncare", [("insurance", "TennCare", "tenncare")]),
        ("obamacare", [("insurance", "ACA Marketplace Plan", "obamacare")]),
        (
            "my kids are on chip insurance",
            [("insurance", "CHIP (Children's Health Insurance Program)", "chip insurance")],
        ),
        ("Health Net", [("insurance", "Health Net", "Health Net")]),
        ("UPMC for You", [("insurance", "UPMC Health Plan", "UPMC for You")]),
        ("I have champva", [("insurance", "CHAMPVA", "champva")]),
        ("the empire plan", [("insurance", "Empire Plan", "the empire plan")]),
        # One slip in a distinctive carrier name, as for the clinic's own words.
        ("do u take molna", [("insurance", "Molina Healthcare", "molna")]),
        ("ambeter", [("insurance", "Ambetter", "ambeter")]),
        ("wellcar", [("insurance", "WellCare", "wellcar")]),
        ("Geisigner", [("insurance", "Geisinger Health Plan", "Geisigner")]),
        # The longer name wins within the broad list too.
        (
            "ambetter from sunshine health",
            [("insurance", "Ambetter from Sunshine Health", "ambetter from sunshine health")],
        ),
        ("bmc healthnet", [("insurance", "BMC HealthNet Plan", "bmc healthnet")]),
    ],
)
def test_carriers_not_on_the_clinic_list_are_recognised(
    extractor: ClinicEntityExtractor, text: str, expected: list[Found]
) -> None:
    """Any US carrier from the broad list is an insurer, named by the carrier's name."""
    assert found(extractor, text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("does dr romero take medicaid?", [("provider", "romero", "dr romero"), ("insurance", "medicaid", "medicaid")]),
        ("Anthem", [("insurance", "bcbs", "Anthem")]),
        ("anthem blue cross", [("insurance", "bcbs", "anthem blue cross")]),
        # The broad list's longer name overlaps the clinic's alias: the clinic's words win.
        ("blue shield of california", [("insurance", "bcbs", "blue shield")]),
        ("Blue Cross Blue Shield of Texas", [("insurance", "bcbs", "Blue Cross Blue Shield")]),
        ("i have premera blue cross", [("insurance", "bcbs", "blue cross")]),
        ("Empire BlueCross BlueShield", [("insurance", "bcbs", "BlueCross BlueShield")]),
        ("humana gold plus", [("insurance", "humana", "humana")]),
        ("aetna better health", [("insurance", "aetna", "aetna")]),
        ("uhc community plan", [("insurance", "unitedhealthcare", "uhc")]),
        ("tricare prime", [("insurance", "tricare", "tricare")]),
        ("kaiser insurance", [("insurance", "kaiser", "kaiser")]),
        ("medicare part b", [("insurance", "medicare", "medicare")]),
        ("unitedhealth", [("insurance", "unitedhealthcare", "unitedhealth")]),
        ("medicade", [("insurance", "medicaid", "medicade")]),
        ("medi care", [("insurance", "medicare", "medi care")]),
        # Slips in the clinic's carriers give the clinic's codes.
        ("signa", [("insurance", "cigna", "signa")]),
        ("Atena", [("insurance", "aetna", "Atena")]),
        ("humanna", [("insurance", "humana", "humanna")]),
        ("medicaid", [("insurance", "medicaid", "medicaid")]),
        ("medicad", [("insurance", "medicaid", "medicad")]),
        ("medicar", [("insurance", "medicare", "medicar")]),
        ("tricar", [("insurance", "tricare", "tricar")]),
        (
            "i have oscar and my wife has aetna",
            [("insurance", "Oscar Health", "oscar"), ("insurance", "aetna", "aetna")],
        ),
    ],
)
def test_clinic_carriers_keep_their_codes_and_win(
    extractor: ClinicEntityExtractor, text: str, expected: list[Found]
) -> None:
    """The clinic's accepted and not-accepted carriers keep their codes over the broad list."""
    assert found(extractor, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "I take the bus",
        "my phone has no signal",
        "we sang the national anthem",
        "I'm human",
        "a humane doctor please",
        "my arm has permanent damage",
        "medicated shampoo",
        "I need a medical form",
        "the chip on my tooth",
        "can I come on friday",
        "I need a brain scan",
        "it's a bright day",
        "is it in network",
        "out of network health insurance",
        "my son Oscar needs a checkup",
        "I'm Oscar",
        "oscar is my son",
        "Dr. Molina referred me",
        "I was at Tufts Medical Center",
        "it's on the horizon",
        "my first health check",
        "select health option",
        "coordinated care between doctors",
        "total health care cost",
        "una cita medica",
        "I moved here from the United States",
        "I allways forget",
        "is this the surest way",
    ],
)
def test_no_false_insurer_in_ordinary_sentences(extractor: ClinicEntityExtractor, text: str) -> None:
    """Everyday words near a carrier's name are not insurers (only other entities, if any)."""
    assert [f for f in found(extractor, text) if f[0] == "insurance"] == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("I need a flu shot", [("visit_type", "vaccination", "flu shot")]),
        ("annual physical", [("visit_type", "annual_physical", "annual physical")]),
        ("blue cross blue shield", [("insurance", "bcbs", "blue cross blue shield")]),
        ("stomach flu", [("visit_type", "sick_visit", "stomach flu")]),
        ("Dr. Amina Patel", [("provider", "patel", "Dr. Amina Patel")]),
        (
            "can the skin doctor look at a mole",
            [("provider", "kim", "skin doctor"), ("visit_type", "skin_check", "mole")],
        ),
        (
            "New patient, I'd like a physical with Dr. Kim. I have Cigna.",
            [
                ("visit_type", "new_patient", "New patient"),
                ("visit_type", "annual_physical", "physical"),
                ("provider", "kim", "Dr. Kim"),
                ("insurance", "cigna", "Cigna"),
            ],
        ),
    ],
)
def test_longest_match_wins_and_order_follows_the_text(
    extractor: ClinicEntityExtractor, text: str, expected: list[Found]
) -> None:
    """Overlapping aliases give one entity (the longest); separate mentions come back in order."""
    assert found(extractor, text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("not dr patel", [("patel", "not")]),
        ("anyone but Dr. Patel", [("any", None), ("patel", "not")]),
        ("anybody except romero", [("any", None), ("romero", "not")]),
        ("not with Dr. Kim", [("kim", "not")]),
        ("I don't want to see Dr Kim", [("kim", "not")]),
        ("I'd rather not see Patel", [("patel", "not")]),
        ("Dr Kim, not Dr Patel", [("kim", None), ("patel", "not")]),
        ("other than okafor", [("okafor", "not")]),
        ("cualquiera excepto el pediatra", [("any", None), ("romero", "not")]),
        ("No, Dr. Patel please", [("patel", None)]),
        ("no I want dr patel", [("patel", None)]),
        ("not sure yet. Dr Patel I guess", [("patel", None)]),
        ("no preference", [("any", None)]),
    ],
)
def test_negated_providers_get_role_not(
    extractor: ClinicEntityExtractor, text: str, expected: list[tuple[str, str | None]]
) -> None:
    """A provider the patient rules out carries role "not"; a plain "No, Dr. Patel" does not."""
    entities = run(extractor, text)
    assert [(e["value"], e.get("role")) for e in entities] == expected


def test_negation_applies_to_providers_only_by_default(extractor: ClinicEntityExtractor) -> None:
    """ "I don't have Medicaid" still names the plan; only provider mentions get a role."""
    entities = run(extractor, "I don't have medicaid, not any more")
    assert [(e["value"], e.get("role")) for e in entities] == [("medicaid", None)]


@pytest.mark.parametrize(
    "text",
    [
        "I'm free on Sunday",
        "Hi there!",
        "What are your hours?",
        "Where are you located?",
        "Thanks so much",
        "I'll call back later",
        "I had kimchi for lunch",
        "my kim chi recipe",
        "my son Sam has a rash",
        "my name is Kim Lee",
        "Is anyone there?",
        "can I talk to anyone",
        "what's my annual deductible",
        "I need physical therapy",
        "when will my results come back",
        "I'm sick of waiting",
        "give it a shot",
        "I moved here from the United States",
        "I need a medical form",
        "please reschedule my appointment",
        "any openings tomorrow morning",
    ],
)
def test_ordinary_sentences_give_nothing(extractor: ClinicEntityExtractor, text: str) -> None:
    """Everyday sentences, and false friends in the ignore list, produce no clinic entity."""
    assert found(extractor, text) == []


def test_entity_dicts_are_what_rasa_expects(extractor: ClinicEntityExtractor) -> None:
    """Entities carry type, canonical value, original offsets, typed text and the extractor name."""
    text = "Quiero ver al Dr. Pátel 🙂 para una vacunación"
    entities = run(extractor, text)
    assert entities == [
        {
            "entity": "provider",
            "start": 14,
            "end": 23,
            "value": "patel",
            "text": "Dr. Pátel",
            "extractor": "ClinicEntityExtractor",
        },
        {
            "entity": "visit_type",
            "start": 35,
            "end": 45,
            "value": "vaccination",
            "text": "vacunación",
            "extractor": "ClinicEntityExtractor",
        },
    ]
    for entity in entities:
        assert text[entity["start"] : entity["end"]] == entity["text"]


def test_offsets_survive_emoji_whitespace_and_newlines(extractor: ClinicEntityExtractor) -> None:
    """Emoji, tabs, double spaces and line breaks neither hide a match nor shift its offsets."""
    text = "👋🏽👋🏽\tcan I see\nDR.   KIM\u00a0for a   flu  shot?"
    entities = run(extractor, text)
    assert [(e["value"], text[e["start"] : e["end"]]) for e in entities] == [
        ("kim", "DR.   KIM"),
        ("vaccination", "flu  shot"),
    ]


@pytest.mark.parametrize("text", ["", "   ", "\n", "🙂🙂🙂", "...", None])
def test_empty_or_odd_text_gives_no_entities(extractor: ClinicEntityExtractor, text: Any) -> None:
    """Empty, blank, emoji-only or missing text is handled and yields an empty list."""
    assert run(extractor, text) == []


def test_ten_kilobytes_of_text_keeps_offsets(extractor: ClinicEntityExtractor) -> None:
    """A pasted 10 kB message is read whole and a mention at its end keeps its true offset."""
    filler = "I am writing about my appointment next week and some other things. " * 150
    text = filler + "Please book Dr. Romero."
    assert len(text) > 10_000
    entities = run(extractor, text)
    assert [(e["value"], e["start"]) for e in entities] == [("romero", len(filler) + 12)]


def test_text_beyond_the_limit_is_not_read(tmp_path: Path) -> None:
    """`max_text_chars` bounds the work per message; mentions past it are not read."""
    component = build(tmp_path, max_text_chars=50)
    assert found(component, "x" * 60 + " dr kim") == []
    assert found(component, "dr kim " + "x" * 60) == [("provider", "kim", "dr kim")]


def test_entities_from_earlier_extractors_are_kept(extractor: ClinicEntityExtractor) -> None:
    """The component appends to what other extractors found instead of replacing it."""
    earlier = {"entity": "time", "start": 0, "end": 8, "value": "2024-01-02", "extractor": "X"}
    message = Message(data={"text": "tomorrow with dr kim", "entities": [earlier]})
    [processed] = extractor.process([message])
    assert processed.get("entities")[0] == earlier
    assert [e["value"] for e in processed.get("entities")[1:]] == ["kim"]
    assert "entities" in processed.as_dict_nlu()


def test_a_batch_of_messages_is_processed_message_by_message(
    extractor: ClinicEntityExtractor,
) -> None:
    """Each message in a batch gets its own entities."""
    messages = [Message(data={"text": t}) for t in ["dr kim", "hello", "aetna"]]
    processed = extractor.process(messages)
    assert [[e["value"] for e in m.get("entities")] for m in processed] == [["kim"], [], ["aetna"]]


def test_training_data_passes_through_untouched(extractor: ClinicEntityExtractor) -> None:
    """Nothing to learn: training data goes through as it came."""
    data = TrainingData([Message(data={"text": "dr kim", "intent": "inform"})])
    assert extractor.process_training_data(data) is data
    assert data.training_examples[0].get("entities") is None


def test_options_turn_features_off(tmp_path: Path) -> None:
    """Typo tolerance, the negation role and entity types can each be switched off by config."""
    assert found(build(tmp_path, typo_tolerance=False), "dr patle") == []
    no_role = build(tmp_path, negation_role=None)
    assert [e.get("role") for e in run(no_role, "not dr patel")] == [None]
    other_role = build(tmp_path, negation_role="excluded", negated_entities=["provider", "insurance"])
    assert [e.get("role") for e in run(other_role, "not medicaid")] == ["excluded"]
    only_insurance = build(tmp_path, entities=["insurance"])
    assert found(only_insurance, "dr kim, flu shot, aetna") == [("insurance", "aetna", "aetna")]
    no_broad_list = build(tmp_path, carriers_file=False)
    assert found(no_broad_list, "do you take oscar or aetna") == [("insurance", "aetna", "aetna")]
    narrow = build(tmp_path, negation_window=0)
    assert [e.get("role") for e in run(narrow, "not with dr kim")] == [None]


@pytest.mark.parametrize(
    "config",
    [
        {"entities": ["provider", "appointment_time"]},
        {"negated_entities": "provider"},
        {"typo_tolerance": "yes"},
        {"negation_window": -1},
        {"max_text_chars": 0},
        {"negation_role": ""},
        {"terms_file": "/nonexistent/clinic_terms.yml"},
        {"carriers_file": "/nonexistent/us_insurers.yml"},
        {"carriers_file": 3},
        {"carriers_file": ""},
    ],
)
def test_bad_config_fails_at_load(tmp_path: Path, config: dict[str, Any]) -> None:
    """A wrong option stops the model from loading, rather than silently extracting nothing."""
    with pytest.raises(InvalidConfigException):
        build(tmp_path, **config)


def write_terms(tmp_path: Path, body: str) -> Path:
    """Writes a terms file the way staff would."""
    path = tmp_path / "terms.yml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def test_staff_can_add_a_provider_in_their_own_terms_file(tmp_path: Path) -> None:
    """A custom terms file (here a new provider with a typo-tolerant surname) is all it takes."""
    terms = write_terms(
        tmp_path,
        """
        version: 1
        entities:
          provider:
            titles: [dr, dr.]
            values:
              nguyen:
                name: Dr. Linh Nguyen
                aliases: [dr nguyen, nguyen]
                typos: [nguyen]
        negation:
          cues: [not]
        """,
    )
    component = build(tmp_path, terms_file=str(terms))
    assert found(component, "Dr. Ngyuen please") == [("provider", "nguyen", "Dr. Ngyuen")]
    assert [e.get("role") for e in run(component, "not nguyen")] == ["not"]
    assert found(component, "dr patel") == []


@pytest.mark.parametrize(
    "body, complaint",
    [
        ("entities: [provider]", "must be a mapping"),
        (
            """
            entities:
              provider:
                values:
                  patel: {aliases: [patel]}
                  kim: {aliases: [patel]}
            """,
            "alias 'patel' is listed for both provider.patel and provider.kim",
        ),
        (
            """
            entities:
              provider:
                values:
                  Dr-Kim: {aliases: [kim]}
            """,
            "must be lower_snake_case",
        ),
        (
            """
            entities:
              provider:
                values:
                  kim: {aliases: [kim], typos: [kim]}
            """,
            "4+ letters",
        ),
        (
            """
            entities:
              provider:
                values:
                  kim: {alias: [kim]}
            """,
            "unknown keys ['alias']",
        ),
        ("entities: {provider: {values: {kim: {aliases: [kim]}}}}\n  bad: [", "not valid YAML"),
    ],
)
def test_a_broken_terms_file_names_the_problem(tmp_path: Path, body: str, complaint: str) -> None:
    """A staff edit that breaks the file fails at load with a message saying where and why."""
    with pytest.raises(ClinicTermsError, match=re.escape(complaint)):
        build(tmp_path, terms_file=str(write_terms(tmp_path, body)))


def write_carriers(tmp_path: Path, body: str) -> Path:
    """Writes a carrier list the way staff would."""
    path = tmp_path / "carriers.yml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def test_staff_can_add_a_carrier_to_the_list(tmp_path: Path) -> None:
    """A new carrier, its spellings and a typo word are all it takes; the clinic's file still wins."""
    carriers = write_carriers(
        tmp_path,
        """
        version: 1
        carriers:
          Acme Health Plan: [acme health, acmecare]
          Aetna Everywhere: [aetna]
        typos: [acmecare]
        ignore: [acme anvils]
        """,
    )
    component = build(tmp_path, carriers_file=str(carriers))
    assert found(component, "I have acme health") == [("insurance", "Acme Health Plan", "acme health")]
    assert found(component, "acmecar") == [("insurance", "Acme Health Plan", "acmecar")]
    assert found(component, "acme health plan") == [("insurance", "Acme Health Plan", "acme health plan")]
    assert found(component, "aetna") == [("insurance", "aetna", "aetna")]
    assert found(component, "oscar") == []


def test_carrier_list_works_with_a_terms_file_without_insurance(tmp_path: Path) -> None:
    """A terms file without an insurance block still gets insurers from the carrier list."""
    terms = write_terms(
        tmp_path,
        """
        entities:
          provider:
            values:
              kim: {aliases: [dr kim]}
        """,
    )
    component = build(tmp_path, terms_file=str(terms), entities=["insurance"])
    assert found(component, "dr kim takes molina?") == [("insurance", "Molina Healthcare", "molina")]


@pytest.mark.parametrize(
    "body, complaint",
    [
        ("carriers: [oscar]", "'carriers' must be a mapping"),
        (
            """
            carriers:
              Oscar Health: [oscar]
              Oscar Mayer Health: [oscar]
            """,
            "alias 'oscar' is listed for both 'Oscar Health' and 'Oscar Mayer Health'",
        ),
        (
            """
            carriers:
              Oscar Health: [oscar]
            typos: [osc]
            """,
            "typos entry 'osc' must be one word of 4+ letters",
        ),
        (
            """
            carriers:
              Oscar Health: [oscar]
            typos: [molina]
            """,
            "typos entry 'molina' must be one of the carriers' aliases",
        ),
        (
            """
            carrier:
              Oscar Health: [oscar]
            """,
            "unknown keys ['carrier']",
        ),
        ("carriers: {Oscar Health: [oscar}", "not valid YAML"),
    ],
)
def test_a_broken_carrier_list_names_the_problem(tmp_path: Path, body: str, complaint: str) -> None:
    """A staff edit that breaks the carrier list fails at load, saying where and why."""
    with pytest.raises(ClinicTermsError, match=re.escape(complaint)):
        build(tmp_path, carriers_file=str(write_carriers(tmp_path, body)))


def test_the_bundled_carrier_list_is_broad() -> None:
    """Hundreds of US carriers and plans, every one reachable by its own name."""
    vocabulary = ClinicVocabulary.load()
    assert vocabulary.carriers is not None
    names = set(vocabulary.carriers.aliases.values())
    assert len(names) >= 300
    for name in names:
        mentions = vocabulary.find(f"do you take {name}?")
        assert [m.entity for m in mentions if m.entity == "insurance"], name


def test_a_long_message_with_the_broad_list_stays_cheap(extractor: ClinicEntityExtractor) -> None:
    """Typo checks against hundreds of carriers do not make a 10 kB message slow."""
    import time

    text = "I am writing about my insurance, plans and some other things. " * 160
    started = time.perf_counter()
    assert run(extractor, text + "Do you take molna?")[-1]["value"] == "Molina Healthcare"
    assert time.perf_counter() - started < 1.0


def test_vocabulary_is_compiled_once_per_terms_file(tmp_path: Path) -> None:
    """Every model load in a process shares one compiled vocabulary, so loads stay cheap."""
    first = build(tmp_path)
    second = build(tmp_path, typo_tolerance=False)
    assert ClinicVocabulary.load() is ClinicVocabulary.load()
    assert first._vocabulary is second._vocabulary


@pytest.mark.slow
def test_importing_the_module_does_not_load_spacy() -> None:
    """Nothing heavy at import: spaCy is only imported when a component is created."""
    code = "import sys, bot.nlu.clinic_entities; print('spacy' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "False"


@pytest.fixture(scope="module")
def trained_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Trains a tiny NLU model whose pipeline has the component after WhitespaceTokenizer."""
    import rasa.model_training

    root = tmp_path_factory.mktemp("rasa_project")
    config = root / "config.yml"
    config.write_text(
        textwrap.dedent(
            """
            recipe: default.v1
            language: en
            assistant_id: clinic-entities-test
            pipeline:
              - name: WhitespaceTokenizer
              - name: bot.nlu.clinic_entities.ClinicEntityExtractor
              - name: CountVectorsFeaturizer
              - name: LogisticRegressionClassifier
            """
        )
    )
    nlu = root / "nlu.yml"
    nlu.write_text(
        textwrap.dedent(
            """
            version: "3.1"
            nlu:
              - intent: book_appointment
                examples: |
                  - I want to book an appointment
                  - can I schedule a visit
                  - book me in please
                  - I need an appointment with the doctor
                  - schedule an appointment for next week
              - intent: greet
                examples: |
                  - hello
                  - hi there
                  - good morning
                  - hey
                  - hi
            """
        )
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RASA_CACHE_DIRECTORY", str(root / "cache"))
        model = rasa.model_training.train_nlu(str(config), str(nlu), str(root / "models"))
    assert model, "training failed"
    return model


@pytest.mark.model
async def test_component_runs_inside_a_trained_rasa_model(trained_model: str) -> None:
    """A model trained with the component in its pipeline returns its entities when parsing."""
    from rasa.core.agent import Agent

    agent = Agent.load(trained_model)
    parsed = await agent.parse_message("I want to book a flu shot with Dr. Patle, not Dr. Kim")
    assert parsed["intent"]["name"] == "book_appointment"
    entities = parsed["entities"]
    assert [(e["entity"], e["value"], e["text"], e.get("role"), e["extractor"]) for e in entities] == [
        ("visit_type", "vaccination", "flu shot", None, "ClinicEntityExtractor"),
        ("provider", "patel", "Dr. Patle", None, "ClinicEntityExtractor"),
        ("provider", "kim", "Dr. Kim", "not", "ClinicEntityExtractor"),
    ]
