"""Measurements on one corpus, run in a fresh process so its memory figures are its own."""

from __future__ import annotations

import gc
import json
import random
import sys
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from memory import (
    corpus_size,
    index_breakdown,
    index_size,
    paragraph_parts,
    peak_rss,
    reset_peak_rss,
    rss,
)
from rank_bm25 import BM25Okapi
from synthetic import (
    ZipfWords,
    questions,
    statement_vocabulary,
    synthetic_corpus,
    synthetic_vocabulary,
)

from bot.embeds import answer_embed
from bot.library import Library, build_library
from bot.ranking import RankBM25Scorer, make_scorer
from bot.render import answer_text
from bot.search import DEFAULT_VARIANT
from bot.sources import FolderSource, LibraryData

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
DEV_QUESTIONS = ROOT / "tests" / "dev_qa.jsonl"
CORPUS_SEED = 5
# The first question on a fresh index has a typo, so it also pays for the spelling word list.
COLD_QUESTION = "What does Canada say about migartion data?"
TOP = 5
RELATIVE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Plan:
    """How much of each measurement one corpus gets (the large ones get fewer repetitions)."""

    name: str
    paragraphs: int  # 0: the statement as it is in data/
    repetitions: int
    builds: int
    generated_questions: int
    reference_questions: int
    naive_questions: int
    tracemalloc_check: bool


def ms(seconds: float) -> float:
    return seconds * 1e3


def percentiles(values_ms: list[float]) -> dict[str, float]:
    values = np.array(values_ms)
    return {
        "p50": round(float(np.percentile(values, 50)), 4),
        "p99": round(float(np.percentile(values, 99)), 4),
        "max": round(float(values.max()), 4),
        "mean": round(float(values.mean()), 4),
        "count": len(values),
    }


def dev_questions() -> list[str]:
    with DEV_QUESTIONS.open(encoding="utf-8") as lines:
        return [json.loads(line)["question"] for line in lines if line.strip()]


def question_set(sampler: ZipfWords, count: int, seed: int) -> list[str]:
    """count questions drawn from the Zipf law with the dev questions spread among them."""
    drawn = questions(sampler, count, seed)
    for position, question in enumerate(dev_questions()):
        drawn.insert(random.Random(seed + position).randrange(len(drawn) + 1), question)
    return drawn


def build_corpus(plan: Plan) -> tuple[LibraryData, ZipfWords]:
    statement = FolderSource(DATA_DIR).load()
    if plan.paragraphs == 0:
        return statement, ZipfWords.over(statement_vocabulary(build_library(statement)))
    corpus = synthetic_corpus(plan.paragraphs, DATA_DIR, seed=CORPUS_SEED)
    vocabulary = synthetic_vocabulary(build_library(statement), CORPUS_SEED)
    return corpus, ZipfWords.over(vocabulary)


def build_index(corpus: LibraryData) -> Library:
    """The library exactly as the bot builds it from its data."""
    return build_library(corpus)


def answer(index: Library, question: str) -> tuple[float, float]:
    """Seconds to answer and seconds to render one question, both renderings."""
    start = time.perf_counter()
    found = index.ask(question)
    searched = time.perf_counter()
    answer_embed(found, index)
    answer_text(found, index)
    return searched - start, time.perf_counter() - searched


class CollectionTimer:
    """Time the garbage collector's passes, to tell its pauses from the search's own time."""

    def __init__(self) -> None:
        self.pauses_ms: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses_ms[info["generation"]].append(ms(time.perf_counter() - self._started))

    def __enter__(self) -> CollectionTimer:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *_: object) -> None:
        gc.callbacks.remove(self)

    def summary(self) -> dict[str, object]:
        oldest = self.pauses_ms[2]
        return {
            "collections": {str(g): len(p) for g, p in self.pauses_ms.items()},
            "total_ms": round(sum(sum(p) for p in self.pauses_ms.values()), 2),
            "oldest_generation_max_ms": round(max(oldest, default=0.0), 2),
        }


