"""Word tables for the date/time parser, kept apart so the grammar reads as logic only.

Every surface form (abbreviation, SMS shorthand, common typo, Spanish word) maps to one
canonical English word, so the grammar only ever has to know the canonical spelling.
"""

from __future__ import annotations

import re
from datetime import time
from typing import Callable, Union

# --- canonical word tables -------------------------------------------------------------

WEEKDAY_NAMES: tuple[str, ...] = (
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
)
WEEKDAYS: dict[str, int] = {name: i for i, name in enumerate(WEEKDAY_NAMES)}
# Plural forms ("mondays", "los lunes") mean a recurring weekday, not one date.
PLURAL_WEEKDAYS: dict[str, int] = {name + "s": i for i, name in enumerate(WEEKDAY_NAMES)}

MONTH_NAMES: tuple[str, ...] = (
    "january", "february", "march", "april", "may", "june", "july",
    "august", "september", "october", "november", "december",
)
MONTHS: dict[str, int] = {name: i + 1 for i, name in enumerate(MONTH_NAMES)}
# Month words that are also ordinary words ("may I come", "Jan here"): only a month
# when a day number or a month-ish preposition is next to them.
GUARDED_MONTH_WORDS: frozenset[str] = frozenset({"may", "march"})

_CANON_GROUPS: dict[str, tuple[str, ...]] = {
    # relative days
    "today": ("today", "tday", "tdy", "todays", "hoy", "2day", "toady"),
    "tonight": ("tonight", "tonite", "tonigh", "tonght", "2nite", "2night", "tonights"),
    "tomorrow": (
        "tomorrow", "tmrw", "tmr", "tmrow", "tmw", "tmro", "tmoro", "tomoz", "tmoz", "tomo",
        "tomorow", "tommorow", "tommorrow", "tomorro", "tomorrw", "tomarrow", "tomorroe",
        "tomrrow", "tomrow", "tommorw", "tomm", "tomorrows", "2moro", "2morro", "2morrow",
        "2morow", "2mrw", "2mro", "2moz", "manana",
    ),
    "yesterday": ("yesterday", "yday", "yest", "yesturday", "yesterdy", "ayer"),
    "anteayer": ("anteayer", "antier"),
    "now": ("now", "rn", "ahora", "ahorita"),
    # weekdays
    "monday": ("monday", "mon", "mondy", "monady", "mnday", "lunes", "lun"),
    "tuesday": (
        "tuesday", "tue", "tues", "tuesdy", "teusday", "tusday", "tuseday", "tueday",
        "tuesay", "martes",
    ),
    "wednesday": (
        "wednesday", "wed", "weds", "wensday", "wendsday", "wednsday", "wedensday",
        "wednesdy", "wenesday", "wedsday", "wednessday", "wednseday", "wendesday",
        "wedneday", "miercoles", "mier", "mie",
    ),
    "thursday": (
        "thursday", "thu", "thur", "thurs", "thr", "thrs", "thurday", "thrusday",
        "thirsday", "thursdy", "thuesday", "jueves", "jue",
    ),
    "friday": ("friday", "fri", "firday", "fryday", "fridy", "frday", "viernes", "vie"),
    "saturday": (
        "saturday", "sat", "saterday", "satuday", "saturdy", "satruday", "sabado", "sab",
    ),
    "sunday": ("sunday", "sun", "sundy", "sundat", "domingo", "dom"),
    "mondays": ("mondays", "mons"),
    "tuesdays": ("tuesdays", "tuesdys"),
    "wednesdays": ("wednesdays", "wensdays", "wednsdays"),
    "thursdays": ("thursdays", "thurdays"),
    "fridays": ("fridays",),
    "saturdays": ("saturdays", "sats"),
    "sundays": ("sundays",),
    # months
    "january": ("january", "jan", "janurary", "januray", "janaury", "enero", "ene"),
    "february": (
        "february", "feb", "febuary", "febrary", "feburary", "febr", "febrero",
    ),
    "march": ("march", "mar", "marzo"),
    "april": ("april", "apr", "abril", "abr", "aprl"),
    "may": ("may", "mayo"),
    "june": ("june", "jun", "junio"),
    "july": ("july", "jul", "julio"),
    "august": ("august", "aug", "agosto", "agust"),
    "september": (
        "september", "sep", "sept", "septmber", "setember", "septiembre", "setiembre",
    ),
    "october": ("october", "oct", "ocotber", "octobre", "octubre"),
    "november": ("november", "nov", "novmber", "noviembre"),
    "december": ("december", "dec", "decmber", "decemeber", "decembre", "diciembre", "dic"),
    # periods of the day
    "morning": (
        "morning", "morn", "mornin", "mornig", "moring", "morming", "mroning", "morninng",
        "mornng",
    ),
    "mornings": ("mornings", "mornins", "mananas"),
    "afternoon": (
        "afternoon", "aft", "arvo", "afternon", "aftrnoon", "afternoom", "aftenoon",
        "afteroon", "afternnon", "aftnoon", "afternooon", "tarde",
    ),
    "afternoons": ("afternoons", "tardes"),
    "evening": ("evening", "evenin", "evning", "eveing", "evenning", "evenig"),
    "evenings": ("evenings", "evenins"),
    "night": ("night", "nite", "noche"),
    "nights": ("nights", "nites", "noches"),
    "noon": ("noon", "midday", "mediodia", "noonish", "noontime"),
    "midnight": ("midnight", "medianoche"),
    "lunch": ("lunch", "lunchtime", "lunchbreak", "luch", "lunh", "almuerzo"),
    # units
    "day": ("day", "dia", "dy"),
    "days": ("days", "dias", "dys"),
    "week": ("week", "wk", "wek", "weeek", "semana"),
    "weeks": ("weeks", "wks", "weks", "semanas"),
    "weekend": ("weekend", "wkend", "wknd", "weeknd", "wekend", "weekened", "finde"),
    "weekends": ("weekends", "wkends", "wknds"),
    "weekday": ("weekday", "wkday"),
    "weekdays": ("weekdays", "wkdays"),
    "month": ("month", "mth", "mnth", "mes"),
    "months": ("months", "mths", "mnths", "meses"),
    "hrs": ("hrs", "hr", "hours", "hour", "h", "hs", "horas", "hora"),
    # connectors and prepositions
    "next": ("next", "nxt", "nex", "siguiente"),
    "proximo": ("proximo", "proxima", "proximos", "proximas"),
    "this": ("this", "dis", "thi", "este", "esta", "estos", "estas"),
    "last": ("last", "pasado", "pasada"),
    "coming": ("coming", "upcoming", "comming"),
    "following": ("following",),
    "after": ("after", "aftr", "afer", "afta", "despues", "post"),
    "before": ("before", "befor", "bfore", "b4", "antes", "prior"),
    "between": ("between", "btwn", "betwen", "betweeen", "bw", "btw", "inbetween", "entre"),
    "around": (
        "around", "arround", "aroud", "arond", "round", "about", "abt", "abour", "approx",
        "approximately", "roughly", "circa", "cerca", "alrededor", "tipo", "aprox",
    ),
    "until": ("until", "til", "till", "untill", "untl", "hasta"),
    "through": ("through", "thru", "thro", "throught"),
    "from": ("from", "frm", "desde", "starting", "startin", "since"),
    "at": ("at", "@"),
    "by": ("by",),
    "on": ("on", "onn"),
    "in": ("in", "en", "dentro"),
    "of": ("of", "de", "del"),
    "the": ("the", "el", "teh", "da"),
    "and": ("and", "n", "y", "plus"),
    "or": ("or", "o", "u", "either"),
    "early": ("early", "earlier", "temprano", "principios", "principio", "inicios", "inicio"),
    "late": ("late", "finales", "final", "fines"),
    "later": ("later", "l8r", "laterr"),
    "mid": ("mid", "mediados", "middle", "midst"),
    "end": ("end", "fin", "ending", "close"),
    "start": ("start", "beginning", "begining", "begin", "comienzos"),
    "half": ("half", "media", "haf"),
    "quarter": ("quarter", "cuarto", "qtr"),
    "minus": ("minus", "menos"),
    "past": ("past", "pas"),
    "to": ("to",),
    "oclock": ("oclock", "oclok", "oclk", "oclck"),
    "ish": ("ish",),
    "any": ("any", "cualquier", "cualquiera"),
    "soon": ("soon", "sooner", "pronto"),
    "asap": ("asap", "asp", "asa", "urgent", "urgently", "emergency", "urgente", "urgencia"),
    "possible": ("possible", "posible"),
    "available": ("available", "availible", "avail", "avalable", "availability", "disponible"),
    "whenever": ("whenever", "whenevr", "whenver", "wheneva"),
    "anytime": ("anytime", "anytim", "anywhen"),
    "not": ("not", "no", "nope", "cant", "cannot", "never", "except", "excluding", "unable",
            "excepto", "salvo"),
    "ago": ("ago",),
    "work": ("work", "wrk", "trabajo"),
    "school": ("school", "skool", "class", "escuela"),
        "couple": ("couple", "cpl", "coupla", "par"),
    "few": ("few", "several"),
    "within": ("within", "inside"),
    "christmas": ("christmas", "xmas", "navidad"),
}

