"""Rank paragraphs with BM25, decide whether the statement answers, pick the sentence."""

from __future__ import annotations

import functools
import itertools
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot import cues
from bot.answerability import Evidence, Model, Verdict, features
from bot.corpus import Document, Paragraph
from bot.examples import Example
from bot.fields import FieldScores, NearestExamples, TwoFieldRanker
from bot.ranking import Variant
from bot.text import WORD, Analyzer, Token

MAX_QUESTION_CHARS = 300
DEFAULT_VARIANT: Variant = "plus"
DEFAULT_LIMIT = 3

# A word is corrected only to a near-identical word of the statement: one edit in seven letters.
TYPO_MIN_SIMILARITY = 0.85
TYPO_MIN_LENGTH = 5
INFLECTIONS = ("s", "ed", "ing", "er", "ers", "ly")
WEIGHT_CACHE_SIZE = 8192
# Paragraph details kept for sentence choice: every paragraph of a statement, the recent hits of
# a large library (an entry is about 8 kB).
PARAGRAPH_CACHE_SIZE = 512
# Abstain when the words the statement lacks outweigh the ones it has (each weighted by rarity).
MISSING_TO_FOUND_MAX_RATIO = 1.0
# A sentence that refers back ("It can…", "its network") borrows part of its antecedent's words.
BACK_REFERENCE_SHARE = 0.5
# How much the votes of example questions labelled with a sentence count beside its own words.
SENTENCE_VOTE_SHARE = 1.0
# "How many…?" and "when…?" are answered only by a paragraph that gives a figure or a date.
ASKS_FOR_FIGURE = re.compile(
    r"\b(?:how (?:many|much|long|often|old)|what (?:year|date|percentage)|which year)\b"
    r"|^\W*when\b|\bwhen (?:did|was|were|is|are|will|does|do|has|have)\b",
    re.IGNORECASE,
)
# Without a fitted model, a paragraph's examples count as much as its text.
DEFAULT_EXAMPLES_WEIGHT = 1.0
BACK_REFERENCES = frozenset({"it", "its", "they", "their", "them", "this", "these", "such"})


class QuestionTooLongError(ValueError):
    """The question is longer than MAX_QUESTION_CHARS once cleaned."""

    def __init__(self, length: int) -> None:
        super().__init__(f"question has {length} characters, at most {MAX_QUESTION_CHARS} allowed")
        self.length = length


def clean_question(text: str) -> str:
    """Drop invisible and control characters, collapse whitespace, enforce the length bound."""
    visible = "".join(
        " " if ch.isspace() else ch
        for ch in text
        if unicodedata.category(ch) not in {"Cc", "Cf"} or ch.isspace()
    )
    question = " ".join(visible.split())
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionTooLongError(len(question))
    return question


@dataclass(frozen=True)
class Hit:
    """One ranked paragraph with the question words it contains and its best sentence."""

    paragraph: Paragraph
    score: float
    matched: tuple[str, ...]
    sentence_index: int
    # The paragraph's position in the library (SearchIndex.paragraphs).
    position: int = 0

    @property
    def sentence(self) -> str:
        return self.paragraph.sentences[self.sentence_index]


@dataclass(frozen=True)
class Answer:
    """What a question found: the best paragraphs, or why the statement does not answer it."""

    question: str
    searched: tuple[str, ...]
    corrections: tuple[tuple[str, str], ...]
    # Words the glossary searched under another name: ("aid", "donor").
    expansions: tuple[tuple[str, str], ...]
    missing: tuple[str, ...]
    hits: tuple[Hit, ...]
    answered: bool
    # The question asks "how many" or "when", and the best paragraph gives no figure or date.
    figure_missing: bool = False
    # answered: a confident answer; closest: the best paragraph, offered with a caveat;
    # not_addressed: nothing to offer as an answer. `answered` is verdict == "answered".
    verdict: Verdict = "not_addressed"
    # How likely the best paragraph answers the question, 0-1 (the answerability model's).
    confidence: float = 0.0

    @property
    def asked_nothing(self) -> bool:
        """The question had no word to search: only stop and chat words, or nothing at all."""
        return not self.searched and not self.missing

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None


@dataclass(frozen=True)
class _ParagraphTerms:
    """What sentence choice needs to know about one paragraph, computed when it is first a hit."""

    terms: frozenset[str]
    sentences: tuple[frozenset[str], ...]
    refers_back: tuple[bool, ...]
    # What kinds of answer it can give: figures, dates, places, names (bot/cues.py).
    held: frozenset[str]


