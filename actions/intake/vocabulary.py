"""What the patient says during intake, as data: the words and patterns the answers are read with.

Content to tune, not logic: a new way to say "skip", "go back" or "no
allergies" is added here, and ``answers.py`` reads with it.
"""

from __future__ import annotations

import re

from actions.intake.slots import (
    ADDRESS,
    ALLERGIES,
    CARRIER,
    CONSENT_TEXT,
    CONSENT_TREATMENT,
    CONTACT_NAME,
    CONTACT_PHONE,
    CONTACT_RELATIONSHIP,
    DOB,
    EMAIL,
    LEGAL_NAME,
    MEDICATIONS,
    MEMBER_ID,
    MOBILE,
    PREFERRED_NAME,
    REASON,
    SUBSCRIBER_NAME,
    SUBSCRIBER_RELATIONSHIP,
)

# --- what the patient may call each answer ("change my <field>") ----------------
# Order matters: the first pattern that matches the whole phrase wins.
FIELD_PATTERNS: list[tuple[str, list[str], re.Pattern[str]]] = [
    (
        "contact_phone",
        [CONTACT_PHONE],
        re.compile(
            r"(emergency )?contact'?s? (phone|cell|number)( number)?|emergency (phone|number|cell)( number)?|"
            r"their (phone|number|cell)( number)?"
        ),
    ),
    ("contact_name", [CONTACT_NAME], re.compile(r"(emergency )?contact'?s? name|their name")),
    (
        "contact_relationship",
        [CONTACT_RELATIONSHIP],
        re.compile(r"(emergency )?(contact'?s? )?relationship|how (they are|they're|we are|we're) related"),
    ),
    (
        "contact",
        [CONTACT_NAME, CONTACT_PHONE, CONTACT_RELATIONSHIP],
        re.compile(r"emergency contact( info| information| person)?|emergency( person)?|contact( person)?"),
    ),
    (
        "member_id",
        [MEMBER_ID],
        re.compile(r"member ?(id|number|#)|insurance (id|number)|policy (id|number)|id( number)?"),
    ),
    (
        "subscriber",
        [SUBSCRIBER_RELATIONSHIP, SUBSCRIBER_NAME],
        re.compile(
            r"subscriber( name)?|policy ?holder( name)?|plan ?holder( name)?|whose plan( it is)?|who holds the plan"
        ),
    ),
    (
        "insurance",
        [CARRIER, MEMBER_ID, SUBSCRIBER_RELATIONSHIP, SUBSCRIBER_NAME],
        re.compile(
            r"(health )?insurance( info| information| company| plan| carrier)?|"
            r"carrier|insurer|plan|coverage|self[- ]?pay"
        ),
    ),
    ("preferred_name", [PREFERRED_NAME], re.compile(r"preferred name|nick ?name|name i go by|what (you|to) call me")),
    ("dob", [DOB], re.compile(r"date of birth|birth ?date|birthday|dob|d\.o\.b\.?")),
    ("mobile", [MOBILE], re.compile(r"(mobile|cell|phone|cell ?phone)( phone)?( number| #)?|number|phone number")),
    ("email", [EMAIL], re.compile(r"e-?mail( address)?")),
    ("address", [ADDRESS], re.compile(r"(home |street |mailing )?address|street|zip( code)?|city|state")),
    ("legal_name", [LEGAL_NAME], re.compile(r"(full |legal |last |first |real )?name|spelling of my name")),
    ("reason", [REASON], re.compile(r"reason( for (my|the) visit)?|visit reason|why i'?m coming( in)?")),
    (
        "medications",
        [MEDICATIONS],
        re.compile(r"med(ication|icine)?s?|meds|drugs|pills|prescriptions?|medication list"),
    ),
    ("allergies", [ALLERGIES], re.compile(r"allerg(y|ies)|allergic|allergy list")),
    ("consent_text", [CONSENT_TEXT], re.compile(r"texts?( messages?)?( consent| answer)?|sms|texting")),
    ("consent_treatment", [CONSENT_TREATMENT], re.compile(r"consent( to (treatment|care))?|treatment")),
]
PREVIOUS = "previous"
_PREFIX = r"(?:(?:wait|oops|sorry|actually|hold on|hang on|hm+|uh+|um+|oh|ah|no|ok|okay)\b[\s,.!-]*)*"
_POLITE = (
    r"(?:(?:can|could|may) (?:i|we|you) |i (?:want|need|would like|'d like|wanna) to |let me |let'?s |"
    r"please |i have to |i gotta |i need to |i'?ll |i will |we'?ll |we can )?"
)
_DET = r"(?:(?:my|the|your|that|our|this) )?"
_END = r"(?:\s+(?:please|pls|plz|again|answer|too|now))*[\s.!?]*$"
CHANGE_VERB = re.compile(
    rf"^{_PREFIX}{_POLITE}(?:change|fix|edit|correct|update|redo|re-do|go back to|back to|return to)"
    rf"\s+{_DET}(?P<field>.+?){_END}",
    re.I,
)
FIELD_WRONG = re.compile(
    rf"^{_PREFIX}{_DET}(?P<field>.+?)\s*(?:is|was|are|were|'s|’s)\s+"
    rf"(?:wrong|incorrect|not right|not correct|a mistake|a typo|mistyped|off|bad){_END}",
    re.I,
)
WRONG_FIELD = re.compile(
    rf"^{_PREFIX}(?:i (?:gave|typed|put|entered|said) (?:you )?)?(?:the |a )?wrong (?P<field>.+?){_END}", re.I
)
GO_BACK = re.compile(
    rf"^{_PREFIX}{_POLITE}(?:go back|back|previous( question)?|undo( that)?|back up|go back one|last question|"
    rf"go to the last question){_END}",
    re.I,
)
LAST_ANSWER = re.compile(
    r"^(it|that|this|my answer|that answer|the answer|the last one|last answer|my last answer)$", re.I
)

