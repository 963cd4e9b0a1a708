"""The rule-based red-flag check: what it flags, what it lets through, and how it holds up.

Decisions pinned here: every phrasing in emergency_phrasings.yml is flagged
with its category (full recall); ordinary_messages.yml stays under
MAX_FALSE_ALARM_RATE; negation must scope over the symptom ("no, my chest
hurts" is an emergency); history cancels a medical flag but never a crisis
flag; crisis wins over medical; when in doubt the rules flag.
"""

from __future__ import annotations

import dataclasses
import random
import re
import string
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.safety.evaluate import (
    MAX_FALSE_ALARM_RATE,
    Emergency,
    Ordinary,
    load_emergencies,
    load_ordinary,
)
from bot.safety.red_flags import (
    RedFlagMatcher,
    RedFlagResult,
    RedFlagRulesError,
    detect_red_flags,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EMERGENCIES = load_emergencies()
ORDINARY = load_ordinary()


# ------------------------------------------------------------------ the data sets


def test_the_data_sets_are_large_and_varied() -> None:
    """The sets are big enough to mean something: 150+ emergencies, 200+ ordinary messages."""
    assert len(EMERGENCIES) >= 150
    assert len(ORDINARY) >= 200
    assert sum(e.category == "crisis" for e in EMERGENCIES) >= 50
    assert len({e.text for e in EMERGENCIES}) == len(EMERGENCIES), "duplicate phrasing"
    assert len({o.text for o in ORDINARY}) == len(ORDINARY), "duplicate ordinary message"


@pytest.mark.parametrize("item", EMERGENCIES, ids=lambda e: f"{e.category}:{e.text[:40]}")
def test_every_emergency_phrasing_is_flagged_with_its_category(item: Emergency) -> None:
    """Full recall: each phrasing is flagged, and as the category the dialogue must act on."""
    result = detect_red_flags(item.text)
    assert result.category == item.category, result


def test_false_alarms_on_ordinary_messages_stay_below_the_threshold() -> None:
    """Ordinary clinic traffic, look-alikes included, rarely trips the check."""
    alarms = [o for o in ORDINARY if detect_red_flags(o.text).category is not None]
    rate = len(alarms) / len(ORDINARY)
    assert rate <= MAX_FALSE_ALARM_RATE, [o.text for o in alarms]


@pytest.mark.parametrize(
    "text",
    [
        "results of my chest x-ray",
        "my chest x ray appointment",
        "i'm dying to know my test results",
        "this wait is killing me",
        "dr kim is a lifesaver",
        "heart checkup",
        "my son had a seizure last year, need his follow up",
        "I need a refill of my blood pressure meds",
        "breathing treatment refill",
        "stroke risk screening appointment",
        "my plan is Blue Cross Blue Shield",
        "i can't swallow pills, is there a liquid version",
        "my emergency contact is my wife maria, 555 0101",
    ],
)
def test_the_named_look_alikes_are_not_emergencies(text: str) -> None:
    """The false friends from the issue are in the ordinary set and pass quietly."""
    assert text in {o.text for o in ORDINARY}
    assert detect_red_flags(text).category is None


def test_every_flag_is_exercised_by_the_emergency_set(matcher: RedFlagMatcher) -> None:
    """No rule goes untested: each flag id fires on at least one phrasing of the set."""
    fired = {flag for e in EMERGENCIES for flag in detect_red_flags(e.text).matched_phrase_ids}
    assert {flag.flag_id for flag in matcher._flags} <= fired


# ---------------------------------------------------------------------- negation


@pytest.mark.parametrize(
    "text, negated",
    [
        ("no chest pain", "chest_pain"),
        ("not short of breath", "cant_breathe"),
        ("denies chest pain", "chest_pain"),
        ("without any trouble breathing", "cant_breathe"),
        ("no fever or chest pain, just a cough", "chest_pain"),
        ("i'm not suicidal", "suicidal_thoughts"),
        ("no thoughts of hurting myself", "self_harm"),
        ("sin dolor de pecho", "chest_pain"),
        ("No chest pain or trouble breathing", "cant_breathe"),
        ("I do not have chest pain", "chest_pain"),
        ("I don\u2019t have any chest pain", "chest_pain"),
        ("she has never had a seizure", "seizure"),
        ("no me duele el pecho", "chest_pain"),
    ],
)
def test_a_negated_symptom_is_not_an_emergency(text: str, negated: str) -> None:
    """A cue right before the symptom rules it out, and the result says which flag it negated."""
    result = detect_red_flags(text)
    assert result.category is None
    assert negated in result.negated
    assert result.matched_phrase_ids == ()


@pytest.mark.parametrize(
    "text, category",
    [
        ("no I can't breathe", "medical"),
        ("no, my chest really hurts", "medical"),
        ("No. My chest really hurts", "medical"),
        ("no fever but chest pain", "medical"),
        ("no fever and my chest hurts", "medical"),
        ("not sure if it's chest pain", "medical"),
        ("I don't know what's happening, chest pain since an hour", "medical"),
        ("I've never had chest pain like this", "medical"),
        ("i'm not going to kill myself but i think about it", "crisis"),
        ("i'm not suicidal but i want to die", "crisis"),
        ("no chest pain but i can't breathe", "medical"),
        ("no puedo respirar", "medical"),
        ("no quiero vivir", "crisis"),
        ("not breathing", "medical"),
    ],
)
def test_negation_scopes_over_the_symptom_not_any_no_in_the_message(text: str, category: str) -> None:
    """A "no" that answers a question, or a cue cut off by punctuation or "but", negates nothing."""
    assert detect_red_flags(text).category == category


# ------------------------------------------------------------- history, categories


@pytest.mark.parametrize(
    "text",
    [
        "my son had a seizure last year, need his follow up",
        "i had a stroke in 2019 and need my meds",
        "family history of heart attacks",
        "he had a seizure two years ago",
        "my daughter had seizures as a baby",
        "what's my risk of a heart attack",
    ],
)
def test_medical_history_is_not_a_current_emergency(text: str) -> None:
    """Past or hypothetical medical events are reported as not current, not flagged."""
    result = detect_red_flags(text)
    assert result.category is None
    assert result.not_current


@pytest.mark.parametrize(
    "text",
    [
        "he had a seizure last year and another one today",
        "she had a stroke last year and it's happening again",
        "my son had a seizure and hasn't woken up",
    ],
)
def test_history_gives_way_when_it_is_happening_now(text: str) -> None:
    """ "Again", "today", "right now" turn history back into an emergency."""
    assert detect_red_flags(text).category == "medical"


def test_history_never_cancels_a_crisis() -> None:
    """A past attempt told in the past tense is still treated as a crisis (safety first)."""
    assert detect_red_flags("i tried to kill myself last year").category == "crisis"


def test_crisis_wins_over_medical() -> None:
    """With both kinds in one message the crisis response comes first; both flags are listed."""
    result = detect_red_flags("I took a bunch of pills because I want to die")
    assert result.category == "crisis"
    assert {"overdose_poisoning", "suicidal_thoughts"} <= set(result.matched_phrase_ids)


def test_flags_come_in_text_order_without_repeats() -> None:
    """`matched_phrase_ids` lists each flag once, first mention first."""
    result = detect_red_flags("I can't breathe and my chest hurts, chest pain is awful")
    assert result.matched_phrase_ids == ("cant_breathe", "chest_pain")


# -------------------------------------------------------------------- robustness


@pytest.mark.parametrize(
    "text, category",
    [
        ("cant breath", "medical"),
        ("chest hurst", "medical"),
        ("sucidal", "crisis"),
        ("im feeling suicidial", "crisis"),
        ("my throat is clsoing and my tounge is sweling", "medical"),
        ("I CANT BREATHE", "medical"),
        ("I can\u2019t breathe \U0001f62d\U0001f62d", "medical"),
        ("i...can't...breathe!!!", "medical"),
        ("cant    breathe\n\nhelp", "medical"),
        ("EST\u00c1 SANGRANDO MUCHO", "medical"),
        ("esta sangrando mucho", "medical"),
        ("me quiero morír", "crisis"),
        ("self-harm", "crisis"),
        ("unconcious", "medical"),
        ("he OD'd", "medical"),
    ],
)
def test_case_accents_punctuation_emoji_and_typos_do_not_hide_a_red_flag(text: str, category: str) -> None:
    """Texting style and slips are read the way a person would read them."""
    assert detect_red_flags(text).category == category


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\n\t",
        "\U0001f642\U0001f642\U0001f642",
        "...",
        "?!",
        "\u200b",
        "a",
        "that's odd",
        "i'm sizing up compression socks",
        "I painted my kid's room",
        "i'm cooking dinner",
        "my vision is blurred",
    ],
)
def test_empty_odd_or_near_miss_text_gives_nothing(text: str) -> None:
    """Empty or symbol-only text, and real words one slip from a rule word, flag nothing."""
    result = detect_red_flags(text)
    assert result == RedFlagResult(None, ())