class SearchIndex:
    """BM25 over every paragraph of the documents, built once and read-only afterwards.

    With example questions (bot/examples.py), paragraphs are ranked on their text and on their
    examples (bot/fields.py), and a fitted model (bot/answerability.py) judges whether the best
    one answers. Without examples or without a model, the plain missing-weight rule decides.
    """

    def __init__(
        self,
        documents: tuple[Document, ...],
        analyzer: Analyzer,
        variant: Variant = DEFAULT_VARIANT,
        examples: Mapping[str, Sequence[Example]] | None = None,
        model: Model | None = None,
        examples_weight: float | None = None,
    ) -> None:
        self.documents = documents
        self.speakers = frozenset(d.speaker for d in documents if d.speaker)
        self.variant: Variant = variant
        self.analyzer = analyzer
        self.paragraphs = tuple(p for d in documents for p in d.paragraphs)
        self._example_terms = self._terms_of_examples(examples or {})
        self.model = model if self._example_terms else None
        self._ranker = TwoFieldRanker(
            [analyzer.terms(p.text) for p in self.paragraphs],
            [list(self._example_terms.get(i, ())) for i in range(len(self.paragraphs))],
            variant,
            examples_weight
            if examples_weight is not None
            else model.examples_weight
            if model
            else DEFAULT_EXAMPLES_WEIGHT,
        )
        self._paragraph_terms = functools.lru_cache(maxsize=PARAGRAPH_CACHE_SIZE)(
            self._analyze_paragraph
        )
        # A question weighs each of its words a dozen times (ranking, sentences, features).
        self.weight = functools.lru_cache(maxsize=WEIGHT_CACHE_SIZE)(self.weight)  # type: ignore[method-assign]
        # Gathered now rather than at the first typo: on a large corpus it takes seconds, and
        # an interaction has to be answered within three.
        known = {w for p in self.paragraphs for w in analyzer.plain_words(p.text)}
        known |= analyzer.glossary_words()
        self._spelling_words = frozenset(w for w in known if w.isalpha())
        # Every word the library uses, to tell a name it never mentions ("Mexico", "2017").
        self._library_words = frozenset(known | self._example_words)
        self._spelling_by_length: dict[int, list[str]] = {}
        for word in sorted(self._spelling_words):
            self._spelling_by_length.setdefault(len(word), []).append(word)

    def _terms_of_examples(
        self, examples: Mapping[str, Sequence[Example]]
    ) -> dict[int, tuple[str, ...]]:
        """Each paragraph's example questions as one list of terms, by paragraph index."""
        first_index = {}
        start = 0
        for document in self.documents:
            first_index[document.name] = start
            start += len(document.paragraphs)
        terms: dict[int, list[str]] = {}
        words: set[str] = set()
        each: list[list[str]] = []
        answerable: list[bool] = []
        for name, document_examples in examples.items():
            for example in document_examples:
                each.append([t.term for t in self.analyzer.tokens(example.question, query=True)])
                answerable.append(example.paragraph is not None)
                if example.paragraph is None or name not in first_index:
                    continue
                index = first_index[name] + example.paragraph - 1
                terms.setdefault(index, []).extend(
                    t.term for t in self.analyzer.tokens(example.question, query=True)
                )
                words.update(self.analyzer.plain_words(example.question))
        self._example_words = frozenset(words)
        self._sentence_votes = self._votes(examples, first_index)
        self._nearest = NearestExamples(each, answerable)
        return {i: tuple(t) for i, t in terms.items()}

    def _votes(
        self, examples: Mapping[str, Sequence[Example]], first_index: Mapping[str, int]
    ) -> dict[int, dict[str, list[float]]]:
        """For each paragraph and word, the share of its labelled examples naming each sentence."""
        counts: dict[int, dict[str, list[float]]] = {}
        for name, document_examples in examples.items():
            for example in document_examples:
                if example.paragraph is None or example.sentence is None:
                    continue
                if name not in first_index:
                    continue
                index = first_index[name] + example.paragraph - 1
                sentence_count = len(self.paragraphs[index].sentence_spans)
                paragraph_votes = counts.setdefault(index, {})
                for term in {t.term for t in self.analyzer.tokens(example.question, query=True)}:
                    tally = paragraph_votes.setdefault(term, [0.0] * sentence_count)
                    tally[example.sentence - 1] += 1
        for paragraph_votes in counts.values():
            for tally in paragraph_votes.values():
                total = sum(tally) + 1  # one imaginary example for no sentence in particular
                tally[:] = [n / total for n in tally]
        return counts

    def weight(self, term: str) -> float:
        """How much a term tells paragraphs apart; a term in no paragraph weighs the most."""
        n = len(self.paragraphs)
        frequency = max(self._ranker.text_frequency(term), self._ranker.example_frequency(term))
        return math.log((n + 1) / max(frequency, 1))

    def knows(self, term: str) -> bool:
        """Whether some paragraph's text or examples hold the term."""
        return self._ranker.text_frequency(term) > 0 or self._ranker.example_frequency(term) > 0

    def correct(self, word: str) -> str | None:
        """The known word nearest in spelling to an unknown word, if it is very close."""
        if len(word) < TYPO_MIN_LENGTH or not word.isalpha() or word in self._spelling_words:
            return None
        # Only the statements' own words count here: example questions keep their users' typos.
        if self.analyzer.is_chat_word(word) or self._ranker.text_frequency(
            self.analyzer.term(word)
        ):
            return None
        # The similarity bound also bounds the length: other lengths cannot match.
        lengths = range(
            math.ceil(len(word) * TYPO_MIN_SIMILARITY), int(len(word) / TYPO_MIN_SIMILARITY) + 1
        )
        candidates = itertools.chain.from_iterable(
            self._spelling_by_length.get(n, ()) for n in lengths
        )
        match = process.extractOne(
            word, candidates, scorer=OSA.normalized_similarity, score_cutoff=TYPO_MIN_SIMILARITY
        )
        if match is None:
            return None
        # "attended" is near "attendee" but is no typo: an inflection of a word we lack.
        root = self.analyzer.stem(word)
        if word.endswith(INFLECTIONS) and match[0].startswith(root) and word != root:
            return None
        return match[0]

    def search(self, question: str, limit: int = DEFAULT_LIMIT) -> Answer:
        """Rank the paragraphs for a question and decide whether they answer it."""
        return self.assess(question, limit)[0]

    def assess(
        self, question: str, limit: int = DEFAULT_LIMIT, *, explain: bool = False
    ) -> tuple[Answer, Evidence | None]:
        """The answer, and what the answerability model read (with a model, or if explain)."""
        corrected, corrections = self._correct_spelling(question)
        searched: list[Token] = []
        missing: list[str] = []
        for token in self.analyzer.tokens(corrected, query=True):
            if self.knows(token.term):
                searched.append(token)
            elif token.surface not in missing:
                missing.append(token.surface)
        terms = list(dict.fromkeys(t.term for t in searched))
        ranked = self._ranker.rank(terms, limit) if terms else []
        hits = self._hits(searched, terms, ranked, limit)
        evidence = None
        if hits and (explain or self.model is not None):
            evidence = self.evidence(question, terms, missing, ranked, hits[0])
        verdict, confidence, figure_missing = self._judge(question, terms, missing, hits, evidence)
        expansions = ((t.surface, self.analyzer.expansion(t)) for t in searched)
        answer = Answer(
            question=question,
            searched=tuple(dict.fromkeys(t.surface for t in searched)),
            corrections=corrections,
            expansions=tuple(dict.fromkeys((w, name) for w, name in expansions if name)),
            missing=tuple(missing),
            hits=hits,
            answered=verdict == "answered",
            figure_missing=figure_missing,
            verdict=verdict,
            confidence=confidence,
        )
        return answer, evidence

    def field_ranking(self, question: str) -> list[FieldScores]:
        """Every candidate paragraph's scores on each field, for fitting the field weights."""
        corrected, _ = self._correct_spelling(question)
        tokens = self.analyzer.tokens(corrected, query=True)
        terms = list(dict.fromkeys(t.term for t in tokens if self.knows(t.term)))
        return self._ranker.rank(terms, len(self.paragraphs)) if terms else []

    def _judge(
        self,
        question: str,
        terms: list[str],
        missing: list[str],
        hits: tuple[Hit, ...],
        evidence: Evidence | None,
    ) -> tuple[Verdict, float, bool]:
        """The verdict, its confidence, and whether a figure or date was asked for and lacking."""
        if not hits:
            return "not_addressed", 0.0, False
        top = self._paragraph_terms(hits[0].position)
        lacks_figure = bool(ASKS_FOR_FIGURE.search(question)) and not (
            top.held & {"figure", "date"}
        )
        if self.model is None or evidence is None:
            addressed = self._outweighs(terms, missing) and not lacks_figure
            return ("answered", 1.0, False) if addressed else ("not_addressed", 0.0, lacks_figure)
        confidence = self.model.probability(features(evidence))
        verdict = self.model.verdict(confidence)
        return verdict, confidence, lacks_figure and verdict != "answered"

    def evidence(
        self,
        question: str,
        terms: list[str],
        missing: list[str],
        ranked: list[FieldScores],
        best: Hit,
    ) -> Evidence:
        """What the answerability model reads about a question and its best paragraph."""
        index = best.position
        top = next(s for s in ranked if s.index == index)
        others = [s for s in ranked if s.index != index]
        details = self._paragraph_terms(index)
        example_terms = set(self._example_terms.get(index, ()))
        n = len(self.paragraphs)
        names = cues.unknown_names(question, self._library_words)
        return Evidence(
            question=question,
            weights=tuple(self.weight(t) for t in terms),
            in_text=tuple(t in details.terms for t in terms),
            in_examples=tuple(t in example_terms for t in terms),
            missing=tuple(missing),
            missing_weight=len(missing) * self.weight(""),
            text_score=top.text,
            text_other=max((s.text for s in others), default=0.0),
            text_idf=sum(
                math.log((n + 1) / f) for t in terms if (f := self._ranker.text_frequency(t))
            ),
            examples_score=top.examples,
            examples_other=max((s.examples for s in others), default=0.0),
            examples_idf=sum(
                math.log((n + 1) / f) for t in terms if (f := self._ranker.example_frequency(t))
            ),
            unknown_names=tuple(n for n in names if not self.knows(self.analyzer.term(n))),
            asked=cues.asked_types(question),
            held=details.held,
            unanswerable_neighbours=self._nearest.unanswerable_share(
                terms + [self.analyzer.term(w) for w in missing if " " not in w]
            ),
            other_party=cues.asks_other_party(question, self.speakers),
        )

    def _correct_spelling(self, question: str) -> tuple[str, tuple[tuple[str, str], ...]]:
        """The question with close misspellings replaced, and the (typed, corrected) pairs."""
        corrections: list[tuple[str, str]] = []

        def corrected(match: re.Match[str]) -> str:
            word = match.group().casefold()
            fixed = self.correct(word)
            if fixed is None:
                return match.group()
            corrections.append((word, fixed))
            return fixed

        return WORD.sub(corrected, question), tuple(dict.fromkeys(corrections))

    def _outweighs(self, terms: list[str], missing: list[str]) -> bool:
        """Whether the words found outweigh the words the statement lacks."""
        found_weight = sum(self.weight(t) for t in terms)
        return len(missing) * self.weight("") <= MISSING_TO_FOUND_MAX_RATIO * found_weight

    def _hits(
        self, searched: list[Token], terms: list[str], ranked: list[FieldScores], limit: int
    ) -> tuple[Hit, ...]:
        """The best paragraphs that hold a searched word in their text or their examples."""
        hits = []
        for scores in ranked:
            i = scores.index
            details = self._paragraph_terms(i)
            matched = tuple(dict.fromkeys(t.surface for t in searched if t.term in details.terms))
            if matched or not set(terms).isdisjoint(self._example_terms.get(i, ())):
                sentence = self._best_sentence(details, terms, self._sentence_votes.get(i, {}))
                hits.append(Hit(self.paragraphs[i], scores.combined, matched, sentence, i))
            if len(hits) == limit:
                break
        return tuple(hits)

    def _analyze_paragraph(self, index: int) -> _ParagraphTerms:
        paragraph = self.paragraphs[index]
        return _ParagraphTerms(
            terms=frozenset(self.analyzer.terms(paragraph.text)),
            sentences=tuple(frozenset(self.analyzer.terms(s)) for s in paragraph.sentences),
            refers_back=tuple(
                any(w in BACK_REFERENCES for w in self.analyzer.words(s))
                for s in paragraph.sentences
            ),
            held=cues.held_types(paragraph.text),
        )

    def _best_sentence(
        self,
        details: _ParagraphTerms,
        terms: list[str],
        votes: Mapping[str, Sequence[float]] | None = None,
    ) -> int:
        """The sentence holding most of the question's weight, counting what "it"/"its" refer to.

        Example questions labelled with a sentence vote too: of the examples holding a word,
        the share that point to each sentence.
        """
        sentences = details.sentences
        wanted = set(terms)
        votes = votes or {}
        best, best_score = 0, -1.0
        for i, own in enumerate(sentences):
            score = sum(self.weight(t) for t in own & wanted)
            score += SENTENCE_VOTE_SHARE * sum(
                self.weight(t) * votes[t][i] for t in wanted if t in votes
            )
            if i > 0 and details.refers_back[i]:
                borrowed = (sentences[0] | sentences[i - 1]) & wanted - own
                score += BACK_REFERENCE_SHARE * sum(self.weight(t) for t in borrowed)
            if score > best_score:
                best, best_score = i, score
        return best
