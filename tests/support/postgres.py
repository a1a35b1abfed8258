"""A throwaway PostgreSQL cluster for tests and benchmarks: ``initdb`` in a temporary
folder, run as the ``postgres`` user when this process is root (``initdb`` refuses
root), listening on a Unix socket only (no TCP port), removed when it stops."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["BINARIES", "missing", "postgres_cluster"]

BINARIES = Path("/usr/lib/postgresql/15/bin")


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidate = BINARIES / name
    return str(candidate) if candidate.is_file() else None


def missing() -> str | None:
    """Why a cluster cannot start here (``None``: it can)."""
    for name in ("initdb", "pg_ctl"):
        if _binary(name) is None:
            return f"needs PostgreSQL's {name} (not on PATH nor in {BINARIES})"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "needs the postgres extra: psycopg"
    if os.geteuid() == 0 and (shutil.which("runuser") is None or not _has_user("postgres")):
        return "runs as root: needs runuser and a postgres user to run initdb"
    return None


def _has_user(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _as_owner(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _run(command: list[str]) -> None:
    subprocess.run(
        _as_owner(command), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True
    )


@contextmanager
def postgres_cluster() -> Iterator[str]:
    """Start a cluster and yield the URL of its ``postgres`` database; stop and delete
    it after."""
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    assert initdb and pg_ctl, missing()
    root = Path(tempfile.mkdtemp(prefix="newsqa-pg-"))
    data, sock = root / "data", root / "s"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
    root.chmod(0o700)
    try:
        _run([initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"])
        options = f"-c listen_addresses='' -k {sock} -c fsync=off -c full_page_writes=off"
        _run([pg_ctl, "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"])
        try:
            yield f"postgresql:///postgres?host={sock}&user=postgres"
        finally:
            _run([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"])
    finally:
        shutil.rmtree(root, ignore_errors=True)
