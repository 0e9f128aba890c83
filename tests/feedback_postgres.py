"""A throwaway PostgreSQL cluster for tests: initdb in a temporary folder, pg_ctl on a free port
of 127.0.0.1, trust authentication for one user, stopped and deleted afterwards.

Uses the server binaries of Debian's `postgresql` package (/usr/lib/postgresql/N/bin) or those
on PATH. PostgreSQL refuses to run as root, so as root the cluster runs as the `postgres` user
that the package creates.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

USER = "feedback"
DEBIAN_BIN_DIRS = "/usr/lib/postgresql"


class PostgresUnavailableError(Exception):
    """Why no cluster can be started here; the tests show it as their skip reason."""


def find_bin_dir() -> Path:
    on_path = shutil.which("initdb")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    versions = sorted(
        Path(DEBIAN_BIN_DIRS).glob("*/bin"),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates += versions
    for directory in candidates:
        if all((directory / name).is_file() for name in ("initdb", "pg_ctl", "psql")):
            return directory
    raise PostgresUnavailableError(
        "no PostgreSQL server binaries (initdb, pg_ctl, psql) on PATH or in "
        f"{DEBIAN_BIN_DIRS}/*/bin: apt-get install postgresql"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresCluster:
    def __init__(self) -> None:
        self.bin_dir = find_bin_dir()
        self._run_as: str | None = None
        self._runuser = "runuser"
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailableError(
                    "running as root and there is no 'postgres' user to run the server as"
                ) from None
            # util-linux's runuser: in /usr/sbin, which a minimal PATH may leave out.
            runuser = shutil.which("runuser") or shutil.which("runuser", path="/usr/sbin:/sbin")
            if runuser is None:
                raise PostgresUnavailableError("running as root and runuser is missing")
            self._runuser = runuser
            self._run_as = "postgres"
        self.root = Path(tempfile.mkdtemp(prefix="feedback-pg-"))
        self.data_dir = self.root / "data"
        self.log_file = self.root / "server.log"
        self.port = 0
        if self._run_as is not None:
            account = pwd.getpwnam(self._run_as)
            os.chown(self.root, account.pw_uid, account.pw_gid)

    def _run(self, *command: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        prefix = [self._runuser, "-u", self._run_as, "--"] if self._run_as else []
        return subprocess.run(
            [*prefix, *command],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=self.root,
        )

    def start(self) -> None:
        if not self.data_dir.exists():
            done = self._run(
                str(self.bin_dir / "initdb"),
                "--pgdata",
                str(self.data_dir),
                "--username",
                USER,
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--no-locale",
                "--no-sync",
            )
            if done.returncode:
                raise PostgresUnavailableError(f"initdb failed: {done.stderr.strip()[-300:]}")
        attempts = 3 if not self.port else 1  # a restart keeps its port: the URLs name it
        for _ in range(attempts):
            port = self.port or _free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -p {port} -k {self.root}"
                " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            done = self._run(
                str(self.bin_dir / "pg_ctl"),
                "--pgdata",
                str(self.data_dir),
                "--log",
                str(self.log_file),
                "--options",
                options,
                "--wait",
                "--timeout",
                "60",
                "start",
            )
            if done.returncode == 0:
                self.port = port
                return
        log_tail = (
            self.log_file.read_text(errors="replace")[-300:] if self.log_file.exists() else ""
        )
        raise PostgresUnavailableError(f"pg_ctl start failed: {done.stderr.strip()} {log_tail}")

    def stop(self, mode: str = "fast") -> None:
        self._run(
            str(self.bin_dir / "pg_ctl"), "--pgdata", str(self.data_dir), "--mode", mode, "stop"
        )

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, schema: str | None = None) -> str:
        """The cluster's database, with the store's tables in `schema` when given."""
        query = f"?search_path={schema}" if schema else ""
        return f"postgresql://{USER}@127.0.0.1:{self.port}/postgres{query}"

    def psql(self, sql: str, schema: str | None = None) -> str:
        if schema:
            sql = f'SET search_path TO "{schema}"; {sql}'
        done = subprocess.run(
            [
                str(self.bin_dir / "psql"),
                "--no-psqlrc",
                "--quiet",
                "--tuples-only",
                "--no-align",
                "--set",
                "ON_ERROR_STOP=1",
                "--command",
                sql,
                self.url(),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if done.returncode:
            raise RuntimeError(f"psql failed: {done.stderr.strip()}")
        return done.stdout.strip()

    def new_schema(self) -> str:
        """A fresh, empty namespace: as good as a new database for the store, 15 times faster
        to make (CREATE DATABASE copies a template: half a second each)."""
        name = f"feedback_{secrets.token_hex(6)}"
        self.psql(f'CREATE SCHEMA "{name}"')
        return name

    def new_url(self) -> str:
        return self.url(self.new_schema())
