"""Settings from the environment: a value that cannot be used names its variable."""

from __future__ import annotations

import pytest

from newsqa import (
    ConfigError,
)
from newsqa.config import MIN_CONTEXT_TOKENS, Settings


@pytest.mark.parametrize(
    ("name", "value"),
    [("NEWSQA_CONTEXT_TOKENS", "0"), ("NEWSQA_TIMEOUT", "-1"), ("NEWSQA_DEADLINE", "soon")],
)
def test_unusable_settings_name_their_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        Settings.from_env()
    with pytest.raises(ConfigError):
        Settings(context_tokens=MIN_CONTEXT_TOKENS - 1)
