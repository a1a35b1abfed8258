from __future__ import annotations

import newsqa


def test_all_is_sorted_and_complete() -> None:
    assert newsqa.__all__ == sorted(newsqa.__all__, key=lambda n: (not n.isupper(), n))
    for name in newsqa.__all__:
        assert hasattr(newsqa, name), name


def test_every_public_callable_is_documented() -> None:
    for name in newsqa.__all__:
        obj = getattr(newsqa, name)
        if callable(obj):
            assert obj.__doc__ and obj.__doc__.strip(), name


def test_errors_share_one_root() -> None:
    for name in (
        "DocumentError",
        "PromptError",
        "ConfigError",
        "LLMError",
        "ProviderError",
        "RateLimitError",
        "LLMTimeoutError",
        "LLMConnectionError",
        "OutputValidationError",
    ):
        assert issubclass(getattr(newsqa, name), newsqa.NewsQAError)