CANON: dict[str, str] = {
    variant: canonical
    for canonical, variants in _CANON_GROUPS.items()
    for variant in variants
}

# Longer canonical words worth a one-typo fuzzy match (short words would collide).
FUZZY_VOCAB: tuple[str, ...] = (
    *WEEKDAY_NAMES,
    "january", "february", "august", "september", "october", "november", "december",
    "tomorrow", "yesterday", "afternoon", "morning", "evening", "tonight", "weekend",
    "possible", "available", "between", "whenever", "anytime", "lunchtime",
)

# --- numbers -------------------------------------------------------------------------

NUMBER_WORDS: dict[str, int] = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40,
    "fifty": 50,
    # Spanish (the text pass rewrites "a las once" so "once" never reaches here as 11)
    "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6,
    "siete": 7, "ocho": 8, "nueve": 9, "diez": 10, "doce": 12, "un": 1, "trece": 13,
    "catorce": 14, "quince": 15, "veinte": 20, "treinta": 30,
}
# Words that count as a small quantity in "in a couple of days".
QUANTITY_WORDS: dict[str, int] = {"a": 1, "couple": 2, "few": 3}

ORDINAL_WORDS: dict[str, int] = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
    "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12,
    "thirteenth": 13, "fourteenth": 14, "fifteenth": 15, "sixteenth": 16,
    "seventeenth": 17, "eighteenth": 18, "nineteenth": 19, "twentieth": 20,
    "thirtieth": 30, "primero": 1,
}
ORDINAL_SUFFIXES: frozenset[str] = frozenset({"st", "nd", "rd", "th", "ro"})

