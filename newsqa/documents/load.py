"""Load documents from strings, text files, folders and JSONL records.

Bad input never gets through silently: empty or whitespace-only text, binary
data, invalid UTF-8 and oversized files raise :class:`~newsqa.errors.DocumentError`.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import io
import json
import os
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Literal

import dateutil.parser

from newsqa.documents.sentences import split_sentences
from newsqa.errors import DocumentError
from newsqa.types import Document

__all__ = [
    "DEFAULT_MAX_BYTES",
    "INPUT_SUFFIXES",
    "Inputs",
    "as_document",
    "check_inputs",
    "count_inputs",
    "document_from_text",
    "duplicate_id",
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
_BLOCK = 1 << 16
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
    """Refuse empty text, and binary text: a NUL anywhere, or control characters
    (terminal escapes included) making up over 1% of the whole text (8 are tolerated)."""
    if not text.strip():
        raise DocumentError(f"{source}: document is empty", reason="empty", source=source)
    if "\x00" in text or len(_CONTROL.findall(text)) > max(8, len(text) // 100):
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
    if path.is_dir():
        raise _folder_error(path)
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
    if b"\x00" in data:
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


def _record_document(raw: bytes, where: str) -> Iterator[Document]:
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
    except RecursionError:  # [[[[... deeper than the interpreter's stack
        raise DocumentError(
            f"{where}: not valid JSON (nested too deeply)", reason="format", source=where
        ) from None
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
            try:  # every line is within the limit: the whole input is
                yield from _record_document(raw, f"-:{lineno}")
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


def _folder_error(path: Path) -> DocumentError:
    return DocumentError(
        f"{path}: a folder, and this takes one document "
        "(for many: `newsqa batch`, `newsqa ask`, newsqa.load_documents)",
        reason="not_one",
        source=str(path),
    )


def _folder_files(path: Path) -> list[Path]:
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in INPUT_SUFFIXES)
    if not files:
        raise DocumentError(
            f"{path}: no .txt, .md or .jsonl files", reason="not_found", source=str(path)
        )
    return files


_Paths = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]


def _files(paths: _Paths, skip: Iterable[str | os.PathLike[str]]) -> Iterator[Path | Literal["-"]]:
    """Each file the walk reads, in order (``-`` for standard input), leaving out the
    files of ``skip`` (a run's own output) wherever they are named.

    Raises:
        DocumentError: a path is missing, or a folder holds no inputs.
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    left_out = {Path(p).resolve() for p in skip}
    for item in paths:
        if str(item) == "-":
            yield "-"
            continue
        path = Path(item)
        if not path.exists():
            raise DocumentError(f"{path}: no such file", reason="not_found", source=str(path))
        for file in _folder_files(path) if path.is_dir() else [path]:
            if not left_out or file.resolve() not in left_out:
                yield file


def iter_inputs(
    paths: _Paths,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    stdin: IO[bytes] | None = None,
    skip: Iterable[str | os.PathLike[str]] = (),
) -> Iterator[Document | DocumentError]:
    """The one input walker: yield each document of ``paths``, or the
    :class:`DocumentError` of an input that cannot be loaded, without stopping.

    Each path is a text file (any name; its stem is the id), a ``.jsonl`` file of
    records (``{"id", "text", "date"?, "title"?, "source"?}``), a folder (its ``.txt``,
    ``.md``, ``.text`` and ``.jsonl`` files, sorted by name), or ``-`` for standard
    input (JSONL records when it starts with ``{``, otherwise one text document with
    the id ``stdin``). One document is held at a time, and a JSONL line over
    ``max_bytes`` is refused without being read whole. The files of ``skip`` (a
    batch's own output) are never read, even when named.

    Raises:
        DocumentError: a path itself is missing, or a folder holds no inputs
            (a usage error, raised before any document is yielded from that path).
    """
    for file in _files(paths, skip):
        if file == "-":
            yield from _stdin_documents(stdin or sys.stdin.buffer, max_bytes)
        elif file.suffix.lower() == ".jsonl":
            yield from _jsonl_inputs(file, max_bytes)
        else:
            try:
                yield load_document(file, max_bytes=max_bytes)
            except DocumentError as e:
                yield e


def _lines(fh: IO[bytes], limit: int) -> Iterator[tuple[int, bytes | None]]:
    """Each line of ``fh`` with its number, or ``None`` for a line over ``limit``
    bytes (newline excluded), which is skipped in blocks, never held whole."""
    lineno = 0
    while raw := fh.readline(limit + 1):
        lineno += 1
        if len(raw) <= limit or raw.endswith(b"\n"):
            yield lineno, raw
            continue
        while raw and not raw.endswith(b"\n"):
            raw = fh.readline(_BLOCK)
        yield lineno, None


def _jsonl_inputs(path: Path, max_bytes: int) -> Iterator[Document | DocumentError]:
    with path.open("rb") as fh:
        for lineno, raw in _lines(fh, max_bytes):
            where = f"{path}:{lineno}"
            if raw is None:
                yield DocumentError(
                    f"{where}: record is over the {max_bytes:,}-byte limit",
                    reason="too_large",
                    source=where,
                )
                continue
            try:
                yield from _record_document(raw, where)
            except DocumentError as e:
                yield e


def duplicate_id(doc: Document, first: str | None) -> ValueError:
    """The error for ``doc`` sharing its id with the document from ``first``."""
    where = f" ({first or '?'} and {doc.source or '?'})"
    return ValueError(
        f"two documents share the id {doc.id!r}{where}; ids must be distinct "
        "(rename a file or give the records their own ids)"
    )


def check_inputs(items: Iterable[Document | DocumentError]) -> tuple[int, list[DocumentError]]:
    """Walk ``items`` once keeping ids only, never a document's text: how many entries
    there are, and the inputs that cannot be read.

    Raises:
        ValueError: two documents with one id (their results could not be told apart).
    """
    sources: dict[str, str | None] = {}
    count = 0
    unreadable: list[DocumentError] = []
    for item in items:
        count += 1
        if isinstance(item, DocumentError):
            unreadable.append(item)
        elif item.id in sources:
            raise duplicate_id(item, sources[item.id])
        else:
            sources[item.id] = item.source
    return count, unreadable


class Inputs:
    """The documents at some paths, walked anew each time it is iterated (see
    :func:`iter_inputs`): a first pass can check them all before a second one runs,
    holding one document at a time. Standard input is read once (at most
    ``max_bytes``) and kept for the next walk.

    Raises:
        DocumentError: (on iteration) as :func:`iter_inputs`.
    """

    def __init__(
        self,
        paths: _Paths,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        skip: Iterable[str | os.PathLike[str]] = (),
    ) -> None:
        self.paths = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
        self.max_bytes = max_bytes
        self.skip = tuple(skip)
        self._stdin: bytes | None = None

    def __iter__(self) -> Iterator[Document | DocumentError]:
        stdin = None
        if any(str(p) == "-" for p in self.paths):
            if self._stdin is None:
                self._stdin = sys.stdin.buffer.read(self.max_bytes + 1)
            stdin = io.BytesIO(self._stdin)
        return iter_inputs(self.paths, max_bytes=self.max_bytes, stdin=stdin, skip=self.skip)

    def check(self) -> tuple[int, list[DocumentError]]:
        """A first walk (see :func:`check_inputs`): entries, and inputs that cannot be
        read; two documents with one id raise ``ValueError``."""
        return check_inputs(self)


def count_inputs(paths: _Paths, *, skip: Iterable[str | os.PathLike[str]] = ()) -> int | None:
    """How many documents :func:`iter_inputs` will yield, counted without parsing
    (for progress bars); ``None`` for standard input or a missing path."""
    total = 0
    try:
        for file in _files(paths, skip):
            if file == "-":
                return None
            if file.suffix.lower() != ".jsonl":
                total += 1
                continue
            with file.open("rb") as fh:
                # a line over a block is counted unread (a record, or refused as one)
                total += sum(1 for _, line in _lines(fh, _BLOCK) if line is None or line.strip())
    except DocumentError:
        return None
    return total


def load_document(path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES) -> Document:
    """Load one plain-text article; its id is the file stem.

    Raises:
        DocumentError: missing, oversized, binary, non-UTF-8 or empty file, or a folder.
    """
    path = Path(path)
    text = _read_text(path, max_bytes)
    return document_from_text(text, id=path.stem, source=str(path))


def load_documents(paths: _Paths, *, max_bytes: int = DEFAULT_MAX_BYTES) -> list[Document]:
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


def _single(path: Path) -> Document:
    """The one document at ``path``: a text file, a one-record ``.jsonl`` or ``-``."""
    if path.is_dir():
        raise _folder_error(path)
    if str(path) != "-" and path.suffix.lower() != ".jsonl":
        return load_document(path)
    first: Document | None = None
    count = 0
    for item in iter_inputs([path]):
        if isinstance(item, DocumentError):
            raise item
        first = first or item
        count += 1
    if first is None or count > 1:
        raise DocumentError(
            f"{path}: holds {count} documents, and this takes one "
            "(for many: `newsqa batch`, `newsqa ask`, newsqa.load_documents)",
            reason="not_one",
            source=str(path),
        )
    return first


def _looks_like_path(text: str) -> bool:
    """One line without spaces holding a path separator or ending in an input suffix
    (``seeds/typo.txt``, ``story.md``): meant as a file, never as an article."""
    if not text or len(text) > 4096 or any(c.isspace() for c in text):
        return False
    return "/" in text or os.sep in text or Path(text).suffix.lower() in INPUT_SUFFIXES


def as_document(source: Document | str | os.PathLike[str]) -> Document:
    """A :class:`Document` from a document, a path, or text.

    A ``Path`` (any ``os.PathLike``) is the one document of a text file, a one-record
    ``.jsonl`` or ``-``. A ``str`` naming an existing file or folder is that path; so
    is one that looks like a path (one line, no spaces, a ``/`` or an input suffix such
    as ``.txt``), which must exist; any other ``str`` is the article's text. To pass
    such a string as text, use :func:`document_from_text`.

    Raises:
        DocumentError: a missing file (also a path-like ``str``), a folder or several
            documents where one is taken, or a file or text that cannot be used.
    """
    if isinstance(source, Document):
        return source
    if isinstance(source, os.PathLike):
        return _single(Path(source))
    if isinstance(source, str):
        line = source.strip()
        if "\n" not in line and line and len(line) < 4096:
            try:
                exists = Path(line).exists()
            except OSError:
                exists = False
            if exists or _looks_like_path(line):
                if not exists:
                    raise DocumentError(
                        f"{line}: no such file (text that looks like a path is read as "
                        "one; pass article text with newsqa.document_from_text)",
                        reason="not_found",
                        source=line,
                    )
                return _single(Path(line))
        return document_from_text(source, id="text")
    raise TypeError(f"expected a Document, a path or text, not {type(source).__name__}")
