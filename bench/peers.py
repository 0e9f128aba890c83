"""The same paragraphs and questions through other BM25 engines, each in a fresh process.

python bench/peers.py ENGINE PARAGRAPHS_JSONL QUESTIONS_TXT [--limit N]   (prints one JSON)

- bm25s: its own tokenizer, English stop words and the same Snowball stemmer (PyStemmer);
  each question tokenized and retrieved on its own, as a bot answers them.
- tantivy: the Rust engine, in memory, its "en_stem" analyzer, a lenient query parse, top 5.
- rank-bm25: the naive baseline, lower().split() into BM25Okapi, every paragraph scored.

Index build time, per-question times (query analysis included, no rendering) and the process's
peak RSS. bm25s and tantivy come with the `bench` extra; a missing one is reported, not fatal.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from memory import peak_rss

TOP = 5
Search = Callable[[str], object]


def build_bm25s(paragraphs: list[str]) -> Search:
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    retriever = bm25s.BM25()
    retriever.index(
        bm25s.tokenize(paragraphs, stopwords="en", stemmer=stemmer, show_progress=False),
        show_progress=False,
    )

    def search(question: str) -> object:
        tokens = bm25s.tokenize(
            question, stopwords="en", stemmer=stemmer, show_progress=False, return_ids=False
        )
        return retriever.retrieve(tokens, k=TOP, show_progress=False)

    return search


def build_tantivy(paragraphs: list[str]) -> Search:
    import tantivy

    schema = tantivy.SchemaBuilder()
    schema.add_text_field("body", stored=False, tokenizer_name="en_stem")
    schema.add_integer_field("id", stored=True, fast=True)
    index = tantivy.Index(schema.build())
    writer = index.writer()
    for number, text in enumerate(paragraphs):
        writer.add_document(tantivy.Document(id=number, body=text))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    searcher = index.searcher()

    def search(question: str) -> object:
        query, _ = index.parse_query_lenient(question, ["body"])
        return searcher.search(query, TOP).hits

    return search


def build_rank_bm25(paragraphs: list[str]) -> Search:
    from rank_bm25 import BM25Okapi

    bm25 = BM25Okapi([p.lower().split() for p in paragraphs])

    def search(question: str) -> object:
        return np.argsort(bm25.get_scores(question.lower().split()))[::-1][:TOP]

    return search


ENGINES: dict[str, Callable[[list[str]], Search]] = {
    "bm25s": build_bm25s,
    "tantivy": build_tantivy,
    "rank-bm25": build_rank_bm25,
}


def run(engine: str, paragraphs_file: Path, questions_file: Path, limit: int | None) -> dict:
    with paragraphs_file.open(encoding="utf-8") as lines:
        paragraphs = [json.loads(line) for line in lines]
    questions = questions_file.read_text(encoding="utf-8").splitlines()[:limit]
    gc.collect()
    start = time.perf_counter()
    try:
        search = ENGINES[engine](paragraphs)
    except ImportError as exc:
        return {"engine": engine, "missing": f"{exc.name} is not installed (pip install .[bench])"}
    build_s = time.perf_counter() - start
    first_start = time.perf_counter()
    search(questions[0])
    first_ms = (time.perf_counter() - first_start) * 1e3
    timings = []
    for question in questions:
        start = time.perf_counter()
        search(question)
        timings.append((time.perf_counter() - start) * 1e3)
    values = np.array(timings)
    return {
        "engine": engine,
        "paragraphs": len(paragraphs),
        "build_s": build_s,
        "first_question_ms": first_ms,
        "question_ms": {
            "p50": float(np.percentile(values, 50)),
            "p99": float(np.percentile(values, 99)),
            "mean": float(values.mean()),
            "count": len(timings),
        },
        "peak_rss_bytes": peak_rss(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("engine", choices=sorted(ENGINES))
    parser.add_argument("paragraphs", type=Path)
    parser.add_argument("questions", type=Path)
    parser.add_argument("--limit", type=int)
    args = parser.parse_args()
    print(json.dumps(run(args.engine, args.paragraphs, args.questions, args.limit)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
