"""BM25 scoring: rank-bm25 is the reference; make_scorer picks how a corpus is scored."""

from __future__ import annotations

from typing import Literal, Protocol

from rank_bm25 import BM25L, BM25Okapi, BM25Plus

Variant = Literal["okapi", "plus", "l"]
BM25_VARIANTS = {"okapi": BM25Okapi, "plus": BM25Plus, "l": BM25L}


class Scorer(Protocol):
    def top(self, terms: list[str], k: int) -> list[tuple[int, float]]:
        """The k best (paragraph index, score) pairs, best first, ties by index."""
        ...


class RankBM25Scorer:
    """rank-bm25 itself: every paragraph scored, the best k returned."""

    def __init__(self, paragraph_terms: list[list[str]], variant: Variant) -> None:
        self._bm25 = BM25_VARIANTS[variant](paragraph_terms)

    def top(self, terms: list[str], k: int) -> list[tuple[int, float]]:
        scores = self._bm25.get_scores(terms)
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))[:k]
        return [(i, float(scores[i])) for i in order]


def make_scorer(paragraph_terms: list[list[str]], variant: Variant) -> Scorer:
    return RankBM25Scorer(paragraph_terms, variant)