def test_ten_kilobytes_of_text_and_a_flag_at_the_end_is_found() -> None:
    """A pasted 10 kB message is read whole: a red flag in its last line still counts.

    How fast: ``python -m bot.safety.evaluate`` prints the timings (no timed tests).
    """
    filler = "I am writing about my appointment and my chest x ray results next week. " * 140
    text = filler + "Honestly I want to die."
    assert len(text) > 10_000
    result = detect_red_flags(text)
    assert result.category == "crisis"
    assert result.span is not None and result.span[0] >= len(filler)


def test_ten_kilobytes_of_red_flag_words_does_not_blow_up() -> None:
    """The worst case, 10 kB of symptoms and negations, is answered (and correctly)."""
    text = "my chest hurts no chest pain bleeding won't stop I can't breathe " * 160
    assert len(text) > 10_000
    assert detect_red_flags(text).category == "medical"


def test_unknown_words_do_not_grow_the_vocabulary(matcher: RedFlagMatcher) -> None:
    """A long-running server sees endless new words; none of them is stored."""
    rng = random.Random(7)
    detect_red_flags("my chest hurts")
    before = len(matcher._vocab.strings)
    for _ in range(300):
        word = "".join(rng.choice(string.ascii_lowercase) for _ in range(9))
        matcher.detect(f"my chest {word} hurts {word}")
    assert len(matcher._vocab.strings) == before


