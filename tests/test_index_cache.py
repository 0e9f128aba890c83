"""The index cache: a stored library answers exactly as the one built, and a stale, damaged or
unwritable cache never stops the bot."""

from __future__ import annotations

import logging
import mmap
import multiprocessing
import os
import pickle
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from bot import index_cache
from bot.index_cache import CacheWriteError
from bot.library import Library, load_library, open_library
from bot.ranking import InvertedIndexScorer
from bot.sources import FolderSource
from bot.spelling import SCAN_MAX_WORDS, length_window
from bot.text import Analyzer
from tests.conftest import DATA_DIR, load_questions

QUESTIONS = [
    q["question"] for name in ("dev_qa.jsonl", "train_qa.jsonl") for q in load_questions(name)
] + ["who shoud lead on migraton data governanse?", "what about the regionl consultaton proceses"]
# Words of the statement, so that the generated documents compete with it for its questions.
STATEMENT_WORDS = (
    "migration data governance member states consultation compact regional processes forum "
    "capacity development donors countries return irregular labour mobility partnership"
).split()


def pseudo_words(rng: np.random.Generator, count: int) -> list[str]:
    letters = np.array(list("abcdefghiklmnoprstuvw"))
    words = {"".join(rng.choice(letters, size=int(rng.integers(5, 10)))) for _ in range(count)}
    return sorted(words)


@pytest.fixture(scope="module")
def generated_folder(tmp_path_factory) -> Path:
    """The shipped data (statement, examples, glossary, model) and four generated documents:
    ~800 paragraphs in all, so that both fields use the inverted index and the bounded query,
    and ~3,000 invented words, so that spelling correction uses its deletion index."""
    folder = tmp_path_factory.mktemp("generated")
    for path in DATA_DIR.iterdir():
        shutil.copy(path, folder / path.name)
    rng = np.random.default_rng(11)
    vocabulary = pseudo_words(rng, 3000) + STATEMENT_WORDS * 20
    for number in range(4):
        paragraphs = []
        for _ in range(200):
            words = rng.choice(vocabulary, size=int(rng.integers(12, 40)))
            paragraphs.append(" ".join(words).capitalize() + ".")
        text = f"Generated document {number}\n\n" + "\n\n".join(paragraphs)
        (folder / f"generated-{number}.txt").write_text(text, encoding="utf-8")
    return folder


def answers(library: Library) -> list[tuple]:
    """Everything a reply is made of, for every labelled question."""
    result = []
    for question in QUESTIONS:
        answer = library.ask(question)
        hits = [(h.paragraph.ref, h.score, h.sentence, h.matched) for h in answer.hits]
        result.append(
            (
                answer.verdict,
                answer.confidence,
                answer.searched,
                answer.missing,
                answer.corrections,
                hits,
            )
        )
    return result


@pytest.fixture(params=["shipped", "generated"])
def folder(request, generated_folder) -> Path:
    return DATA_DIR if request.param == "shipped" else generated_folder


def test_a_stored_library_answers_every_question_as_the_built_one(folder, tmp_path):
    built = load_library(FolderSource(folder))
    # Asked before storing too: queries leave scratch buffers behind, which must not be stored.
    expected = answers(built)
    path = tmp_path / "library.index"
    index_cache.write(path, "key", built)
    loaded = index_cache.read(path, "key")
    assert isinstance(loaded, Library) and loaded is not built
    assert answers(loaded) == expected
    # A second round, now that the loaded library's memos and buffers are warm.
    assert answers(loaded) == expected


def test_open_library_reads_what_it_built(folder, tmp_path):
    first = open_library(FolderSource(folder), tmp_path)
    second = open_library(FolderSource(folder), tmp_path)
    assert (first.status, second.status) == ("built", "fresh")
    assert second.path == first.path and second.path.parent == tmp_path
    assert answers(second.value) == answers(load_library(FolderSource(folder)))
    assert second.value.source == FolderSource(folder) and second.value.cache_dir == tmp_path


def base_chain(array: np.ndarray) -> object:
    """What an array's memory finally belongs to."""
    owner: object = array
    while isinstance(owner, np.ndarray) and owner.base is not None:
        owner = owner.base
    return owner.obj if isinstance(owner, memoryview) else owner


def test_loaded_arrays_are_read_only_views_of_the_mapped_file(generated_folder, tmp_path):
    open_library(FolderSource(generated_folder), tmp_path)
    library = open_library(FolderSource(generated_folder), tmp_path).value
    text = library.index._ranker.text
    # The generated library takes the large-library paths: an inverted index on the text, and
    # more words of a length than spelling correction compares one by one.
    assert isinstance(text, InvertedIndexScorer)
    window = length_window(len("governanse"))
    words = library.index._spelling.words
    assert sum(len(w) in window for w in words) > SCAN_MAX_WORDS
    postings = text.postings(0)
    assert not postings.flags.writeable
    assert isinstance(base_chain(postings), mmap.mmap)
    spelling_keys = library.index._spelling._keys
    assert isinstance(base_chain(spelling_keys), mmap.mmap)


