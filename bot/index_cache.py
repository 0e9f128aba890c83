"""A built index kept on disk between starts, and mapped back into memory instead of rebuilt.

One file per data folder, under STATE_DIR/index. It is a pickle (protocol 5) whose large
buffers (the numpy arrays) are written out of band after it, each at a 64-byte boundary; on
load the file is memory-mapped read-only and those buffers are handed back to pickle as slices
of the mapping, so the arrays are views of the file: no copy, pages read on first use and
shared by every process that maps the same file.

The header carries a key (what the index was built from: the data files' names, sizes and
modification times, and the code version) and a CRC-32 of everything after the fixed prefix.
A different key means the data or the code changed; a bad CRC, a short file or any error while
unpickling means the file is corrupt. Either way the caller rebuilds, with one log line.
Writers go through a temporary file in the same folder and os.replace, so a reader sees the
old file or the new one, never half of one, however many processes start at once.

A pickle runs code when loaded: STATE_DIR must be as trusted as the code (see README).
"""

from __future__ import annotations

import functools
import gc
import glob
import hashlib
import json
import logging
import mmap
import os
import pickle
import struct
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Generic, Literal, TypeVar

import numpy as np
import rank_bm25
import Stemmer

log = logging.getLogger(__name__)

T = TypeVar("T")

MAGIC = b"statement-bot-ix"
# Magic, the header's length, the CRC-32 of everything after this prefix.
PREFIX = struct.Struct("<16sQI4x")
# Every buffer starts at a multiple of this (a cache line; more than any dtype needs).
ALIGNMENT = 64
PICKLE_PROTOCOL = 5
# A temporary file left this long is a killed writer's (a write takes seconds).
STALE_TEMPORARY_SECONDS = 3600
# The checksum reads this much of the file at a time (a multiple of any page size).
CHECKSUM_CHUNK = 1 << 24
SUFFIX = ".index"
# The package's own files that decide what an index holds: its code and its text tables.
CODE_SUFFIXES = frozenset({".py", ".txt", ".json", ".toml"})
PACKAGE = Path(__file__).resolve().parent

Status = Literal["fresh", "built", "rebuilt", "unsaved"]


class StaleCacheError(Exception):
    """The cache was built from other data or by other code."""


class CorruptCacheError(Exception):
    """The file is not a whole, intact index cache."""


class CacheWriteError(Exception):
    """The cache could not be written; the message says where and why, in one line."""


@dataclass(frozen=True)
class Cached(Generic[T]):
    """A value and how it was obtained: read from the cache (fresh) or built, and saved or not."""

    value: T
    path: Path
    status: Status
    seconds: float


def cache_path(directory: Path, folder: Path) -> Path:
    """The cache file of a data folder: named by a hash of its resolved path."""
    digest = hashlib.sha256(str(folder.resolve()).encode("utf-8", "surrogatepass")).hexdigest()
    return directory / f"{digest[:24]}{SUFFIX}"


@functools.cache
def code_version() -> str:
    """A hash of the package's source and text data files, Python's and numpy's versions, and
    the installed files of the libraries whose results or objects an index stores."""
    digest = hashlib.sha256()
    for part in (sys.version, np.__version__, str(PICKLE_PROTOCOL), sys.byteorder):
        digest.update(part.encode() + b"\0")
    # The stems, and rank-bm25's scorers for small libraries; neither has a cheap version
    # number (importlib.metadata takes 30 ms), and an upgrade rewrites their files.
    for module in (Stemmer, rank_bm25):
        stat = Path(module.__file__ or "").stat()
        digest.update(f"{module.__name__} {stat.st_size} {stat.st_mtime_ns}\0".encode())
    files = sorted(
        p
        for p in PACKAGE.rglob("*")
        if p.suffix in CODE_SUFFIXES and "__pycache__" not in p.parts and p.is_file()
    )
    for path in files:
        digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def cache_key(*parts: str) -> str:
    """The key an index is stored under: its parts (data fingerprint, options) and the code."""
    return hashlib.sha256(json.dumps([*parts, code_version()]).encode()).hexdigest()


