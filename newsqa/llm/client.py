"""The one adapter to the official ``openai`` SDK.

Every model call in newsqa goes through :class:`LLMClient.chat`: remote endpoints
over HTTP, the embedded model through an in-process WSGI transport. SDK exceptions
are mapped to :mod:`newsqa.errors` here, at the boundary, after transient failures
were retried by :mod:`newsqa.llm.retry`; their messages never carry the API key or
URL credentials. Every try counts in the usage, answered or not, and no call
outlasts ``Settings.deadline`` (each try ``Settings.timeout``, trickle or not).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx2
import openai

from newsqa.config import EMBEDDED_BASE_URL, Settings, check_base_url
from newsqa.errors import (
    ConfigError,
    LLMConnectionError,
    LLMError,
    LLMTimeoutError,
    NewsQAError,
    ProviderError,
    RateLimitError,
)
from newsqa.llm.cache import ResponseCache, cache_key
from newsqa.llm.deadline import DeadlineTransport, request_limit
from newsqa.llm.pending import Pending, ReplySource
from newsqa.llm.retry import DeadlinePassed, TooLongRetryAfter, parse_retry_after, retrying
from newsqa.safe_text import redact
from newsqa.types import Usage

__all__ = ["Completion", "LLMClient", "Message", "Meter", "read_completion"]

Message = dict[str, str]
_TRANSIENT_STATUS = frozenset({408, 409, 429})
"""Retried besides every 5xx (as the openai SDK does); other 4xx are the caller's to fix."""


@dataclass(frozen=True)
class Completion:
    """The text of one chat completion and what it cost."""

    text: str
    usage: Usage
    finish_reason: str | None
    cache_key: str | None = None
    """Key under which :meth:`LLMClient.remember` stores it (``None``: no cache)."""


class Meter:
    """Usage of the calls made in one thread while :meth:`LLMClient.metered` is open,
    failed ones included."""

    def __init__(self) -> None:
        self.usage = Usage()


_METERS: ContextVar[tuple[Meter, ...]] = ContextVar("newsqa_meters", default=())


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and the exceptions behind it (causes, else contexts), each once."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        yield current
        seen.add(id(current))
        current = current.__cause__ or current.__context__


def _config_error(exc: BaseException) -> ConfigError | None:
    """The :class:`ConfigError` behind ``exc`` (the embedded backend raises it inside
    the transport, which the SDK wraps as a connection error), if any."""
    return next((e for e in _chain(exc) if isinstance(e, ConfigError)), None)


def _unresolved(exc: BaseException) -> bool:
    """True when ``exc`` comes from a host name that did not resolve (DNS)."""
    return any(isinstance(e, socket.gaierror) for e in _chain(exc))


def _refused(exc: BaseException) -> bool:
    """True when ``exc`` comes from a connection the host refused (no server there)."""
    return any(isinstance(e, ConnectionRefusedError) for e in _chain(exc)) or any(
        "connection refused" in str(e).lower() for e in _chain(exc)
    )


def _is_transient(exc: BaseException) -> bool:
    if _config_error(exc) is not None:
        return False  # a missing model or library does not come back by waiting
    if _unresolved(exc):
        return False  # a mistyped host name does not resolve on the next try either
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return True
    if not isinstance(exc, openai.APIStatusError):
        return False
    return exc.status_code in _TRANSIENT_STATUS or exc.status_code >= 500


def _retry_after(exc: BaseException) -> float | None:
    if isinstance(exc, openai.APIStatusError):
        return parse_retry_after(exc.response.headers)
    return None


def _model_file_identity(settings: Settings) -> str:
    """For the cache key: which GGUF answers when ``model_path`` names one (path, size,
    mtime), so a reply of another model file is never served; empty otherwise."""
    if not settings.embedded or settings.model_path is None:
        return ""
    path = settings.model_path
    try:
        stat = path.stat()
    except OSError:
        return f"#{path}"
    return f"#{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"


def _hint(status: int | None, settings: Settings) -> str:
    """What to check for an endpoint error that is the caller's to fix."""
    where = "the embedded model" if settings.embedded else settings.host
    if status in (401, 403):
        return f" (check OPENAI_API_KEY: the key was refused by {where})"
    if status == 404:
        return (
            f" (is the model {settings.model_name!r} served by {where}? set NEWSQA_MODEL or "
            "--model; the base URL usually ends in /v1)"
        )
    return ""


def _tries(tries: int) -> str:
    return f"{tries} {'try' if tries == 1 else 'tries'}"


