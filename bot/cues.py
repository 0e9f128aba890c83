"""Cues for answerability that come from the question's wording rather than from BM25.

- What kind of answer a question asks for ("how many" wants a figure, "when" a date, "where" a
  place, "which countries" names, "who chaired" a person, "which official" a person or an office)
  and whether a paragraph holds that kind of thing at all.
- Proper names and numbers the library lacks ("Mexico", "2017"): a question about another
  country, person or year is rarely answered by a statement that never names them.
- How specific an unknown word is in general English (wordfreq's frequencies, kept as a table
  in bot/english_zipf.txt): "cryptocurrency" says the question is about something else,
  "uniquely" hardly does.
- Whether the question asks where or whether the statement speaks of something ("did they
  mention returns?", "what about the GFMD?"): the statement answers that wherever its text holds
  the question's words, whatever the nearest example questions were.
"""

from __future__ import annotations

import functools
import math
import re
import string
from collections.abc import Container, Iterator, Sequence
from importlib import resources

from bot.text import POSSESSIVE_MARKS, find_words

ANSWER_TYPES = ("figure", "date", "place", "name", "person", "official")

# What kind of answer a question asks for, read from pairs of adjacent words ("how many") and a
# few triples ("in which city"): one pass over the question instead of a pattern per kind.
AUXILIARIES = {"did", "was", "were", "is", "are", "will", "does", "do", "has", "have"}
MODALS = {"should", "would", "can"}
PLACE_NOUNS = {"city", "country", "town", "place", "venue", "location", "region"}
NAME_NOUNS = set(
    """countries country nations nation states companies company firms firm delegations speakers
    organisations organizations agencies ngos languages language""".split()
)
# "Who is the current director", "who chaired": one person, by name. "Which official": a
# person by name or by office ("the SRSG"). A group of people ("which speakers", "who should
# lead") is answered by describing them, and is not asked here.
OFFICIAL_NOUNS = set(
    """person official officials minister ministers ambassador ambassadors diplomat diplomats
    spokesperson spokesman spokeswoman""".split()
)
# Offices held by one person. Not "head" or "leader": a body or a process is said to head or
# lead too ("who heads the process" is answered by "the SRSG in her leadership of the process").
PERSON_TITLES = """director chair chairperson chairman chairwoman president minister secretary
    ambassador moderator official spokesperson spokesman spokeswoman envoy commissioner
    rapporteur facilitator co-facilitator author""".split()
# Who held a role at a meeting: answered only by naming someone.
PERSON_VERBS = """chaired chairs moderated moderates hosted hosts presided presides delivered
    authored wrote""".split()
PERSON_ASKED = re.compile(
    r"\bwho(?:[’']s\s+the|\s+(?:is|was|are|were)\s+the)(?:\s+[\w’'-]+){0,2}?\s+"
    rf"(?:{'|'.join(PERSON_TITLES)})s?\b"
    rf"|\bwho\s+(?:{'|'.join(PERSON_VERBS)})\b"
)
OFFICIAL_ASKED = re.compile(
    rf"\b(?:which|what)(?:\s+[\w’'-]+){{0,2}}?\s+(?:{'|'.join(OFFICIAL_NOUNS)})\b"
)
# A text with none of the nouns cannot match OFFICIAL_ASKED: most questions.
OFFICIAL_NOUN_WRITTEN = re.compile("|".join(OFFICIAL_NOUNS))
# A person as a text names one: a title or honorific and a capitalised name ("Dr. Koser",
# "Special Representative Arbour", "Minister Hussen"); not a title of a body ("Director General").
HONORIFICS = """Dr Mr Mrs Ms Mx Prof Professor Sir Dame Ambassador Minister President Representative
    Secretary Director Chair Commissioner Senator Judge Justice Mayor Governor""".split()