def _aligned(offset: int) -> int:
    return -(-offset // ALIGNMENT) * ALIGNMENT


def write(path: Path, key: str, value: object) -> None:
    """Store value under key, atomically: a temporary file beside path, synced, then renamed."""
    buffers: list[pickle.PickleBuffer] = []
    payload = pickle.dumps(value, protocol=PICKLE_PROTOCOL, buffer_callback=buffers.append)
    raws = [buffer.raw() for buffer in buffers]
    layout = []
    end = len(payload)
    for raw in raws:
        start = _aligned(end)
        layout.append((start, raw.nbytes))
        end = start + raw.nbytes
    header = json.dumps({"key": key, "payload": len(payload), "buffers": layout}).encode()
    body_start = _aligned(PREFIX.size + len(header))
    pieces: list[bytes | memoryview] = [header, bytes(body_start - PREFIX.size - len(header))]
    position = 0
    for piece, (start, size) in zip([payload, *raws], [(0, len(payload)), *layout], strict=True):
        pieces += [bytes(start - position), piece]
        position = start + size
    crc = 0
    for piece in pieces:
        crc = zlib.crc32(piece, crc)
    _remove_stale_temporaries(path)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(PREFIX.pack(MAGIC, len(header), crc))
            for piece in pieces:
                file.write(piece)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _remove_stale_temporaries(path: Path) -> None:
    """Temporary files of writers killed mid-write; another writer's is younger than this."""
    for leftover in path.parent.glob(f".{glob.escape(path.name)}.*"):
        try:
            if time.time() - leftover.stat().st_mtime > STALE_TEMPORARY_SECONDS:
                leftover.unlink()
        except OSError:
            continue


def read(path: Path, key: str) -> object:
    """The value stored under key, its large buffers mapped read-only from the file.

    FileNotFoundError if there is none; StaleCacheError if it was stored under another key;
    CorruptCacheError (or whatever unpickling raises) if the file is damaged.
    """
    # One open file throughout: a writer may replace the path meanwhile, never this file.
    with path.open("rb") as file:
        size = os.fstat(file.fileno()).st_size
        if size < PREFIX.size:
            raise CorruptCacheError(f"{size} bytes, too short for a header")
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        view = memoryview(mapped)
        magic, header_size, crc = PREFIX.unpack_from(view)
        if magic != MAGIC:
            raise CorruptCacheError("not an index cache (wrong magic)")
        if _checksum(mapped, view) != crc:
            raise CorruptCacheError("checksum mismatch (damaged or truncated)")
        header = json.loads(bytes(view[PREFIX.size : PREFIX.size + header_size]))
        if header["key"] != key:
            raise StaleCacheError()
        body_start = _aligned(PREFIX.size + header_size)
        body = view[body_start:]
        if any(start + length > len(body) for start, length in header["buffers"]):
            raise CorruptCacheError("a buffer runs past the end of the file")
        buffers = [body[start : start + length] for start, length in header["buffers"]]
        # The pickle itself is read, not mapped: it is read once, and mapped it would count
        # in the process's peak RSS (~100 MB at 100,000 paragraphs) beside what it becomes.
        file.seek(body_start)
        # A library is millions of small objects; the cyclic collector, run again and again
        # while they are created, would take twice as long as creating them (none is garbage).
        collecting = gc.isenabled()
        gc.disable()
        try:
            return pickle.load(file, buffers=buffers)
        finally:
            if collecting:
                gc.enable()


def _checksum(mapped: mmap.mmap, view: memoryview) -> int:
    """The CRC-32 of the file after its prefix, read a chunk at a time, each chunk's pages
    let go once read: a cold process would otherwise count the whole file in its RSS."""
    crc = 0
    for start in range(0, len(view), CHECKSUM_CHUNK):
        crc = zlib.crc32(view[max(start, PREFIX.size) : start + CHECKSUM_CHUNK], crc)
        _unmap_pages(mapped, start, min(CHECKSUM_CHUNK, len(view) - start))
    return crc


def _unmap_pages(mapped: mmap.mmap, start: int, length: int) -> None:
    """Drop pages of a read-only file mapping from this process (they stay in the page cache,
    and a later read maps them again); where the platform offers it."""
    if hasattr(mmap, "MADV_DONTNEED") and length > 0:
        mapped.madvise(mmap.MADV_DONTNEED, start, length)


def load_or_build(
    path: Path,
    key: str,
    build: Callable[[], T],
    kind: type[T],
    *,
    must_save: bool = False,
) -> Cached[T]:
    """The value cached at path under key, or a freshly built one, then saved for next time.

    A stale or damaged cache is one log line (INFO, WARNING) and a rebuild. A cache that
    cannot be written is one WARNING and the built value is returned anyway, unless must_save,
    which raises CacheWriteError instead.
    """
    started = time.perf_counter()
    status: Status = "rebuilt"
    try:
        value = read(path, key)
    except (FileNotFoundError, NotADirectoryError):
        status = "built"
        log.debug("no index cache at %s yet; building it", path)
    except StaleCacheError:
        log.info("index cache %s is out of date (data or code changed); rebuilding it", path)
    # Any damage at all means the same: rebuild.
    except Exception as exc:
        log.warning("index cache %s is unreadable (%s); rebuilding it", path, _describe(exc))
    else:
        if isinstance(value, kind):
            return Cached(value, path, "fresh", time.perf_counter() - started)
        log.warning("index cache %s holds a %s; rebuilding it", path, type(value).__name__)
    built = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write(path, key, built)
    except OSError as exc:
        message = (
            f"cannot write the index cache in {path.parent} ({exc.strerror or exc}); "
            "make STATE_DIR writable"
        )
        if must_save:
            raise CacheWriteError(message) from None
        log.warning("%s; serving without it", message)
        status = "unsaved"
    return Cached(built, path, status, time.perf_counter() - started)


def _describe(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def stored_state(instance: object, leave_out: Iterable[str] = ()) -> dict[str, object]:
    """An instance's attributes as a cache stores them: without memoised methods (lru_cache
    wrappers installed on the instance), cached_property values, or the attributes named,
    all of which are recomputed after loading."""
    cls = type(instance)
    dropped = set(leave_out)
    return {
        name: value
        for name, value in vars(instance).items()
        if name not in dropped
        and not isinstance(getattr(cls, name, None), cached_property)
        and not (callable(value) and hasattr(value, "cache_info"))
    }
