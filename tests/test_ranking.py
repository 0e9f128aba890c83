"""The inverted index gives rank-bm25's top paragraphs and scores, for every variant."""

from __future__ import annotations

import json

import numpy as np
import pytest
from rank_bm25 import BM25L, BM25Okapi, BM25Plus

from bot.ranking import (
    RANK_BM25_MAX_PARAGRAPHS,
    InvertedIndexScorer,
    RankBM25Scorer,
    best_scores,
    bm25_idf,
    make_scorer,
)
from tests.conftest import ROOT

VARIANTS = ("okapi", "plus", "l")
RANK_BM25 = {"okapi": BM25Okapi, "plus": BM25Plus, "l": BM25L}
RELATIVE = 1e-9
PARAGRAPHS = 2_500
VOCABULARY = 4_000


@pytest.fixture(scope="module")
def zipf_paragraphs() -> list[list[str]]:
    """Seeded Zipf text: the top words are in most paragraphs (negative Okapi idf), the tail in
    one or none; lengths vary, a few paragraphs are empty or one word long."""
    rng = np.random.default_rng(2024)
    weights = 1.0 / np.arange(1, VOCABULARY + 1)
    words = np.array([f"w{rank}" for rank in range(VOCABULARY)], dtype=object)
    lengths = rng.integers(20, 160, PARAGRAPHS)
    lengths[[7, 700]] = 0
    lengths[[8, 1500]] = 1
    paragraphs = [list(rng.choice(words, size=n, p=weights / weights.sum())) for n in lengths]
    # Two identical paragraphs far apart: equal scores must come out lowest index first.
    paragraphs[2_000] = list(paragraphs[30])
    return paragraphs


def zipf_queries(paragraphs: list[list[str]]) -> list[list[str]]:
    frequency: dict[str, int] = {}
    for paragraph in paragraphs:
        for word in set(paragraph):
            frequency[word] = frequency.get(word, 0) + 1
    rare = sorted(w for w, df in frequency.items() if df == 1)[:3]
    return [
        ["w0"],  # in nearly every paragraph: Okapi floors its negative idf
        ["w0", "w1", "w2", "w3"],
        ["w5", "w40", "w300", "w2500"],
        ["w17", "w17", "w17", "w90"],  # repeated: rank-bm25 adds it each time
        ["w12", "unknown", "w700", "nowhere"],  # unknown terms add nothing
        ["unknown"],
        [],
        rare,  # fewer holders than k: paragraphs without the terms fill the top
        paragraphs[30][:12],  # the duplicated paragraph's own words
        [f"w{r}" for r in range(0, 3_000, 97)],  # a long query
    ]


@pytest.fixture(scope="module", params=VARIANTS)
def scorers(request, zipf_paragraphs):
    variant = request.param
    reference = RankBM25Scorer(zipf_paragraphs, variant)
    return (
        variant,
        reference,
        InvertedIndexScorer(zipf_paragraphs, variant),
        # Past the precompute limit contributions are computed at query time instead.
        InvertedIndexScorer(zipf_paragraphs, variant, precompute_postings=0),
    )


def assert_same_top(got, expected):
    assert [i for i, _ in got] == [i for i, _ in expected]
    for (_, score), (_, expected_score) in zip(got, expected, strict=True):
        assert score == pytest.approx(expected_score, rel=RELATIVE, abs=0)


def test_the_zipf_corpus_exercises_every_case(zipf_paragraphs):
    okapi = BM25Okapi(zipf_paragraphs)
    floored = [w for w, idf in okapi.idf.items() if idf == okapi.epsilon * okapi.average_idf]
    assert "w0" in floored
    assert min(len(p) for p in zipf_paragraphs) == 0
    assert any(len(set(p)) < len(p) for p in zipf_paragraphs)
    assert len(zipf_queries(zipf_paragraphs)[7]) == 3


@pytest.mark.parametrize("variant", VARIANTS)
def test_idf_and_average_length_are_rank_bm25s(zipf_paragraphs, variant):
    reference = RANK_BM25[variant](zipf_paragraphs)
    frequency: dict[str, int] = {}
    for paragraph in zipf_paragraphs:
        for word in dict.fromkeys(paragraph):
            frequency[word] = frequency.get(word, 0) + 1
    # The same floats, not merely close ones: same formula, same order of summation.
    assert bm25_idf(frequency, len(zipf_paragraphs), variant) == reference.idf
    scorer = InvertedIndexScorer(zipf_paragraphs, variant)
    assert scorer.average_length == reference.avgdl
    assert all(scorer.idf(w) == reference.idf[w] for w in reference.idf)
    assert scorer.idf("unknown") == 0.0