def _map_error(exc: BaseException, settings: Settings, tries: int) -> LLMError:
    """The newsqa error for a failed call of ``tries`` tries: what happened, where (host
    and port only) and what to change."""
    if isinstance(exc, DeadlinePassed):
        return LLMTimeoutError(
            f"no answer within the call's deadline of {settings.deadline:g}s (NEWSQA_DEADLINE) "
            f"after {_tries(tries)}; last error: {_map_error(exc.cause, settings, tries)}"
        )
    if isinstance(exc, TooLongRetryAfter):
        inner = exc.cause
        status = inner.status_code if isinstance(inner, openai.APIStatusError) else None
        return RateLimitError(
            f"endpoint asked to retry after {exc.seconds:.0f}s, over the allowed wait",
            status_code=status,
        )
    if isinstance(exc, openai.APITimeoutError):
        return LLMTimeoutError(
            f"no reply from {settings.host} within {settings.timeout:g}s (NEWSQA_TIMEOUT) "
            f"on each of {_tries(tries)}; a slow model or a busy server may need a larger "
            "NEWSQA_TIMEOUT (each try) or NEWSQA_DEADLINE (all tries of a call)"
        )
    if isinstance(exc, openai.APIConnectionError):
        if settings.embedded:
            return LLMConnectionError(f"cannot reach the embedded model: {exc}")
        host = settings.host
        name = urlsplit(settings.base_url or "").hostname or host
        if _unresolved(exc):
            return LLMConnectionError(
                f"cannot reach {host}: the host name {name!r} does not resolve "
                "(a typo in the base URL, or no network?)"
            )
        if _refused(exc):
            return LLMConnectionError(
                f"cannot reach {host}: connection refused after {_tries(tries)} "
                "(is the server running, on that port?)"
            )
        return LLMConnectionError(
            f"cannot reach {host} after {_tries(tries)}: {exc} (is the server running?)"
        )
    if isinstance(exc, openai.RateLimitError):
        return RateLimitError(f"rate limited (HTTP 429): {exc.message}", status_code=429)
    if isinstance(exc, openai.APIStatusError):
        return ProviderError(
            f"HTTP {exc.status_code}: {exc.message}{_hint(exc.status_code, settings)}",
            status_code=exc.status_code,
        )
    return LLMError(f"endpoint error: {exc}")


def _read_reply(response: httpx2.Response) -> tuple[str, str | None, Usage]:
    """Text, finish reason and usage of a chat-completion response.

    Raises:
        LLMError: the body is not a chat completion (no JSON, no choices).
    """
    try:
        data = response.json()
    except ValueError as e:
        raise LLMError(f"endpoint returned no chat completion: {type(e).__name__}: {e}") from e
    return read_completion(data)


def read_completion(data: Any) -> tuple[str, str | None, Usage]:
    """Text, finish reason and usage of a chat-completion body (parsed JSON; also a
    line of a provider batch's output).

    Raises:
        LLMError: the body is not a chat completion (no choices).
    """
    try:
        choice = data["choices"][0]
        text = choice["message"].get("content") or ""
        finish_reason = choice.get("finish_reason")
        reported = data.get("usage") or {}
        usage = Usage(
            prompt_tokens=int(reported.get("prompt_tokens") or 0),
            completion_tokens=int(reported.get("completion_tokens") or 0),
        )
    except (ValueError, LookupError, TypeError, AttributeError) as e:
        raise LLMError(f"endpoint returned no chat completion: {type(e).__name__}: {e}") from e
    if not isinstance(text, str) or not (finish_reason is None or isinstance(finish_reason, str)):
        raise LLMError("endpoint returned no chat completion: malformed message")
    return text, finish_reason, usage


