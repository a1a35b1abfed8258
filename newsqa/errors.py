"""Errors raised by newsqa. Every one derives from :class:`NewsQAError`.

Hierarchy::

    NewsQAError
    ├── DocumentError            bad input text: empty, binary, not UTF-8, too large
    ├── PromptError              a prompt template is missing or a variable is unset
    ├── ConfigError              no usable backend (e.g. embedded extra not installed)
    ├── SchemaError              a model given to extract() cannot be extracted
    └── LLMError                 the model endpoint failed
        ├── ProviderError        HTTP error answered by the endpoint (status code kept)
        │   └── RateLimitError   429 after all retries
        ├── LLMTimeoutError      the request timed out after all retries
        ├── LLMConnectionError   the endpoint could not be reached after all retries
        └── OutputValidationError
                                 the model's output never matched the schema
                                 (carries every attempt's raw output and error)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from newsqa.types import Usage

__all__ = [
    "Attempt",
    "ConfigError",
    "DocumentError",
    "LLMConnectionError",
    "LLMError",
    "LLMTimeoutError",
    "NewsQAError",
    "OutputValidationError",
    "PromptError",
    "ProviderError",
    "QueueError",
    "RateLimitError",
    "SchemaError",
]


class NewsQAError(Exception):
    """Root of every error newsqa raises on purpose."""


class DocumentError(NewsQAError):
    """The input text cannot be used as a document.

    Attributes:
        reason: short machine-readable cause (``empty``, ``binary``, ``encoding``,
            ``too_large``, ``format``, ``not_found``, ``not_one``: a folder or several
            documents where one is taken, ``busy``: a corpus another process kept
            locked, ``read_only``: adding to a corpus that cannot be written).
        source: the file path or record id the text came from, when known.
    """

    def __init__(self, message: str, *, reason: str, source: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.source = source


class PromptError(NewsQAError):
    """A prompt template is missing or cannot be rendered."""


class ConfigError(NewsQAError):
    """No usable LLM backend could be configured."""


class QueueError(NewsQAError, ValueError):
    """A shared job queue cannot be used: unreachable, not set up, of another schema
    version, or a worker whose model or endpoint differs from the jobs'."""


class SchemaError(NewsQAError, ValueError):
    """A Pydantic model given to :func:`newsqa.extract` cannot be extracted
    (recursive, an unsupported type, too many fields or choices); raised before any
    request."""


class LLMError(NewsQAError):
    """The model endpoint failed.

    Attributes:
        attempts: structured-output tries made before the failure (raw outputs kept).
        usage: tokens spent before the failure, when known.
    """

    attempts: list[Attempt]
    usage: Usage | None

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        self.attempts = []
        self.usage = None


class ProviderError(LLMError):
    """The endpoint answered with an HTTP error.

    Attributes:
        status_code: the HTTP status, when the endpoint answered.
    """

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class RateLimitError(ProviderError):
    """The endpoint kept answering 429 (or asked to wait longer than allowed)."""


class LLMTimeoutError(LLMError):
    """The request timed out on every try."""


class LLMConnectionError(LLMError):
    """The endpoint could not be reached on any try."""


@dataclass(frozen=True)
class Attempt:
    """One try at structured output: what the model said and why it was rejected."""

    raw: str
    error: str


class OutputValidationError(LLMError):
    """The model's output never validated, after every re-ask.

    Attributes:
        attempts: every try, in order, with its raw output and validation error.
        usage: tokens spent on all tries.
    """

    usage: Usage

    def __init__(self, message: str, *, attempts: list[Attempt], usage: Usage) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.usage = usage

    @property
    def raw_output(self) -> str:
        """The raw text of the last try."""
        return self.attempts[-1].raw if self.attempts else ""
