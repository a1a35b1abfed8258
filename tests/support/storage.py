"""Storage that fails under newsqa: a response cache with corrupt pages, and a process
whose files may not grow past a limit (a disk that fills up)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["LIMITED_FILES", "corrupt_pages", "filled_cache"]

LIMITED_FILES = """
import resource, signal, sys
from newsqa.cli import main
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
sys.exit(main(sys.argv[2:]))
"""
"""``python -c LIMITED_FILES BYTES ARGS...``: the ``newsqa`` command, no file of which may
grow past BYTES (SQLite then reports a disk I/O error, as on a full disk)."""


def corrupt_pages(path: Path) -> None:
    """Overwrite every page of an SQLite file after the first (its schema): it opens,
    and reading a row finds "database disk image is malformed"."""
    data = bytearray(path.read_bytes())
    data[4096:] = b"\xa5" * (len(data) - 4096)
    path.write_bytes(bytes(data))


def filled_cache(path: Path) -> Path:
    """A response cache at ``path`` holding 200 replies, all in the main file."""
    from newsqa.llm.cache import ResponseCache

    cache = ResponseCache(path)
    for i in range(200):
        cache.put(f"k{i}", "reply " * 300, "stop", 1, 1)
    cache._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    cache.close()
    return path