# --- time-of-day windows --------------------------------------------------------------

T = time
WINDOWS: dict[str, tuple[time | None, time | None]] = {
    "morning": (T(8), T(12)),
    "afternoon": (T(12), T(17)),
    "evening": (T(16), T(20)),
    "lunch": (T(12), T(13)),
    "first_thing": (T(8), T(9, 30)),
    "end_of_day": (T(15), T(17)),
    "after_work": (T(15), None),
    "early_morning": (T(8), T(10)),
    "mid_morning": (T(9, 30), T(11, 30)),
    "late_morning": (T(10), T(12)),
    "early_afternoon": (T(12), T(14)),
    "mid_afternoon": (T(13), T(15, 30)),
    "late_afternoon": (T(15), T(17)),
    "early_evening": (T(16), T(18)),
    "late_evening": (T(18), T(20)),
    "after_lunch": (T(13), None),
    "before_lunch": (None, T(12)),
}
# Clinic opening hours used to complement negated windows ("not mornings").
CLINIC_OPEN: time = T(8)
CLINIC_CLOSE: time = T(17)

PERIOD_WORDS: dict[str, str] = {
    "morning": "morning", "mornings": "morning",
    "afternoon": "afternoon", "afternoons": "afternoon",
    "evening": "evening", "evenings": "evening", "night": "evening", "nights": "evening",
}

# Words that carry no date/time meaning; a lone number surrounded only by these is a time.
FILLER: frozenset[str] = frozenset(
    """ok okay k kk sure yes yeah yep yup ya please pls plz thanks thank you thx ty how what
    about maybe perhaps prob probably i im id we me my lets let us do does would could can
    be is it that thats works work good fine great perfect cool alright then say uh um umm
    hmm hm so well just like want wanna book come in the a an for at around or and please
    will go going sounds sound best better ideally preferably prefer hi hello hey si vale
    bueno claro por favor gracias puedo puede ir quiero mejor mas o ideal ideally preferably
    either works""".split()
)

