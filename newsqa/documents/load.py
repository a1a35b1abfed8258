"""Load documents from strings, text files, folders and JSONL records.

Bad input never gets through silently: empty or whitespace-only text, binary
data, invalid UTF-8 and oversized files raise :class:`~newsqa.errors.DocumentError`.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import os
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import dateutil.parser

from newsqa.documents.sentences import split_sentences
from newsqa.errors import DocumentError
from newsqa.types import Document

__all__ = [
    "DEFAULT_MAX_BYTES",
    "INPUT_SUFFIXES",
    "as_document",
    "count_inputs",
    "document_from_text",
    "iter_inputs",
    "load_document",
    "load_documents",
    "parse_date",
]

DEFAULT_MAX_BYTES = 8 * 1024 * 1024
TEXT_SUFFIXES = frozenset({".txt", ".md", ".text"})
INPUT_SUFFIXES = TEXT_SUFFIXES | {".jsonl"}
"""What a folder contributes: text files and JSONL record files."""
_DATE_PREFIX = re.compile(r"\A\s*date\s+(\d{4}-\d{2}-\d{2})[ \t]*\n?[ \t]*")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


_FILL_A = dt.datetime(1901, 1, 1)
_FILL_B = dt.datetime(2002, 2, 2)


def parse_date(value: Any) -> dt.date | None:
    """A publication date from a ``date``, ISO 8601 (``2024-11-08``, with or without a
    time), RFC 2822 (``Fri, 08 Nov 2024 10:00:00 +0000``) or a written date
    (``November 8, 2024``, ``8 Nov 2024``, ``11/08/2024`` month first); ``None`` when
    empty or not a full date (``Nov 2024``, ``yesterday``). A time's own calendar day
    is kept (no conversion to UTC)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text).date()
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(text).date()
    except (TypeError, ValueError, IndexError):
        pass
    try:
        # Parsed twice with different fillers: a field missing from the text (the day
        # of "Nov 2024") takes each filler's value, so the two disagree.
        first = dateutil.parser.parse(text, default=_FILL_A)
        second = dateutil.parser.parse(text, default=_FILL_B)
    except (ValueError, OverflowError):
        return None
    return first.date() if first.date() == second.date() else None


