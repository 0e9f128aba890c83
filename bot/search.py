"""Rank paragraphs with BM25, decide whether the statement answers, pick the sentence."""

from __future__ import annotations

import functools
import math
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from bot import cues
from bot.answerability import Evidence, Model, Verdict, features
from bot.corpus import Document, Paragraph
from bot.examples import Example
from bot.fields import (
    ExampleLabel,
    FieldScores,
    NearestExamples,
    Neighbours,
    TwoFieldRanker,
)
from bot.index_cache import stored_state
from bot.ranking import Variant
from bot.sentences import ParagraphSentences, analyse
from bot.spelling import SpellingIndex
from bot.text import WORD, Analyzer, Token, find_words

MAX_QUESTION_CHARS = 300
DEFAULT_VARIANT: Variant = "plus"
DEFAULT_LIMIT = 3

# A word is corrected only to a near-identical word of the statement: one edit in seven letters.
TYPO_MIN_SIMILARITY = 0.85
# One edit in five or six letters (bot/spelling.py indexes the library's words for this bound).
NON_WORD_MIN_SIMILARITY = 0.8
TYPO_MIN_LENGTH = 5
WORD_CACHE_SIZE = 8192
# Paragraphs' sentence details (bot/sentences.py) kept for sentence choice: every paragraph of a
# statement, the recent hits of a large library.
PARAGRAPH_CACHE_SIZE = 512
# Abstain when the words the statement lacks outweigh the ones it has (each weighted by rarity).
MISSING_TO_FOUND_MAX_RATIO = 1.0
# A sentence that refers back ("It can…", "its network") borrows part of its antecedent's words.
BACK_REFERENCE_SHARE = 0.5
# The most similar labelled example questions of a paragraph vote for their sentence: all their
# votes together count as this share of the question's weight.
SENTENCE_VOTE_SHARE = 0.5
# Without a model, "how many…?" and "when…?" are answered only where a figure or date is given.
FIGURE_OR_DATE = frozenset({"figure", "date"})
# Without a fitted model, a paragraph's examples count as much as its text.
DEFAULT_EXAMPLES_WEIGHT = 1.0


class QuestionTooLongError(ValueError):
    """The question is longer than MAX_QUESTION_CHARS once cleaned."""

    def __init__(self, length: int) -> None:
        super().__init__(f"question has {length} characters, at most {MAX_QUESTION_CHARS} allowed")
        self.length = length


FAR_OVER_THE_BOUND = MAX_QUESTION_CHARS * 10


def clean_question(text: str) -> str:
    """Drop invisible and control characters, collapse whitespace, enforce the length bound."""
    # Printable text has no control or format character and no whitespace but the space: the
    # usual case, and a character-by-character pass costs more than the rest of an answer.
    # A text far over the bound is refused without that pass: split() is quick at any size, and
    # the few invisible characters it counts cannot bring megabytes under the bound.
    if len(text) > FAR_OVER_THE_BOUND:
        length = len(" ".join(text.split()))
        if length > FAR_OVER_THE_BOUND:
            raise QuestionTooLongError(length)
    visible = text
    if not text.isprintable():
        visible = "".join(
            " " if ch.isspace() else ch
            for ch in text
            if unicodedata.category(ch) not in {"Cc", "Cf"} or ch.isspace()
        )
    question = " ".join(visible.split())
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionTooLongError(len(question))
    return question


class Hit(NamedTuple):
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
    # The question's words the statement's text holds, and those it lacks, as typed. A word found
    # only in example questions helps ranking but is reported as not in the statement.
    searched: tuple[str, ...]
    corrections: tuple[tuple[str, str], ...]
    # Words the glossary searched under another name: ("aid", "donor").
    expansions: tuple[tuple[str, str], ...]
    missing: tuple[str, ...]
    hits: tuple[Hit, ...]
    answered: bool
    # The question asks "how many" or "when", and the best paragraph gives no figure or date
    # where it speaks of the question's words.
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

    @property
    def shown(self) -> Hit | None:
        """The paragraph a reply shows: the answer, the closest passage, or one possibly related
        to a question it does not answer, if its text holds a word of the question (one found
        through its example questions alone would puzzle the asker)."""
        best = self.best
        if best is None or (self.verdict == "not_addressed" and not best.matched):
            return None
        return best