# Negation words open a short scope that flips the next date/time mention.
NEGATORS: frozenset[str] = frozenset(
    {"not", "dont", "doesnt", "isnt", "wont", "busy", "unavailable", "but", "working"}
)
# After a mention, these say "that one doesn't work" ("monday is bad").
POST_NEGATIONS: tuple[tuple[str, ...], ...] = (
    ("doesnt", "work"), ("wont", "work"), ("not", "work"), ("is", "bad"), ("are", "bad"),
    ("bad",), ("is", "not", "good"), ("not", "good"), ("no", "good"), ("is", "no", "good"),
    ("is", "out"), ("are", "out"), ("isnt", "good"), ("is", "busy"), ("im", "busy"),
    ("not", "possible"), ("is", "not", "possible"), ("doesnt", "suit"), ("not", "great"),
    ("is", "not", "great"), ("not", "available"), ("is", "not", "available"),
    ("is", "full"), ("no", "sirve"), ("no", "puedo"), ("dont", "work"), ("do", "not", "work"),
    ("does", "not", "work"), ("will", "not", "work"), ("arent", "good"), ("dont", "suit"),
    ("are", "not", "good"), ("are", "no", "good"), ("are", "bad"), ("is", "impossible"),
    ("are", "impossible"), ("is", "difficult"), ("are", "difficult"), ("is", "hard"),
    ("are", "hard"), ("doesnt", "suit"), ("wont", "suit"), ("isnt", "possible"),
    ("cant", "do"), ("not", "ideal"), ("isnt", "ideal"),
)

# --- text rewrites applied before tokenising ----------------------------------------

_NUM_ES = r"(?:una|uno|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|once|doce)"
_ES_PLURAL_DAYS = {
    "lunes": "mondays", "martes": "tuesdays", "miercoles": "wednesdays", "jueves": "thursdays",
    "viernes": "fridays", "sabado": "saturdays", "sabados": "saturdays",
    "domingo": "sundays", "domingos": "sundays",
}
_ES_HOURS = {
    "una": "1", "uno": "1", "dos": "2", "tres": "3", "cuatro": "4", "cinco": "5", "seis": "6",
    "siete": "7", "ocho": "8", "nueve": "9", "diez": "10", "once": "11", "doce": "12",
}

Replacement = Union[str, Callable[["re.Match[str]"], str]]