PERSON_NAMED = re.compile(
    rf"\b(?:{'|'.join(HONORIFICS)})\.?\s+(?!General\b|Generals\b|of\b)[A-Z][a-z][\w’'-]*"
)
# A sentence without one of these words names no one: most skip the pattern.
HONORIFIC_WORDS = frozenset(h.casefold() for h in HONORIFICS)
# An office held by one person, which answers "which official" without a name ("the SRSG"):
# one word, or two ("secretary-general"), as a text's case-folded words read them. Every sentence
# of a library is read: a set test rather than a pattern, which would take several times as long.
OFFICE_WORDS = frozenset(
    """srsg envoy envoys facilitator facilitators ambassador ambassadors minister ministers
    commissioner commissioners rapporteur rapporteurs president presidents chair chairs
    chairperson chairpersons moderator moderators""".split()
)
# A text holding none of these words holds no OFFICE_PHRASE: most sentences skip the pattern.
OFFICE_PHRASE_WORDS = frozenset({"general", "representative", "representatives"})
OFFICE_PHRASE = re.compile(
    r"\b(?:special\s+representatives?|secretary-general|secretaries-general|director[- ]general)\b"
)
ASKED_BY_PAIR: dict[tuple[str, str], str] = {
    **{("how", w): "figure" for w in "many much long often old big large far frequently".split()},
    **{
        ("what", w): "figure"
        for w in "percentage proportion share amount sum size fraction".split()
    },
    **{("when", w): "date" for w in AUXILIARIES | MODALS},
    **{
        (q, w): "date"
        for q in ("what", "which")
        for w in "year years date dates day month time".split()
    },
    ("since", "when"): "date",
    **{("where", w): "place" for w in (AUXILIARIES - {"has", "have"}) | MODALS},
    **{("what", w): "place" for w in ("city", "venue", "location")},
    **{("which", w): "name" for w in NAME_NOUNS},
    **{("who", w): "name" for w in ("is", "was", "are", "were")},
}
ASKED_BY_TRIPLE: dict[tuple[str, str, str], str] = {
    ("how", "long", "ago"): "date",
    **{(p, q, w): "place" for p in ("in", "at") for q in ("which", "what") for w in PLACE_NOUNS},
}
# Nouns that name the kind of answer: "what is the deadline", "which budget figures".
TYPE_NOUNS = {
    **dict.fromkeys("deadline deadlines timeline timelines timeframe timeframes".split(), "date"),
    **dict.fromkeys("budget budgets cost costs amount amounts total totals".split(), "figure"),
}
TYPE_NOUN_ASKED = re.compile(
    rf"\b(?:what|which)\b(?:[’']s)?(?:\s+[\w’'-]+){{0,3}}?\s+({'|'.join(TYPE_NOUNS)})\b"
)
# A text holding none of the nouns cannot match TYPE_NOUN_ASKED: most questions skip it.
TYPE_NOUN_WRITTEN = re.compile("|".join(TYPE_NOUNS))
# "which countries" asks for names anywhere; "what countries" only where a clause starts:
# "how can donors learn what countries need" asks about the needs, not the countries.
CLAUSE_WORDS = {"in", "at", "from", "for", "to", "by", "with", "of", "and", "or", "but"}
CLAUSE_MARKS = frozenset(",;:?(")
# Words as regex's \w reads them (letters, digits, underscores).
REGEX_WORD = re.compile(r"\w+")
# A word that can start a question's asking pair or triple, and the one or two words that follow
# it after single spaces (looked ahead, so that each such word is read).
ASKING_WORD = re.compile(
    r"\b(how|what|when|where|which|who|since|in|at)\b(?= (\w+)\b(?: (\w+)\b)?)"
)

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
ASCII_CAPITALS = frozenset(string.ascii_uppercase)
ALL_BYTES = bytes(range(256))
NOT_ASCII_LETTERS = ALL_BYTES.translate(None, string.ascii_letters.encode())
NOT_ASCII_CAPITALS = ALL_BYTES.translate(None, string.ascii_uppercase.encode())
WORD_WITH_CASE = re.compile(r"[^\W_]+(?:[’'-][^\W_]+)*")
POSSESSIVE_END = re.compile(r"['’]s$")
# A word of WORD_WITH_CASE that starts with a capital or a digit: the character before its
# first is not part of a word (a letter or digit, or a joiner after one).
NAME_CANDIDATE = re.compile(r"[A-Z\d](?<![^\W_].)(?<![^\W_][’'-].)[^\W_]*(?:[’'-][^\W_]+)*")
# What bot/text.py drops with a possessive "'s": where one is, its words differ from WORD's.
APOSTROPHES = frozenset(POSSESSIVE_MARKS)
ASCII_DIGIT = re.compile(r"[0-9]")

# General-English frequency on the Zipf scale (log10 per billion words): 6 and above is "the",
# "said"; 3 and below is rare. A word's specificity falls from 1 at 3 to 0 at 6.
ZIPF_COMMON = 6.0
ZIPF_RARE = 3.0
# A question in capitals says nothing about which of its words are names.
SHOUTING_SHARE = 0.6