class _Question(NamedTuple):
    """A question read against the library: its words and what is known of them."""

    text: str
    corrections: tuple[tuple[str, str], ...]
    # Tokens whose term some paragraph's text or examples hold, in order; their distinct terms.
    known: tuple[Token, ...]
    terms: tuple[str, ...]
    # Each term's number in the text's vocabulary; -1 for a term only examples hold.
    term_ids: tuple[int, ...]
    # Each term's weight (SearchIndex.weight), which ranking, sentences and features all read.
    weights: tuple[float, ...]
    # Words (as typed) that neither the text nor any example holds.
    unknown: tuple[str, ...]
    # Words (as typed) that no paragraph's text holds, examples or not: what the reply reports.
    not_in_text: tuple[str, ...]
    # The kinds of answer it asks for: figures, dates, places, names, persons (bot/cues.py).
    asked: frozenset[str]


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
        self.speakers = frozenset(name for d in documents for name in d.speakers)
        self.variant: Variant = variant
        self.analyzer = analyzer
        self.paragraphs = tuple(p for d in documents for p in d.paragraphs)
        paragraph_examples = self._read_examples(examples or {})
        self.model = model if any(paragraph_examples) else None
        if examples_weight is None:
            examples_weight = model.examples_weight if model else DEFAULT_EXAMPLES_WEIGHT
        text = analyse(self.paragraphs, analyzer)
        self._sentences = text.sentences
        self._term_ids = text.terms.vocabulary
        self._ranker = TwoFieldRanker(
            text.terms,
            paragraph_examples,
            variant,
            examples_weight,
        )
        # Most paragraphs of a large library have no examples: they share one empty set, which a
        # stored index then holds once.
        no_terms: frozenset[str] = frozenset()
        self._example_terms = [frozenset(t) if t else no_terms for t in paragraph_examples]
        self._install_caches()
        # Gathered now rather than at the first typo: on a large corpus it takes seconds, and
        # an interaction has to be answered within three. The English word frequencies too
        # (~15 ms), which the first question with a word the library lacks would otherwise load.
        cues.english_zipf()
        known = text.plain_words | analyzer.glossary_words()
        self._spelling = SpellingIndex(known, analyzer.stem)
        # Every word the library uses, to tell a name it never mentions ("Mexico", "2017").
        self._library_words = frozenset(known | self._example_words)

    def _install_caches(self) -> None:
        """Memoise what questions ask again and again; not part of the index's state."""
        self._paragraph_sentences = functools.lru_cache(maxsize=PARAGRAPH_CACHE_SIZE)(
            self._sentences.paragraph
        )
        # A question weighs each of its words a dozen times (ranking, sentences, features), and
        # the same words come back question after question.
        self.weight = functools.lru_cache(maxsize=WORD_CACHE_SIZE)(self.weight)  # type: ignore[method-assign]
        self.correct = functools.lru_cache(maxsize=WORD_CACHE_SIZE)(self.correct)  # type: ignore[method-assign]
        self.frequencies = functools.lru_cache(maxsize=WORD_CACHE_SIZE)(self.frequencies)  # type: ignore[method-assign]

    def _read_examples(self, examples: Mapping[str, Sequence[Example]]) -> list[list[str]]:
        """Each paragraph's example questions as one list of terms; also indexes every example
        question alone (answerable or not) to find a question's nearest examples."""
        first_index = {}
        start = 0
        for document in self.documents:
            first_index[document.name] = start
            start += len(document.paragraphs)
        paragraph_examples: list[list[str]] = [[] for _ in self.paragraphs]
        words: set[str] = set()
        each: list[list[str]] = []
        labels: list[ExampleLabel] = []
        for name, document_examples in examples.items():
            for example in document_examples:
                terms = [t.term for t in self.analyzer.tokens(example.question, query=True)]
                each.append(terms)
                if example.paragraph is None or name not in first_index:
                    labels.append(ExampleLabel(None))
                    continue
                index = first_index[name] + example.paragraph - 1
                sentence = None if example.sentence is None else example.sentence - 1
                labels.append(ExampleLabel(index, sentence))
                paragraph_examples[index].extend(terms)
                words.update(self.analyzer.plain_words(example.question))
        self._example_words = frozenset(words)
        self._nearest = NearestExamples(each, labels)
        return paragraph_examples

    def frequencies(self, term: str) -> tuple[int, int]:
        """How many paragraphs hold the term in their text, and in their examples."""
        return self._ranker.text_frequency(term), self._ranker.example_frequency(term)

    def weight(self, term: str) -> float:
        """How much a term tells paragraphs apart; a term in no paragraph weighs the most."""
        n = len(self.paragraphs)
        return math.log((n + 1) / max(*self.frequencies(term), 1))

    def knows(self, term: str) -> bool:
        """Whether some paragraph's text or examples hold the term."""
        return any(self.frequencies(term))

    def correct(self, word: str) -> str | None:
        """The known word nearest in spelling to an unknown word, if it is very close."""
        if len(word) < TYPO_MIN_LENGTH or not word.isalpha() or word in self._spelling:
            return None
        # Only the statements' own words count here: example questions keep their users' typos.
        if self.analyzer.is_chat_word(word) or self._ranker.text_frequency(
            self.analyzer.term(word)
        ):
            return None
        # A word that is not everyday English ("canda", "shoud") is more likely a typo than a
        # word the statement lacks, so a slightly more distant match is accepted for it.
        cutoff = TYPO_MIN_SIMILARITY if word in cues.english_zipf() else NON_WORD_MIN_SIMILARITY
        return self._spelling.nearest(word, cutoff)

    def search(self, question: str, limit: int = DEFAULT_LIMIT) -> Answer:
        """Rank the paragraphs for a question and decide whether they answer it."""
        return self.assess(question, limit)[0]

    def assess(
        self, question: str, limit: int = DEFAULT_LIMIT, *, explain: bool = False
    ) -> tuple[Answer, Evidence | None]:
        """The answer, and what the answerability model read (with a model, or if explain)."""
        read = self._read(question)
        ranked, neighbours = self._rank(read, limit)
        hits = self._hits(read, ranked, neighbours, limit)
        evidence = None
        if hits and (explain or self.model is not None):
            evidence = self.evidence(read, ranked, hits[0], neighbours)
        verdict, confidence, figure_missing = self._judge(read, hits, evidence)
        in_text = [t for t in read.known if t.surface not in read.not_in_text]
        expansions = ((t.surface, self.analyzer.expansion(t)) for t in in_text)
        answer = Answer(
            question=question,
            searched=tuple(dict.fromkeys(t.surface for t in in_text)),
            corrections=read.corrections,
            expansions=tuple(dict.fromkeys((w, name) for w, name in expansions if name)),
            missing=read.not_in_text,
            hits=hits,
            answered=verdict == "answered",
            figure_missing=figure_missing,
            verdict=verdict,
            confidence=confidence,
        )
        return answer, evidence

    def field_ranking(self, question: str) -> list[FieldScores]:
        """Every candidate paragraph's scores on each field, for fitting the field weights."""
        return self._rank(self._read(question), len(self.paragraphs))[0]

    def _rank(self, read: _Question, limit: int) -> tuple[list[FieldScores], Neighbours | None]:
        """The best paragraphs, and the example questions most like the question."""
        terms = list(read.terms)
        if not terms:
            return [], None
        # Unknown words count too: they may be those of example questions the statement does not
        # answer ("budget", "headquartered").
        neighbours = self._nearest.neighbours(
            terms + [self.analyzer.term(w) for w in read.unknown if " " not in w]
        )
        examples = None
        if neighbours is not None:
            examples = self._nearest.paragraph_scores(neighbours)
        return self._ranker.rank(terms, limit, examples), neighbours

    def _read(self, question: str) -> _Question:
        corrected, corrections = self._correct_spelling(question)
        known: list[Token] = []
        unknown: list[str] = []
        not_in_text: list[str] = []
        for token in self.analyzer.tokens(corrected, query=True):
            in_text, in_examples = self.frequencies(token.term)
            if in_text or in_examples:
                known.append(token)
            elif token.surface not in unknown:
                unknown.append(token.surface)
            if not in_text and token.surface not in not_in_text:
                not_in_text.append(token.surface)
        terms = tuple(dict.fromkeys(t.term for t in known))
        return _Question(
            corrected,
            corrections,
            tuple(known),
            terms,
            tuple(self._term_ids.get(t, -1) for t in terms),
            tuple(map(self.weight, terms)),
            tuple(unknown),
            tuple(not_in_text),
            cues.asked_types(corrected),
        )

    def _judge(
        self, read: _Question, hits: tuple[Hit, ...], evidence: Evidence | None
    ) -> tuple[Verdict, float, bool]:
        """The verdict, its confidence, and whether a figure or date was asked for and lacking."""
        if not hits:
            return "not_addressed", 0.0, False
        asked = read.asked & FIGURE_OR_DATE
        held = (
            evidence.held
            if evidence is not None
            else self._paragraph_sentences(hits[0].position).held_near(read.term_ids)
        )
        lacks_figure = bool(asked) and not asked & held
        if self.model is None or evidence is None:
            addressed = self._outweighs(read.terms, read.unknown) and not lacks_figure
            return ("answered", 1.0, False) if addressed else ("not_addressed", 0.0, lacks_figure)
        confidence = self.model.probability(features(evidence))
        verdict = self.model.verdict(confidence)
        if verdict == "closest" and not hits[0].matched:
            # Found through its example questions alone, the passage shares no word with the
            # question: nothing in the quote would show the asker why it was offered.
            verdict = "not_addressed"
        return verdict, confidence, lacks_figure and verdict != "answered"

    def evidence(
        self,
        read: _Question,
        ranked: list[FieldScores],
        best: Hit,
        neighbours: Neighbours | None,
    ) -> Evidence:
        """What the answerability model reads about a question and its best paragraph."""
        index = best.position
        terms = read.terms
        top = next(s for s in ranked if s.index == index)
        others = [s for s in ranked if s.index != index]
        details = self._paragraph_sentences(index)
        example_terms = self._example_terms[index]
        n = len(self.paragraphs)
        names = cues.unknown_names(read.text, self._library_words)
        in_statement = []
        text_idf = examples_idf = 0.0
        for term in terms:
            text_frequency, examples_frequency = self.frequencies(term)
            in_statement.append(text_frequency > 0)
            if text_frequency:
                text_idf += math.log((n + 1) / text_frequency)
            if examples_frequency:
                examples_idf += math.log((n + 1) / examples_frequency)
        return Evidence(
            question=read.text,
            weights=read.weights,
            in_text=tuple(map(details.terms.__contains__, read.term_ids)),
            in_examples=tuple(map(example_terms.__contains__, terms)),
            in_statement=tuple(in_statement),
            missing=read.unknown,
            missing_weight=len(read.unknown) * self.weight(""),
            text_score=top.text,
            text_other=max([s.text for s in others], default=0.0),
            text_idf=text_idf,
            examples_score=top.examples,
            examples_other=max([s.examples for s in others], default=0.0),
            examples_idf=examples_idf,
            unknown_names=tuple(n for n in names if not self.knows(self.analyzer.term(n))),
            asked=read.asked,
            held=details.held_near(read.term_ids),
            unanswerable_neighbours=neighbours.unanswerable_share() if neighbours else 0.5,
            other_party=cues.asks_other_party(read.text, self.speakers),
            lookup=cues.asks_where_said(read.text),
        )

    def _correct_spelling(self, question: str) -> tuple[str, tuple[tuple[str, str], ...]]:
        """The question with close misspellings replaced, and the (typed, corrected) pairs."""
        # Most questions hold no word that could be a typo: only words of five letters or more
        # that the statement and the glossary lack are looked at.
        if question.isascii():
            # ASCII folds letter by letter: the folded question's words are the words folded.
            words = set(find_words(question.casefold()))
        else:
            words = {w.casefold() for w in find_words(question)}
        if not any(
            len(w) >= TYPO_MIN_LENGTH and self.correct(w) for w in words - self._spelling.words
        ):
            return question, ()
        pieces: list[str] = []
        corrections: list[tuple[str, str]] = []
        end = 0
        for match in WORD.finditer(question):
            word = match.group().casefold()
            fixed = self.correct(word)
            if fixed is not None:
                pieces += (question[end : match.start()], fixed)
                corrections.append((word, fixed))
                end = match.end()
        if not corrections:
            return question, ()
        pieces.append(question[end:])
        return "".join(pieces), tuple(dict.fromkeys(corrections))

    def _outweighs(self, terms: Sequence[str], missing: Sequence[str]) -> bool:
        """Whether the words found outweigh the words the library lacks."""
        found_weight = sum(self.weight(t) for t in terms)
        return len(missing) * self.weight("") <= MISSING_TO_FOUND_MAX_RATIO * found_weight

    def _hits(
        self,
        read: _Question,
        ranked: list[FieldScores],
        neighbours: Neighbours | None,
        limit: int,
    ) -> tuple[Hit, ...]:
        """The best paragraphs that hold a searched word in their text or their examples."""
        hits = []
        weights = list(zip(read.term_ids, read.weights, strict=True))
        vote_weight = SENTENCE_VOTE_SHARE * sum(read.weights)
        known = [(t.surface, self._term_ids.get(t.term)) for t in read.known]
        for scores in ranked:
            i = scores.index
            details = self._paragraph_sentences(i)
            matched = tuple(dict.fromkeys(w for w, term_id in known if term_id in details.terms))
            if matched or not self._example_terms[i].isdisjoint(read.terms):
                votes = (
                    neighbours.sentence_votes(i, len(details.sentences))
                    if neighbours is not None
                    else [0.0] * len(details.sentences)
                )
                sentence = self._best_sentence(details, weights, vote_weight, votes)
                hits.append(Hit(self.paragraphs[i], scores.combined, matched, sentence, i))
            if len(hits) == limit:
                break
        return tuple(hits)

    def _best_sentence(
        self,
        details: ParagraphSentences,
        weights: Sequence[tuple[int, float]],
        vote_weight: float,
        votes: Sequence[float],
    ) -> int:
        """The sentence holding most of the question's weight, counting what "it"/"its" refer to.

        `weights` are the question's term ids and weights, in the question's order (sums in a
        fixed order give the same floats in every process). The paragraph's most similar labelled
        example questions vote too, for their sentences, with vote_weight in all.
        """
        # Each term gives its weight to the sentences holding it, in the question's order: the
        # same weights, summed alike, as testing every term in every sentence.
        held: list[list[float]] = [[] for _ in details.sentences]
        in_paragraph = []
        for term, weight in weights:
            if (holders := details.holders.get(term)) is not None:
                in_paragraph.append((term, weight))
                for s in holders:
                    held[s].append(weight)
        best, best_score = 0, -1.0
        for i, (sentence, antecedent) in enumerate(
            zip(details.sentences, details.antecedents, strict=True)
        ):
            score = sum(held[i]) + vote_weight * votes[i]
            if antecedent is not None:
                borrowed = (w for t, w in in_paragraph if t in antecedent and t not in sentence)
                score += BACK_REFERENCE_SHARE * sum(borrowed)
            if score > best_score:
                best, best_score = i, score
        return best

    def __getstate__(self) -> dict[str, object]:
        # The memos _install_caches puts on the instance are rebuilt on load, empty.
        return stored_state(self)

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._install_caches()
        # As in __init__: the table the first question with an unknown word would load.
        cues.english_zipf()