def answer_pass(index: Library, asked: list[str], fresh_index: bool) -> dict[str, object]:
    cold_search, cold_render = answer(index, COLD_QUESTION)
    totals, searches, renders = [], [], []
    with CollectionTimer() as collections:
        for question in asked:
            search_seconds, render_seconds = answer(index, question)
            searches.append(ms(search_seconds))
            renders.append(ms(render_seconds))
            totals.append(ms(search_seconds + render_seconds))
    return {
        "fresh_index": fresh_index,
        "cold_first_answer_ms": round(ms(cold_search + cold_render), 3),
        "garbage_collection": collections.summary(),
        "answer": percentiles(totals),
        "search": percentiles(searches),
        "render": percentiles(renders),
        "answers_per_second": round(len(totals) / (sum(totals) / 1e3), 1),
    }


def full_collection_ms() -> dict[str, float]:
    """How long one full garbage collection takes with the corpus and index alive, and after
    gc.freeze() (what the bot could call once its index is loaded)."""
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        gc.collect()
        timings.append(ms(time.perf_counter() - start))
    gc.freeze()
    start = time.perf_counter()
    gc.collect()
    frozen = ms(time.perf_counter() - start)
    gc.unfreeze()
    return {"tracked_objects": len(gc.get_objects()), "ms": min(timings), "frozen_ms": frozen}


def measure_memory(corpus: LibraryData, plan: Plan) -> tuple[Library, dict[str, object]]:
    """The first build of the process: time, RSS growth and what the index retains."""
    gc.collect()
    before = rss()
    peak_reset = reset_peak_rss()
    start = time.perf_counter()
    index = build_index(corpus)
    build_seconds = time.perf_counter() - start
    gc.collect()
    retained, by_type = index_size(index)
    memory: dict[str, object] = {
        "index_bytes": retained,
        "index_bytes_by_type": dict(sorted(by_type.items(), key=lambda kv: -kv[1])[:12]),
        "rss_delta_bytes": rss() - before,
        "build_peak_rss_delta_bytes": peak_rss() - before if peak_reset else None,
    }
    if plan.tracemalloc_check:
        # tracemalloc slows the build ~4x, so it only checks the deep size on smaller corpora.
        index = None
        gc.collect()
        tracemalloc.start()
        traced_index = build_index(corpus)
        gc.collect()
        memory["index_tracemalloc_bytes"] = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        index = traced_index
    return index, {"first_build_s": build_seconds, **memory}


def reference_check(index: Library, asked: list[str]) -> dict[str, object]:
    """make_scorer against rank-bm25 on the same tokens: top-5 indexes and scores, and speed."""
    analyzer = index.index.analyzer
    paragraph_terms = [analyzer.terms(p.text) for p in index.paragraphs]
    start = time.perf_counter()
    fast = make_scorer(paragraph_terms, DEFAULT_VARIANT)
    fast_build = time.perf_counter() - start
    start = time.perf_counter()
    reference = RankBM25Scorer(paragraph_terms, DEFAULT_VARIANT)
    reference_build = time.perf_counter() - start
    del paragraph_terms
    same = checked = bitwise = 0
    worst_relative = 0.0
    fast_ms, reference_ms = [], []
    for question in asked:
        raw = [t.term for t in analyzer.tokens(question, query=True)]
        searched = list(dict.fromkeys(t for t in raw if index.index.knows(t)))
        # What the search asks for, and the raw terms: repeated and unknown ones included.
        for terms in (searched, raw):
            start = time.perf_counter()
            got = fast.top(terms, TOP)
            middle = time.perf_counter()
            expected = reference.top(terms, TOP)
            end = time.perf_counter()
            if terms is searched:
                fast_ms.append(ms(middle - start))
                reference_ms.append(ms(end - middle))
            checked += 1
            same_paragraphs = [i for i, _ in got] == [i for i, _ in expected]
            relative = max(
                (
                    abs(a - b) / max(abs(b), 1e-300)
                    for (_, a), (_, b) in zip(got, expected, strict=False)
                ),
                default=0.0,
            )
            worst_relative = max(worst_relative, relative)
            same += same_paragraphs and relative <= RELATIVE_TOLERANCE
            bitwise += got == expected
    return {
        "variant": DEFAULT_VARIANT,
        "queries_checked": checked,
        "same_top5": same,
        "bitwise_equal": bitwise,
        "max_relative_difference": worst_relative,
        "scorer": type(fast).__name__,
        "scorer_build_s": round(fast_build, 3),
        "rank_bm25_build_s": round(reference_build, 3),
        "rank_only_ms": percentiles(fast_ms),
        "rank_bm25_ms": percentiles(reference_ms),
    }


