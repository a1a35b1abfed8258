"""The replies of a provider batch run, and the request and output files it exchanges.

Requests are written in the OpenAI Batch API input format, which vLLM's ``run-batch``
reads too: one JSON line ``{"custom_id", "method", "url", "body"}`` per request, its
``custom_id`` the request's cache key (:func:`newsqa.llm.cache.cache_key`). Output lines
(``{"custom_id", "response": {"status_code", "body"}, "error"}``) are loaded into
:class:`RoundReplies`, a SQLite file the next round's pipeline reads before the response
cache. A request the batch failed or let expire is queued again next round while it is
transient (an expiry, a 429 or 5xx, a reply missing from the output) and has tries left;
any other failure is raised for the document that made the request.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from newsqa.errors import LLMError, ProviderError, RateLimitError
from newsqa.llm.cache import ResponseCache
from newsqa.llm.client import read_completion
from newsqa.llm.pending import StoredReply
from newsqa.types import Usage

__all__ = [
    "ENDPOINT",
    "MAX_FILE_BYTES",
    "MAX_FILE_REQUESTS",
    "Failure",
    "Loaded",
    "RoundReplies",
    "request_files",
    "request_line",
]

ENDPOINT = "/v1/chat/completions"
MAX_FILE_REQUESTS = 50_000
"""Most requests in one batch input file (the OpenAI Batch API's limit)."""
MAX_FILE_BYTES = 200 * 1024 * 1024
"""Largest batch input file (the OpenAI Batch API's limit)."""
_TRANSIENT = frozenset({408, 409, 429})


class Failure(BaseModel):
    """What a batch returned instead of a reply for one request."""

    status: int | None = None
    """The HTTP status of the request's response (``None``: no response: expired, lost)."""
    code: str = ""
    message: str
    tries: int = 1

    @property
    def transient(self) -> bool:
        """Worth another round: expired, lost, rate limited or a server error."""
        return self.status is None or self.status in _TRANSIENT or self.status >= 500

    def error(self) -> LLMError:
        """The error the request's document fails with."""
        text = f"the provider batch failed this request: {self.message}"
        if self.status == 429:
            return RateLimitError(text, status_code=429)
        if self.status is None:
            return LLMError(f"{text} (after {self.tries} rounds)")
        return ProviderError(f"HTTP {self.status}: {text}", status_code=self.status)


@dataclass
class Loaded:
    """What loading a batch's output found."""

    replies: int = 0
    failed: int = 0
    usage: Usage = field(default_factory=Usage)


def request_line(key: str, body: Mapping[str, Any]) -> str:
    """One line of a batch input file."""
    return json.dumps(
        {"custom_id": key, "method": "POST", "url": ENDPOINT, "body": body}, ensure_ascii=False
    )


def request_files(
    requests: Mapping[str, Mapping[str, Any]],
    *,
    max_requests: int = MAX_FILE_REQUESTS,
    max_bytes: int = MAX_FILE_BYTES,
) -> Iterator[tuple[list[str], bytes]]:
    """The requests as batch input files: ``(keys, content)`` of each, at most
    ``max_requests`` lines and ``max_bytes`` bytes per file.

    Raises:
        ValueError: one request alone is over ``max_bytes``.
    """
    keys: list[str] = []
    lines: list[bytes] = []
    size = 0
    for key, body in requests.items():
        line = (request_line(key, body) + "\n").encode()
        if len(line) > max_bytes:
            raise ValueError(f"request {key} is {len(line)} bytes, over a file's {max_bytes}")
        if keys and (len(keys) >= max_requests or size + len(line) > max_bytes):
            yield keys, b"".join(lines)
            keys, lines, size = [], [], 0
        keys.append(key)
        lines.append(line)
        size += len(line)
    if keys:
        yield keys, b"".join(lines)


def _error_text(error: Any) -> tuple[str, str]:
    """``(code, message)`` of an output line's ``error`` or an error response body."""
    if isinstance(error, dict):
        inner = error.get("error", error)
        if isinstance(inner, dict):
            return str(inner.get("code") or ""), str(inner.get("message") or inner)
    return "", str(error)


class RoundReplies:
    """The replies and failures a run's batches returned, and the requests queued for
    the next round (a :class:`~newsqa.llm.pending.ReplySource`).

    Args:
        path: the SQLite file of replies (kept next to the run's output).
        failures: cache key → :class:`Failure`, shared with the run's saved state.
        retries: rounds a transiently failed request is queued again.
    """

    def __init__(self, path: Path, failures: dict[str, Failure], *, retries: int) -> None:
        self.store = ResponseCache(path)
        self.failures = failures
        self.retries = retries
        self.pending: dict[str, dict[str, Any]] = {}
        """Requests queued this round: cache key → request body."""
        self._lock = threading.Lock()

    def reply(self, key: str) -> StoredReply | None:
        hit = self.store.get(key)
        if hit is not None:
            text, finish_reason, prompt, completion = hit
            return (
                text,
                finish_reason,
                Usage(calls=1, prompt_tokens=prompt, completion_tokens=completion),
            )
        failure = self.failures.get(key)
        if failure is not None and not (failure.transient and failure.tries <= self.retries):
            raise failure.error()
        return None

    def defer(self, key: str, body: dict[str, Any]) -> None:
        with self._lock:
            self.pending[key] = body

    def load(self, lines: Iterable[str], expected: Iterable[str] = ()) -> Loaded:
        """Store each reply of a batch's output (or error) lines; a failure is kept per
        request (its tries counted); an ``expected`` key with no line is lost (a
        transient failure).

        Raises:
            ValueError: a line that is not a batch output line.
        """
        loaded = Loaded()
        seen: set[str] = set()
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                key = str(record["custom_id"])
            except (json.JSONDecodeError, LookupError, TypeError) as e:
                raise ValueError(f"line {number} is not a batch output line ({e})") from e
            seen.add(key)
            response = record.get("response") or {}
            status = response.get("status_code") if isinstance(response, dict) else None
            body = response.get("body") if isinstance(response, dict) else None
            if status == 200 and not record.get("error"):
                try:
                    text, finish_reason, usage = read_completion(body)
                except LLMError as e:
                    self._fail(key, Failure(status=502, message=str(e)))
                    loaded.failed += 1
                    continue
                self.store.put(
                    key, text, finish_reason, usage.prompt_tokens, usage.completion_tokens
                )
                self.failures.pop(key, None)
                loaded.replies += 1
                loaded.usage += Usage(calls=1, **usage.model_dump(exclude={"calls"}))
                continue
            code, message = _error_text(record.get("error") or body)
            self._fail(key, Failure(status=status, code=code, message=message))
            loaded.failed += 1
        for key in expected:
            if key not in seen and self.store.get(key) is None:
                self._fail(key, Failure(code="missing", message="no line in the batch output"))
                loaded.failed += 1
        return loaded

    def _fail(self, key: str, failure: Failure) -> None:
        before = self.failures.get(key)
        self.failures[key] = failure.model_copy(
            update={"tries": (before.tries + 1) if before else 1}
        )

    def close(self) -> None:
        """Close the replies file."""
        self.store.close()