def _check_text(text: str, source: str) -> None:
    if not text.strip():
        raise DocumentError(f"{source}: document is empty", reason="empty", source=source)
    sample = text[:65536]
    if "\x00" in sample or len(_CONTROL.findall(sample)) > max(8, len(sample) // 100):
        raise DocumentError(
            f"{source}: looks like binary data, not text", reason="binary", source=source
        )


def document_from_text(
    text: str,
    *,
    id: str = "doc",
    date: dt.date | str | None = None,
    title: str | None = None,
    source: str | None = None,
    parse_date_prefix: bool = True,
) -> Document:
    """Build a :class:`Document` from a string and split it into sentences.

    Args:
        text: the article text.
        id: identifier used in citations.
        date: publication date, as a date or any format :func:`parse_date` reads (one
            it cannot read leaves the document undated: a document is never refused
            over its date); when absent and ``parse_date_prefix`` is set, a leading
            ``date YYYY-MM-DD`` marker (the seed format) is parsed and removed.
        title: headline, when known.
        source: where the text came from.
        parse_date_prefix: recognise the ``date YYYY-MM-DD`` prefix.

    Raises:
        DocumentError: empty, whitespace-only or binary text.
    """
    label = source or id
    _check_text(text, label)
    parsed_date = parse_date(date)
    if parse_date_prefix:
        match = _DATE_PREFIX.match(text)
        if match:
            if parsed_date is None:
                parsed_date = parse_date(match.group(1))
            text = text[match.end() :]
    text = text.strip()
    _check_text(text, label)
    return Document(
        id=id,
        text=text,
        date=parsed_date,
        title=title,
        source=source,
        sentences=tuple(split_sentences(text)),
    )


def _read_text(path: Path, max_bytes: int) -> str:
    label = str(path)
    if not path.exists():
        raise DocumentError(f"{label}: no such file", reason="not_found", source=label)
    if not path.is_file():
        raise DocumentError(f"{label}: not a file", reason="not_found", source=label)
    size = path.stat().st_size
    if size > max_bytes:
        raise DocumentError(
            f"{label}: file is {size:,} bytes, over the {max_bytes:,}-byte limit",
            reason="too_large",
            source=label,
        )
    data = path.read_bytes()
    if b"\x00" in data[:65536]:
        raise DocumentError(
            f"{label}: looks like binary data, not text", reason="binary", source=label
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DocumentError(
            f"{label}: not valid UTF-8 (byte {e.start}); re-encode the file as UTF-8",
            reason="encoding",
            source=label,
        ) from e


def _record_document(raw: bytes, where: str, max_bytes: int) -> Iterator[Document]:
    if len(raw) > max_bytes:
        raise DocumentError(
            f"{where}: record is over the {max_bytes:,}-byte limit",
            reason="too_large",
            source=where,
        )
    try:
        line = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DocumentError(
            f"{where}: not valid UTF-8 (byte {e.start})", reason="encoding", source=where
        ) from e
    if not line.strip():
        return
    try:
        record = json.loads(line)
    except json.JSONDecodeError as e:
        raise DocumentError(
            f"{where}: not valid JSON ({e.msg})", reason="format", source=where
        ) from e
    if not isinstance(record, dict) or "text" not in record or "id" not in record:
        raise DocumentError(
            f"{where}: a record needs 'id' and 'text'", reason="format", source=where
        )
    for key in ("text", "title", "source"):  # a date of any type is read or left out
        value = record.get(key)
        if value is not None and not isinstance(value, str):
            raise DocumentError(f"{where}: '{key}' must be a string", reason="format", source=where)
    yield document_from_text(
        record["text"],
        id=str(record["id"]),
        date=record.get("date"),
        title=record.get("title"),
        source=record.get("source") or where,
    )


def _stdin_documents(stream: IO[bytes], max_bytes: int) -> Iterator[Document | DocumentError]:
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise DocumentError(
            f"-: standard input is over the {max_bytes:,}-byte limit",
            reason="too_large",
            source="-",
        )
    if data.lstrip()[:1] == b"{":  # JSONL records, one per line
        for lineno, raw in enumerate(data.splitlines(keepends=True), start=1):
            try:
                yield from _record_document(raw, f"-:{lineno}", max_bytes)
            except DocumentError as e:
                yield e
        return
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DocumentError(
            f"-: not valid UTF-8 (byte {e.start})", reason="encoding", source="-"
        ) from e
    yield document_from_text(text, id="stdin", source="-")


def _folder_files(path: Path) -> list[Path]:
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in INPUT_SUFFIXES)
    if not files:
        raise DocumentError(
            f"{path}: no .txt, .md or .jsonl files", reason="not_found", source=str(path)
        )
    return files


def iter_inputs(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    stdin: IO[bytes] | None = None,
) -> Iterator[Document | DocumentError]:
    """The one input walker: yield each document of ``paths``, or the
    :class:`DocumentError` of an input that cannot be loaded, without stopping.

    Each path is a text file (any name; its stem is the id), a ``.jsonl`` file of
    records (``{"id", "text", "date"?, "title"?, "source"?}``), a folder (its ``.txt``,
    ``.md``, ``.text`` and ``.jsonl`` files, sorted by name), or ``-`` for standard
    input (JSONL records when it starts with ``{``, otherwise one text document with
    the id ``stdin``).

    Raises:
        DocumentError: a path itself is missing, or a folder holds no inputs
            (a usage error, raised before any document is yielded from that path).
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    for item in paths:
        if str(item) == "-":
            yield from _stdin_documents(stdin or sys.stdin.buffer, max_bytes)
            continue
        path = Path(item)
        if not path.exists():
            raise DocumentError(f"{path}: no such file", reason="not_found", source=str(path))
        files = _folder_files(path) if path.is_dir() else [path]
        for file in files:
            if file.suffix.lower() == ".jsonl":
                yield from _jsonl_inputs(file, max_bytes)
                continue
            try:
                yield load_document(file, max_bytes=max_bytes)
            except DocumentError as e:
                yield e


def _jsonl_inputs(path: Path, max_bytes: int) -> Iterator[Document | DocumentError]:
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                yield from _record_document(raw, f"{path}:{lineno}", max_bytes)
            except DocumentError as e:
                yield e


def count_inputs(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> int | None:
    """How many documents :func:`iter_inputs` will yield, counted without parsing
    (for progress bars); ``None`` for standard input or a missing path."""
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    total = 0
    for item in paths:
        path = Path(item)
        if str(item) == "-" or not path.exists():
            return None
        try:
            files = _folder_files(path) if path.is_dir() else [path]
        except DocumentError:
            return None
        for file in files:
            if file.suffix.lower() != ".jsonl":
                total += 1
                continue
            with file.open("rb") as fh:
                total += sum(1 for line in fh if line.strip())
    return total


def load_document(path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES) -> Document:
    """Load one plain-text article; its id is the file stem.

    Raises:
        DocumentError: missing, oversized, binary, non-UTF-8 or empty file.
    """
    path = Path(path)
    text = _read_text(path, max_bytes)
    return document_from_text(text, id=path.stem, source=str(path))


def load_documents(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> list[Document]:
    """Load text files, ``.jsonl`` record files, folders and ``-`` (standard input),
    in order (see :func:`iter_inputs`).

    Raises:
        DocumentError: for the first input that cannot be loaded.
    """
    docs: list[Document] = []
    for item in iter_inputs(paths, max_bytes=max_bytes):
        if isinstance(item, DocumentError):
            raise item
        docs.append(item)
    return docs


def as_document(source: Document | str | os.PathLike[str]) -> Document:
    """A :class:`Document` from a document, a path, or text.

    A ``Path`` (any ``os.PathLike``) is loaded as a file; a ``str`` is the text itself,
    unless it is one line naming an existing file, which is then loaded.

    Raises:
        DocumentError: the file or the text cannot be used.
    """
    if isinstance(source, Document):
        return source
    if isinstance(source, os.PathLike):
        return load_document(source)
    if isinstance(source, str):
        if "\n" not in source and len(source) < 1024 and source.strip():
            try:
                if Path(source).is_file():
                    return load_document(source)
            except OSError:
                pass
        return document_from_text(source, id="text")
    raise TypeError(f"expected a Document, a path or text, not {type(source).__name__}")