def naive_baseline(corpus: Library, asked: list[str]) -> dict[str, object]:
    """The plain approach: lower().split() into BM25Okapi, every paragraph scored, top-5 sorted."""
    gc.collect()
    before = rss()
    start = time.perf_counter()
    bm25 = BM25Okapi([p.text.lower().split() for p in corpus.paragraphs])
    build_seconds = time.perf_counter() - start
    gc.collect()
    grown = rss() - before
    timings = []
    for question in asked:
        start = time.perf_counter()
        scores = bm25.get_scores(question.lower().split())
        np.argsort(scores)[::-1][:TOP]
        timings.append(ms(time.perf_counter() - start))
    return {"build_s": round(build_seconds, 3), "rss_delta_bytes": grown, **percentiles(timings)}


def run(plan: Plan) -> dict[str, object]:
    def progress(message: str) -> None:
        print(f"  [{plan.name}] {message}", file=sys.stderr, flush=True)

    start = time.perf_counter()
    corpus, sampler = build_corpus(plan)
    result: dict[str, object] = {
        "corpus": plan.name,
        "documents": len(corpus.documents),
        "generate_s": round(time.perf_counter() - start, 2),
        "plan": plan.__dict__,
    }
    progress(f"{len(corpus.documents):,} documents in {result['generate_s']} s; building")
    index, result["memory"] = measure_memory(corpus, plan)
    result["paragraphs"] = len(index.paragraphs)
    result["corpus_bytes"] = corpus_size(index.documents)[0]
    result["corpus_parts_bytes"] = paragraph_parts(index.paragraphs)
    scorer = getattr(index.index, "_scorer", None)
    result["postings"] = getattr(scorer, "posting_count", None)
    build_seconds = [result["memory"]["first_build_s"]]
    passes = []
    for repetition in range(plan.repetitions):
        if repetition and repetition < plan.builds:
            index = None
            gc.collect()
            begin = time.perf_counter()
            index = build_index(corpus)
            build_seconds.append(time.perf_counter() - begin)
        asked = question_set(sampler, plan.generated_questions, seed=100 + repetition)
        passes.append(answer_pass(index, asked, fresh_index=repetition < plan.builds))
        progress(
            f"pass {repetition + 1}/{plan.repetitions}: "
            f"p50 {passes[-1]['answer']['p50']:.3f} ms, p99 {passes[-1]['answer']['p99']:.3f} ms"
        )
    result["build_s"] = [round(s, 3) for s in build_seconds]
    result["passes"] = passes
    gc.collect()
    result["index_bytes_after_questions"] = index_size(index)[0]
    result["index_after_questions_by_attribute"] = index_breakdown(index)
    result["full_collection_ms"] = full_collection_ms()
    # The dev questions and the first drawn questions of the first pass, on every corpus.
    asked = dev_questions() + questions(sampler, plan.generated_questions, seed=100)
    progress(f"checking the top-5 against rank-bm25 on {plan.reference_questions} questions")
    result["reference"] = reference_check(index, asked[: plan.reference_questions])
    progress(f"timing the naive baseline on {plan.naive_questions} questions")
    result["naive"] = naive_baseline(index, asked[: plan.naive_questions])
    result["total_s"] = round(time.perf_counter() - start, 1)
    progress(f"done in {result['total_s']} s")
    return result