class LLMClient:
    """Chat completions against one OpenAI-compatible endpoint or the embedded model.

    Args:
        settings: endpoint, model, timeouts and retry budget; default
            :meth:`Settings.from_env`.
        http_client: a ready ``httpx2.Client`` (tests, proxies); by default the
            embedded model's in-process transport or the SDK's own client.
        sleep: how to wait between retries (tests pass a no-op).
        cache: a response cache; a request seen before is answered from it with no
            model call (its usage counts zero calls and zero tokens).
        openai_client: a ready ``openai.OpenAI`` or ``openai.AzureOpenAI`` (its URL,
            authentication and HTTP client are used as they are; newsqa retries).
        default_headers: HTTP headers sent with every request (gateways, Azure).

    Raises:
        ConfigError: the base URL is not ``http(s)://host…``.

    Attributes:
        usage: running token usage of every call made by this client.
        cached: requests answered from the cache (no model call, not in ``usage``).
        on_call: called with the running usage after each request, answered or
            not (progress).
        structured_mode: how structured output is requested; downgraded
            automatically when the endpoint rejects a mode.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        http_client: httpx2.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        cache: ResponseCache | None = None,
        openai_client: openai.OpenAI | None = None,
        default_headers: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings or Settings.from_env()
        self.cache = cache
        if not self.settings.embedded:
            check_base_url(self.settings.base_url or "")
        self._owns_sdk = openai_client is None
        if openai_client is not None:
            # The caller's client (``AzureOpenAI``, a gateway's) with its own URL,
            # authentication and HTTP client; only its retries are turned off (they
            # are ours, so they never multiply).
            self._sdk = openai_client.with_options(max_retries=0)
            if default_headers:
                self._sdk = self._sdk.with_options(default_headers=dict(default_headers))
        else:
            self._sdk = self._own_sdk(http_client, default_headers)
        self._base_url = str(self._sdk.base_url)
        self._cache_scope = self._base_url + _model_file_identity(self.settings)
        self._sleep = sleep
        self._usage_lock = threading.Lock()
        self._sent: dict[object, float] = {}
        self.usage = Usage()
        self.cached = 0
        self.on_call: Callable[[Usage], None] | None = None
        self.structured_mode = "json_schema"
        self.replies: ReplySource | None = None

    def _own_sdk(
        self, http_client: httpx2.Client | None, default_headers: Mapping[str, str] | None
    ) -> openai.OpenAI:
        """The SDK client newsqa makes: the embedded model's in-process transport, or
        HTTP whose every request honours ``Settings.timeout`` as a wall-clock limit."""
        if http_client is None and self.settings.embedded:
            from newsqa.llm.local import embedded_http_client

            http_client = embedded_http_client(self.settings)
        elif http_client is None:
            limits = httpx2.Limits(max_connections=1000, max_keepalive_connections=100)
            http_client = openai.DefaultHttpx2Client(
                transport=DeadlineTransport(limits), timeout=self.settings.timeout
            )
        try:
            return openai.OpenAI(
                api_key=self.settings.api_key or "not-needed",
                base_url=EMBEDDED_BASE_URL if self.settings.embedded else self.settings.base_url,
                timeout=self.settings.timeout,
                max_retries=0,  # retries are ours, so they never multiply
                http_client=http_client,
                default_headers=dict(default_headers) if default_headers else None,
            )
        except (ValueError, httpx2.InvalidURL) as e:
            message = f"invalid endpoint {self.settings.base_url!r}: {e}"
            raise ConfigError(redact(message, [self.settings.api_key])) from e

    @property
    def sdk(self) -> openai.OpenAI:
        """The ``openai`` SDK client requests go through (its files and batches APIs
        serve provider batches)."""
        return self._sdk

    @contextmanager
    def answering_from(self, replies: ReplySource) -> Iterator[None]:
        """While open, answer each request from ``replies`` first (with the usage the
        reply reports), then from the cache, and queue any other request with
        ``replies.defer`` instead of sending it (:class:`~newsqa.llm.pending.Pending`
        is raised): the pipeline of a provider batch round.

        Raises:
            ConfigError: the client has no response cache (the cache key names each
                queued request).
        """
        if self.cache is None:
            raise ConfigError("a provider batch needs the response cache (drop --no-cache)")
        self.replies = replies
        try:
            yield
        finally:
            self.replies = None

    @property
    def model(self) -> str:
        """Model name sent with each request."""
        return self.settings.model_name

    @property
    def scope(self) -> str:
        """Where replies come from, for result keys: the base URL (embedded: with the
        GGUF file's identity when one is named)."""
        return self._cache_scope

    @property
    def endpoint(self) -> str:
        """``model at host`` (or ``model (embedded)``), for status lines."""
        return self.settings.endpoint

    def chat(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int,
        response_format: dict[str, Any] | None = None,
        temperature: float | None = None,
        store: bool = True,
    ) -> Completion:
        """Send one chat completion, retrying transient failures.

        With a cache, a request seen before is answered from it; a new reply is
        stored unless ``store`` is false (then the caller may :meth:`remember` it
        once it has checked the reply).

        Every try counts one call in the usage (also when it fails); the error
        raised carries the usage of its tries. No try outlasts ``settings.timeout``
        and no new try starts after ``settings.deadline``.

        Raises:
            RateLimitError, ProviderError, LLMTimeoutError, LLMConnectionError:
                after the retry budget or the deadline is spent, or at once for
                non-transient errors.
            ConfigError: the embedded backend cannot run (no llama-cpp-python, no
                model file); raised at once, never retried.
            Pending: inside :meth:`answering_from`, for a request neither the replies
                nor the cache answer (it was queued).
        """
        body: dict[str, Any] = {
            "model": self.model,
            "messages": list(messages),
            "max_tokens": max_tokens,
            "temperature": self.settings.temperature if temperature is None else temperature,
        }
        if response_format is not None:
            body["response_format"] = response_format
        key = cache_key(self._cache_scope, body) if self.cache is not None else None
        replies = self.replies
        if replies is not None and key:
            stored = replies.reply(key)
            if stored is not None:  # a batch's reply: it cost what the batch reports
                self._count(stored[2])
                return Completion(
                    text=stored[0], usage=stored[2], finish_reason=stored[1], cache_key=key
                )
        if self.cache is not None and key:
            hit = self.cache.get(key)
            if hit is not None:
                with self._usage_lock:
                    self.cached += 1
                return Completion(text=hit[0], usage=Usage(), finish_reason=hit[1], cache_key=key)
        if replies is not None and key:
            replies.defer(key, body)
            raise Pending()
        end = time.monotonic() + self.settings.deadline
        policy = retrying(
            max_retries=self.settings.max_retries,
            is_transient=_is_transient,
            retry_after=_retry_after,
            max_wait=self.settings.max_retry_wait,
            sleep=self._sleep,
            deadline=end,
        )
        tries = 0

        def attempt() -> httpx2.Response:
            nonlocal tries
            tries += 1
            # The SDK's generic ``post`` with the body as-is: ``chat.completions.create``
            # walks every parameter and schema node through its typed transform and
            # builds a typed response, which cost more CPU than the rest of a call
            # (benchmarks/). Status errors, timeouts and headers are the SDK's.
            limit = min(self.settings.timeout, end - time.monotonic())
            with self._awaiting(), request_limit(limit):
                return self._sdk.post("/chat/completions", cast_to=httpx2.Response, body=body)

        failure: NewsQAError | None = None
        try:
            response = policy(attempt)
            text, finish_reason, usage = _read_reply(response)
        except (openai.OpenAIError, TooLongRetryAfter, DeadlinePassed, LLMError) as e:
            self._count(Usage(calls=tries))
            failure = self._failure(e, tries)
        if failure is not None:
            # Raised outside the handler, so neither ``__cause__`` nor ``__context__``
            # holds the SDK's exception, whose text may echo the API key.
            raise failure
        usage = Usage(
            calls=tries,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
        )
        self._count(usage)
        completion = Completion(text=text, usage=usage, finish_reason=finish_reason, cache_key=key)
        if store:
            self.remember(completion)
        return completion

    def _failure(self, exc: BaseException, tries: int) -> NewsQAError:
        """The error a failed call raises: a :class:`ConfigError` for an embedded
        backend that cannot run, else an :class:`LLMError` with the usage of its tries;
        its text redacted (API key, URL credentials)."""
        config = _config_error(exc)
        if config is not None:
            return ConfigError(self._redact(str(config)))
        error = exc if isinstance(exc, LLMError) else _map_error(exc, self.settings, tries)
        error.args = (self._redact(str(error)),)
        error.usage = Usage(calls=tries)
        error.__cause__ = error.__context__ = None
        return error

    @contextmanager
    def _awaiting(self) -> Iterator[None]:
        """Count one request as awaiting its reply while the block runs."""
        token = object()
        with self._usage_lock:
            self._sent[token] = time.monotonic()
        try:
            yield
        finally:
            with self._usage_lock:
                del self._sent[token]

    def waiting(self) -> tuple[int, float]:
        """``(requests awaiting a reply, seconds the oldest has waited)``: what a
        progress display shows while a slow server thinks (``(0, 0.0)`` when idle)."""
        with self._usage_lock:
            starts = list(self._sent.values())
        if not starts:
            return 0, 0.0
        return len(starts), time.monotonic() - min(starts)

    def _count(self, usage: Usage) -> None:
        with self._usage_lock:
            self.usage = self.usage + usage
            running = self.usage
        for meter in _METERS.get():
            meter.usage = meter.usage + usage
        if self.on_call is not None:
            self.on_call(running)

    @contextmanager
    def metered(self) -> Iterator[Meter]:
        """Count what the calls made by this thread inside the block cost, also when
        the work fails midway (a task's earlier calls are not in its exception)."""
        meter = Meter()
        token = _METERS.set((*_METERS.get(), meter))
        try:
            yield meter
        finally:
            _METERS.reset(token)

    def _redact(self, text: str) -> str:
        return redact(text, [self.settings.api_key])

    def remember(self, completion: Completion) -> None:
        """Store a reply in the cache (no-op without a cache)."""
        if self.cache is not None and completion.cache_key:
            self.cache.put(
                completion.cache_key,
                completion.text,
                completion.finish_reason,
                completion.usage.prompt_tokens,
                completion.usage.completion_tokens,
            )

    def close(self) -> None:
        """Close the HTTP client and the response cache (the client owns both; an
        ``openai_client`` passed in stays open: it is the caller's)."""
        if self._owns_sdk:
            self._sdk.close()
        if self.cache is not None:
            self.cache.close()

    def __enter__(self) -> LLMClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
