from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import newsqa

ROOT = Path(__file__).resolve().parent.parent


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


def _fresh(probe: str) -> str:
    """What ``probe`` prints, run in a new interpreter (nothing of newsqa loaded yet)."""
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return result.stdout


def test_a_result_made_through_the_package_renders_in_a_notebook_in_a_fresh_process() -> None:
    html = _fresh(
        "import newsqa\n"
        "summary = newsqa.Summary(headline='H', summary='S', key_points=[])\n"
        "print(summary._repr_html_())\n"
    )
    assert "<pre>" not in html and "H" in html


def test_an_unknown_name_is_an_attribute_error() -> None:
    assert not hasattr(newsqa, "summarise")
    assert "summarize" in dir(newsqa)


def test_the_batch_function_stays_the_batch_function_after_its_subpackage_loads() -> None:
    printed = _fresh(
        "from newsqa.batch.run import BatchRun\n"
        "import newsqa\n"
        "print(callable(newsqa.batch), callable(newsqa.abatch))\n"
    )
    assert printed.split() == ["True", "True"]
