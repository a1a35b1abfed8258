"""The JSONL output of a batch run: held by one run at a time, never left with a torn line.

The file is locked (``flock`` on POSIX, ``msvcrt.locking`` on Windows) for the
whole run, so a second run on the same output is refused instead of interleaving
its lines. A last line without its newline (a crash or a full disk mid-write) is
moved to ``<output>.partial`` before anything is appended, so the next record never
lands on a fragment; that document has no result and runs again.
"""

from __future__ import annotations

import contextlib
import os
import sys
from io import FileIO
from pathlib import Path

__all__ = ["OutputFile", "check_output", "output_files"]

_BLOCK = 1 << 16


def _lock(fh: FileIO) -> None:
    """Lock ``fh`` for this process or raise ``OSError`` at once."""
    if sys.platform == "win32":
        import msvcrt

        fh.seek(1 << 40)  # lock one byte far beyond the data, so reads are not blocked
        msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def _torn_tail(fh: FileIO) -> int | None:
    """Offset just after the last newline when the file does not end with one."""
    end = fh.seek(0, os.SEEK_END)
    if end == 0:
        return None
    fh.seek(end - 1)
    if fh.read(1) == b"\n":
        return None
    pos = end
    while pos > 0:
        start = max(0, pos - _BLOCK)
        fh.seek(start)
        newline = fh.read(pos - start).rfind(b"\n")
        if newline >= 0:
            return start + newline + 1
        pos = start
    return 0


def output_files(path: Path) -> tuple[Path, Path]:
    """The files a run on ``path`` writes: the output and its ``.partial`` fragments
    (never read as input by that run)."""
    return path, path.with_name(path.name + ".partial")


def check_output(path: Path) -> None:
    """Refuse an output that is not a regular file (a folder, ``/dev/full``, a pipe):
    appending to it and reading it back to resume would fail or never end.

    Raises:
        ValueError: naming the path.
    """
    if path.exists() and not path.is_file():
        raise ValueError(f"{path}: not a regular file; the output must be a JSONL file")


class OutputFile:
    """An output file opened for appending by one run.

    Attributes:
        quarantined: bytes of a torn last line moved to ``<path>.partial`` on opening.

    Raises:
        BlockingIOError: another run holds the file.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fh = FileIO(path, "a+")  # unbuffered: a failed write leaves nothing pending
        try:
            _lock(self._fh)
        except OSError as e:
            self._fh.close()
            raise BlockingIOError(
                f"{path} is being written by another batch run; wait for it to finish "
                "or choose another output file"
            ) from e
        self.quarantined = 0
        tail = _torn_tail(self._fh)
        if tail is not None:
            self._fh.seek(tail)
            fragment = self._fh.readall()
            with output_files(path)[1].open("ab") as side:
                side.write(fragment + b"\n")
            self._fh.truncate(tail)
            self.quarantined = len(fragment)

    def append(self, line: str) -> None:
        """Append one line (a newline is added); a write that fails midway (full disk)
        is cut back off, so the file keeps whole lines only."""
        start = self._fh.seek(0, os.SEEK_END)
        data = memoryview(line.encode("utf-8") + b"\n")
        try:
            while data:
                data = data[self._fh.write(data) or 0 :]
        except OSError:
            with contextlib.suppress(OSError):  # else the next run quarantines it
                self._fh.truncate(start)
            raise

    def close(self) -> None:
        """Release the file (and its lock)."""
        self._fh.close()