# "What did <someone> say / how did <someone> react": whose words or deeds are asked about.
# The auxiliary is required: "what tasks could IOM take on" asks about IOM's work, not its words.
REPORTING_VERBS = (
    "say said says tell told react reacted respond responded reply replied argue argued claim "
    "claimed announce announced take took propose proposed pledge pledged vote voted"
).split()
POSITION_WORDS = "position stance view views reaction remarks proposal".split()
REPORTED = re.compile(
    r"\b(?:(?:what|how|why)\s+(?:[\w’'-]+\s+){0,2}?)?"
    r"(?:did|does|do|has|have|was|were|is|are)\s+"
    r"(?P<subject>(?:[\w’'-]+\s+){1,5}?)"
    rf"(?:{'|'.join(REPORTING_VERBS)})\b",
    re.IGNORECASE,
)
POSITION_OF = re.compile(
    rf"\b(?:{'|'.join(POSITION_WORDS)})\s+(?:of|by|from)\s+"
    r"(?P<subject>(?:[\w’'-]+\s*){1,4})",
    re.IGNORECASE,
)
# One of those words, whole (as REGEX_WORD reads words): one search instead of a set of words.
REPORTING_OR_POSITION_WORD = re.compile(rf"\b(?:{'|'.join(REPORTING_VERBS + POSITION_WORDS)})\b")
# Ways a question names the speaker or the statement itself rather than another party.
SELF_REFERENCES = frozenset(
    """statement speaker speech text document paper it they them we you""".split()
)


def asks_other_party(question: str, speakers: frozenset[str]) -> bool:
    """Whether the question asks what someone other than the speaker said, proposed or did."""
    # Most questions name no reporting verb nor position: skip the patterns then.
    if REPORTING_OR_POSITION_WORD.search(question.casefold()) is None:
        return False
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


# "What about the GFMD?", "did they mention returns", "find me the bit on donors": the question
# asks where the statement speaks of something, not for a fact beyond it.
WORDS_BEFORE = r"(?:[\w’'-]+\s+){1,3}?"
LOOKUP = re.compile(
    r"^(?:\W*(?:so|and|ok|also|quick one)\W+)?(?:what|anything)\s+(?:about|on|regarding)\b"
    rf"|\b(?:what|how)\s+(?:did|does|do|has|have)\s+{WORDS_BEFORE}"
    r"(?:say|said|mention|mentioned|note|noted|think|feel)\s+(?:about|on|of|regarding)\b"
    rf"|\b(?:did|does|do|has|have)\s+{WORDS_BEFORE}"
    r"(?:mention|say\s+anything|talk\s+about|refer\s+to|bring\s+up|touch\s+on|address|discuss"
    r"|raise|cover)\b"
    r"|\b(?:find|show|quote|give)\s+(?:me\s+)?(?:the\s+)?"
    r"(?:part|bit|section|paragraph|passage|line|sentence|place)\b"
    rf"|\bwhere\s+(?:does|did)\s+{WORDS_BEFORE}(?:say|mention|talk)\b"
    # The same asked in the passive, or of what the text holds: "is X mentioned?", "what is
    # said about X?", "is there anything on X?", "any mention of X?".
    rf"|\b(?:is|are|was|were)\s+{WORDS_BEFORE}(?:mentioned|discussed|addressed|raised|covered"
    r"|referred\s+to|brought\s+up|touched\s+on)\b"
    r"|\bwhat(?:\s+is|\s+was|['’]s)\s+(?:said|written|mentioned)\s+(?:about|on|of|regarding)\b"
    r"|\b(?:is|are)\s+there\s+(?:anything|something)\s+(?:about|on|regarding)\b"
    r"|\b(?:is|are)\s+there\s+(?:any|a)\s+(?:mention|reference|word|line)\b"
    r"|^\W*any\s+(?:mention|reference|word)s?\s+(?:of|to|on|about)\b"
)


def asks_where_said(question: str) -> bool:
    """Whether the question asks where or whether the statement speaks of something."""
    return LOOKUP.search(question.casefold()) is not None


def asked_types(question: str) -> frozenset[str]:
    """The kinds of answer a question asks for."""
    folded = question.casefold()
    kinds = set()
    if (first := REGEX_WORD.search(folded)) and first.group() in ("when", "where"):
        kinds.add("date" if first.group() == "when" else "place")
    # The last word, read backwards.
    if (last := REGEX_WORD.search(folded[::-1])) and last.group() == "nehw":
        kinds.add("date")
    for match in ASKING_WORD.finditer(folded):
        word, following, third = match.groups()
        if (kind := ASKED_BY_PAIR.get((word, following))) is not None:
            kinds.add(kind)
        elif word == "what" and following in NAME_NOUNS and _starts_clause(folded, match.start()):
            kinds.add("name")
        if third and (kind := ASKED_BY_TRIPLE.get((word, following, third))):
            kinds.add(kind)
    if TYPE_NOUN_WRITTEN.search(folded):
        kinds.update(TYPE_NOUNS[m.group(1)] for m in TYPE_NOUN_ASKED.finditer(folded))
    if "who" in folded and PERSON_ASKED.search(folded):
        kinds.add("person")
    if OFFICIAL_NOUN_WRITTEN.search(folded) and OFFICIAL_ASKED.search(folded):
        kinds.add("official")
    return frozenset(kinds)


