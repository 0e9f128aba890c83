"""The bench's libraries as data folders the bot loads like any other, and their questions.

A corpus is named `<kind>-<paragraphs>` ("content-10000") or "statement":

- statement: data/ as shipped (6 paragraphs); questions drawn from its own words.
- content, stopwords: synthetic libraries of the two shapes in synthetic.py.
- stdlib: the prose paragraphs of the standard library's docstrings (stdlib_corpus.py).

Every generated folder holds the real statement(s) and glossary of data/, so the dev questions
have their answer in it. Folders are written once under bench/results/data/ and reused while
their stamp (generator version, seed, size) matches. Every question set is a function of the
seed: the same questions go to the CLI, the in-process run and the peers.
"""

from __future__ import annotations

import json
import random
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from stdlib_corpus import docstring_documents
from synthetic import (
    QUESTION_TEMPLATES,
    DocumentText,
    drawn_questions,
    joined,
    language,
    statement_language,
    synthetic_documents,
)

from bot.text import STOP_WORDS

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
GENERATED = ROOT / "bench" / "results" / "data"
DEV_QUESTIONS = ROOT / "tests" / "dev_qa.jsonl"
GLOSSARY = "glossary.toml"
# Bump when a generator changes, so stale folders are rewritten.
GENERATOR_VERSION = 3
SEED = 5
KINDS = ("statement", "content", "stopwords", "stdlib")
# One question in this many has a one-letter slip in a long word: people mistype, and the
# spelling path is part of what a question costs.
TYPO_EVERY = 20
STDLIB_QUESTION_WORDS = (2, 4)
WORD = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class Corpus:
    name: str
    kind: str
    paragraphs: int  # 0 for the statement as shipped

    @classmethod
    def parse(cls, name: str) -> Corpus:
        if name == "statement":
            return cls(name, "statement", 0)
        kind, _, size = name.partition("-")
        if kind not in KINDS or not size.isdigit():
            raise ValueError(f"unknown corpus {name!r}: statement or <kind>-<paragraphs>")
        return cls(name, kind, int(size))

    @property
    def data_dir(self) -> Path:
        return DATA_DIR if self.kind == "statement" else GENERATED / self.name

    @property
    def questions_file(self) -> Path:
        return GENERATED / f"{self.name}.questions.txt"


