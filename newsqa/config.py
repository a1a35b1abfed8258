"""Settings: arguments first, then environment variables, then defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import platformdirs

from newsqa.errors import ConfigError

__all__ = ["EMBEDDED_BASE_URL", "EMBEDDED_MODEL", "MIN_CONTEXT_TOKENS", "Settings"]

EMBEDDED_BASE_URL = "http://embedded.newsqa/v1"
"""Base URL of the in-process model; requests to it never leave the process."""

EMBEDDED_MODEL = "qwen2.5-coder-1.5b-instruct"
OPENAI_BASE_URL = "https://api.openai.com/v1"
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


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    try:
        return float(value) if value else default
    except ValueError as e:
        raise ConfigError(f"{name}={value!r} is not a number") from e


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    try:
        return int(value) if value else default
    except ValueError as e:
        raise ConfigError(f"{name}={value!r} is not a whole number") from e


@dataclass(frozen=True)
class Settings:
    """How newsqa reaches its model and how hard it tries.

    Backend selection: an explicit ``base_url`` (or ``model_path``) wins; then
    ``OPENAI_BASE_URL`` / ``OPENAI_API_KEY`` from the environment (a remote
    endpoint); otherwise the embedded local model.

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
        max_retries: retries of transient failures (429, 5xx, timeouts, connection).
        max_retry_wait: longest single wait, in seconds; a longer ``Retry-After`` fails fast.
        max_reasks: re-asks after output that fails validation.
        context_tokens: prompt budget for stuffing a whole document in one call
            (``NEWSQA_CONTEXT_TOKENS``, at least :data:`MIN_CONTEXT_TOKENS`).
        n_ctx: context window of the embedded model.
        n_threads: CPU threads of the embedded model (``None``: all cores).
        temperature: sampling temperature (0 gives repeatable answers).
        cache_dir: where the assembled embedded model is kept.
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

    def __post_init__(self) -> None:
        for name, lowest in _LOWEST.items():
            value = getattr(self, name)
            if not value >= lowest:  # also refuses NaN
                where = f"{name} ({_ENV[name]})" if name in _ENV else name
                raise ConfigError(f"{where} must be at least {lowest:g}, got {value!r}")

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Read ``OPENAI_BASE_URL``, ``OPENAI_API_KEY``, ``NEWSQA_*``; ``overrides`` win."""
        env = os.environ
        model_path = env.get("NEWSQA_MODEL_PATH")
        base = cls(
            base_url=env.get("OPENAI_BASE_URL") or None,
            api_key=env.get("OPENAI_API_KEY") or None,
            model=env.get("NEWSQA_MODEL") or None,
            model_path=Path(model_path) if model_path else None,
            timeout=_env_float("NEWSQA_TIMEOUT", 600.0),
            deadline=_env_float("NEWSQA_DEADLINE", 900.0),
            max_retries=_env_int("NEWSQA_MAX_RETRIES", 4),
            context_tokens=_env_int("NEWSQA_CONTEXT_TOKENS", 3000),
            n_ctx=_env_int("NEWSQA_N_CTX", 4096),
            cache_dir=Path(env.get("NEWSQA_CACHE_DIR") or platformdirs.user_cache_dir("newsqa")),
        )
        if base.base_url is None and base.api_key:
            base = replace(base, base_url=OPENAI_BASE_URL)  # a key alone means OpenAI itself
        given = {k: v for k, v in overrides.items() if v is not None}
        if "model_path" in given:
            given["model_path"] = Path(str(given["model_path"]))
            if "base_url" not in given:
                given["base_url"] = None  # an explicit GGUF means the embedded backend
        return replace(base, **given)  # type: ignore[arg-type]

    @property
    def embedded(self) -> bool:
        """True when requests go to the in-process model."""
        return self.base_url is None or self.base_url == EMBEDDED_BASE_URL

    @property
    def model_name(self) -> str:
        """The model name sent with each request."""
        if self.model:
            return self.model
        if self.embedded:
            return EMBEDDED_MODEL
        return "gpt-4o-mini"
