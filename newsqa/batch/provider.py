"""A provider's Files and Batches API (OpenAI's, or any server that serves the same
routes) through the ``openai`` SDK: upload a request file, start its batch, read its
status and its output, cancel it. Requests in a batch are answered within 24 hours
at half the price of the same requests sent one by one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import openai

from newsqa.errors import LLMConnectionError, LLMError, ProviderError
from newsqa.safe_text import redact

__all__ = ["BATCH_PRICE", "FINAL", "BatchStatus", "BatchesAPI"]

BATCH_PRICE = 0.5
"""A batch request's price as a share of the same request sent alone (OpenAI's)."""
FINAL = frozenset({"completed", "failed", "expired", "cancelled"})
"""Statuses after which a batch changes no more."""
UPLOAD_SECONDS = 600.0
"""Longest upload of one request file (up to 200 MB)."""
T = TypeVar("T")


@dataclass(frozen=True)
class BatchStatus:
    """Where one batch stands, as the provider reports it."""

    id: str
    status: str
    completed: int = 0
    failed: int = 0
    total: int = 0
    output_file_id: str | None = None
    error_file_id: str | None = None
    errors: str = ""
    """Why the provider refused or failed the whole batch, if it says."""

    @property
    def final(self) -> bool:
        """True once the batch changes no more (its outputs can be read)."""
        return self.status in FINAL


def _status(batch: Any) -> BatchStatus:
    counts = batch.request_counts
    errors = getattr(getattr(batch, "errors", None), "data", None) or []
    return BatchStatus(
        id=batch.id,
        status=batch.status,
        completed=counts.completed if counts else 0,
        failed=counts.failed if counts else 0,
        total=counts.total if counts else 0,
        output_file_id=batch.output_file_id,
        error_file_id=batch.error_file_id,
        errors="; ".join(str(getattr(e, "message", e)) for e in errors),
    )


class BatchesAPI:
    """The Files and Batches API of the endpoint an ``openai.OpenAI`` client points at.

    Args:
        sdk: the SDK client (``LLMClient.sdk``: the endpoint, key and HTTP client of
            the run's model client).
        key: the API key, kept out of error messages.

    Every method raises :class:`~newsqa.errors.ProviderError` when the API answers
    with an HTTP error and :class:`~newsqa.errors.LLMConnectionError` when it cannot
    be reached.
    """

    def __init__(self, sdk: openai.OpenAI, *, key: str | None = None) -> None:
        self._sdk = sdk
        self._key = key

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        failure: LLMError | None = None
        try:
            yield
        except openai.APIStatusError as e:
            failure = ProviderError(
                f"{doing}: HTTP {e.status_code}: {e.message}", status_code=e.status_code
            )
        except openai.APIConnectionError as e:
            failure = LLMConnectionError(f"{doing}: cannot reach {self._sdk.base_url}: {e}")
        except openai.OpenAIError as e:
            failure = LLMError(f"{doing}: {e}")
        if failure is not None:  # raised outside the handler: no SDK text in the chain
            failure.args = (redact(str(failure), [self._key]),)
            raise failure

    def _call(self, doing: str, call: Callable[[], T]) -> T:
        with self._errors(doing):
            return call()
        raise AssertionError("unreachable")  # pragma: no cover

    def submit(self, name: str, content: bytes, metadata: dict[str, str]) -> str:
        """Upload one request file and start its batch; the batch's id."""
        uploaded = self._call(
            f"uploading {name}",
            lambda: self._sdk.files.create(
                file=(name, content, "application/jsonl"), purpose="batch", timeout=UPLOAD_SECONDS
            ),
        )
        batch = self._call(
            f"starting the batch of {name}",
            lambda: self._sdk.batches.create(
                input_file_id=uploaded.id,
                endpoint="/v1/chat/completions",
                completion_window="24h",
                metadata=metadata,
            ),
        )
        return str(batch.id)

    def status(self, batch_id: str) -> BatchStatus:
        """The batch's status and request counts."""
        return _status(
            self._call(f"reading batch {batch_id}", lambda: self._sdk.batches.retrieve(batch_id))
        )

    def output(self, status: BatchStatus) -> list[str]:
        """The lines of a finished batch's output and error files."""
        lines: list[str] = []
        for file_id in (status.output_file_id, status.error_file_id):
            if file_id:
                lines.extend(self._lines(status.id, file_id))
        return lines

    def _lines(self, batch_id: str, file_id: str) -> list[str]:
        with self._errors(f"reading the output of batch {batch_id}"):
            return self._sdk.files.content(file_id, timeout=UPLOAD_SECONDS).text.splitlines()
        raise AssertionError("unreachable")  # pragma: no cover

    def cancel(self, batch_id: str) -> None:
        """Ask the provider to cancel a batch (what it finished is still billed)."""
        self._call(f"cancelling batch {batch_id}", lambda: self._sdk.batches.cancel(batch_id))
