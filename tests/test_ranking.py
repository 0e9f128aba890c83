"""The inverted index gives rank-bm25's top paragraphs and scores, bit for bit, for every
variant, alone and combined with a second field."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from rank_bm25 import BM25L, BM25Okapi, BM25Plus

from bot import ranking
from bot.ranking import (
    RANK_BM25_MAX_PARAGRAPHS,
    FieldQuery,
    InvertedIndexScorer,
    NumberedTerms,
    RankBM25Scorer,
    best_scores,
    bm25_idf,
    make_scorer,
    top_combined,
)
from tests.conftest import ROOT

VARIANTS = ("okapi", "plus", "l")
RANK_BM25 = {"okapi": BM25Okapi, "plus": BM25Plus, "l": BM25L}
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
        # One champion a term: a weaker first threshold, so more candidates are bounded.
        InvertedIndexScorer(zipf_paragraphs, variant, champions_per_term=1),
    )


def reference_top(scores, k):
    """The k best of a score array, best first, ties by index: plain Python, no numpy."""
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))[:k]
    return [(i, float(scores[i])) for i in order]


def assert_same_top(got, expected):
    # The same paragraphs in the same order with the same floats, not merely close ones.
    assert [i for i, _ in got] == [i for i, _ in expected]
    assert [s for _, s in got] == [s for _, s in expected]


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
    _, reference, default, one_champion = scorers
    for terms in zipf_queries(zipf_paragraphs):
        expected_scores = reference.scores(terms)
        for scorer in (default, one_champion):
            np.testing.assert_array_equal(scorer.scores(terms), expected_scores)
            for k in (1, 5, 6, 40):
                assert_same_top(scorer.top(terms, k), reference_top(expected_scores, k))


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


def test_numbered_terms_index_as_their_term_lists_do(zipf_paragraphs):
    numbered = NumberedTerms.of(zipf_paragraphs)
    assert numbered.lists() == [list(p) for p in zipf_paragraphs]
    from_ids = make_scorer(numbered, "plus")
    from_lists = InvertedIndexScorer(zipf_paragraphs, "plus")
    assert isinstance(from_ids, InvertedIndexScorer)
    for terms in zipf_queries(zipf_paragraphs):
        assert from_ids.top(terms, 5) == from_lists.top(terms, 5)
    few = NumberedTerms.of(zipf_paragraphs[:RANK_BM25_MAX_PARAGRAPHS])
    assert isinstance(make_scorer(few, "plus"), RankBM25Scorer)


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


QUERY_PATHS = {
    # A corpus this small stores each posting's gain, sums in a fresh array, and reads every
    # posting of most queries.
    "as configured": {},
    # MaxScore: a threshold from the champions, then postings left unread.
    "pruning every query": {"PRUNE_MIN_POSTINGS": 0},
    # As at 100,000 paragraphs: gains computed from the counts, sums in the reused buffer.
    "pruning, gains computed, buffer reused": {
        "PRUNE_MIN_POSTINGS": 0,
        "STORED_GAINS_MAX_POSTINGS": 0,
        "FRESH_ARRAY_MAX_BYTES": 0,
    },
}


@pytest.fixture(params=list(QUERY_PATHS))
def query_path(request, monkeypatch):
    """Each way a query can go on a large corpus, on the small test corpus (scorers must be
    built after this fixture)."""
    for name, value in QUERY_PATHS[request.param].items():
        monkeypatch.setattr(ranking, name, value)
    return request.param


@pytest.mark.parametrize("variant", VARIANTS)
def test_top_matches_rank_bm25_on_every_query_path(variant, zipf_paragraphs, query_path):
    reference = RankBM25Scorer(zipf_paragraphs, variant)
    scorer = InvertedIndexScorer(zipf_paragraphs, variant)
    rng = np.random.default_rng(17)
    queries = zipf_queries(zipf_paragraphs)
    # Queries as a library gets them: a few words of all frequencies, now and then repeated.
    for _ in range(40):
        ranks = rng.zipf(1.3, size=int(rng.integers(1, 8))) - 1
        queries.append([f"w{r}" for r in ranks if r < VOCABULARY])
    for terms in queries:
        expected_scores = reference.scores(terms)
        for k in (1, 6, 25):
            assert_same_top(scorer.top(terms, k), reference_top(expected_scores, k))


def test_pruning_leaves_postings_unread(zipf_paragraphs, monkeypatch):
    monkeypatch.setattr(ranking, "PRUNE_MIN_POSTINGS", 0)
    scorer = InvertedIndexScorer(zipf_paragraphs, "plus")
    # Common words and a rare one: the common words cannot lift a paragraph to the top alone.
    terms = ["w0", "w1", "w2", "w3", "w1500"]
    postings = sum(scorer.document_frequency(t) for t in terms)
    scorer.top(terms, 5)
    (workspace,) = scorer._workspaces
    # The workspace grows to the postings a query reads.
    assert workspace.positions.size < postings / 4
    assert_same_top(scorer.top(terms, 5), RankBM25Scorer(zipf_paragraphs, "plus").top(terms, 5))


def test_the_reused_buffer_is_clean_after_every_query(zipf_paragraphs, query_path):
    scorer = InvertedIndexScorer(zipf_paragraphs, "plus")
    for terms in zipf_queries(zipf_paragraphs):
        scorer.top(terms, 6)
        assert all(not w.bound.any() for w in scorer._workspaces)


def test_concurrent_queries_get_their_own_buffers(zipf_paragraphs):
    # SearchIndex is asked from asyncio.to_thread: several queries may run at once.
    scorer = InvertedIndexScorer(zipf_paragraphs, "plus")
    queries = [q for q in zipf_queries(zipf_paragraphs) if q] * 30
    expected = [scorer.top(q, 6) for q in queries]
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda q: scorer.top(q, 6), queries))
    assert got == expected
    assert all(not w.bound.any() for w in scorer._workspaces)


@pytest.fixture(scope="module")
def example_questions(zipf_paragraphs) -> list[list[str]]:
    """A second field: most paragraphs have no example question, the others a few short ones
    drawn from the same words, so the two fields share terms with different frequencies."""
    rng = np.random.default_rng(99)
    weights = 1.0 / np.arange(1, VOCABULARY + 1) ** 0.8
    words = np.array([f"w{rank}" for rank in range(VOCABULARY)], dtype=object)
    field = []
    for _ in zipf_paragraphs:
        if rng.random() < 0.6:
            field.append([])
        else:
            field.append(
                list(rng.choice(words, size=int(rng.integers(3, 25)), p=weights / weights.sum()))
            )
    return field


@pytest.mark.parametrize("variant", VARIANTS)
def test_two_fields_combine_as_the_weighted_sum_of_rank_bm25(
    variant, zipf_paragraphs, example_questions, query_path
):
    text, examples = (
        InvertedIndexScorer(zipf_paragraphs, variant),
        InvertedIndexScorer(example_questions, variant),
    )
    text_reference = RankBM25Scorer(zipf_paragraphs, variant)
    example_reference = RankBM25Scorer(example_questions, variant)
    rng = np.random.default_rng(5)
    for terms in zipf_queries(zipf_paragraphs)[:-1]:
        # The example field may be asked other terms (its own analysis of the question).
        example_terms = [*terms[::-1], "w7"]
        text_scores = text_reference.scores(terms)
        example_scores = example_reference.scores(example_terms)
        for text_weight, example_weight in ((1.0, 0.0), (0.7, 0.3), (0.25, 1.8), (0.0, 1.0)):
            expected = text_weight * text_scores + example_weight * example_scores
            got = top_combined(
                [
                    FieldQuery(text, terms, text_weight),
                    FieldQuery(examples, example_terms, example_weight),
                ],
                8,
            )
            assert_same_top(got, reference_top(expected, 8))
        # rank-bm25 itself as one field: the scores are combined over every paragraph.
        weight = float(rng.random())
        mixed = top_combined(
            [
                FieldQuery(text_reference, terms, weight),
                FieldQuery(examples, example_terms, 1 - weight),
            ],
            5,
        )
        expected = weight * text_scores + (1 - weight) * example_scores
        assert_same_top(mixed, reference_top(expected, 5))


def test_fields_of_different_variants_combine(zipf_paragraphs, example_questions, query_path):
    text, examples = (
        InvertedIndexScorer(zipf_paragraphs, "plus"),
        InvertedIndexScorer(example_questions, "l"),
    )
    text_reference = RankBM25Scorer(zipf_paragraphs, "plus")
    example_reference = RankBM25Scorer(example_questions, "l")
    for terms in zipf_queries(zipf_paragraphs):
        expected = 0.6 * text_reference.scores(terms) + 0.4 * example_reference.scores(terms)
        got = top_combined([FieldQuery(text, terms, 0.6), FieldQuery(examples, terms, 0.4)], 7)
        assert_same_top(got, reference_top(expected, 7))


def test_a_field_of_weight_one_alone_is_the_field(scorers, zipf_paragraphs):
    _, reference, scorer, _ = scorers
    for terms in zipf_queries(zipf_paragraphs):
        assert_same_top(top_combined([FieldQuery(scorer, terms)], 6), reference.top(terms, 6))


def test_fields_must_agree_and_weigh_something(zipf_paragraphs, example_questions):
    text = InvertedIndexScorer(zipf_paragraphs, "plus")
    with pytest.raises(ValueError, match="different numbers of paragraphs"):
        top_combined(
            [FieldQuery(text, ["w1"]), FieldQuery(InvertedIndexScorer([["w1"]], "plus"), ["w1"])],
            5,
        )
    for weight in (-0.5, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="finite and non-negative"):
            top_combined([FieldQuery(text, ["w1"], weight)], 5)
    assert top_combined([], 5) == []


@pytest.mark.parametrize("variant", VARIANTS)
def test_postings_hold_each_paragraph_once_per_term_with_its_count(variant):
    paragraphs = [["b", "a", "b"], [], ["a"], ["c", "b", "c", "c"], ["a"] * 300]
    scorer = InvertedIndexScorer(paragraphs, variant)
    assert scorer.posting_count == 6
    assert [scorer.postings(scorer.known_ids([t])[0]).tolist() for t in "abc"] == [
        [0, 2, 4],
        [0, 3],
        [3],
    ]
    # A count past 255 widens the count type rather than wrapping.
    assert scorer._counts.max() == 300
    assert scorer.document_frequency("a") == 3