# ------------------------------------------------------------------------- the API


def test_result_is_a_frozen_dataclass_with_offsets_into_the_text() -> None:
    """Callers get an immutable result whose span points at the words as typed."""
    text = "Hi \U0001f44b I need an appt but my CHEST hurts really bad right now"
    result = detect_red_flags(text)
    assert dataclasses.is_dataclass(result)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.category = None  # type: ignore[misc]
    assert result.is_red_flag
    assert result.span is not None
    assert text[result.span[0] : result.span[1]] == "CHEST hurts"


def test_scan_shows_every_mention_and_its_status(matcher: RedFlagMatcher) -> None:
    """For transparency, each match is reported with what the rules made of it."""
    mentions = matcher.scan("No chest pain. Had a seizure last year. Now I can't breathe")
    assert [(m.flag_id, m.status) for m in mentions] == [
        ("chest_pain", "negated"),
        ("seizure", "not_current"),
        ("cant_breathe", "found"),
    ]


def test_non_text_input_gives_nothing(matcher: RedFlagMatcher) -> None:
    """A missing text (None from a channel) is not an error."""
    assert matcher.detect(None) == RedFlagResult(None, ())  # type: ignore[arg-type]


def test_text_beyond_the_limit_is_not_read(matcher: RedFlagMatcher) -> None:
    """`max_chars` bounds the work per message."""
    assert matcher.detect("x " * 50 + "i want to die", max_chars=40).category is None
    assert matcher.detect("i want to die " + "x " * 50, max_chars=40).category == "crisis"


# ---------------------------------------------------------------- the rules file


