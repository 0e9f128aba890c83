"""In-process figures for one corpus, in a fresh process: where start-up and a question go.

python bench/inprocess.py CORPUS [--profile FILE]   (prints one JSON object)

- start-up split into reading the data folder and building the library;
- per question: search, and rendering the JSON the CLI prints (the CLI's own functions);
- the scorer alone on the terms the search asks for, and the postings those terms touch;
- exactness: the scorer's top-5 against rank-bm25's on the project's own terms, bit for bit;
- with --profile, cProfile of the question loop, the top functions printed to stderr.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import pstats
import resource
import sys
import time

import numpy as np
from corpora import Corpus, prepare
from memory import peak_rss, rss

from bot import render
from bot.library import Library, build_library
from bot.ranking import RankBM25Scorer, Scorer
from bot.search import DEFAULT_LIMIT, DEFAULT_VARIANT, SearchIndex
from bot.sources import FolderSource

TOP = 5
# rank-bm25 takes ~50 ms a question at 10,000 paragraphs and ~0.5 s at 100,000.
EXACTNESS_QUESTIONS = {0: 300, 10_000: 50, 100_000: 20}
PASSES = 3


def percentiles(values_ms: list[float]) -> dict[str, float]:
    values = np.array(values_ms) if values_ms else np.zeros(1)
    return {
        "p50": float(np.percentile(values, 50)),
        "p90": float(np.percentile(values, 90)),
        "p99": float(np.percentile(values, 99)),
        "max": float(values.max()),
        "mean": float(values.mean()),
        "count": len(values_ms),
    }


def searched_terms(index: SearchIndex, question: str) -> list[str]:
    """The terms SearchIndex ranks with: the question's known terms, once each, in order."""
    raw = [t.term for t in index.analyzer.tokens(question, query=True)]
    return list(dict.fromkeys(t for t in raw if index.knows(t)))


def text_scorer(index: SearchIndex) -> Scorer:
    """The scorer of the paragraphs' own text (the field rank-bm25 is checked against)."""
    return index._ranker.text


def exactness(index: SearchIndex, questions: list[str]) -> dict[str, object]:
    """Our scorer's top-5 against rank-bm25's BM25 on the same terms: indexes and exact floats."""
    paragraph_terms = [index.analyzer.terms(p.text) for p in index.paragraphs]
    reference = RankBM25Scorer(paragraph_terms, DEFAULT_VARIANT)
    del paragraph_terms
    same = 0
    for question in questions:
        terms = searched_terms(index, question)
        same += text_scorer(index).top(terms, TOP) == reference.top(terms, TOP)
    return {"checked": len(questions), "bitwise_equal": same}


def answer_json(library: Library, question: str) -> str:
    """What `python -m bot ask --json` prints for a question."""
    return json.dumps(render.answer_json(library.ask(question), library), ensure_ascii=False)


def run(corpus: Corpus, question_count: int, profile_to: str | None) -> dict[str, object]:
    questions = prepare(corpus, question_count)
    source = FolderSource(corpus.data_dir)
    started = time.perf_counter()
    data = source.load()
    loaded_at = time.perf_counter()
    library = build_library(data, source=source)
    built_at = time.perf_counter()
    del data
    index = library.index
    gc.freeze()
    result: dict[str, object] = {
        "corpus": corpus.name,
        "paragraphs": len(index.paragraphs),
        "load_corpus_s": loaded_at - started,
        "build_index_s": built_at - loaded_at,
        "rss_after_build_bytes": rss(),
    }
    first = time.perf_counter()
    answer_json(library, questions[0])
    result["first_answer_ms"] = (time.perf_counter() - first) * 1e3

    profiler = cProfile.Profile() if profile_to else None
    search_ms: list[float] = []
    render_ms: list[float] = []
    cpu_ms: list[float] = []
    faults_before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(PASSES):
        for question in questions:
            cpu = time.thread_time()
            start = time.perf_counter()
            if profiler:
                profiler.enable()
            found = library.ask(question)
            middle = time.perf_counter()
            json.dumps(render.answer_json(found, library), ensure_ascii=False)
            if profiler:
                profiler.disable()
            end = time.perf_counter()
            cpu_ms.append((time.thread_time() - cpu) * 1e3)
            search_ms.append((middle - start) * 1e3)
            render_ms.append((end - middle) * 1e3)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults_before
    result["search_ms"] = percentiles(search_ms)
    result["render_ms"] = percentiles(render_ms)
    result["answer_ms"] = percentiles([s + r for s, r in zip(search_ms, render_ms, strict=True)])
    # CPU time of the thread: what a question costs, without a busy machine's waits.
    result["answer_cpu_ms"] = percentiles(cpu_ms)
    result["page_faults_per_question"] = faults / len(cpu_ms)

    rank_ms, touched = [], []
    scorer = text_scorer(index)
    for question in questions:
        terms = searched_terms(index, question)
        touched.append(sum(scorer.document_frequency(t) for t in terms))
        start = time.thread_time()
        scorer.top(terms, DEFAULT_LIMIT * 2)
        rank_ms.append((time.thread_time() - start) * 1e3)
    result["rank_ms"] = percentiles(rank_ms)
    result["postings_touched"] = percentiles([float(t) for t in touched])
    result["peak_rss_bytes"] = peak_rss()

    if profiler:
        profiler.dump_stats(profile_to)
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(25)
        print(text.getvalue(), file=sys.stderr)
    size = corpus.paragraphs
    checked = EXACTNESS_QUESTIONS[max(k for k in EXACTNESS_QUESTIONS if k <= size)]
    result["exactness"] = exactness(index, questions[:checked])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus")
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--profile", help="write cProfile stats of the questions to this file")
    args = parser.parse_args()
    print(json.dumps(run(Corpus.parse(args.corpus), args.questions, args.profile)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
