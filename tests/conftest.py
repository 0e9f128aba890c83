from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import StatementBot, create_bot
from bot.config import Settings
from bot.library import Library, load_library
from bot.search import SearchIndex
from bot.sources import FolderSource
from tests.feedback_postgres import PostgresCluster, PostgresUnavailableError

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
STATEMENT = DATA_DIR / "canada-gcm-panel-4-summary.txt"


def load_questions(name: str) -> list[dict]:
    with (Path(__file__).parent / name).open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def library_of(folder: Path) -> Library:
    return load_library(FolderSource(folder))


@pytest.fixture(scope="session")
def library() -> Library:
    return library_of(DATA_DIR)


@pytest.fixture(scope="session")
def index(library: Library) -> SearchIndex:
    return library.index


HOSTILE_TEXTS = [
    "@everyone look",
    "<@&123456789012345678> and <@123> <#42>",
    "**bold** __under__ ~~strike~~ ||spoiler|| `code` ```py\nprint()```",
    "> quote\n# heading\n- list",
    "[click me](https://evil.example) https://example.com/a_b_c",
    "\u200b\u200e\u202e\u2066 zero width and direction marks",
    "🙂🇨🇦👩‍👩‍👧 emoji",
]


@pytest.fixture(scope="session")
def hostile_library(tmp_path_factory) -> Library:
    """Two documents, one long-named, whose text is long and full of Markdown, mentions, links."""
    folder = tmp_path_factory.mktemp("hostile")
    long_sentence = " ".join(["@everyone **migration** governance `data` _x_"] * 400) + "."
    paragraphs = [
        long_sentence,
        *(f"{text} about migration governance data." for text in HOSTILE_TEXTS),
    ] * 3
    (folder / ("x" * 150 + ".txt")).write_text(
        "A" * 110 + "\n\n" + "\n\n".join(paragraphs), encoding="utf-8"
    )
    (folder / "second.txt").write_text(
        "Heading\n\nMigration governance data paragraph.", encoding="utf-8"
    )
    (folder / ("x" * 150 + ".json")).write_text('{"title": "' + "T" * 3000 + '"}', encoding="utf-8")
    return library_of(folder)


@pytest.fixture
def write_statement(tmp_path):
    """Write a statement (and optional metadata) into a fresh data folder; return the folder."""

    def write(text: str | bytes, name: str = "doc", meta: dict | None = None) -> Path:
        path = tmp_path / f"{name}.txt"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        if meta is not None:
            (tmp_path / f"{name}.json").write_text(json.dumps(meta), encoding="utf-8")
        return tmp_path

    return write


@pytest.fixture(scope="session")
def postgres_cluster():
    """A real PostgreSQL server for the session; skipped, with the reason, where none is
    installed, except in CI (.ci/run installs it), where a missing server fails the run."""
    try:
        cluster = PostgresCluster()
        cluster.start()
    except PostgresUnavailableError as reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must test PostgreSQL: {reason}")
        pytest.skip(str(reason))
    yield cluster
    cluster.destroy()


@pytest.fixture
async def bot(library) -> AsyncIterator[StatementBot]:
    """A bot as create_bot builds it, its commands added, never connected."""
    built = create_bot(Settings(), library)
    await built.add_cog(built.statements)
    yield built
    await built.close()


def pytest_terminal_summary(terminalreporter, config):
    """Show the measured quality under `make test`, not only in `make eval`."""
    for report in config.stash.get("quality_reports", []):
        terminalreporter.write_line(report)
