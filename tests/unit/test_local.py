"""The embedded backend's HTTP contract and model assembly, without loading a model."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from newsqa import ConfigError, LLMClient, Settings
from newsqa.llm.local import embedded_http_client
from newsqa.llm.model_files import assemble
from newsqa.llm.structured import generate
from tests.conftest import track


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
