"""Shared fixtures: no real network, no real keys, cassettes under tests/cassettes/."""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newsqa.config import Settings
from newsqa.documents import load_document
from newsqa.llm.client import LLMClient
from newsqa.llm.model_files import missing_parts
from newsqa.types import Document
from tests.support.fake_openai import FakeOpenAI, Reply

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_c21f091162a05fc4.txt"
CASSETTES = Path(__file__).resolve().parent / "cassettes"
needs_llama_cpp = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None,
    reason="needs the local extra: llama-cpp-python",
)
needs_model_parts = pytest.mark.skipif(
    bool(missing_parts()), reason="needs the local extra: the embedded model's parts"
)
FILTERED_HEADERS = [
    "authorization",
    "api-key",
    "x-api-key",
    "openai-organization",
    "openai-project",
    "cookie",
    "set-cookie",
]


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never pick up a real endpoint or key from the developer's shell, and the
    CLI's response cache lives in the test's own folder."""
    for name in list(os.environ):
        if name.startswith(("OPENAI_", "NEWSQA_")) and not name.startswith("NEWSQA_RECORD_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("NEWSQA_CACHE_DIR", str(tmp_path / "newsqa-cache"))


def _json_body(r1: Any, r2: Any) -> None:
    def parse(body: Any) -> Any:
        if isinstance(body, bytes):
            body = body.decode()
        return json.loads(body) if body else None

    assert parse(r1.body) == parse(r2.body), "request body differs from the recording"


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    vcr.register_matcher("json_body", _json_body)


def vcr_options() -> dict[str, Any]:
    """How every cassette is recorded and matched."""
    return {
        "filter_headers": FILTERED_HEADERS,
        "match_on": ["method", "path", "json_body"],
        "decode_compressed_response": True,
    }


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    return vcr_options()


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    return str(CASSETTES / request.module.__name__.split(".")[-1])


def replay_settings(**overrides: Any) -> Settings:
    """Settings of recorded tests: the embedded model (or NEWSQA_RECORD_BASE_URL when
    re-recording against an endpoint), fixed so the recorded requests stay the same."""
    base_url = os.environ.get("NEWSQA_RECORD_BASE_URL")
    return Settings(
        base_url=base_url,
        api_key=os.environ.get("NEWSQA_RECORD_API_KEY"),
        model=os.environ.get("NEWSQA_RECORD_MODEL"),
        max_retries=0,
        **overrides,
    )


@pytest.fixture
def replay_client() -> Iterator[LLMClient]:
    """A client for recorded tests; replay never loads the model."""
    client = LLMClient(replay_settings())
    yield client
    client.close()


@pytest.fixture(scope="session")
def seed() -> Document:
    return load_document(SEED)


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    """A loopback server with an empty script; tests fill ``script``."""
    with FakeOpenAI([]) as server:
        yield server


_OPEN_CLIENTS: list[LLMClient] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    """Close every client a test made, so no keep-alive socket outlives its test."""
    yield
    while _OPEN_CLIENTS:
        _OPEN_CLIENTS.pop().close()


def one_line(err: str) -> str:
    """``err`` as its one line: a user error is one line on stderr, never a traceback."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def track(client: LLMClient) -> LLMClient:
    """Register ``client`` to be closed after the test."""
    _OPEN_CLIENTS.append(client)
    return client


def fake_client(server: FakeOpenAI, **overrides: Any) -> LLMClient:
    """A client of ``server`` that never sleeps between retries (closed after the test)."""
    settings = Settings(
        base_url=server.base_url,
        api_key="sk-test-dummy",
        **{"model": "fake", "timeout": 5.0, "max_retries": 3, **overrides},
    )
    return track(LLMClient(settings, sleep=lambda _: None))


__all__ = ["Reply", "fake_client", "replay_settings", "track"]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL cluster for the session (skipped, with the reason, where
    its binaries or psycopg are absent): the URL of its ``postgres`` database."""
    from tests.support.postgres import missing, postgres_cluster

    reason = missing()
    if reason:
        pytest.skip(reason)
    with postgres_cluster() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A new, empty database on the session's cluster, dropped after the test."""
    import uuid

    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield postgres_server.replace("/postgres?", f"/{name}?", 1)
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