def test_query_buffers_are_left_out_and_made_again(generated_folder, tmp_path):
    built = load_library(FolderSource(generated_folder))
    terms = built.index.analyzer.terms("migration data governance capacity")
    scorer = built.index._ranker.text
    assert isinstance(scorer, InvertedIndexScorer)
    # The text field alone takes the bounded path, which borrows a workspace.
    scorer.top(terms, 3)
    assert scorer._workspaces
    index_cache.write(tmp_path / "x.index", "key", built)
    loaded = index_cache.read(tmp_path / "x.index", "key")
    assert isinstance(loaded, Library)
    assert loaded.index._ranker.text._workspaces == []
    assert loaded.index._ranker.text.top(terms, 3) == scorer.top(terms, 3)
    workspace = loaded.index._ranker.text._workspaces[0]
    assert workspace.bound.flags.writeable and workspace.positions.flags.writeable


LOAD_AND_MEASURE = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from bot import index_cache

    def anonymous_kb():
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1])

    before = anonymous_kb()
    array = index_cache.read(Path(sys.argv[1]), "key")["array"]
    total = int(array.sum())
    print(anonymous_kb() - before, total)
    """
)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
def test_loading_maps_the_arrays_rather_than_copying_them(tmp_path):
    """A 64 MB array, loaded and read in full, adds far less than 64 MB of private memory:
    its pages are the file's (shared, and dropped under pressure), not a copy."""
    array = np.arange(8 * 1024 * 1024, dtype=np.int64)
    path = tmp_path / "big.index"
    index_cache.write(path, "key", {"array": array})
    result = subprocess.run(
        [sys.executable, "-c", LOAD_AND_MEASURE, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    grown_kb, total = map(int, result.stdout.split())
    assert total == int(array.sum())
    assert grown_kb < 16 * 1024, f"private memory grew by {grown_kb} kB for a 64 MB array"


def test_a_changed_data_file_is_rebuilt_with_one_info_line(write_statement, tmp_path, caplog):
    folder = write_statement("Heading\n\nDonors fund the old programme.")
    cache = tmp_path / "cache"
    open_library(FolderSource(folder), cache)
    (folder / "doc.txt").write_text(
        "Heading\n\nDonors fund the new programme now.", encoding="utf-8"
    )
    with caplog.at_level(logging.INFO, logger="bot.index_cache"):
        rebuilt = open_library(FolderSource(folder), cache)
    assert rebuilt.status == "rebuilt"
    assert [r.levelno for r in caplog.records] == [logging.INFO]
    assert "out of date" in caplog.records[0].getMessage()
    assert "new programme" in rebuilt.value.ask("who funds the programme?").hits[0].sentence
    assert open_library(FolderSource(folder), cache).status == "fresh"


@pytest.mark.parametrize("added", ["doc.json", "doc.examples.jsonl", "glossary.toml", "more.txt"])
def test_an_added_file_changes_the_fingerprint(write_statement, added):
    folder = write_statement("Heading\n\nDonors fund the programme.")
    before = FolderSource(folder).fingerprint()
    contents = {"doc.json": "{}", "glossary.toml": "", "more.txt": "Another statement."}
    (folder / added).write_text(contents.get(added, ""), encoding="utf-8")
    assert FolderSource(folder).fingerprint() != before


def test_other_code_is_a_rebuild(write_statement, tmp_path, monkeypatch):
    folder = write_statement("Heading\n\nDonors fund the programme.")
    open_library(FolderSource(folder), tmp_path)
    monkeypatch.setattr(index_cache, "code_version", lambda: "another version")
    assert open_library(FolderSource(folder), tmp_path).status == "rebuilt"


def truncate(data: bytes) -> bytes:
    return data[: len(data) // 2]


def flip_in_the_pickle(data: bytes) -> bytes:
    at = index_cache.PREFIX.size + 200
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]


def flip_in_an_array(data: bytes) -> bytes:
    at = len(data) - 100
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def wrong_magic(data: bytes) -> bytes:
    return b"not-an-index-cac" + data[16:]


@pytest.mark.parametrize(
    "damage",
    [truncate, flip_in_the_pickle, flip_in_an_array, wrong_magic, lambda _: b"", lambda _: b"x"],
    ids=["truncated", "pickle-byte", "array-byte", "magic", "empty", "one-byte"],
)
def test_a_damaged_cache_is_rebuilt_with_one_warning(generated_folder, tmp_path, caplog, damage):
    path = open_library(FolderSource(generated_folder), tmp_path).path
    path.write_bytes(damage(path.read_bytes()))
    with caplog.at_level(logging.INFO, logger="bot.index_cache"):
        rebuilt = open_library(FolderSource(generated_folder), tmp_path)
    assert rebuilt.status == "rebuilt"
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert caplog.records[0].exc_info is None
    assert "unreadable" in caplog.records[0].getMessage()
    assert rebuilt.value.ask(QUESTIONS[0]).verdict == "answered"
    assert open_library(FolderSource(generated_folder), tmp_path).status == "fresh"


def test_an_unwritable_cache_folder_is_one_warning_and_the_library_serves(
    write_statement, tmp_path, caplog
):
    folder = write_statement("Heading\n\nDonors fund the programme.")
    # A file where the folder should be: unwritable even for root.
    (tmp_path / "state").write_text("", encoding="utf-8")
    cache = tmp_path / "state" / "index"
    with caplog.at_level(logging.INFO, logger="bot.index_cache"):
        library = load_library(FolderSource(folder), cache_dir=cache)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and warnings[0].exc_info is None
    assert "cannot write the index cache" in warnings[0].getMessage()
    assert library.ask("who funds the programme?").verdict == "answered"
    with pytest.raises(CacheWriteError, match="make STATE_DIR writable"):
        open_library(FolderSource(folder), cache, must_save=True)


def test_reloading_goes_through_the_cache(write_statement, tmp_path):
    folder = write_statement("Heading\n\nDonors fund the old programme.")
    library = load_library(FolderSource(folder), cache_dir=tmp_path)
    (folder / "doc.txt").write_text("Heading\n\nDonors fund the new programme.", encoding="utf-8")
    reloaded = library.reloaded()
    assert reloaded.cache_dir == tmp_path
    assert "new programme" in reloaded.paragraphs[0].text
    # The reload wrote the cache again: the next start finds it fresh.
    cached = open_library(FolderSource(folder), tmp_path)
    assert cached.status == "fresh" and "new programme" in cached.value.paragraphs[0].text


def write_many_times(folder: str, cache: str, times: int) -> None:
    for _ in range(times):
        library = load_library(FolderSource(Path(folder)))
        key = index_cache.cache_key(FolderSource(Path(folder)).fingerprint(), "plus")
        index_cache.write(index_cache.cache_path(Path(cache), Path(folder)), key, library)


def test_processes_writing_at_once_leave_a_valid_cache(generated_folder, tmp_path):
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=write_many_times, args=(str(generated_folder), str(tmp_path), 3))
        for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    assert [p.name for p in tmp_path.iterdir()] == [
        index_cache.cache_path(tmp_path, generated_folder).name
    ]
    cached = open_library(FolderSource(generated_folder), tmp_path)
    assert cached.status == "fresh"
    assert answers(cached.value)[:20] == answers(load_library(FolderSource(generated_folder)))[:20]


def test_the_analyzer_is_stored_as_what_it_is_made_of(library):
    analyzer = library.index.analyzer
    loaded = pickle.loads(pickle.dumps(analyzer, protocol=5))
    assert isinstance(loaded, Analyzer)
    text = "Undocumented migrants and the Global Forum on Migration and Development's RCPs"
    assert loaded.tokens(text, query=True) == analyzer.tokens(text, query=True)
    assert loaded.chat_stems == analyzer.chat_stems


def test_the_cache_file_is_named_by_the_folder_and_holds_no_temporary_files(tmp_path):
    relative = Path(os.path.relpath(DATA_DIR))
    assert index_cache.cache_path(tmp_path, relative) == index_cache.cache_path(tmp_path, DATA_DIR)
    assert index_cache.cache_path(tmp_path, DATA_DIR) != index_cache.cache_path(tmp_path, tmp_path)
    open_library(FolderSource(DATA_DIR), tmp_path)
    assert [p.suffix for p in tmp_path.iterdir()] == [index_cache.SUFFIX]


def test_a_killed_writers_temporary_file_is_removed_by_the_next_writer(tmp_path):
    path = index_cache.cache_path(tmp_path, DATA_DIR)
    stale, current = tmp_path / f".{path.name}.killed", tmp_path / f".{path.name}.writing"
    for leftover in (stale, current):
        leftover.write_bytes(b"half a cache")
    hours_ago = os.stat(stale).st_mtime - 2 * index_cache.STALE_TEMPORARY_SECONDS
    os.utime(stale, (hours_ago, hours_ago))
    open_library(FolderSource(DATA_DIR), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([path.name, current.name])
