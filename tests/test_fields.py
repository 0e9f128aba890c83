"""The examples field: each paragraph's examples scored one by one, and ranking with them."""

from __future__ import annotations

import numpy as np
import pytest

from bot.fields import (
    NEAREST_PARAGRAPH_EXAMPLES,
    TERM_VECTORS_MAX_PARAGRAPHS,
    ExampleLabel,
    NearestExamples,
    TwoFieldRanker,
)

EXAMPLES = [
    (["donor", "plan"], ExampleLabel(0, 0)),
    (["donor"], ExampleLabel(0, 1)),
    (["plan", "capacity"], ExampleLabel(0)),
    (["capacity", "donor", "need"], ExampleLabel(0, 1)),
    (["donor", "need"], ExampleLabel(0, 0)),
    (["iom", "mandate"], ExampleLabel(1, 0)),
    (["iom", "donor"], ExampleLabel(1, 0)),
    (["donor", "budget"], ExampleLabel(None)),
]


def nearest(examples=EXAMPLES) -> NearestExamples:
    return NearestExamples([terms for terms, _ in examples], [label for _, label in examples])


@pytest.mark.parametrize("terms", [["donor"], ["donor", "need"], ["iom"], ["capacity", "plan"]])
def test_a_paragraphs_examples_score_is_the_mean_of_its_nearest_examples(terms):
    index = nearest()
    neighbours = index.neighbours(terms)
    assert neighbours is not None
    scores = index.paragraph_scores(neighbours)
    similarity = neighbours.similarity.tolist()
    k = NEAREST_PARAGRAPH_EXAMPLES
    for paragraph in (0, 1):
        labels = [label for _, label in EXAMPLES]
        mine = [
            s for s, label in zip(similarity, labels, strict=True) if label.paragraph == paragraph
        ]
        # Fewer than k examples: the missing ones count as sharing no word.
        expected = sum(sorted(mine, reverse=True)[:k]) / k
        assert scores[paragraph] == pytest.approx(expected)
    # Only paragraphs with examples have a score; the unanswerable example belongs to none.
    assert scores.keys() == {0, 1}


def test_more_examples_of_the_same_kind_do_not_outweigh_a_few():
    # One paragraph with three examples, another with thirty, all worded alike: one document of
    # thirty would count "donor" thirty times.
    few = [(["donor", "plan"], ExampleLabel(0))] * 3
    many = [(["donor", "plan"], ExampleLabel(1))] * 30
    index = nearest(few + many + [(["other"], ExampleLabel(None))])
    neighbours = index.neighbours(["donor"])
    assert neighbours is not None
    first, second = index.paragraph_scores(neighbours).values()
    assert first == pytest.approx(second)
    assert first > 0


def test_no_answerable_example_scores_no_paragraph():
    index = nearest([(["budget"], ExampleLabel(None)), (["venue"], ExampleLabel(None))])
    neighbours = index.neighbours(["budget"])
    assert neighbours is not None
    assert index.paragraph_scores(neighbours) == {}


@pytest.mark.parametrize("paragraphs", [6, TERM_VECTORS_MAX_PARAGRAPHS + 40])
def test_ranking_adds_the_weighted_examples_scores_to_the_text_scores(paragraphs):
    rng = np.random.default_rng(paragraphs)
    words = ["donor", "plan", "iom", "data", "return", "forum", "group", "panel"]
    texts = [list(rng.choice(words, size=8)) for _ in range(paragraphs)]
    ranker = TwoFieldRanker(texts, [[] for _ in texts], "plus", examples_weight=2.0)
    terms = ["donor", "forum"]
    text = ranker.text.scores(terms).tolist()
    # A few paragraphs have examples; some of those are far down the text's ranking, and must
    # still come first when their examples score lifts them.
    by_text = sorted(range(paragraphs), key=lambda i: -text[i])
    examples = {by_text[-1]: 3.0, by_text[-2]: 0.5, by_text[0]: 0.1, by_text[3]: 0.0}
    combined = [t + 2.0 * examples.get(i, 0.0) for i, t in enumerate(text)]
    expected = sorted(range(paragraphs), key=lambda i: -combined[i])[:5]
    assert expected[0] == by_text[-1]
    ranked = ranker.rank(terms, 5, examples)
    assert [s.index for s in ranked] == expected
    for scores in ranked:
        assert scores.text == pytest.approx(text[scores.index])
        assert scores.examples == examples.get(scores.index, 0.0)
        assert scores.combined == pytest.approx(combined[scores.index])
    # Without examples, the text alone.
    assert [s.index for s in ranker.rank(terms, 5)] == by_text[:5]
