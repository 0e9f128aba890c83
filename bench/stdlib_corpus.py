"""Real English with no download: the prose paragraphs of the standard library's docstrings.

Every module, class and function docstring of the stdlib sources on disk (tests and
site-packages left out) is split at blank lines; a block is kept when it reads as prose: no
doctest or indented code, at least six words, mostly alphabetic. About 10,600 paragraphs on
CPython 3.11, grouped into one document per module.
"""

from __future__ import annotations

import ast
import os
import re
import sysconfig
from pathlib import Path

SKIPPED_FOLDERS = frozenset({"site-packages", "test", "tests", "idle_test", "__pycache__"})
MIN_WORDS = 6
MIN_ALPHABETIC_SHARE = 0.7
SENTENCE_END = re.compile(r"[.!?:;…][\"'”’)\]]*$")
DOCSTRING_OWNERS = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)


def stdlib_sources() -> list[Path]:
    root = Path(sysconfig.get_paths()["stdlib"])
    found = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if d not in SKIPPED_FOLDERS)
        found += [Path(folder) / name for name in sorted(files) if name.endswith(".py")]
    return found


def prose_paragraphs(docstring: str) -> list[str]:
    kept = []
    for block in re.split(r"\n\s*\n", docstring):
        lines = block.splitlines()
        if any(line.startswith((" ", "\t", ">>>", "...")) for line in lines):
            continue
        words = block.split()
        if len(words) < MIN_WORDS:
            continue
        alphabetic = sum(w.strip(".,;:()'\"`").isalpha() for w in words)
        if alphabetic < MIN_ALPHABETIC_SHARE * len(words):
            continue
        text = " ".join(words)
        # Every kept block must end a sentence, or the loader would read it as a heading.
        kept.append(text if SENTENCE_END.search(text) else text + ".")
    return kept


def docstring_documents() -> list[tuple[str, list[str]]]:
    """(module name, its prose paragraphs) for each stdlib module with any, each paragraph
    once in the whole library."""
    root = Path(sysconfig.get_paths()["stdlib"])
    seen: set[str] = set()
    documents = []
    for path in stdlib_sources():
        try:
            tree = ast.parse(path.read_bytes())
        except (SyntaxError, ValueError):
            continue
        paragraphs = []
        for node in ast.walk(tree):
            if isinstance(node, DOCSTRING_OWNERS) and (docstring := ast.get_docstring(node)):
                for paragraph in prose_paragraphs(docstring):
                    if paragraph not in seen:
                        seen.add(paragraph)
                        paragraphs.append(paragraph)
        if paragraphs:
            module = ".".join(path.relative_to(root).with_suffix("").parts)
            documents.append((module, paragraphs))
    return documents
