"""Command line: run the Discord bot, or use the same answers in a terminal."""

from __future__ import annotations

import argparse
import asyncio
import gc
import io
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO, TypeVar

from bot import redact, render
from bot.config import ConfigError, Settings, load_settings
from bot.corpus import DataError
from bot.index_cache import CacheWriteError
from bot.library import Library, load_library, open_library
from bot.outline import PARAGRAPH_NUMBER
from bot.search import QuestionTooLongError
from bot.sources import FolderSource

T = TypeVar("T")

QUIT_WORDS = frozenset({"quit", "exit", "q", ":q"})
# An over-long question is quoted back by its start only: it may be megabytes.
QUOTED_QUESTION_CHARS = 80
# What a process killed by a closed pipe exits with in a shell; we stop the same way, quietly.
CLOSED_PIPE_STATUS = 128 + signal.SIGPIPE


class OutputError(Exception):
    """Standard output cannot be written (a full disk, a broken device)."""


CHAT_HELP = "Ask a question about the statement, type ¶N for a paragraph, 'contents', or 'quit'."


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="statement-bot",
        description="Answer questions about a policy statement, in Discord or in this terminal.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("run", help="connect to Discord (needs DISCORD_TOKEN)")
    sub.add_parser("chat", help="ask questions in the terminal; one per line when piped")
    ask = sub.add_parser("ask", help="answer one question; with none, one per line from stdin")
    ask.add_argument("question", nargs="*", help="the question (quotes optional)")
    ask.add_argument("--json", action="store_true", help="print JSON instead of text")
    paragraph = sub.add_parser("paragraph", help="print paragraph N")
    paragraph.add_argument("number", type=int)
    paragraph.add_argument("--document", help="the document's file name without .txt, or its id")
    sub.add_parser("sections", help="print the table of contents")
    sub.add_parser("check", help="validate the data and the configuration")
    sub.add_parser("index", help="build the index cache ahead of time (or check it is fresh)")
    sub.add_parser("sync", help="register the slash commands globally (needs DISCORD_TOKEN)")
    feedback = sub.add_parser("feedback", help="review the votes on answers (see README, Feedback)")
    review = feedback.add_subparsers(dest="review", metavar="ACTION", required=True)
    report = review.add_parser("report", help="questions not addressed, 👎 and 👍, calibration")
    export = review.add_parser(
        "export", help="confirmed questions as example-question lines, to review and merge"
    )
    for action in (report, export):
        action.add_argument("--days", type=int, help="only the last N days (default: all kept)")
    export.add_argument("--output", type=Path, help="write to this file instead of stdout")
    export.add_argument("--document", help="the document (file name without .txt, or its id)")
    return parser


def reply(library: Library, text: str) -> str:
    """The terminal's reply to one line: a paragraph for "¶N", the contents, or an answer."""
    if number := PARAGRAPH_NUMBER.fullmatch(text.strip()):
        return paragraph_reply(library, int(number.group(1)), None)
    if text.strip().casefold() in {"contents", "sections", "toc"}:
        return render.contents_text(library)
    try:
        return render.answer_text(library.ask(text), library)
    except QuestionTooLongError as exc:
        return render.question_too_long(exc.length)


def paragraph_reply(library: Library, number: int, document_key: str | None) -> str:
    document = library.document(document_key) if document_key else library.documents[0]
    if document is None:
        names = ", ".join(d.name for d in library.documents)
        raise DataError(f"no document {document_key!r}; try one of: {names}.")
    paragraph = document.paragraph(number)
    if paragraph is None:
        return render.paragraph_out_of_range(number, document)
    return "\n".join(render.paragraph_text(paragraph, library))


def answer_json(library: Library, text: str) -> str:
    try:
        data = render.answer_json(library.ask(text), library)
    except QuestionTooLongError as exc:
        data = {
            "question": render.shorten(" ".join(text.split()), QUOTED_QUESTION_CHARS),
            "answered": False,
            "error": render.question_too_long(exc.length),
        }
    return json.dumps(data, ensure_ascii=False)


def emit(text: str, stdout: TextIO, end: str = "\n") -> None:
    """Write and flush one reply; a pipe closed by its reader propagates as BrokenPipeError."""
    try:
        stdout.write(text + end)
        stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise OutputError(f"cannot write the output: {exc.strerror or exc}") from None


def chat(library: Library, stdin: TextIO, stdout: TextIO) -> None:
    """Interactive at a terminal; with piped input, one answer per line until EOF."""
    interactive = stdin.isatty()
    if interactive:
        emit(CHAT_HELP, stdout)
    while True:
        if interactive:
            try:
                line = input("question> ")
            except EOFError:
                emit("", stdout)
                return
        else:
            line = stdin.readline()
            if not line:
                return
        if not line.strip():
            continue
        if line.strip().casefold() in QUIT_WORDS:
            return
        emit(reply(library, line), stdout, end="\n\n")


def _lines(stdin: TextIO) -> Iterable[str]:
    return (line for line in stdin if line.strip())


def check(settings: Settings, library: Library) -> str:
    documents = library.documents
    paragraphs = sum(len(d.paragraphs) for d in documents)
    lines = [
        f"ok: {len(documents)} document{'s' * (len(documents) != 1)}, {paragraphs} paragraphs "
        f"in {settings.data_dir}"
    ]
    lines += [
        f"  {d.name} (id {d.id}): {d.title}; "
        f"{len(d.sections)} section(s), {len(d.paragraphs)} paragraphs"
        for d in documents
    ]
    lines.append(f"  token: {'set' if settings.token else 'not set (terminal only)'}")
    lines.append(
        f"  guild: {settings.guild_id or 'none (use python -m bot sync for global commands)'}"
    )
    return "\n".join(lines)


