"""Text to search terms: Unicode words, case-folded, no stop words, stemmed, glossary applied."""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

import Stemmer

from bot.corpus import DataError

# Letters and digits in any script; an apostrophe inside a word ("IOM’s") ends it.
WORD = re.compile(r"[^\W_]+", re.UNICODE)
# Every byte but an ASCII letter or digit, as a space (see find_words).
NOT_ASCII_WORD_TO_SPACE = bytes(c if c < 128 and chr(c).isalnum() else ord(" ") for c in range(256))
# The marks a possessive "'s" is written with; bot/cues.py reads words the same way where none is.
POSSESSIVE_MARKS = "'’`´"
POSSESSIVE = re.compile(rf"[{POSSESSIVE_MARKS}](s)?\b", re.IGNORECASE)
WORD_CACHE_SIZE = 8192
# Glossary forms with a space or a hyphen are phrases; "decision makers" finds "decision-makers".
PHRASE_GAP = re.compile(r"[\s\-‐–]+")

# Function words of English (the usual IR list); they carry no topic.
STOP_WORDS = frozenset(
    """
    a about above after again against all am an and any are aren as at be because been before
    being below between both but by can cannot could couldn did didn do does doesn doing don down
    during each few for from further had hadn has hasn have haven having he her here hers herself
    him himself his how i if in into is isn it its itself just let ll me more most mustn my myself
    no nor not now of off on once only or other ought our ours ourselves out over own re same shan
    she should shouldn so some such than that the their theirs them themselves then there these
    they this those through to too under until up very was wasn we were weren what when where
    which while who whom why will with won would wouldn you your yours yourself yourselves
    also s t d m ve y ain isn ma
    """.split()
    # The same contractions typed without their apostrophe, as chat often has them.
    + """
    im ive youre youve theyre theyve weve whats thats theres hows whos dont doesnt didnt isnt
    arent wasnt werent cant couldnt wont wouldnt shouldnt hasnt havent hadnt
    """.split()
)


@dataclass(frozen=True)
class Glossary:
    """Domain vocabulary kept as data: acronyms, synonym groups and chat words (see README)."""

    acronyms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    synonyms: tuple[tuple[str, ...], ...] = ()
    chat_words: frozenset[str] = frozenset()
    # Words whose stem is shared with unrelated words ("capitalized", "capital"): matched by
    # their inflections only (see lemma_key).
    lemma_only: frozenset[str] = frozenset()


