from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.search import SearchIndex, load_index

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
STATEMENT = DATA_DIR / "canada-gcm-panel-4-summary.txt"


def load_questions(name: str) -> list[dict]:
    with (Path(__file__).parent / name).open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="session")
def index() -> SearchIndex:
    return load_index(DATA_DIR)


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


def pytest_terminal_summary(terminalreporter, config):
    """Show the measured quality under `make test`, not only in `make eval`."""
    for report in config.stash.get("quality_reports", []):
        terminalreporter.write_line(report)
