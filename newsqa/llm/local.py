"""Embedded backend: a GGUF model run in-process by llama-cpp-python, served as an
OpenAI-compatible ``/v1/chat/completions`` WSGI app.

The openai SDK talks to it through ``httpx2.WSGITransport``, so local and remote
models share one code path, and vcrpy records and replays both alike. The model is
loaded on the first request (a replayed test never loads it) and once per process.

llama-cpp-python ignores ``response_format={"type": "json_schema"}``; this app
translates it to ``{"type": "json_object", "schema": ...}``, which llama.cpp turns
into a grammar, so constrained output always parses. Greedy replies under a grammar
check it on the chosen token first (:mod:`newsqa.llm.checked_greedy`): the same
replies, without filtering the whole vocabulary at every token. ``NEWSQA_SPECULATE=1``
also decodes them speculatively, drafting from the prompt: several tokens per step
where the reply copies its prompt.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import httpx2

from newsqa.config import EMBEDDED_BASE_URL, Settings
from newsqa.errors import ConfigError
from newsqa.llm.model_files import INSTALL_HINT, ensure_model, missing_parts, model_ready

if TYPE_CHECKING:
    from llama_cpp import Llama

__all__ = [
    "EmbeddedModel",
    "check_embedded",
    "embedded_http_client",
    "llama_arguments",
    "prepare_embedded",
    "speculation",
]

StartResponse = Callable[[str, list[tuple[str, str]]], Any]

_LOADED: dict[tuple[str, int, int | None], Llama] = {}
_LOAD_LOCK = threading.Lock()


def _close_all() -> None:
    """Free loaded models before interpreter shutdown (llama-cpp-python's own
    finalizer fails noisily once its module globals are gone)."""
    with _LOAD_LOCK:
        while _LOADED:
            _, llama = _LOADED.popitem()
            llama.close()


def _load_llama(path: Path, n_ctx: int, n_threads: int | None) -> Llama:
    """Load a GGUF once per process and keep it (weights are the costly part)."""
    key = (str(path), n_ctx, n_threads)
    with _LOAD_LOCK:
        if key not in _LOADED:
            try:
                from newsqa.llm.checked_greedy import CheckedLlama
            except ImportError as e:
                raise ConfigError(
                    f"the embedded model needs llama-cpp-python; install it with: {INSTALL_HINT}"
                    " (or set OPENAI_BASE_URL to use an endpoint)"
                ) from e
            if not path.is_file():
                raise ConfigError(f"model file not found: {path}")
            if not _LOADED:
                atexit.register(_close_all)
            _LOADED[key] = CheckedLlama(
                model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, verbose=False
            )
        return _LOADED[key]


def speculation() -> bool:
    """Whether greedy grammar replies draft tokens from their prompt: ``NEWSQA_SPECULATE``
    (``1``/``on``/``true``/``yes`` or ``0``/``off``/``false``/``no``; off when unset:
    a token evaluated in a batch may differ from the one decoded alone where the two
    likeliest are within a tenth of a logit, see docs/benchmarks.md).

    Raises:
        ConfigError: another value.
    """
    value = os.environ.get("NEWSQA_SPECULATE", "").strip().lower()
    if value in ("1", "on", "true", "yes"):
        return True
    if value in ("", "0", "off", "false", "no"):
        return False
    raise ConfigError(
        f"NEWSQA_SPECULATE={value!r} is not one of 1, on, true, yes, 0, off, false, no"
    )


def _installed(module: str) -> bool:
    """True when ``module`` can be imported (found without importing it)."""
    return importlib.util.find_spec(module) is not None


def check_embedded(settings: Settings) -> None:
    """Cheap checks that the embedded backend can run, made before any request.

    Raises:
        ConfigError: llama-cpp-python is not installed, ``model_path`` is not a file,
            (without ``model_path``) the default model is neither assembled nor installed,
            or ``NEWSQA_SPECULATE`` is not a yes or a no.
    """
    speculation()
    no_endpoint = (
        "no endpoint is configured (OPENAI_BASE_URL + NEWSQA_MODEL, or OPENAI_API_KEY for "
        "OpenAI) and the embedded model"
    )
    if not _installed("llama_cpp"):
        raise ConfigError(
            f"{no_endpoint} needs llama-cpp-python: install it with {INSTALL_HINT}"
            if settings.model_path is None
            else f"--model-path/NEWSQA_MODEL_PATH needs llama-cpp-python: {INSTALL_HINT}"
        )
    if settings.model_path is not None:
        if not settings.model_path.is_file():
            raise ConfigError(
                f"model file not found: {settings.model_path} (--model-path/NEWSQA_MODEL_PATH)"
            )
        return
    if not model_ready(settings.cache_dir):
        missing = missing_parts()
        if missing:
            raise ConfigError(
                f"{no_endpoint} is not installed (missing {missing[0]}): install it with "
                f"{INSTALL_HINT}, or set NEWSQA_MODEL_PATH to a GGUF file"
            )


def prepare_embedded(
    settings: Settings, *, progress: Callable[[int, int], None] | None = None
) -> Path:
    """Check the embedded backend and assemble the default model once (``progress``
    gets ``(done_bytes, total_bytes)`` while it is written); return the GGUF path.

    Raises:
        ConfigError: as :func:`check_embedded`, or the assembled file is corrupt.
    """
    check_embedded(settings)
    if settings.model_path is not None:
        return settings.model_path
    return ensure_model(settings.cache_dir, progress=progress)


def _translate_response_format(fmt: Any) -> Any:
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema")
        return {"type": "json_object", "schema": schema} if schema else {"type": "json_object"}
    return fmt


def llama_arguments(body: dict[str, Any]) -> dict[str, Any]:
    """``Llama.create_chat_completion`` keyword arguments for an OpenAI request body
    (json_schema output becomes llama.cpp's json_object + schema, i.e. a grammar).

    llama.cpp's grammar lets the model write one space after ``{``, ``,`` and ``:``.
    A grammar without them ("compact JSON") was tried and dropped: the 1.5B model
    then closed every sentence-number array empty (``"sentences":[]``) in the stance
    replies of three dev articles, so nothing could be cited."""
    kwargs: dict[str, Any] = {
        "messages": body["messages"],
        "max_tokens": body.get("max_tokens") or body.get("max_completion_tokens") or 512,
        "temperature": body.get("temperature", 0.0),
        "response_format": _translate_response_format(body.get("response_format")),
    }
    if body.get("seed") is not None:
        kwargs["seed"] = body["seed"]
    return kwargs


class EmbeddedModel:
    """A local GGUF model that answers OpenAI chat-completion requests.

    Args:
        settings: ``model_path`` (default: the assembled Qwen2.5-Coder-1.5B),
            ``n_ctx``, ``n_threads`` and ``cache_dir`` are used.
        llama: an already loaded ``llama_cpp.Llama`` (or compatible object) to serve
            instead of loading one from ``settings``.
    """

    def __init__(self, settings: Settings, *, llama: Llama | None = None) -> None:
        self._settings = settings
        self._given = llama
        self._lock = threading.Lock()  # llama.cpp serves one request at a time

    def _llama(self) -> Llama:
        if self._given is not None:
            return self._given
        path = self._settings.model_path or ensure_model(self._settings.cache_dir)
        return _load_llama(path, self._settings.n_ctx, self._settings.n_threads)

    def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        """Run one chat completion request body and return the OpenAI response body."""
        llama = self._llama()
        kwargs = llama_arguments(body)
        speculate = speculation()
        with self._lock:
            if hasattr(llama, "speculate"):  # a CheckedLlama
                llama.speculate = speculate
            result = cast(dict[str, Any], llama.create_chat_completion(**kwargs))
        result["model"] = body.get("model", result.get("model"))
        result.setdefault("id", f"chatcmpl-{uuid.uuid4().hex}")
        result.setdefault("created", int(time.time()))
        return result

    def wsgi_app(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """WSGI entry point speaking the OpenAI chat-completions contract.

        A :class:`ConfigError` (no llama-cpp-python, no model file) is raised, not
        answered as an HTTP error: it is the caller's to fix, never a transient failure.
        """
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "POST" and path.endswith("/chat/completions"):
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
                body = json.loads(environ["wsgi.input"].read(length) or b"{}")
                if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
                    return _reply(start_response, 400, _error("request needs 'messages'"))
                return _reply(start_response, 200, self.complete(body))
            except json.JSONDecodeError:
                return _reply(start_response, 400, _error("request body is not JSON"))
            except ValueError as e:  # llama.cpp: prompt longer than the context window
                return _reply(start_response, 400, _error(str(e)))
        if method == "GET" and path.endswith("/models"):
            model = {"id": self._settings.model_name, "object": "model", "owned_by": "newsqa"}
            return _reply(start_response, 200, {"object": "list", "data": [model]})
        return _reply(start_response, 404, _error(f"no route {method} {path}"))


def _error(message: str, kind: str = "invalid_request_error") -> dict[str, Any]:
    return {"error": {"message": message, "type": kind}}


def _reply(start_response: StartResponse, status: int, payload: dict[str, Any]) -> list[bytes]:
    data = json.dumps(payload).encode()
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 503: "Service Unavailable"}
    start_response(
        f"{status} {reason.get(status, 'Error')}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
    )
    return [data]


def embedded_http_client(settings: Settings, *, llama: Llama | None = None) -> httpx2.Client:
    """An ``httpx2.Client`` whose requests are answered in-process by the embedded model."""
    model = EmbeddedModel(settings, llama=llama)
    return httpx2.Client(
        transport=httpx2.WSGITransport(app=model.wsgi_app),
        base_url=EMBEDDED_BASE_URL,
        timeout=settings.timeout,
    )