def parse_glossary(text: str, where: str) -> Glossary:
    """Read a glossary from its TOML text; `where` names the file in error messages."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{where} is not valid TOML ({exc}); fix it or remove it.") from None
    try:
        acronyms = {
            str(acronym): tuple(_strings(forms, f"acronyms.{acronym}"))
            for acronym, forms in raw.get("acronyms", {}).items()
        }
        synonyms = tuple(
            tuple(_strings(group, "synonyms.groups"))
            for group in raw.get("synonyms", {}).get("groups", [])
        )
        chat_words = frozenset(
            w.casefold()
            for w in _strings(raw.get("chat_words", {}).get("words", []), "chat_words.words")
        )
        lemma_only = frozenset(
            w.casefold()
            for w in _strings(raw.get("lemma_only", {}).get("words", []), "lemma_only.words")
        )
    except (AttributeError, TypeError) as exc:
        raise DataError(f"{where}: {exc}; see the README for the glossary format.") from None
    return Glossary(acronyms, synonyms, chat_words, lemma_only)


def find_words(text: str) -> list[str]:
    """WORD.findall(text). On ASCII text (most questions and statements) WORD's words are the
    runs of ASCII letters and digits, which a byte translation and a split find several times
    quicker than the pattern; and every question and sentence is read so."""
    if text.isascii():
        return text.encode("ascii").translate(NOT_ASCII_WORD_TO_SPACE).decode("ascii").split()
    return WORD.findall(text)


def _strings(values: object, where: str) -> list[str]:
    if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
        raise TypeError(f"{where} must be a list of non-empty strings")
    return values


def _is_phrase(form: str) -> bool:
    return bool(PHRASE_GAP.search(form.strip()))


# Inflections only, longest first: (suffix, replacement, the letters it may follow or "").
INFLECTION_RULES = (
    ("ies", "y", ""),
    ("ied", "y", ""),
    ("ing", "", ""),
    ("ed", "", ""),
    ("es", "", "sxzh"),
    ("ly", "", ""),
    ("s", "", "abcdefghijklmnopqrtvwxyz"),
)


def lemma_key(word: str) -> str:
    """A word without its inflection: "capitalized", "capitalizes" → "capitaliz"; "capital" stays.

    Cruder than a lemmatiser and kinder than a stemmer: it removes -s, -es, -ed, -ing and -ly and
    a final e, and nothing derivational, so "informally" meets "informal" but not "information".
    """
    for suffix, replacement, after in INFLECTION_RULES:
        stem = word[: -len(suffix)]
        if word.endswith(suffix) and len(stem) >= 3 and (not after or stem[-1] in after):
            word = stem + replacement
            break
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


class Token(NamedTuple):
    """One searchable word: what the user wrote and the term it is searched as.

    A named tuple: a question makes a dozen, and a frozen dataclass takes five times as long
    to create.
    """

    surface: str
    term: str


class Analyzer:
    """Maps text to terms the same way for paragraphs and questions.

    Multi-word names ("Global Forum on Migration and Development") become their acronym, and every
    word of a synonym group becomes the group's first word, so either spelling finds the other.
    """

    def __init__(
        self, glossary: Glossary | None = None, extra_stop_words: Iterable[str] = ()
    ) -> None:
        self.glossary = glossary or Glossary()
        self._extra_stop_words = frozenset(extra_stop_words)
        self._stemmer = Stemmer.Stemmer("english")
        # Chat words are compared as stems, so "think", "thinks" and "thinking" all drop out.
        self.chat_stems = frozenset(
            self.stem(w.casefold()) for w in (*self.glossary.chat_words, *self._extra_stop_words)
        )
        self._phrase_pattern, self._phrase_words = self._compile_phrases()
        # Where the pattern finds a form, the text holds each of the form's words whole: a text
        # lacking one of each form's words holds no phrase, and most texts skip the pattern.
        # The forms' words, by their first word.
        self._phrase_forms: dict[str, list[frozenset[str]]] = {}
        for form in self._phrase_words:
            if words := WORD.findall(form):
                self._phrase_forms.setdefault(words[0], []).append(frozenset(words))
        # Words recur from question to question and paragraph to paragraph: stem each once.
        # A question's words are kept as their tokens: most of them come back in later questions.
        self._query_token = functools.lru_cache(maxsize=WORD_CACHE_SIZE)(self._query_word_token)
        self._text_term = functools.lru_cache(maxsize=WORD_CACHE_SIZE)(
            functools.partial(self._searched_term, query=False)
        )
        # Every answer names the glossary expansions of its words, which stems them again.
        self.expansion = functools.lru_cache(maxsize=WORD_CACHE_SIZE)(self.expansion)  # type: ignore[method-assign]
        self._lemma_only_stems = self._lemma_only()
        self._canonical: dict[str, str] = {}
        # How a glossary term is named to the user: the group's first word, the acronym.
        self._names: dict[str, str] = {}
        for group in self.glossary.synonyms:
            head = self._base(self._joined(group[0]))
            self._names.setdefault(head, group[0])
            for word in group:
                if not _is_phrase(word):
                    self._canonical.setdefault(self._base(self._fold(word)), head)
        for acronym in self.glossary.acronyms:
            self._canonical.setdefault(self.stem(acronym.casefold()), acronym.casefold())
            self._names[acronym.casefold()] = acronym
        # The stemmer leaves a plural acronym ("RCPs", "NGOs") alone: it finds no vowel to cut at.
        self._acronym_plurals = {f"{a.casefold()}s": a.casefold() for a in self.glossary.acronyms}
        # Memoised once everything a term depends on is set: a question's unknown words and names
        # are looked up as terms again, outside its tokens.
        self.term = functools.lru_cache(maxsize=WORD_CACHE_SIZE)(self.term)  # type: ignore[method-assign]

    def _lemma_only(self) -> frozenset[str]:
        """Stems matched by lemma: the listed words', and those of their synonyms.

        A synonym's stem can collide as well: "organisation" stems like "organising".
        """
        stems = {self.stem(w) for w in self.glossary.lemma_only}
        for group in self.glossary.synonyms:
            words = [self._fold(w) for w in group if not _is_phrase(w)]
            if any(self.stem(w) in stems for w in words):
                stems |= {self.stem(w) for w in words}
        return frozenset(stems)

    def _compile_phrases(self) -> tuple[re.Pattern[str], dict[str, str]]:
        """One pattern for every glossary form that becomes a single word, longest first."""
        replacements: dict[str, str] = {}
        for acronym, forms in self.glossary.acronyms.items():
            for form in forms:
                replacements[self._spaced(form)] = acronym.casefold()
        for group in self.glossary.synonyms:
            for form in group:
                if _is_phrase(form):
                    replacements.setdefault(self._spaced(form), self._joined(group[0]))
        alternatives = [
            PHRASE_GAP.pattern.join(map(re.escape, form.split()))
            for form in sorted(replacements, key=len, reverse=True)
        ]
        # An empty glossary gets a pattern that never matches.
        pattern = r"\b(?:" + "|".join(alternatives) + r")\b" if alternatives else r"(?!)"
        return re.compile(pattern), replacements

    @staticmethod
    def _fold(text: str) -> str:
        return POSSESSIVE.sub("", text.casefold()).strip()

    def _spaced(self, form: str) -> str:
        return " ".join(PHRASE_GAP.split(self._fold(form)))

    def _joined(self, form: str) -> str:
        """A phrase as the single word it is indexed under ("civil society" → "civilsociety")."""
        return PHRASE_GAP.sub("", self._fold(form))

    def stem(self, word: str) -> str:
        return self._stemmer.stemWord(word)

    def may_hold_phrase(self, words: Collection[str]) -> bool:
        """Whether plain words (case-folded) may hold a glossary phrase: most texts cannot."""
        firsts = self._phrase_forms.keys() & words
        if not firsts:
            return False
        held = set(words)
        return any(form <= held for first in firsts for form in self._phrase_forms[first])

    def _pieces(self, text: str) -> list[tuple[str, str]]:
        """(as written, as searched) for each word; a glossary phrase is one piece."""
        folded = self._fold(text)
        words = find_words(folded)
        if not self.may_hold_phrase(words):
            return [(w, w) for w in words]
        pieces: list[tuple[str, str]] = []
        end = 0
        for match in self._phrase_pattern.finditer(folded):
            pieces += [(w, w) for w in WORD.findall(folded, end, match.start())]
            spaced = self._spaced(match.group())
            pieces.append((spaced, self._phrase_words[spaced]))
            end = match.end()
        pieces += [(w, w) for w in WORD.findall(folded, end)]
        return pieces

    def words(self, text: str) -> list[str]:
        """Case-folded words with possessives and glossary phrases resolved."""
        return [word for _, word in self._pieces(text)]

    def plain_words(self, text: str) -> list[str]:
        """Case-folded words as written, glossary phrases left apart."""
        return find_words(self._fold(text))

    def glossary_words(self) -> set[str]:
        """Every word the glossary knows, phrases included, for spelling correction."""
        forms = [*self.glossary.acronyms, *(f for group in self.glossary.synonyms for f in group)]
        forms += [f for forms_of in self.glossary.acronyms.values() for f in forms_of]
        # Chat words too: "opinon" is "opinion", dropped like it, not a word we lack.
        forms += self.glossary.chat_words
        return {w for f in forms for w in self.plain_words(f)}

    def is_chat_word(self, word: str) -> bool:
        return word in STOP_WORDS or self.stem(word) in self.chat_stems

    def _base(self, word: str) -> str:
        """The stem, or for a lemma-only word ("capitalized") the stem and its lemma."""
        stem = self.stem(word)
        return f"{stem}:{lemma_key(word)}" if stem in self._lemma_only_stems else stem

    def term(self, word: str) -> str:
        if word in self._acronym_plurals:
            return self._acronym_plurals[word]
        base = self._base(word)
        return self._canonical.get(base, base)

    def expansion(self, token: Token) -> str | None:
        """The glossary's name for what a word was searched as ("aid" → "donor"), if it changed."""
        name = self._names.get(token.term)
        if name is None or name.casefold() == token.surface:
            return None
        changed = " " in token.surface or self._base(token.surface) != token.term
        return name if changed else None

    def tokens(self, text: str, *, query: bool = False) -> list[Token]:
        """The searchable words of text; questions also drop chat words ("think", "say")."""
        if query:
            # A glossary phrase ("civil society") is searched as its joined word's term.
            return [
                token if surface == word else Token(surface, token.term)
                for surface, word in self._pieces(text)
                if (token := self._query_token(word)) is not None
            ]
        return [
            Token(surface, term)
            for surface, word in self._pieces(text)
            if (term := self._text_term(word)) is not None
        ]

    def _query_word_token(self, word: str) -> Token | None:
        term = self._searched_term(word, query=True)
        return None if term is None else Token(word, term)

    def _searched_term(self, word: str, query: bool) -> str | None:
        """The term a word is searched as; None for a stop word, or a chat word in a question."""
        if word in STOP_WORDS or (len(word) == 1 and not word.isdigit()):
            return None
        if query and self.stem(word) in self.chat_stems:
            return None
        return self.term(word)

    def terms(self, text: str) -> list[str]:
        return [t.term for t in self.tokens(text)]

    def text_term(self, word: str) -> str | None:
        """The term a word of a statement's text is indexed as; None for a stop word."""
        return self._text_term(word)

    def __reduce__(self) -> tuple[type[Analyzer], tuple[Glossary, frozenset[str]]]:
        # Stored as what it is made from: the stemmer (a C object) and the memos are rebuilt.
        return (Analyzer, (self.glossary, self._extra_stop_words))