def statement_texts() -> list[str]:
    texts = []
    for path in sorted(DATA_DIR.glob("*.txt")):
        texts += [b for b in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")) if b.strip()]
    return texts


def dev_questions() -> list[str]:
    with DEV_QUESTIONS.open(encoding="utf-8") as lines:
        return [json.loads(line)["question"] for line in lines if line.strip()]


def _stamp(corpus: Corpus, question_count: int) -> dict[str, object]:
    return {
        "version": GENERATOR_VERSION,
        "seed": SEED,
        "corpus": corpus.name,
        "questions": question_count,
        "statement_bytes": sum(p.stat().st_size for p in sorted(DATA_DIR.iterdir())),
    }


def prepare(corpus: Corpus, question_count: int) -> list[str]:
    """Write the corpus's data folder and questions unless they are current; the questions."""
    stamp_file = GENERATED / f"{corpus.name}.stamp.json"
    stamp = _stamp(corpus, question_count)
    if (
        stamp_file.exists()
        and json.loads(stamp_file.read_text(encoding="utf-8")) == stamp
        and corpus.questions_file.exists()
    ):
        return corpus.questions_file.read_text(encoding="utf-8").splitlines()
    GENERATED.mkdir(parents=True, exist_ok=True)
    if corpus.kind == "statement":
        asked = drawn_questions(statement_language(statement_texts()), question_count, SEED)
    else:
        documents, asked = _generate(corpus, question_count)
        _write_folder(corpus.data_dir, documents)
    asked = _with_typos(_with_dev_questions(asked), SEED)
    corpus.questions_file.write_text("\n".join(asked) + "\n", encoding="utf-8")
    stamp_file.write_text(json.dumps(stamp), encoding="utf-8")
    return asked


def _generate(corpus: Corpus, question_count: int) -> tuple[list[DocumentText], list[str]]:
    generated = corpus.paragraphs - len(statement_texts_paragraphs())
    if corpus.kind == "stdlib":
        documents = _stdlib_documents(generated)
        return documents, _stdlib_questions(documents, question_count, SEED)
    words = language(statement_texts(), corpus.kind, SEED)  # type: ignore[arg-type]
    return synthetic_documents(generated, words, SEED), drawn_questions(
        words, question_count, SEED + 1
    )


def statement_texts_paragraphs() -> list[str]:
    """The statement's paragraphs as the bot reads them (headings and page breaks resolved)."""
    return paragraph_texts(DATA_DIR)


def paragraph_texts(folder: Path) -> list[str]:
    """Every paragraph of a data folder as the bot segments it, without building an index."""
    from bot.corpus import build_document
    from bot.sources import FolderSource

    data = FolderSource(folder, read_model=False).load()
    return [
        p.text
        for f in data.documents
        for p in build_document(f.name, f.text, f.metadata, origin=f.origin).paragraphs
    ]


def _stdlib_documents(paragraph_count: int) -> list[DocumentText]:
    documents = []
    remaining = paragraph_count
    for module, paragraphs in docstring_documents():
        if remaining <= 0:
            break
        kept = paragraphs[:remaining]
        remaining -= len(kept)
        documents.append(
            DocumentText(
                doc_id=f"stdlib-{module}",
                meta={
                    "title": f"The docstrings of {module}",
                    "short_title": module,
                    "speaker": "",
                    "event": "Python standard library",
                    "section": module,
                },
                sections=[(module, kept)],
            )
        )
    if remaining > 0:
        available = paragraph_count - remaining
        raise SystemExit(f"the stdlib docstrings give {available:,} paragraphs, not {remaining:,}")
    return documents


def _stdlib_questions(documents: list[DocumentText], count: int, seed: int) -> list[str]:
    """A few content words of a random paragraph, in a question template."""
    rng = random.Random(seed)
    paragraphs = [p for d in documents for _, ps in d.sections for p in ps]
    asked = []
    while len(asked) < count:
        words = [
            w
            for w in dict.fromkeys(w.lower() for w in WORD.findall(rng.choice(paragraphs)))
            if len(w) >= 4 and w not in STOP_WORDS
        ]
        if len(words) < STDLIB_QUESTION_WORDS[0]:
            continue
        topic = rng.sample(words, min(len(words), rng.randint(*STDLIB_QUESTION_WORDS)))
        asked.append(rng.choice(QUESTION_TEMPLATES).format(joined(topic)))
    return asked


def _with_dev_questions(asked: list[str]) -> list[str]:
    """The dev questions spread among the drawn ones, replacing some (the count stays)."""
    result = list(asked)
    for position, question in enumerate(dev_questions()):
        if position < len(result):
            result[random.Random(SEED + position).randrange(len(result))] = question
    return result


def _with_typos(asked: list[str], seed: int) -> list[str]:
    """Swap two inner letters of the longest word in one question out of TYPO_EVERY."""
    rng = random.Random(seed)
    result = []
    for number, question in enumerate(asked):
        words = [w for w in WORD.findall(question) if len(w) >= 7]
        if number % TYPO_EVERY == TYPO_EVERY - 1 and words:
            word = max(words, key=len)
            at = rng.randrange(1, len(word) - 2)
            slipped = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
            question = question.replace(word, slipped, 1)
        result.append(question)
    return result


def _write_folder(folder: Path, documents: list[DocumentText]) -> None:
    """A data folder the bot loads: the statement(s), the glossary, one .txt/.json per document."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for path in DATA_DIR.iterdir():
        if path.is_file():
            shutil.copy2(path, folder / path.name)
    for document in documents:
        # Every block ends a sentence, so only the headings are read as headings.
        blocks = []
        for heading, paragraphs in document.sections:
            blocks += [heading, *paragraphs]
        (folder / f"{document.doc_id}.txt").write_text("\n\n".join(blocks) + "\n", "utf-8")
        (folder / f"{document.doc_id}.json").write_text(json.dumps(document.meta), "utf-8")
