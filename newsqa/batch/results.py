"""Reading a batch output: the latest line per document id, and compaction.

A batch output only grows: a document edited, run with another model or failed and
retried gets a new line. :func:`read_results` reads the current state of each id (its
latest result, and its latest error when no result came after it); :func:`compact_results`
rewrites the file with those lines only, atomically.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsqa.batch.output import OutputFile

__all__ = ["BatchResults", "compact_results", "read_results"]


@dataclass(frozen=True)
class BatchResults:
    """The current lines of a batch output, by document id."""

    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Id -> its latest line with a ``result``."""
    errors: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Id -> its latest ``error`` line, for ids with no result after it (still failing)."""
    lines: int = 0
    """Lines read (blank ones left out)."""
    unreadable: int = 0
    """Lines that are not a JSON object with an ``id`` (a torn line), left out."""

    @property
    def kept(self) -> int:
        """Lines :func:`compact_results` keeps."""
        return len(self.results) + len(self.errors)


def _read(path: Path) -> tuple[BatchResults, list[str]]:
    """The results of ``path`` and the lines :func:`compact_results` keeps, in order."""
    results: dict[str, tuple[int, dict[str, Any]]] = {}
    errors: dict[str, tuple[int, dict[str, Any]]] = {}
    raw: list[str] = []
    lines = unreadable = 0
    with path.open(encoding="utf-8", errors="replace") as fh:
        for text in fh:
            if not text.strip():
                continue
            lines += 1
            try:
                record = json.loads(text)
            except (json.JSONDecodeError, RecursionError):
                record = None
            if not isinstance(record, dict) or not isinstance(record.get("id"), str):
                unreadable += 1
                continue
            doc_id = record["id"]
            raw.append(text.rstrip("\n"))
            if "result" in record:
                results[doc_id] = (len(raw) - 1, record)
                errors.pop(doc_id, None)
            elif "error" in record:
                errors[doc_id] = (len(raw) - 1, record)
    state = BatchResults(
        results={k: v for k, (_, v) in results.items()},
        errors={k: v for k, (_, v) in errors.items()},
        lines=lines,
        unreadable=unreadable,
    )
    kept = {i for i, _ in results.values()} | {i for i, _ in errors.values()}
    return state, [line for i, line in enumerate(raw) if i in kept]


def read_results(path: str | os.PathLike[str]) -> BatchResults:
    """The current state of a batch output: each id's latest result line, and apart
    from them each id whose latest line is an error (a result written after an error
    clears it). Torn or foreign lines are counted in ``unreadable`` and left out.

    Raises:
        OSError: the file cannot be read.
    """
    return _read(Path(path))[0]


def compact_results(path: str | os.PathLike[str]) -> BatchResults:
    """Rewrite a batch output with only the lines :func:`read_results` keeps, in their
    order, atomically (a new file renamed over the old one), while holding it as a run
    does: a resume afterwards skips the same documents, except one whose older result
    was made by another model or for another version of the document.

    Returns:
        What was read (``lines``, ``unreadable``) and kept (``kept``).

    Raises:
        FileNotFoundError: no such file (none is made).
        BlockingIOError: a batch run is writing the file.
        OSError: the file cannot be read or rewritten.
    """
    out = Path(path)
    if not out.is_file():
        raise FileNotFoundError(f"{out}: no such file")
    held = OutputFile(out)  # refuses a file a run holds; sets a torn last line aside
    try:
        state, kept = _read(out)
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.writelines(line + "\n" for line in kept)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, out)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    finally:
        held.close()
    return state
