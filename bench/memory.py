"""What an object graph holds, in bytes, and the process's resident memory."""

from __future__ import annotations

import gc
import sys
import types
from collections import defaultdict

import numpy as np

from bot.corpus import Document, DocumentInfo, Paragraph

# Shared program objects, not data: counting them would charge every index for the interpreter.
SHARED_TYPES = (
    type,
    types.ModuleType,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    types.CodeType,
    types.FrameType,
)


def deep_size(
    root: object, stop_types: tuple[type, ...] = (), seen: set[int] | None = None
) -> tuple[int, dict[str, int]]:
    """Bytes reachable from root (each object once), and the same total by type name.

    Follows what the garbage collector sees (so the inside of an lru_cache too) and numpy's
    data buffers; objects of stop_types are not entered and not counted, nor those in seen
    (which is updated, so several calls can share out one graph without counting twice).
    """
    seen = set() if seen is None else seen
    by_type: dict[str, int] = defaultdict(int)
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, SHARED_TYPES + stop_types):
            continue
        seen.add(id(obj))
        # An array that owns its buffer counts it in getsizeof; a view counts only its header,
        # so its owner is visited too.
        if isinstance(obj, np.ndarray) and obj.base is not None:
            stack.append(obj.base)
        by_type[type(obj).__name__] += sys.getsizeof(obj)
        stack.extend(gc.get_referents(obj))
        if isinstance(obj, dict):
            # The collector skips the keys of a dict whose keys are all strings.
            stack.extend(obj.keys())
    return sum(by_type.values()), dict(by_type)


CORPUS_TYPES = (Paragraph, Document, DocumentInfo)


def index_size(library: object) -> tuple[int, dict[str, int]]:
    """What a library's search index retains besides the documents it was built from."""
    return deep_size(library.index, stop_types=CORPUS_TYPES)


def index_breakdown(library: object) -> dict[str, int]:
    """index_size split by the index's attributes, each object charged to the first that holds
    it (the ranker first, so the term strings it shares with the rest are charged to it)."""
    index = library.index
    seen: set[int] = {id(index), id(vars(index))}
    names = sorted(vars(index), key=lambda name: (name != "_ranker", name))
    return {name: deep_size(vars(index)[name], CORPUS_TYPES, seen)[0] for name in names}


def corpus_size(documents: tuple[Document, ...]) -> tuple[int, dict[str, int]]:
    """The documents: paragraphs, their text and their sentence spans."""
    return deep_size(documents)


def paragraph_parts(paragraphs: tuple[Paragraph, ...]) -> dict[str, int]:
    """Bytes of paragraph text versus bytes of the sentence spans kept beside it."""
    text = sentences = 0
    for paragraph in paragraphs:
        text += sys.getsizeof(paragraph.text)
        sentences += sys.getsizeof(paragraph.sentence_offsets)
    return {"text": text, "sentences": sentences}


def _status(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise LookupError(field)


def rss() -> int:
    return _status("VmRSS")


def peak_rss() -> int:
    return _status("VmHWM")


def reset_peak_rss() -> bool:
    """Restart the peak-RSS count from the current RSS (Linux 4.0+); False where unsupported."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True
