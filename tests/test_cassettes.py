"""Cassettes hold no secrets and come from the real model path."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import CASSETTES

CASSETTE_FILES = sorted(CASSETTES.rglob("*.yaml"))
SECRET = re.compile(
    r"sk-[A-Za-z0-9_-]{16,}|Bearer\s+\S{8,}|api[-_]?key['\"]?\s*[:=]\s*\S{8,}", re.IGNORECASE
)


def test_there_are_cassettes() -> None:
    assert len(CASSETTE_FILES) >= 8


@pytest.mark.parametrize("path", CASSETTE_FILES, ids=lambda p: p.stem[:40])
def test_cassette_has_no_secrets_and_no_auth_headers(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert not SECRET.search(text)
    data = yaml.safe_load(text)
    for interaction in data["interactions"]:
        headers = {k.lower() for k in interaction["request"]["headers"]}
        assert not headers & {"authorization", "api-key", "x-api-key", "cookie"}
        assert interaction["request"]["uri"].endswith("/chat/completions")