def _starts_clause(folded: str, start: int) -> bool:
    """Whether the word at `start` starts the text, or follows a clause mark or a clause word."""
    gap_start = start
    while gap_start > 0 and not _is_word_character(folded[gap_start - 1]):
        gap_start -= 1
    if gap_start == 0 or not CLAUSE_MARKS.isdisjoint(folded[gap_start:start]):
        return True
    word_start = gap_start
    while word_start > 0 and _is_word_character(folded[word_start - 1]):
        word_start -= 1
    return folded[word_start:gap_start] in CLAUSE_WORDS


def _is_word_character(character: str) -> bool:
    """What regex's \\w matches."""
    return character.isalnum() or character == "_"


def held_types(text: str, words: Sequence[str] | None = None) -> frozenset[str]:
    """The kinds of answer a paragraph can give: figures, dates, places, names, persons, officials.

    `words` may give the text's case-folded words (runs of letters and digits), which the index
    build has at hand; they are used only where no apostrophe could have joined two of them.
    """
    # Every sentence of a library is read when its index is built: set operations and map()
    # rather than a test per word, and the patterns that need a digit only where there is one.
    folded = text.casefold()
    if words is None or not APOSTROPHES.isdisjoint(folded):
        words = find_words(folded)
    has_digit = not folded.isascii() or ASCII_DIGIT.search(folded) is not None
    held = set()
    if not NUMBER_WORDS.isdisjoint(words) or (has_digit and any(map(str.isdigit, words))):
        held.add("figure")
    if (has_digit and YEAR.search(text)) or not MONTHS.isdisjoint(words):
        held.add("date")
    if PLACE_PHRASE.search(text):
        held.add("place")
    if next(_names(text), None) is not None:
        held.add("name")
        if not HONORIFIC_WORDS.isdisjoint(words) and PERSON_NAMED.search(text):
            held |= {"person", "official"}
    if "official" not in held and (
        not OFFICE_WORDS.isdisjoint(words)
        or (not OFFICE_PHRASE_WORDS.isdisjoint(words) and OFFICE_PHRASE.search(folded))
    ):
        held.add("official")
    return frozenset(held)


def _shouting(text: str) -> bool:
    """Whether most of the text's letters are capitals."""
    if text.isascii():
        # The same counts as below, by deleting bytes rather than testing characters.
        raw = text.encode("ascii")
        letters = len(raw.translate(None, NOT_ASCII_LETTERS))
        capitals = len(raw.translate(None, NOT_ASCII_CAPITALS))
    else:
        letters = sum(map(str.isalpha, text))
        capitals = sum(map(str.isupper, filter(str.isalpha, text)))
    return bool(letters) and capitals / letters >= SHOUTING_SHARE


def _names(text: str) -> Iterator[str]:
    """Capitalised words that do not start a sentence, acronyms and numbers, as written."""
    if _shouting(text):
        yield from (w for w in WORD_WITH_CASE.findall(text) if w.isdigit())
        return
    # Only words that start with a capital or a digit are read: most words are neither.
    for match in NAME_CANDIDATE.finditer(text):
        start, word = match.start(), match.group()
        if not (word[0] in ASCII_CAPITALS or word.isdecimal()):
            continue
        # At a sentence's start, only in capitals.
        if (start == 0 or _after_sentence_end(text, start)) and not word.isupper():
            continue
        yield word


def _after_sentence_end(text: str, start: int) -> bool:
    """Whether the text before `start` ends with ".", "!" or "?" and whitespace."""
    i = start - 1
    while i >= 0 and text[i].isspace():
        i -= 1
    return 0 <= i < start - 1 and text[i] in ".!?"


def unknown_names(question: str, known: Container[str]) -> tuple[str, ...]:
    """Names, acronyms and numbers in the question that the library never uses."""
    found = []
    for name in _names(question):
        folded = POSSESSIVE_END.sub("", name.casefold())
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
