"""The command line as a user runs it: a subprocess, in a folder without a .env."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DATA_DIR


def run(*args, stdin="", env=None, cwd):
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DISCORD_", "DATA_DIR", "LOG_LEVEL"))
    }
    environment["DATA_DIR"] = str(DATA_DIR)
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        cwd=cwd,
        timeout=60,
    )


@pytest.fixture
def cwd(tmp_path):
    return tmp_path


def test_ask_json_answers_the_gfmd_question_from_paragraph_five(cwd):
    result = run("ask", "--json", "What does Canada think of the GFMD?", cwd=cwd)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["question"] == "What does Canada think of the GFMD?"
    assert data["answered"] is True
    assert data["missing_terms"] == []
    first = data["results"][0]
    assert first["paragraph"] == 5
    assert first["reference"] == "¶5"
    assert first["section"] == "PANEL 4: Summary Panel"
    assert first["document"] == "canada-gcm-panel-4-summary"
    assert first["sentence"] in first["text"]
    assert isinstance(first["score"], float)


def test_ask_json_reads_one_question_per_line(cwd):
    result = run(
        "ask", "--json", stdin="who should lead on migration data?\n\nclimate change?\n", cwd=cwd
    )
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["answered"] for line in lines] == [True, False]
    assert lines[0]["results"][0]["paragraph"] == 6
    assert lines[1]["missing_terms"] == ["climate", "change"]


def test_ask_text_and_a_too_long_question(cwd):
    assert "¶4" in run("ask", "national migration governance", cwd=cwd).stdout
    result = run("ask", "x " * 400, cwd=cwd)
    assert result.returncode == 0
    assert "Questions can be up to 300 characters" in result.stdout


def test_without_a_token_the_default_is_the_terminal_chat(cwd):
    result = run(stdin="What does Canada think of the GFMD?\n", cwd=cwd)
    assert result.returncode == 0
    assert result.stderr.strip().count("\n") == 0 and "DISCORD_TOKEN is not set" in result.stderr
    assert result.stdout.startswith("¶5 · PANEL 4: Summary Panel")


def test_piped_chat_answers_each_line_and_stops_at_eof(cwd):
    result = run("chat", stdin="¶2\nsections\niom?\n", cwd=cwd)
    assert result.returncode == 0
    replies = result.stdout.strip().split("\n\n")
    assert replies[0].startswith("¶2 · ")
    assert replies[1].startswith("Canada's statement")
    assert replies[2].startswith("¶6 · ")


def test_paragraph_and_sections(cwd):
    assert run("paragraph", "6", cwd=cwd).stdout.startswith("¶6 · PANEL 4: Summary Panel")
    assert "there is no ¶9" in run("paragraph", "9", cwd=cwd).stdout
    contents = run("sections", cwd=cwd).stdout
    assert "PANEL 4: Summary Panel" in contents
    assert all(f"¶{n} " in contents for n in range(1, 7))


def test_check_reports_one_document_and_six_paragraphs(cwd):
    result = run("check", cwd=cwd)
    assert result.returncode == 0
    assert result.stdout.startswith("ok: 1 document, 6 paragraphs")


@pytest.mark.parametrize(
    ("env", "args", "message"),
    [
        ({"DATA_DIR": "/nonexistent/statements"}, ("check",), "does not exist"),
        ({"DISCORD_GUILD_ID": "abc"}, ("check",), "DISCORD_GUILD_ID must be a server ID"),
        ({"DISCORD_TOKEN": "nope"}, (), "does not look like a bot token"),
        ({"LOG_LEVEL": "chatty"}, ("ask", "x"), "LOG_LEVEL must be one of"),
        ({}, ("run",), "DISCORD_TOKEN is not set"),
        ({}, ("sync",), "DISCORD_TOKEN is not set"),
    ],
)
def test_startup_errors_are_one_line_and_exit_2(cwd, env, args, message):
    result = run(*args, env=env, cwd=cwd)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_data_file_exits_2_with_one_line(cwd, write_statement):
    folder = write_statement(b"\xff\xfe not utf-8")
    result = run("check", env={"DATA_DIR": str(folder)}, cwd=cwd)
    assert result.returncode == 2
    assert "not UTF-8" in result.stderr and result.stderr.count("\n") == 1


INDEX_LINE = re.compile(
    r"index (built|already fresh|rebuilt): 1 document, 6 paragraphs, (\S+\.index), [0-9.]+ s\n"
)


def test_index_builds_the_cache_then_finds_it_fresh(cwd):
    state = cwd / "state-here"
    built = run("index", env={"STATE_DIR": str(state)}, cwd=cwd)
    assert built.returncode == 0, built.stderr
    match = INDEX_LINE.fullmatch(built.stdout)
    assert match and match.group(1) == "built"
    path = Path(match.group(2))
    assert path.parent == state / "index" and path.is_file()
    again = run("index", env={"STATE_DIR": str(state)}, cwd=cwd)
    match = INDEX_LINE.fullmatch(again.stdout)
    assert match and match.group(1) == "already fresh"
    assert again.stderr == ""
    # The other commands read the same cache.
    asked = run("ask", "--json", "gfmd", env={"STATE_DIR": str(state)}, cwd=cwd)
    assert asked.returncode == 0 and asked.stderr == ""
    assert [p.name for p in (state / "index").iterdir()] == [path.name]


def test_index_of_bad_data_or_an_unwritable_cache_exits_2_with_one_line(cwd):
    missing = run("index", env={"DATA_DIR": str(cwd / "nowhere")}, cwd=cwd)
    assert missing.returncode == 2 and missing.stdout == ""
    assert missing.stderr.startswith("error: ") and missing.stderr.count("\n") == 1
    (cwd / "a-file").write_text("", encoding="utf-8")
    unwritable = run("index", env={"STATE_DIR": str(cwd / "a-file")}, cwd=cwd)
    assert unwritable.returncode == 2 and unwritable.stdout == ""
    assert unwritable.stderr.startswith("error: cannot write the index cache in ")
    assert unwritable.stderr.count("\n") == 1 and "Traceback" not in unwritable.stderr


def test_an_unwritable_cache_still_answers_with_one_warning(cwd):
    (cwd / "a-file").write_text("", encoding="utf-8")
    result = run("ask", "--json", "gfmd", env={"STATE_DIR": str(cwd / "a-file")}, cwd=cwd)
    assert result.returncode == 0 and json.loads(result.stdout)["answered"] is True
    assert result.stderr.count("\n") == 1 and "cannot write the index cache" in result.stderr


def test_a_damaged_cache_is_rebuilt_with_one_warning(cwd):
    # STATE_DIR as configured: relative to the working folder.
    path = cwd / INDEX_LINE.fullmatch(run("index", cwd=cwd).stdout).group(2)
    path.write_bytes(path.read_bytes()[:1000])
    result = run("ask", "--json", "gfmd", cwd=cwd)
    assert result.returncode == 0 and json.loads(result.stdout)["answered"] is True
    assert result.stderr.count("\n") == 1 and "unreadable" in result.stderr
    assert "Traceback" not in result.stderr
    assert INDEX_LINE.fullmatch(run("index", cwd=cwd).stdout).group(1) == "already fresh"
    assert path.parent == cwd / "state" / "index"


def test_dotenv_in_the_working_folder_is_read(cwd):
    (cwd / ".env").write_text("DISCORD_GUILD_ID=not-a-number\n")
    result = run("check", cwd=cwd)
    assert result.returncode == 2 and "DISCORD_GUILD_ID" in result.stderr


# Under pipes, as shell users run it.


def test_a_reader_that_stops_early_ends_the_output_quietly(cwd, tmp_path):
    questions = tmp_path / "questions.txt"
    questions.write_text("who should lead on migration data?\n" * 5000, encoding="utf-8")
    environment = {**os.environ, "DATA_DIR": str(DATA_DIR)}
    with questions.open("rb") as stdin:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "ask", "--json"],
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=environment,
            cwd=cwd,
        )
        first = json.loads(process.stdout.readline())
        process.stdout.close()  # what `| head -1` does
        stderr = process.stderr.read()
        status = process.wait(timeout=60)
    assert first["results"][0]["paragraph"] == 6
    assert status == 141, stderr
    assert stderr == b""


@pytest.mark.parametrize(
    ("encoding", "read_as"),
    [("utf-8", "caf\ufffd migration \ufffd\ufffd data"), ("latin-1", "café migration ÿþ data")],
)
def test_any_input_bytes_are_read_and_the_json_is_always_utf8(cwd, encoding, read_as):
    result = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json"],
        input=b"caf\xe9 migration \xff\xfe data\n",
        capture_output=True,
        env={**os.environ, "DATA_DIR": str(DATA_DIR), "PYTHONIOENCODING": encoding},
        cwd=cwd,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.decode("utf-8"))["question"] == read_as


def test_a_full_disk_is_one_line(cwd):
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "bot", "ask", "--json", "gfmd"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "DATA_DIR": str(DATA_DIR)},
            cwd=cwd,
            timeout=60,
        )
    assert result.returncode == 1
    assert result.stderr == "error: cannot write the output: No space left on device\n"


def test_an_overlong_question_is_quoted_by_its_start_only(cwd):
    result = run("ask", "--json", stdin="why " * 2_500_000 + "\n", cwd=cwd)
    data = json.loads(result.stdout)
    assert data["answered"] is False and "(yours has 9999999)" in data["error"]
    assert len(data["question"]) <= 80 and data["question"].endswith("…")
    assert len(result.stdout) < 1000