def write_rules(tmp_path: Path, body: str) -> Path:
    """Writes a rules file the way staff would."""
    path = tmp_path / "rules.yml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def test_staff_can_write_their_own_rules(tmp_path: Path) -> None:
    """A small rules file with word lists, alternatives, gaps, prefixes and negation works."""
    rules = write_rules(
        tmp_path,
        """
        version: 1
        words:
          belly: [belly, tummy, stomach]
        flags:
          appendicitis:
            category: medical
            patterns:
              - "@belly ...3 (agony|unbearable)"
              - "appendi*"
            alone: [appendix]
          despair:
            category: crisis
            patterns: ["give up on life"]
        negation:
          cues: [no, not]
          breakers: [but]
        """,
    )
    matcher = RedFlagMatcher.load(rules)
    assert matcher.detect("my tummy is in agony").category == "medical"
    assert matcher.detect("appendicitis?").matched_phrase_ids == ("appendicitis",)
    assert matcher.detect("appendix!").category == "medical"
    assert matcher.detect("my appendix scar").matched_phrase_ids == ("appendicitis",)
    assert matcher.detect("not appendicitis").category is None
    assert matcher.detect("i give up on life, my belly is unbearable").category == "crisis"
    assert matcher.detect("chest pain").category is None


def flag(patterns: str, key: str = "patterns", category: str = "medical") -> str:
    """A one-flag rules file body with the given patterns (YAML flow list content)."""
    return f"flags: {{chest: {{category: {category}, {key}: [{patterns}]}}}}"


@pytest.mark.parametrize(
    "body, complaint",
    [
        ("flags: [chest]", "must be a mapping"),
        ("flags: {}", "no flags defined"),
        (flag("chest pain", category="urgent"), "needs a category of ['crisis', 'medical']"),
        (flag("chest pain").replace("chest:", "Chest-Pain:"), "lower_snake_case"),
        (flag("'@hurt chest'"), "unknown word list '@hurt'"),
        (flag("chest pain", key="patern"), "unknown keys ['patern']"),
        (flag("'(a (b|c))'"), "nested parentheses"),
        (flag("'... chest'"), "a gap must follow a word"),
        (flag("'chest ...'"), "must be followed by a word"),
        (flag("'chest ...12 pain'"), "N 1-8"),
        (flag("'ch* pain'"), "3+ letters"),
        (flag("'pain?'"), "every word is optional"),
        (flag("chest pain") + "\ntypos: {words: [pain]}", "6+ letters"),
        (flag("chest pain") + "\nhistory: {applies_to: [urgent]}", "unknown"),
        (flag("chest pain") + "\n  bad: [", "not valid YAML"),
    ],
)
def test_a_broken_rules_file_names_the_problem(tmp_path: Path, body: str, complaint: str) -> None:
    """A staff edit that breaks the file fails at load with a message saying where and why."""
    with pytest.raises(RedFlagRulesError, match=re.escape(complaint)):
        RedFlagMatcher.load(write_rules(tmp_path, body))


def test_a_missing_rules_file_fails_at_load(tmp_path: Path) -> None:
    """A wrong path is an error at load, never a silent no-op."""
    with pytest.raises(RedFlagRulesError, match="Cannot read"):
        RedFlagMatcher.load(tmp_path / "nope.yml")


def test_rules_are_compiled_once_per_content() -> None:
    """Every model load in a process shares one compiled rule set."""
    assert RedFlagMatcher.load() is RedFlagMatcher.load()
    assert RedFlagMatcher.default() is RedFlagMatcher.default()


@pytest.mark.slow
def test_importing_the_module_does_not_load_spacy() -> None:
    """Nothing heavy at import: spaCy is loaded on the first check."""
    code = "import sys, bot.safety.red_flags; print('spacy' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "False"


def _first(items: list[Ordinary], group: str) -> Ordinary | None:
    """The first ordinary message of a group (helper for readability)."""
    return next((o for o in items if o.group == group), None)


def test_the_ordinary_set_covers_the_tricky_groups() -> None:
    """Negations, history and look-alike words each have their own group in the set."""
    for group in ("negated_symptoms", "history", "tricky_words", "booking", "spanish_ordinary"):
        assert _first(ORDINARY, group) is not None, group


# ------------------------------------------- false alarms fixed, emergencies added