REWRITES: tuple[tuple[re.Pattern[str], Replacement], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        # meridiem spellings
        (r"\b([ap])\.\s?m\b\.?", r"\1m"),
        (r"\b([ap])\s?m\.", r"\1m"),
        (r"(\d)\s?([ap])\.(?=\s|$)", r"\1\2m"),
        # symbols
        (r"[–—−~]", " ~ "),
        (r"@", " at "),
        (r"&", " and "),
        # SMS shorthand that mixes digits and letters
        (r"\b2mo+r+o*w*\b|\b2mrw\b|\b2moz\b", "tomorrow"),
        (r"\b2day\b", "today"),
        (r"\b2ni(?:gh)?te?\b|\b2night\b", "tonight"),
        (r"\bb4\b", "before"),
        (r"\bl8r\b", "later"),
        (r"\bw/e\b", "weekend"),
        (r"\bw/c\b", "week of"),
        (r"\bmid-", "mid "),
        # English multi-word phrases that the grammar treats as one idea
        (r"\bno\s+later\s+than\b|\bnot\s+(?:any\s+)?later\s+than\b|\bnot\s+after\b", " by "),
        (r"\bno\s+earlier\s+than\b|\bnot\s+(?:any\s+)?earlier\s+than\b", " from "),
        (r"\bnot\s+(?:before|until|till|til)\b", " from "),
        (r"\bearlier\s+than\b", " before "),
        (r"\blater\s+than\b", " after "),
        (r"\bup\s+(?:to|until|till)\b", " until "),
        (r"\b(?:how|what)\s+about\b", " maybe "),
        (r"\b(?:work|working|am\s+at\s+work|in\s+class|at\s+school|in\s+school|busy)\s+"
         r"(?:until|till|til|untill)\b", " after "),
        (r"\b(?:get|getting|am|im)\s+(?:off|out)(?:\s+of\s+(?:work|school))?\s+(?:at|by|around)\b",
         " after "),
        (r"\b(?:off|finish|finishes)\s+(?:work\s+|school\s+)?at\b", " after "),
        (r"\bclose\s+to\b", " around "),
        (r"\b(?:close|end)\s+of\s+(?:business|play)\b|\bcob\b|\beod\b", " end_of_day "),
        (r"\ba[\s.]?s[\s.]?a[\s.]?p\b\.?", "asap"),
        (r"\bday after tomorrow\b", "overmorrow"),
        (r"\bday before yesterday\b", "anteayer"),
        (r"\bo\s+clock\b", "oclock"),
        (r"\bnoonish\b", "noon ish"),
        (r"\bm\s*/\s*w\s*/\s*f\b|\bmwf\b", " monday wednesday friday "),
        (r"\bt\s*/\s*th\b|\btu\s*/\s*th\b|\btth\b", " tuesday thursday "),
        (r"\b(morning|afternoon|evening|lunch)-?ish\b", r"\1"),
        (r"\bthe\s+am\b", "the morning"),
        (r"\bthe\s+pm\b", "the afternoon"),
        # Spanish phrases
        (r"\bpasado\s+manana\b", "overmorrow"),
        (r"\bmas\s+tarde\b", "later"),
        (r"\bbuen[oa]s\s+(?:dias|tardes|noches)\b", " "),
        (r"\bfin(?:es)?\s+de\s+semana\b", "weekend"),
        (r"\bentre\s+semana\b", "weekdays"),
        (r"\bla\s+otra\s+semana\b", "next week"),
        (r"\b(?:semana|mes)\s+entrante\b", r"next \g<0>"),
        (r"\bque\s+viene\b", "proximo"),
        (r"\blo\s+(?:antes|mas\s+pronto|mas\s+rapido)(?:\s+(?:posible|que\s+se\s+pueda))?\b", "asap"),
        (r"\bcuanto\s+antes\b", "asap"),
        (r"\bcuando\s+(?:sea|puedan?|quieran?)\b", "whenever"),
        (r"\bcualquier\s+(?:dia|momento|hora)\b", "anytime"),
        (r"\b(?:por|en|de|a)\s+(?:la|las)\s+mananas?\b", " in the morning "),
        (r"\b(?:por|en|de|a)\s+(?:la|las)\s+tardes?\b", " in the afternoon "),
        (r"\b(?:por|en|de|a)\s+(?:la|las)\s+noches?\b", " in the evening "),
        (r"\besta\s+manana\b", "this morning"),
        (r"\besta\s+noche\b", "tonight"),
        (r"\b(?:como|a\s+eso\s+de|cerca\s+de|alrededor\s+de)\s+(?:a\s+)?(?:las|la)\b", " around "),
        (r"\b(despues|antes|desde|hasta|entre)\s+(?:de\s+)?(?:las|la)\b", r" \1 "),
        (r"\b(?:y|e)\s+(?:las|la)\b", " y "),
        (r"\ba\s+(?:las|la)\s+(" + _NUM_ES + r")\b", lambda m: " at " + _ES_HOURS[m.group(1)]),
        (r"\b(?:las|la)\s+(" + _NUM_ES + r")\b", lambda m: " " + _ES_HOURS[m.group(1)]),
        (r"\ba\s+(?:las|la)\s+(?=\d)", " at "),
        (r"\b(?:las|la)\s+(?=\d)", " "),
        (r"\blos\s+(lunes|martes|miercoles|jueves|viernes|sabados?|domingos?)\b",
         lambda m: " " + _ES_PLURAL_DAYS[m.group(1)] + " "),
        (r"(\d{1,2})\s+y\s+(\d{2})\b", r"\1:\2"),
        (r"\bdentro\s+de\b", "in"),
        (r"\b(?:a\s+)?primera\s+hora\b", " first thing "),
        (r"\b(?:a\s+)?ultima\s+hora\b", " end_of_day "),
        (r"\bmenos\s+(?=(?:el|la|los|las)\b|lunes|martes|miercoles|jueves|viernes|sabado|domingo)",
         " except "),
        (r"\b(?:despues|saliendo)\s+(?:del|de)\s+(?:trabajo|colegio|escuela|la\s+escuela)\b",
         " after work "),
        (r"\bde\s+hoy\s+en\b", "from today in"),
    )
)