PAUSE = re.compile(
    rf"^{_PREFIX}{_POLITE}(?:pause(?: it| this| the form)?(?: for now)?|stop for now|stop here for now|"
    r"(?:finish|do|continue|complete) (?:it |this |the rest |the form |them )?later|(?:maybe )?later|"
    r"save (?:it|this|my answers|my progress|the form)(?: for later)?|take a break|"
    r"i'?ll (?:come back|be back|finish|do it|do this|do the rest)(?: later)?|come back later|brb|"
    r"be right back|gotta go|got to go|i (?:have|need) to go(?: now)?|stop|quit|exit|never ?mind|nvm|forget it|"
    r"cancel(?: that| this| it| the form)?|i changed my mind|i don'?t want to do this(?: now| anymore)?)"
    rf"(?:\s+(?:please|pls|thanks|thank you))?{_END}",
    re.I,
)

SKIP_WORDS = re.compile(
    r"^\s*(skip(\s+(it|this|that))?|none|no+|nope|nah|n/?a|na|no thanks?|no thank you|pass|not really|"
    r"i don'?t have (one|any|an? \w+)|don'?t have (one|any)|no \w+|nothing|not now|"
    r"same|same as (above|my name|legal name)|"
    r"just my (legal |real )?name|my (legal |real )?name is fine|(that'?s|it'?s) fine)\s*[.!]*\s*$",
    re.I,
)
NONE_MEDICATIONS = re.compile(
    r"^\s*(none|no+|nope|nothing|nada|zero|n/?a|none (at all|right now|currently)|"
    r"no (meds|medications?|medicines?|drugs|pills|prescriptions?)( at all| right now| currently)?|"
    r"i (don'?t|do not) take any(thing)?( \w+)?( right now| currently| at the moment)?|"
    r"(i'?m |i am )?not (taking|on) any(thing)?( \w+)?( right now| currently)?)\s*[.!]*\s*$",
    re.I,
)
NONE_ALLERGIES = re.compile(
    r"^\s*(none|no+|nope|nothing|n/?a|nka|nkda|nkfa|none known|no known( drug| food)?( allergies)?|"
    r"no (allergies|allergy)( at all)?|not allergic( to anything)?|i'?m not allergic( to anything)?|"
    r"i am not allergic( to anything)?|i (don'?t|do not) have any( allergies)?|"
    r"i have no( known)? allergies)\s*[.!]*\s*$",
    re.I,
)
UNSURE = re.compile(r"^\s*(idk|i don'?t know|not sure|no idea|dunno|i'?m not sure|\?+)\s*[.!]*\s*$", re.I)
LIST_PREFIX = re.compile(
    r"^\s*(i take|i'?m on|i am on|i'?m taking|i am taking|taking|i use|just|only|"
    r"i'?m allergic to|i am allergic to|allergic to|i have allergies to|allergies:|meds:|medications:)\s+",
    re.I,
)
LIST_SPLIT = re.compile(r"\s*(?:,|;|\n|\band\b|&|\+)\s*", re.I)
SELF_PAY_WORDS = re.compile(
    r"\b(self[- ]?pay(ing)?|no( health)? insurance|(don'?t|do not) have (any )?(health )?insurance|uninsured|"
    r"not insured|out of pocket|pay(ing)? (for )?(it )?(myself|cash)|private pay|cash pay)\b|"
    r"^\s*(none|no+|nope|cash)\s*[.!]*\s*$",
    re.I,
)
CARRIER_PREFIX = re.compile(
    r"^\s*(my insurance is( with)?|i have|i'?ve got|it'?s|it is|insurance:|with|i'?m with|i am with|we have)\s+", re.I
)
MEMBER_PREFIX = re.compile(r"^\s*(my )?(member ?(id|number|#)|id|number|it'?s|it is|#)\s*(is|:)?\s*", re.I)
NAME_LEAD = re.compile(
    r"^\s*(my name is|my legal name is|legal name:|it'?s|it is|i'?m|i am|call me|you can call me|please call me|"
    r"i go by|i prefer|just|my nickname is|i like to be called|their name is|his name is|her name is|name:)\s+",
    re.I,
)
RELATIONSHIP_WORDS = (
    r"wife|husband|spouse|partner|mom|mother|dad|father|son|daughter|sister|brother|friend|aunt|uncle|"
    r"grandma|grandmother|grandpa|grandfather|grandson|granddaughter|neighbor|neighbour|boyfriend|girlfriend|"
    r"fianc[eé]e?|cousin|roommate|niece|nephew|parent|child|guardian|caregiver|stepmother|stepfather|"
    r"stepmom|stepdad|mother-in-law|father-in-law|sister-in-law|brother-in-law"
)
# Words no one's name is made of: "my mom" or "I don't know" is not a name.
NOT_NAME_WORDS = {
    "im",
    "i'm",
    "me",
    "my",
    "mine",
    "you",
    "your",
    "he",
    "she",
    "his",
    "her",
    "they",
    "their",
    "we",
    "our",
    "it",
    "its",
    "it's",
    "the",
    "an",
    "is",
    "are",
    "was",
    "not",
    "don't",
    "dont",
    "know",
    "what",
    "why",
    "how",
    "yes",
    "no",
    "none",
    "skip",
    "same",
    "idk",
    "sure",
    "ok",
    "okay",
    "please",
    "thanks",
    "thank",
    "name",
    "called",
    "call",
    "and",
    "or",
    "to",
    "nobody",
    "no-one",
    "someone",
    "anyone",
}
CONTACT_LEAD = re.compile(
    rf"^\s*(?:my\s+)?(?P<relationship>{RELATIONSHIP_WORDS})\b[,:]?\s+(?:is\s+)?(?P<rest>.+)$", re.I
)
RELATIONSHIP_LEAD = re.compile(r"^\s*((s?he|they)('?s| is| are)|it'?s|that'?s|is)?\s*(my|our)?\s+", re.I)
SUBSCRIBER_WORDS: list[tuple[str, re.Pattern[str]]] = [
    (
        "self",
        re.compile(
            r"^\s*(yes|yeah|yep|me|mine|myself|my own( plan)?|self|i am|i'?m the (holder|subscriber)|"
            r"in my name|it'?s mine|it is mine|my name|i do|/affirm)\b",
            re.I,
        ),
    ),
    ("spouse", re.compile(r"\b(spouse|wife|husband|partner)('?s)?\b", re.I)),
    ("child", re.compile(r"\b(parents?|mom|dad|mother|father|mommy|daddy|stepmom|stepdad|guardian)('?s)?\b", re.I)),
    ("other", re.compile(r"\b(other|someone else|somebody else|else'?s|employer|grand\w*|aunt|uncle)\b", re.I)),
]
YES_EXTRA = re.compile(
    r"^\s*(i (agree|consent|do)|agreed|of course|absolutely|yes please|that'?s (right|correct|me))\b", re.I
)
NO_EXTRA = re.compile(r"^\s*(i (don'?t|do not) (agree|consent)|no way|never|i disagree|not okay|not ok)\b", re.I)
NOTHING_TO_CHANGE = re.compile(
    r"^\s*(nothing|none|never ?mind|nvm|no changes?|it'?s (all )?(fine|good|right|correct)|all good|looks good|"
    r"it'?s ok(ay)?|no+|nope)\s*[.!]*\s*$",
    re.I,
)
# Words that show an answer is a sentence about insurance, not an insurer's name.
NOT_A_CARRIER = re.compile(
    r"^(health )?insurance$|\b(i|i'?m|im|my|me|is|are|was|have|has|had|do|does|don'?t|dont|not|know|it|it'?s|"
    r"at|home|card|forgot|left|sure|idk|yes|yeah|no|think|maybe)\b",
    re.I,
)
EMAIL_IN_TEXT = re.compile(r"[^\s@<>(),;:\"'\[\]]+@[^\s@<>(),;:\"'\[\]]+")
ZIP = re.compile(r"\b\d{5}(?:-\d{4})?\b")
ADDRESS_LEAD = re.compile(r"^\s*(my (home )?address is|i live at|address:|it'?s|it is|home:)\s+", re.I)
US_STATES = {
    "alabama": "AL",
    "alaska": "AK",
    "arizona": "AZ",
    "arkansas": "AR",
    "california": "CA",
    "colorado": "CO",
    "connecticut": "CT",
    "delaware": "DE",
    "florida": "FL",
    "georgia": "GA",
    "hawaii": "HI",
    "idaho": "ID",
    "illinois": "IL",
    "indiana": "IN",
    "iowa": "IA",
    "kansas": "KS",
    "kentucky": "KY",
    "louisiana": "LA",
    "maine": "ME",
    "maryland": "MD",
    "massachusetts": "MA",
    "michigan": "MI",
    "minnesota": "MN",
    "mississippi": "MS",
    "missouri": "MO",
    "montana": "MT",
    "nebraska": "NE",
    "nevada": "NV",
    "new hampshire": "NH",
    "new jersey": "NJ",
    "new mexico": "NM",
    "new york": "NY",
    "north carolina": "NC",
    "north dakota": "ND",
    "ohio": "OH",
    "oklahoma": "OK",
    "oregon": "OR",
    "pennsylvania": "PA",
    "rhode island": "RI",
    "south carolina": "SC",
    "south dakota": "SD",
    "tennessee": "TN",
    "texas": "TX",
    "utah": "UT",
    "vermont": "VT",
    "virginia": "VA",
    "washington": "WA",
    "west virginia": "WV",
    "wisconsin": "WI",
    "wyoming": "WY",
    "district of columbia": "DC",
    "puerto rico": "PR",
}
STATE_CODES = set(US_STATES.values()) | {"VI", "GU", "AS", "MP"}
# State codes that are also common English words: only read as a state in capitals or before a ZIP.
AMBIGUOUS_STATE_CODES = {"in", "me", "or", "hi", "ok", "oh", "de", "pa", "la", "ma", "al", "co", "id", "mo", "ne", "ct"}

#: A button's payload: ``/inform{"intake_choice": "skip"}``.
BUTTON = re.compile(r"^/inform\s*(\{.*\})\s*$", re.S)
#: "Skip" to a question that must be answered.
REQUIRED_SKIP = re.compile(r"(skip|skip (it|this|that)|pass|next)[.!]*")
#: A bare no, which to an offered insurer on file means "not that one", not "no insurance".
BARE_NO = re.compile(r"(no+|nope|nah)[.!]*", re.I)
#: A phone number inside a longer answer ("my wife Maria, 212-555-0188").
PHONE_IN_ANSWER = re.compile(r"[+(]?\d[\d\s().-]{6,}\d")
#: A house number or a PO box: every address has one.
HOUSE_NUMBER = re.compile(r"(^|\s)\d+[A-Za-z]?\b|\bp\.?\s*o\.?\s*box\s+\d+", re.I)
#: A relationship in words: letters, with spaces, apostrophes or hyphens between.
RELATIONSHIP_TEXT = re.compile(r"[^\W\d_]+(?:[ '’-][^\W\d_]+)*")