def _lifelong(load: Callable[[], T]) -> T:
    """What load returns (the library), loaded with the collector off and then frozen.

    It lives as long as the process; frozen, the collector stops rescanning it, which at 10,000
    paragraphs took 85 ms out of an answer now and then. Frozen before the collector first runs:
    its first pass over a library read from the cache (a million new objects at 100,000
    paragraphs) took a quarter of a second, and a build ran 10 s longer with it on.
    """
    gc.disable()
    try:
        loaded = load()
        gc.freeze()
    finally:
        gc.enable()
    return loaded


def index_dir(settings: Settings) -> Path:
    return settings.state_dir / "index"


INDEX_STATUS = {
    "fresh": "already fresh",
    "built": "built",
    "rebuilt": "rebuilt",
    "unsaved": "built, not saved",
}


def index(settings: Settings) -> int:
    """`python -m bot index`: the cache built, or found fresh, in one line."""
    cached = _lifelong(
        lambda: open_library(FolderSource(settings.data_dir), index_dir(settings), must_save=True)
    )
    library = cached.value
    documents = len(library.documents)
    emit(
        f"index {INDEX_STATUS[cached.status]}: {documents} document{'s' * (documents != 1)}, "
        f"{len(library.paragraphs)} paragraphs, {cached.path}, {cached.seconds:.2f} s",
        sys.stdout,
    )
    return 0


def setup_logging(level: int, secrets: Iterable[str] = ()) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)-8s %(name)s: %(message)s")
    # The token, and interaction tokens and webhook URLs that discord.py logs at DEBUG.
    redact.install(secrets)
    # Its INFO lines ("logging in using static token") say nothing we do not log ourselves.
    logging.getLogger("discord.client").setLevel(max(level, logging.WARNING))


def _tolerant_streams(json_output: bool) -> None:
    """Read any bytes (invalid UTF-8 becomes U+FFFD) and write what the terminal can show;
    JSON is always UTF-8, whatever the locale."""
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="replace")
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="replace", **({"encoding": "utf-8"} if json_output else {}))


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's last flush has nowhere to fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        command = args.command or ("run" if settings.token else "chat")
        level = settings.log_level_number if command in {"run", "sync"} else logging.WARNING
        setup_logging(level, [settings.token] if settings.token else [])
        if command == "index":
            return index(settings)
        library = _lifelong(
            lambda: load_library(FolderSource(settings.data_dir), cache_dir=index_dir(settings))
        )
        if args.command is None and command == "chat":
            print(
                "DISCORD_TOKEN is not set, so this is the terminal chat; "
                "set it in .env to connect to Discord.",
                file=sys.stderr,
            )
        if command not in {"run", "sync"}:
            _tolerant_streams(json_output=getattr(args, "json", False))
        return _dispatch(command, args, settings, library)
    except (ConfigError, DataError, CacheWriteError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        _discard_stdout()
        return CLOSED_PIPE_STATUS
    except OutputError as exc:
        _discard_stdout()
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _review_feedback(args: argparse.Namespace, settings: Settings, library: Library) -> int:
    """`feedback report` and `feedback export`, read from FEEDBACK_DATABASE_URL."""
    from bot.feedback.model import FeedbackUnavailable
    from bot.feedback.review import export_from_url, report_from_url

    where = {"state_dir": settings.state_dir, "days": args.days}
    url = settings.feedback.database_url
    try:
        if args.review == "report":
            emit(asyncio.run(report_from_url(url, **where)), sys.stdout)
            return 0
        document = library.document(args.document) if args.document else None
        if args.document and document is None:
            raise ValueError(f"there is no document {args.document!r}")
        key = document.id if document is not None else None
        lines = asyncio.run(export_from_url(url, document=key, **where))
    except (FeedbackUnavailable, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.output is None:
        emit(lines.rstrip("\n"), sys.stdout)
        return 0
    try:
        args.output.write_text(lines, encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    emit(
        f"wrote {lines.count(chr(10))} examples to {args.output}; review them before merging.",
        sys.stdout,
    )
    return 0


def _dispatch(command: str, args: argparse.Namespace, settings: Settings, library: Library) -> int:
    if command == "chat":
        chat(library, sys.stdin, sys.stdout)
    elif command == "ask":
        question = " ".join(args.question)
        questions = [question] if question.strip() else _lines(sys.stdin)
        for text in questions:
            answered = answer_json(library, text) if args.json else reply(library, text) + "\n"
            emit(answered, sys.stdout)
    elif command == "paragraph":
        emit(paragraph_reply(library, args.number, args.document), sys.stdout)
    elif command == "sections":
        emit(render.contents_text(library), sys.stdout)
    elif command == "check":
        emit(check(settings, library), sys.stdout)
    elif command == "feedback":
        return _review_feedback(args, settings, library)
    else:
        # discord.py takes most of a second to import; the terminal commands never need it.
        from bot.runner import StartupError, run_bot, sync_globally

        try:
            if command == "run":
                asyncio.run(run_bot(settings, library))
            else:
                count = asyncio.run(sync_globally(settings, library))
                emit(
                    f"synced {count} commands globally; Discord may take up to an hour to show "
                    "them.",
                    sys.stdout,
                )
        except StartupError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    return 0