@pytest.mark.parametrize(
    "text",
    [
        # accidental cuts are not self-harm
        "me corté el dedo cocinando",
        "i cut myself with a kitchen knife yesterday and now it looks a little red",
        "me corté afeitándome",
        "i cut myself by accident",
        # swelling from an injury or a cold sore is not anaphylaxis
        "my lip is swollen after i bit it",
        "my toddler bumped his lip and its swollen",
        "i bit my tongue and now it's swollen",
        "my lip is swollen from a cold sore",
        # shoulder pain, a scrape, carpal tunnel, a leg asleep are not stroke signs
        "i cant lift my arm over my head without pain",
        "my son has a scrape on his face from falling",
        "numbness in my right hand at night, maybe carpal tunnel",
        "my leg went numb from sitting on the floor too long",
        # fluid from the ear without an injury is an earache
        "there's fluid coming out of my ear",
        # a blocked nose is not respiratory distress
        "stuffy nose and i can't breathe through it at night",
        "my stuffy nose makes it hard to breathe at night",
        "tengo la nariz tapada y no puedo respirar por la nariz",
        # look-alikes of the new rules
        "got soap in my eye",
        "can i see the bone doctor tomorrow",
        "my call got cut off",
        "my baby is 4 months and has a fever",
        "my throat is swollen and sore, maybe strep",
    ],
)
def test_fixed_false_alarms_stay_quiet(text: str) -> None:
    """Each false alarm of the review, and look-alikes of the new rules, flags nothing."""
    assert text in {o.text for o in ORDINARY}
    assert detect_red_flags(text).category is None


@pytest.mark.parametrize(
    "text, flag_id",
    [
        ("got stung and now my throat feels swollen", "anaphylaxis"),
        ("my throat is swelling after eating peanuts", "anaphylaxis"),
        ("bee sting on my lip and it's swelling", "anaphylaxis"),
        ("i fell down the stairs and can't move my legs", "serious_injury"),
        ("my dad fell off the ladder and can't feel his legs", "serious_injury"),
        ("se cayó de la escalera y no puede mover las piernas", "serious_injury"),
        ("the bone is sticking out of his arm", "serious_injury"),
        ("her arm is bent the wrong way after she fell", "serious_injury"),
        ("my finger got cut off in the saw", "serious_injury"),
        ("i sliced off the tip of my finger", "serious_injury"),
        ("got bleach in my eye and it burns badly", "serious_injury"),
        ("me entró cloro en el ojo y me arde mucho", "serious_injury"),
        ("my 6 week old has a fever of 100.6", "infant_emergency"),
        ("my 2 month old has a fever of 101", "infant_emergency"),
        ("baby is 5 weeks and has a fever", "infant_emergency"),
        ("my newborn feels hot, temp is 100.4", "infant_emergency"),
        ("clear fluid from his nose after he hit his head", "head_injury"),
        ("her face is falling on one side", "stroke_signs"),
        ("suddenly i can't lift my arm above my head", "stroke_signs"),
    ],
)
def test_new_emergencies_are_flagged(text: str, flag_id: str) -> None:
    """The review's misses and their variants are medical emergencies, with the flag that says why."""
    assert text in {e.text for e in EMERGENCIES}
    result = detect_red_flags(text)
    assert result.category == "medical"
    assert flag_id in result.matched_phrase_ids


@pytest.mark.parametrize(
    "text",
    [
        "i cut myself on purpose",
        "me corto a propósito",
        "i keep cutting myself on my arms",
        "i've been cutting myself on my wrists",
        "i cut myself with a razor blade to feel something",
        "me corto los brazos cuando estoy triste",
        "i hurt myself when i was upset",
    ],
)
def test_accident_context_does_not_hide_self_harm(text: str) -> None:
    """Cooking, shaving and named objects excuse a cut; a body part or "on purpose" never does."""
    assert text in {e.text for e in EMERGENCIES}
    assert detect_red_flags(text).category == "crisis"


def test_an_accidental_cut_that_bleeds_badly_is_still_a_medical_emergency() -> None:
    """The kitchen-knife context drops the self-harm reading, not the bleeding."""
    result = detect_red_flags("my son cut himself with the kitchen knife and it's bleeding a lot")
    assert result.category == "medical"
    assert "severe_bleeding" in result.matched_phrase_ids
    assert "self_harm" not in result.matched_phrase_ids


# ------------------------------------- emergency categories added in the fourth round


