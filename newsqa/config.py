"""Settings: arguments first, then environment variables, then defaults.

A value that cannot be used (``NEWSQA_TIMEOUT=abc``, a base URL without ``http://``)
is a :class:`~newsqa.errors.ConfigError` naming the variable or the URL, raised
before any request.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TypedDict, Unpack
from urllib.parse import urlsplit

import platformdirs

from newsqa.errors import ConfigError
from newsqa.safe_text import redact

__all__ = [
    "DEFAULT_TOPIC",
    "EMBEDDED_BASE_URL",
    "EMBEDDED_MODEL",
    "MIN_CONTEXT_TOKENS",
    "OPENAI_BASE_URL",
    "OPENAI_DEFAULT_MODEL",
    "Settings",
    "SettingsOverrides",
    "check_base_url",
]

DEFAULT_TOPIC = "peace talks to end the war in Ukraine"
"""The topic of the stance functions and commands when none is given."""
EMBEDDED_BASE_URL = "http://embedded.newsqa/v1"
"""Base URL of the in-process model; requests to it never leave the process."""

EMBEDDED_MODEL = "qwen2.5-coder-1.5b-instruct"
OPENAI_BASE_URL = "https://api.openai.com/v1"
OPENAI_DEFAULT_MODEL = "gpt-4o-mini"
"""The model used with OpenAI's own API when none is named."""
MIN_CONTEXT_TOKENS = 250
"""Smallest prompt budget: a document's longest sentence
(:data:`~newsqa.documents.sentences.MAX_SENTENCE_TOKENS`) and its numbering fit."""
_ENV = {
    "timeout": "NEWSQA_TIMEOUT",
    "deadline": "NEWSQA_DEADLINE",
    "max_retries": "NEWSQA_MAX_RETRIES",
    "context_tokens": "NEWSQA_CONTEXT_TOKENS",
    "n_ctx": "NEWSQA_N_CTX",
}
_LOWEST: dict[str, float] = {
    "timeout": 0.001,
    "deadline": 0.001,
    "max_retries": 0,
    "max_retry_wait": 0,
    "max_reasks": 0,
    "context_tokens": MIN_CONTEXT_TOKENS,
    "n_ctx": 1,
}
_LONGEST_WAIT = 1e6
"""Seconds: the largest ``timeout``, ``deadline`` or ``max_retry_wait`` (11.6 days);
a longer one (``inf``, ``1e300``) overflows the clocks it is added to."""


class SettingsOverrides(TypedDict, total=False):
    """Keyword overrides of :meth:`Settings.from_env` and :func:`newsqa.connect`
    (``None`` means "not given": the environment or the default applies)."""

    base_url: str | None
    api_key: str | None
    model: str | None
    model_path: str | os.PathLike[str] | None
    timeout: float | None
    deadline: float | None
    max_retries: int | None
    max_retry_wait: float | None
    max_reasks: int | None
    context_tokens: int | None
    n_ctx: int | None
    n_threads: int | None
    temperature: float | None
    cache_dir: str | os.PathLike[str] | None
    price_in: float | None
    price_out: float | None


def _env_number(name: str, kind: type[float] | type[int]) -> float | int | None:
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    try:
        return kind(value)
    except ValueError as e:
        what = "a whole number" if kind is int else "a number"
        raise ConfigError(f"{name}={value!r} is not {what}") from e


def check_base_url(url: str, *, name: str = "base URL") -> str:
    """Return ``url`` if it is an ``http(s)://host[...]`` URL.

    Raises:
        ConfigError: another scheme, no scheme (``localhost:8000/v1``) or no host,
            naming the URL and where it came from.
    """
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as e:
        raise ConfigError(f"invalid endpoint {redact(url)!r} ({name}): {e}") from e
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"invalid endpoint {redact(url)!r} ({name}): expected http://host:port/v1 or https://…"
        )
    return url


