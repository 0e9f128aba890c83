"""Cues for answerability that come from the question's wording rather than from BM25.

- What kind of answer a question asks for ("how many" wants a figure, "when" a date, "where" a
  place, "which countries" names) and whether a paragraph holds that kind of thing at all.
- Proper names and numbers the library lacks ("Mexico", "2017"): a question about another
  country, person or year is rarely answered by a statement that never names them.
- How specific an unknown word is in general English (wordfreq's frequencies, kept as a table
  in bot/english_zipf.txt): "cryptocurrency" says the question is about something else,
  "uniquely" hardly does.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Container
from importlib import resources

ANSWER_TYPES = ("figure", "date", "place", "name")

ASKS: dict[str, re.Pattern[str]] = {
    "figure": re.compile(
        r"\bhow (?:many|much|long|often|old|big|large|far|frequently)\b"
        r"|\bwhat (?:percentage|proportion|share|amount|sum|size|fraction)\b",
        re.IGNORECASE,
    ),
    "date": re.compile(
        r"^\W*when\b|\bwhen\W*$"
        r"|\bwhen (?:did|was|were|is|are|will|does|do|has|have|should|would|can)\b"
        r"|\b(?:what|which) (?:year|years|date|dates|day|month|time)\b"
        r"|\bsince when\b|\bhow long ago\b",
        re.IGNORECASE,
    ),
    "place": re.compile(
        r"^\W*where\b"
        r"|\bwhere (?:is|are|was|were|will|does|do|did|can|should|would)\b"
        r"|\b(?:in|at) (?:which|what) (?:city|country|town|place|venue|location|region)\b"
        r"|\bwhat (?:city|venue|location)\b",
        re.IGNORECASE,
    ),
    "name": re.compile(
        # "which countries" asks for names anywhere; "what countries" only where a clause starts:
        # "how can donors learn what countries need" asks about the needs, not the countries.
        r"(?:\bwhich|(?:^|[,;:?(]|\b(?:in|at|from|for|to|by|with|of|and|or|but))\W*what)"
        r" (?:countries|country|nations|nation|states|companies|company|firms"
        r"|firm|persons|person|officials|official|ministers|minister|delegations|speakers"
        r"|organi[sz]ations|agencies|ngos|languages|language|individuals)\b"
        r"|\bwho (?:is|was|are|were)\b",
        re.IGNORECASE,
    ),
}

# Counts and amounts; ordinals ("the first thematic") answer no "how many".
NUMBER_WORDS = frozenset(
    """one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty
    hundred thousand million billion dozen percent""".split()
)
MONTHS = frozenset(
    """january february march april may june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday""".split()
)
YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b")
# A capitalised word after "in", "at", "within" or "from": where a place would be named.
PLACE_PHRASE = re.compile(r"\b(?:in|at|within|from)\s+(?:the\s+)?[A-Z][\w’'-]*")
CAPITALISED = re.compile(r"[A-Z][\w’'-]*|\d+")
WORD_WITH_CASE = re.compile(r"[^\W_]+(?:[’'-][^\W_]+)*")
SENTENCE_START = re.compile(r"(?:^|[.!?]\s+)([^\W_]+)")

# General-English frequency on the Zipf scale (log10 per billion words): 6 and above is "the",
# "said"; 3 and below is rare. A word's specificity falls from 1 at 3 to 0 at 6.
ZIPF_COMMON = 6.0
ZIPF_RARE = 3.0
# A question in capitals says nothing about which of its words are names.
SHOUTING_SHARE = 0.6


# "What did <someone> say / how did <someone> react": whose words or deeds are asked about.
# The auxiliary is required: "what tasks could IOM take on" asks about IOM's work, not its words.
REPORTED = re.compile(
    r"\b(?:(?:what|how|why)\s+(?:[\w’'-]+\s+){0,2}?)?"
    r"(?:did|does|do|has|have|was|were|is|are)\s+"
    r"(?P<subject>(?:[\w’'-]+\s+){1,5}?)"
    r"(?:say|said|says|tell|told|react|reacted|respond|responded|reply|replied|argue|argued"
    r"|claim|claimed|announce|announced|take|took|propose|proposed|pledge|pledged|vote|voted)\b",
    re.IGNORECASE,
)
POSITION_OF = re.compile(
    r"\b(?:position|stance|view|views|reaction|remarks|proposal)\s+(?:of|by|from)\s+"
    r"(?P<subject>(?:[\w’'-]+\s*){1,4})",
    re.IGNORECASE,
)
# Ways a question names the speaker or the statement itself rather than another party.
SELF_REFERENCES = frozenset(
    """statement speaker speech text document paper it they them we you""".split()
)


def asks_other_party(question: str, speakers: frozenset[str]) -> bool:
    """Whether the question asks what someone other than the speaker said, proposed or did."""
    own = {w.casefold() for s in speakers for w in s.split()}
    for pattern in (REPORTED, POSITION_OF):
        for match in pattern.finditer(question):
            words = [w.casefold() for w in re.findall(r"[^\W_]+", match.group("subject"))]
            words = [w for w in words if w not in {"the", "a", "an", "its", "their", "this"}]
            if not words:
                continue
            if any(w in SELF_REFERENCES or any(w.startswith(o[:5]) for o in own) for w in words):
                continue
            return True
    return False


def asked_types(question: str) -> frozenset[str]:
    """The kinds of answer a question asks for."""
    return frozenset(kind for kind, pattern in ASKS.items() if pattern.search(question))


def held_types(text: str) -> frozenset[str]:
    """The kinds of answer a paragraph can give: figures, dates, places, names."""
    words = re.findall(r"[^\W_]+", text.casefold())
    held = set()
    if any(w.isdigit() or w in NUMBER_WORDS for w in words):
        held.add("figure")
    if YEAR.search(text) or any(w in MONTHS for w in words):
        held.add("date")
    if PLACE_PHRASE.search(text):
        held.add("place")
    if _names(text):
        held.add("name")
    return frozenset(held)


def _names(text: str) -> list[str]:
    """Capitalised words that do not start a sentence, acronyms and numbers, as written."""
    letters = [c for c in text if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) / len(letters) >= SHOUTING_SHARE:
        return [w for w in WORD_WITH_CASE.findall(text) if w.isdigit()]
    starts = {m.start(1) for m in SENTENCE_START.finditer(text)}
    return [
        m.group()
        for m in WORD_WITH_CASE.finditer(text)
        if CAPITALISED.fullmatch(m.group()) and (m.start() not in starts or m.group().isupper())
    ]


def unknown_names(question: str, known: Container[str]) -> tuple[str, ...]:
    """Names, acronyms and numbers in the question that the library never uses."""
    found = []
    for name in _names(question):
        folded = re.sub(r"['’]s$", "", name.casefold())
        if folded not in known and folded not in found:
            found.append(folded)
    return tuple(found)


ENGLISH_ZIPF_FILE = "english_zipf.txt"


@functools.cache
def english_zipf() -> dict[str, float]:
    """Everyday English words and their Zipf frequency (bot/english_zipf.txt, from wordfreq).

    A table rather than wordfreq itself: importing wordfreq and its data takes 0.3-0.7 s, and a
    question must be answered within Discord's three seconds. Loaded with the library (~15 ms).
    """
    table: dict[str, float] = {}
    text = resources.files("bot").joinpath(ENGLISH_ZIPF_FILE).read_text(encoding="utf-8")
    for line in text.splitlines():
        if line and not line.startswith("#"):
            zipf, *words = line.split()
            table.update(dict.fromkeys(words, float(zipf)))
    return table


@functools.cache
def specificity(word: str) -> float:
    """How specific a word is in general English, 0 (everyday) to 1 (rare), by its commonest form.

    "uniquely" counts as "unique" and "providers" as "provider": the commonest of a word's plain
    forms says how ordinary its meaning is. A phrase is as specific as its rarest word.
    """
    zipf = english_zipf()
    frequency = min(
        max(zipf.get(form, 0.0) for form in _plain_forms(part)) for part in word.split()
    )
    return min(1.0, max(0.0, (ZIPF_COMMON - frequency) / (ZIPF_COMMON - ZIPF_RARE)))


def _plain_forms(word: str) -> set[str]:
    forms = {word}
    for suffix, replacements in (
        ("ly", ("",)),
        ("ies", ("y",)),
        ("es", ("", "e")),
        ("s", ("",)),
        ("ed", ("", "e")),
        ("ing", ("", "e")),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            forms |= {word[: -len(suffix)] + r for r in replacements}
    return forms


def log1p(value: float) -> float:
    return math.log1p(max(value, 0.0))