@pytest.mark.parametrize(
    "text, category, flag_id",
    [
        # penetrating trauma
        ("my brother just got shot", "medical", "penetrating_trauma"),
        ("he has a stab wound in his side", "medical", "penetrating_trauma"),
        ("she got stabed in the stomach", "medical", "penetrating_trauma"),
        ("me dispararon en la pierna", "medical", "penetrating_trauma"),
        # self-harm with a method now
        ("i slit my wrists", "crisis", "self_harm_method"),
        ("i have my dad's gun and i'm going to use it on myself", "crisis", "self_harm_method"),
        ("i took a whole bottle of pills on purpose", "crisis", "self_harm_method"),
        # a misspelt overdose with no intent said stays medical, like "i took too many pills"
        ("i took to many pils", "medical", "overdose_poisoning"),
        ("tooke a bottle of sleeping pills", "medical", "overdose_poisoning"),
        # suicide plans and goodbyes
        ("i wrote a note and i'm ready to go", "crisis", "suicide_plan"),
        ("i'm standing on the bridge and i want to jump", "crisis", "suicide_plan"),
        ("my son keeps talking about ending it and he has pills", "crisis", "suicide_plan"),
        ("i'm giving away my things and saying goodbye", "crisis", "suicide_plan"),
        ("estoy en el puente y quiero saltar", "crisis", "suicide_plan"),
        # meningitis signs
        ("my son has a stiff neck and a high fever", "medical", "meningitis_signs"),
        (
            "my daughter has a fever and a rash that doesn't fade when i press a glass on it",
            "medical",
            "meningitis_signs",
        ),
        ("my toddler has purplish spots and a fever", "medical", "meningitis_signs"),
        # pregnancy warning signs
        (
            "i'm 34 weeks pregnant and have a severe headache and blurry vision",
            "medical",
            "pregnancy_warning",
        ),
        ("i'm pregnant and my face and hands suddenly swelled up", "medical", "pregnancy_warning"),
        ("i'm 30 weeks and the baby hasn't moved all day", "medical", "pregnancy_warning"),
        # acute abdomen
        ("the worst stomach pain of my life", "medical", "acute_abdomen"),
        ("my belly is hard as a rock and it hurts so much", "medical", "acute_abdomen"),
        ("severe abdominal pain, vomiting won't stop", "medical", "acute_abdomen"),
        # breathing distress in a child
        ("my baby is breathing really fast and grunting", "medical", "breathing_distress"),
        ("you can see her ribs sucking in when she breathes", "medical", "breathing_distress"),
        ("my son is so wheezy he can't finish a sentence", "medical", "breathing_distress"),
        # sudden vision loss
        ("i suddenly can't see", "medical", "sudden_vision_loss"),
        ("my mom just went blind in her left eye", "medical", "sudden_vision_loss"),
        # not moving after a fall or a blow
        ("he fell off the roof and isn't moving", "medical", "motionless_after_injury"),
        ("grandma fell and she isn't answering me", "medical", "motionless_after_injury"),
        # a very sleepy child
        ("my baby is really lethargic and has a fever", "medical", "sleepy_child"),
        ("my daughter is very hard to wake up and has a fever", "medical", "sleepy_child"),
        ("the baby won't wake up for feeds and feels hot", "medical", "sleepy_child"),
        # low blood sugar
        ("my diabetic husband is confused and sweaty", "medical", "low_blood_sugar"),
        ("my dad's sugar is 42 and he's shaking", "medical", "low_blood_sugar"),
        ("glucose reading 35 mg/dl", "medical", "low_blood_sugar"),
        # near-amputation
        ("my finger is almost cut off", "medical", "serious_injury"),
        ("my thumb is barely attached", "medical", "serious_injury"),
    ],
)
def test_fourth_round_emergencies_are_flagged(text: str, category: str, flag_id: str) -> None:
    """Each new emergency category fires with its own flag and the category the dialogue needs."""
    assert text in {e.text for e in EMERGENCIES if e.category == category}
    result = detect_red_flags(text)
    assert result.category == category, result
    assert flag_id in result.matched_phrase_ids, result