def _host_port(url: str) -> str:
    """``host:port`` of ``url`` (no user, password, path or query)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "?"
    host = parts.hostname or "?"
    if ":" in host:
        host = f"[{host}]"  # IPv6
    return f"{host}:{port}" if port else host


@dataclass(frozen=True)
class Settings:
    """How newsqa reaches its model and how hard it tries.

    Backend selection: an explicit ``base_url`` (or ``model_path``) wins; then
    ``OPENAI_BASE_URL`` / ``OPENAI_API_KEY`` from the environment (a remote
    endpoint; a key alone means OpenAI itself); otherwise the embedded local model.

    Attributes:
        base_url: OpenAI-compatible endpoint; ``None`` means the embedded model.
        api_key: key for the endpoint (never logged, never recorded).
        model: model name sent to the endpoint (``NEWSQA_MODEL``).
        model_path: GGUF file for the embedded backend (``NEWSQA_MODEL_PATH``).
        timeout: seconds one HTTP request may take in all, connect to last byte
            (``NEWSQA_TIMEOUT``); a server trickling bytes cannot stretch it (with
            newsqa's own HTTP client; a client passed in keeps its own timeouts).
        deadline: seconds one call may take with all its retries and waits
            (``NEWSQA_DEADLINE``); no new try starts after it.
        max_retries: retries of transient failures: 429, 5xx, timeouts, connection
            (``NEWSQA_MAX_RETRIES``).
        max_retry_wait: longest single wait, in seconds; a longer ``Retry-After`` fails fast.
        max_reasks: re-asks after output that fails validation.
        context_tokens: prompt budget for stuffing a whole document in one call
            (``NEWSQA_CONTEXT_TOKENS``, at least :data:`MIN_CONTEXT_TOKENS`).
        n_ctx: context window of the embedded model (``NEWSQA_N_CTX``).
        n_threads: CPU threads of the embedded model (``None``: all cores).
        temperature: sampling temperature (0 gives repeatable answers).
        cache_dir: where the assembled embedded model and the response cache are kept
            (``NEWSQA_CACHE_DIR``).
        price_in: price per million input tokens (``NEWSQA_PRICE_IN``), for cost estimates.
        price_out: price per million output tokens (``NEWSQA_PRICE_OUT``).

    Raises:
        ConfigError: a number out of range (``NEWSQA_CONTEXT_TOKENS=0``), naming the
            setting and its variable.
    """

    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    model: str | None = None
    model_path: Path | None = None
    timeout: float = 600.0
    deadline: float = 900.0
    max_retries: int = 4
    max_retry_wait: float = 60.0
    max_reasks: int = 2
    context_tokens: int = 3000
    n_ctx: int = 4096
    n_threads: int | None = None
    temperature: float = 0.0
    cache_dir: Path = field(default_factory=lambda: Path(platformdirs.user_cache_dir("newsqa")))
    price_in: float | None = None
    price_out: float | None = None

    def __post_init__(self) -> None:
        for name, lowest in _LOWEST.items():
            value = getattr(self, name)
            if not value >= lowest:  # also refuses NaN
                where = f"{name} ({_ENV[name]})" if name in _ENV else name
                raise ConfigError(f"{where} must be at least {lowest:g}, got {value!r}")
        for name in ("timeout", "deadline", "max_retry_wait"):
            value = getattr(self, name)
            if value > _LONGEST_WAIT:
                where = f"{name} ({_ENV[name]})" if name in _ENV else name
                raise ConfigError(
                    f"{where} must be at most {_LONGEST_WAIT:g} seconds, got {value!r}"
                )

    @classmethod
    def from_env(cls, **overrides: Unpack[SettingsOverrides]) -> Settings:
        """Read ``OPENAI_BASE_URL``, ``OPENAI_API_KEY``, ``NEWSQA_*``; ``overrides`` win.

        Raises:
            ConfigError: a variable that is not a number where one is needed, or an
                unknown override.
            TypeError: an unknown keyword.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise TypeError(f"unknown setting(s): {', '.join(unknown)}")
        env = os.environ
        values: dict[str, object] = {
            "base_url": env.get("OPENAI_BASE_URL", "").strip() or None,
            "api_key": env.get("OPENAI_API_KEY") or None,
            "model": env.get("NEWSQA_MODEL", "").strip() or None,
            "model_path": env.get("NEWSQA_MODEL_PATH") or None,
            "timeout": _env_number("NEWSQA_TIMEOUT", float),
            "deadline": _env_number("NEWSQA_DEADLINE", float),
            "max_retries": _env_number("NEWSQA_MAX_RETRIES", int),
            "context_tokens": _env_number("NEWSQA_CONTEXT_TOKENS", int),
            "n_ctx": _env_number("NEWSQA_N_CTX", int),
            "cache_dir": env.get("NEWSQA_CACHE_DIR") or None,
            "price_in": _env_number("NEWSQA_PRICE_IN", float),
            "price_out": _env_number("NEWSQA_PRICE_OUT", float),
        }
        if values["base_url"] is None and values["api_key"]:
            values["base_url"] = OPENAI_BASE_URL  # a key alone means OpenAI itself
        given = {k: v for k, v in overrides.items() if v is not None}
        if "model_path" in given and "base_url" not in given:
            values["base_url"] = None  # an explicit GGUF means the embedded backend
        values.update(given)
        for key in ("model_path", "cache_dir"):
            if values[key] is not None:
                values[key] = Path(str(values[key]))
        given_values = {k: v for k, v in values.items() if v is not None}
        return replace(cls(), **given_values)  # type: ignore[arg-type]

    @property
    def embedded(self) -> bool:
        """True when requests go to the in-process model."""
        return self.base_url is None or self.base_url == EMBEDDED_BASE_URL

    @property
    def openai(self) -> bool:
        """True when requests go to OpenAI's own API."""
        return (self.base_url or "").rstrip("/") == OPENAI_BASE_URL

    @property
    def model_name(self) -> str:
        """The model name sent with each request."""
        if self.model:
            return self.model
        if self.embedded:
            return EMBEDDED_MODEL
        return OPENAI_DEFAULT_MODEL

    @property
    def endpoint(self) -> str:
        """Where requests go, for status lines: ``model at host`` or ``model (embedded)``."""
        if self.embedded:
            where = f"embedded, {self.model_path.name}" if self.model_path else "embedded"
            return f"{self.model_name} ({where})"
        return f"{self.model_name} at {self.host}"

    @property
    def host(self) -> str:
        """``host:port`` of the endpoint (``embedded`` for the in-process model): what
        messages show of it, never its credentials, path or query."""
        if self.embedded:
            return "embedded"
        return _host_port(self.base_url or "")

    @property
    def prices(self) -> tuple[float, float] | None:
        """``(price_in, price_out)`` per million tokens, when both are set."""
        if self.price_in is None or self.price_out is None:
            return None
        return self.price_in, self.price_out

    def check(self) -> Settings:
        """Refuse settings that cannot work, before any request is sent.

        Raises:
            ConfigError: a base URL that is not ``http(s)://host…``; a remote endpoint
                other than OpenAI's without a model name (``NEWSQA_MODEL``, ``--model``).
                Numbers out of range never get this far (see the class).
        """
        if self.embedded:
            return self
        check_base_url(self.base_url or "", name="OPENAI_BASE_URL or base_url")
        if not self.model and not self.openai:
            raise ConfigError(
                f"no model named for the endpoint {self.host}: set NEWSQA_MODEL "
                "(CLI: --model; Python: connect(model=...)) to a model that server serves, "
                "e.g. 'llama3.1' on Ollama or the name given to `vllm serve`"
            )
        return self
