"""Example questions as data: what each paragraph answers, and what the statement does not.

Beside a statement `data/<stem>.txt`, the file `data/<stem>.examples.jsonl` holds one JSON object
a line:

    {"paragraph": 4, "sentence": 2, "question": "Should laws cover removals?"}
    {"paragraph": null, "question": "What is Canada's annual immigration target?"}

`paragraph` is the paragraph number in that statement (from 1), or null for a question the
statement does not answer. `sentence` (optional) is the answering sentence's number within the
paragraph, from 1. `id` (optional) names the labelled question an example was copied from, so
that evaluation can tell which examples to hold out. `author` (optional) names who wrote it, when
not the maintainers: `make fit` scores each author's examples with an index built from everyone
else's, as a stranger's question will be (tools/crossval.py). Blank lines and lines starting with
`#` are skipped. Examples only help find a paragraph and judge whether it answers: a reply always
quotes the paragraph's own text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from bot.corpus import DataError

EXAMPLES_SUFFIX = ".examples.jsonl"
KNOWN_KEYS = frozenset({"paragraph", "sentence", "question", "id", "author"})


@dataclass(frozen=True)
class Example:
    """One question and the paragraph (and sentence) of its document that answers it, if any."""

    question: str
    paragraph: int | None
    sentence: int | None = None
    id: str | None = None
    # Who wrote it, if not the maintainers.
    author: str | None = None


def parse_examples(text: str, source: str, sentence_counts: Sequence[int]) -> tuple[Example, ...]:
    """Parse an examples file's text, given how many sentences each paragraph has.

    Any bad line is a DataError naming the file and the line.
    """
    examples = []
    # Split on newlines only: a question may hold U+2028, which splitlines() would break on.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"{source} line {number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{where} is not valid JSON ({exc.msg}); fix or remove it.") from None
        examples.append(_example(raw, where, sentence_counts))
    return tuple(examples)


def _example(raw: object, where: str, sentence_counts: Sequence[int]) -> Example:
    paragraph_count = len(sentence_counts)
    if not isinstance(raw, dict):
        raise DataError(f'{where} must be an object like {{"paragraph": 1, "question": "…"}}.')
    unknown = sorted(set(raw) - KNOWN_KEYS)
    if unknown:
        raise DataError(f"{where} has unknown key(s) {', '.join(unknown)}; see bot/examples.py.")
    question = raw.get("question")
    if not isinstance(question, str) or not question.strip():
        raise DataError(f"{where} needs a non-empty string 'question'.")
    if "paragraph" not in raw:
        raise DataError(f"{where} needs 'paragraph': a number from 1, or null if unanswered.")
    paragraph = raw["paragraph"]
    if paragraph is not None and not _whole_in(paragraph, 1, paragraph_count):
        raise DataError(
            f"{where}: paragraph must be null or 1-{paragraph_count}, not {paragraph!r}."
        )
    sentence = raw.get("sentence")
    if sentence is not None:
        if paragraph is None:
            raise DataError(f"{where}: a sentence needs a paragraph.")
        count = sentence_counts[paragraph - 1]
        if not _whole_in(sentence, 1, count):
            raise DataError(
                f"{where}: ¶{paragraph} has sentences 1-{count}; sentence {sentence!r} is not one."
            )
    example_id, author = raw.get("id"), raw.get("author")
    for key, value in (("id", example_id), ("author", author)):
        if value is not None and not isinstance(value, str):
            raise DataError(f"{where}: {key} must be a string.")
    return Example(" ".join(question.split()), paragraph, sentence, example_id, author)


def _whole_in(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def format_examples(examples: Sequence[Example]) -> str:
    """Examples as the text of an examples file: what parse_examples reads back."""
    lines = []
    for example in examples:
        line: dict[str, object] = {"paragraph": example.paragraph}
        if example.sentence is not None:
            line["sentence"] = example.sentence
        line["question"] = example.question
        if example.id is not None:
            line["id"] = example.id
        if example.author is not None:
            line["author"] = example.author
        lines.append(json.dumps(line, ensure_ascii=False))
    return "".join(f"{line}\n" for line in lines)
