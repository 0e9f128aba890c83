"""Where a library's data comes from: the only part of building a library that does I/O.

A source returns the raw material (statement texts, metadata, glossary); `build_library` turns
it into a library without touching the disk or the network. The first source is a folder of
`.txt` statements, each with an optional `.json` of metadata, and a `glossary.toml`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bot.answerability import MODEL_FILE, Model, parse_model
from bot.corpus import DataError
from bot.examples import EXAMPLES_SUFFIX
from bot.text import Glossary, parse_glossary

GLOSSARY_FILE = "glossary.toml"


@dataclass(frozen=True)
class DocumentFile:
    """One statement as stored: its file name, its text and its metadata."""

    name: str
    text: str
    metadata: dict[str, str]
    # Where it was read from, for error messages: a path, a URL.
    origin: str = ""
    # Its example questions (bot/examples.py), as text, and where they were read from.
    examples: str = ""
    examples_origin: str = ""


@dataclass(frozen=True)
class LibraryData:
    """Everything a library is built from."""

    documents: tuple[DocumentFile, ...]
    glossary: Glossary
    # The fitted answerability model (bot/answerability.py); without one a plain rule decides.
    model: Model | None = None


class Source(Protocol):
    def load(self) -> LibraryData:
        """Read the data; DataError with a one-line message saying what to fix."""
        ...


@dataclass(frozen=True)
class FolderSource:
    """A folder of statements (*.txt), their metadata (*.json), example questions
    (*.examples.jsonl), glossary.toml and the fitted answerability.json."""

    folder: Path
    # False for the tools that fit the model: a model fitted for other features must not stop them.
    read_model: bool = True

    def load(self) -> LibraryData:
        paths = self._statement_paths()
        glossary_path = self.folder / GLOSSARY_FILE
        glossary = (
            parse_glossary(_read_text(glossary_path), str(glossary_path))
            if glossary_path.exists()
            else Glossary()
        )
        model_path = self.folder / MODEL_FILE
        model = _model(model_path) if self.read_model and model_path.exists() else None
        return LibraryData(tuple(_document_file(path) for path in paths), glossary, model)

    def _statement_paths(self) -> list[Path]:
        self._check_folder()
        paths = sorted(self.folder.glob("*.txt"))
        if not paths:
            raise self._no_statements()
        return paths

    def _check_folder(self) -> None:
        if not self.folder.is_dir():
            raise DataError(
                f"data folder {self.folder} does not exist; set DATA_DIR to the statements' folder."
            )

    def _no_statements(self) -> DataError:
        return DataError(
            f"data folder {self.folder} has no .txt statements; add one (see README, Data)."
        )

    def fingerprint(self) -> str:
        """What load() would read, as names, sizes and modification times (absent files too):
        a different fingerprint means the data may have changed. DataError as load() raises."""
        self._check_folder()
        # One listing, names as strings: a large library has thousands of files, and sorting
        # Paths or stating each name took longer than the rest of a start from the cache.
        try:
            with os.scandir(self.folder) as entries:
                stats = {entry.name: entry.stat() for entry in entries if entry.is_file()}
        except OSError as exc:
            raise DataError(f"cannot read {self.folder}: {exc.strerror}.") from None
        statements = sorted(name for name in stats if name.endswith(".txt"))
        if not statements:
            raise self._no_statements()
        names = [GLOSSARY_FILE, *([MODEL_FILE] if self.read_model else [])]
        for name in statements:
            stem = name.removesuffix(".txt")
            names += [name, stem + ".json", stem + EXAMPLES_SUFFIX]
        lines = [f"{self.folder.resolve()} read_model={self.read_model}"]
        for name in names:
            stat = stats.get(name)
            lines.append(f"{name} {stat.st_size} {stat.st_mtime_ns}" if stat else f"{name} absent")
        return "\n".join(lines)


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8.") from None
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror}.") from None


def _document_file(path: Path) -> DocumentFile:
    examples = path.with_name(path.stem + EXAMPLES_SUFFIX)
    return DocumentFile(
        path.name,
        _read_text(path),
        _metadata(path.with_suffix(".json")),
        origin=str(path),
        examples=_read_text(examples) if examples.exists() else "",
        examples_origin=str(examples),
    )


def _model(path: Path) -> Model:
    try:
        raw = json.loads(_read_text(path))
    except json.JSONDecodeError:
        raise DataError(f"{path} is not valid JSON; run `make fit` to write it again.") from None
    return parse_model(raw, str(path))


def _metadata(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    try:
        meta = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path} is not valid JSON ({exc}); fix or remove it.") from None
    if not isinstance(meta, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in meta.items()
    ):
        raise DataError(
            f"{path} must be a JSON object of strings (title, speaker, speaker_names, event, "
            "section)."
        )
    return meta