@pytest.mark.parametrize(
    "text",
    [
        # shots that are injections, drinks and idioms
        "can i get a flu shot on saturday",
        "a shot of espresso makes my heart race",
        "i was shot down at work lol",
        "my knee is shot from years of running, can i see someone",
        "got shot with a nerf gun at the party lol, just a red mark",
        # wrists, notes, goodbyes, bridges, a relationship ending
        "my wrists hurt from typing all day",
        "i need a doctor's note for school",
        "does the clinic take donations, i'm giving away baby clothes",
        "i'm standing on the bridge waiting for the bus, i'll be 10 minutes late",
        "my daughter keeps talking about ending it with her boyfriend",
        "i don't want to wake up early, anything later in the day?",
        # a stiff neck without fever, a rash that fades
        "stiff neck from sleeping wrong",
        "my baby has a rash that fades when pressed",
        "can i book the meningitis vaccine before college",
        # pregnancy without warning signs
        "pregnant and have a mild headache",
        "i'm pregnant and my feet are a little swollen at the end of the day",
        "my baby hasn't had a bowel movement in 2 days",
        # ordinary belly pain
        "stomach pain after eating too much",
        "my abs are hard as a rock from working out",
        # ordinary breathing and vision complaints
        "my baby grunts when she poops",
        "my baby breathes fast when sleeping, is that normal",
        "i can't see well at night",
        "i suddenly can't see my appointment in the portal",
        # a fall without a motionless person
        "my son fell off his bike but he's moving fine and talking",
        "my dad fell last week and isn't moving around as much, can he be seen",
        # a sleepy child, a normal sugar, paperwork confusion
        "my son is sleepy after his nap",
        "i can barely wake up in the morning",
        "my diabetic dad's sugar was 140",
        "i'm 45 years old and diabetic, due for my eye exam",
        "my diabetic mom gets shaky when she skips lunch",
        "i'm diabetic and confused about my insurance",
        # things hanging by a thread that are not fingers
        "my son's baby tooth is hanging by a thread",
        "i almost cut my finger while cooking but i'm fine",
    ],
)
def test_fourth_round_look_alikes_stay_quiet(text: str) -> None:
    """The ordinary look-alikes of each new category flag nothing."""
    assert text in {o.text for o in ORDINARY}
    assert detect_red_flags(text).category is None


@pytest.mark.parametrize(
    "text, flag_id, status",
    [
        ("i had meningitis as a kid, do you have my records", "meningitis_signs", "not_current"),
        ("no stiff neck or fever, just a cold", "meningitis_signs", "negated"),
        (
            "the stab wound from last year healed well, i want the scar checked",
            "penetrating_trauma",
            "not_current",
        ),
        (
            "my sugar was 52 last month and the doctor changed my insulin",
            "low_blood_sugar",
            "not_current",
        ),
        ("i've been blind in one eye since birth", "sudden_vision_loss", "not_current"),
    ],
)
def test_fourth_round_flags_respect_negation_and_history(text: str, flag_id: str, status: str) -> None:
    """A denied sign or an old event is seen and ruled out, not flagged."""
    result = detect_red_flags(text)
    assert result.category is None, result
    ruled_out = result.negated if status == "negated" else result.not_current
    assert flag_id in ruled_out, result


@pytest.mark.parametrize(
    "text, category",
    [
        # the narrowed 'wake up ...' ignore no longer hides these
        ("i don't want to wake up in the morning", "crisis"),
        ("he won't wake up at all", "medical"),
        # a dose is not a meter reading: 'mg/dl' after a low sugar still flags
        ("glucose reading 35 mg/dl", "medical"),
        # an accidental wrist cut is not self-harm, but its bleeding is still an emergency
        ("i cut my wrist by accident on glass and it's spurting", "medical"),
    ],
)
def test_narrowed_ignores_no_longer_hide_emergencies(text: str, category: str) -> None:
    """Ignore phrases narrowed in the fourth round let these through, with the right category."""
    assert detect_red_flags(text).category == category


def test_a_dose_in_mg_is_still_not_an_overdose() -> None:
    """The '# mg' ignore now needs a taking verb before it and still keeps doses quiet."""
    assert detect_red_flags("i took 20 mg of oxy").category is None
    assert detect_red_flags("he took 20 mg of melatonin").category is None