def test_top_five_matches_rank_bm25(scorers, zipf_paragraphs):
    _, reference, precomputed, computed_per_query = scorers
    for terms in zipf_queries(zipf_paragraphs):
        expected_scores = reference._bm25.get_scores(terms)
        for scorer in (precomputed, computed_per_query):
            np.testing.assert_allclose(scorer.scores(terms), expected_scores, rtol=RELATIVE, atol=0)
            for k in (1, 5, 6):
                assert_same_top(scorer.top(terms, k), reference.top(terms, k))


def test_equal_scores_come_lowest_index_first(scorers, zipf_paragraphs):
    _, reference, scorer, _ = scorers
    terms = zipf_paragraphs[30][:12]
    top = scorer.top(terms, 20)
    ranked = [i for i, _ in top]
    first, second = ranked.index(30), ranked.index(2_000)
    assert second == first + 1
    assert top[first][1] == top[second][1]
    assert_same_top(top, reference.top(terms, 20))


def test_paragraphs_without_the_terms_fill_the_top_in_index_order(scorers, zipf_paragraphs):
    _, reference, scorer, _ = scorers
    rare = zipf_queries(zipf_paragraphs)[7]
    holders = {i for i, p in enumerate(zipf_paragraphs) if set(rare) & set(p)}
    assert len(holders) < 6
    top = scorer.top(rare, 12)
    assert_same_top(top, reference.top(rare, 12))
    assert [i for i, _ in top if i not in holders] == sorted(i for i, _ in top if i not in holders)


@pytest.mark.parametrize("variant", VARIANTS)
def test_k_beyond_the_corpus_and_zero(variant):
    small_terms = [["a", "b", "a"], ["b", "c"], [], ["c", "c", "c", "d"]]
    small = InvertedIndexScorer(small_terms, variant)
    small_reference = RankBM25Scorer(small_terms, variant)
    assert_same_top(small.top(["c", "a"], 10), small_reference.top(["c", "a"], 10))
    assert len(small.top(["c"], 10)) == 4
    assert small.top(["c"], 0) == []


def test_statement_matches_rank_bm25(index):
    paragraph_terms = [index.analyzer.terms(p.text) for p in index.paragraphs]
    with (ROOT / "tests" / "dev_qa.jsonl").open(encoding="utf-8") as lines:
        questions = [json.loads(line)["question"] for line in lines if line.strip()]
    for variant in VARIANTS:
        reference = RankBM25Scorer(paragraph_terms, variant)
        scorer = make_scorer(paragraph_terms, variant)
        for question in questions:
            raw = [t.term for t in index.analyzer.tokens(question, query=True)]
            searched = list(dict.fromkeys(t for t in raw if index.knows(t)))
            for terms in (searched, raw, raw + raw):
                assert_same_top(scorer.top(terms, 6), reference.top(terms, 6))


def test_make_scorer_keeps_rank_bm25_for_a_few_paragraphs_and_the_index_beyond(zipf_paragraphs):
    few = make_scorer(iter(zipf_paragraphs[:RANK_BM25_MAX_PARAGRAPHS]), "plus")
    assert isinstance(few, RankBM25Scorer)
    many = make_scorer(iter(zipf_paragraphs), "plus")
    assert isinstance(many, InvertedIndexScorer)
    assert many.posting_count == sum(len(set(p)) for p in zipf_paragraphs)
    assert many.paragraph_count == len(zipf_paragraphs)
    for word in ("w0", "w17", "unknown"):
        assert few.document_frequency(word) == sum(
            word in p for p in zipf_paragraphs[:RANK_BM25_MAX_PARAGRAPHS]
        )


def test_term_lists_can_stream_from_a_generator(zipf_paragraphs):
    # SearchIndex could pass a generator so that the term lists never exist all at once.
    streamed = InvertedIndexScorer((list(p) for p in zipf_paragraphs), "plus")
    held = InvertedIndexScorer(zipf_paragraphs, "plus")
    assert streamed.paragraph_count == len(zipf_paragraphs)
    for terms in zipf_queries(zipf_paragraphs):
        assert streamed.top(terms, 5) == held.top(terms, 5)
    for word in ("w0", "w17", "unknown"):
        assert streamed.document_frequency(word) == sum(word in p for p in zipf_paragraphs)


def test_corpora_without_terms_score_nothing():
    # rank-bm25 divides by zero here; the index answers that every paragraph scores zero.
    assert InvertedIndexScorer([], "plus").top(["a"], 5) == []
    assert InvertedIndexScorer([[], []], "okapi").top(["a"], 5) == [(0, 0.0), (1, 0.0)]


def test_best_scores_breaks_ties_by_index():
    scores = np.array([1.0, 3.0, 2.0, 3.0, 2.0, 2.0, 0.5])
    assert best_scores(scores, 4) == [(1, 3.0), (3, 3.0), (2, 2.0), (4, 2.0)]
    assert best_scores(scores, 4, np.array([5, 4, 2, 0])) == [
        (2, 2.0),
        (4, 2.0),
        (5, 2.0),
        (0, 1.0),
    ]
