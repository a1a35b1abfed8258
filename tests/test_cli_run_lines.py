"""What the command says about a run: a reply being awaited, the usage line (text and
``--usage``), the cache, the currency of a cost, and a start that loads no SDK."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from newsqa.cli import main
from tests.support.fake_openai import FakeOpenAI, Reply

ROOT = Path(__file__).resolve().parent.parent
GOOD = Reply.json({"sentences": [1], "answer": "no"})


def _ask(server: FakeOpenAI, doc: Path, *extra: str) -> list[str]:
    return [
        "ask",
        str(doc),
        "-Q",
        "What was said?",
        "--base-url",
        server.base_url,
        "--model",
        "fake",
        *extra,
    ]


@pytest.fixture
def doc(tmp_path: Path) -> Path:
    path = tmp_path / "a.txt"
    path.write_text("Kyiv said no to the plan on Monday.")
    return path


def test_progress_shows_a_reply_is_awaited_and_for_how_long(
    doc: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsqa.cli import session

    monkeypatch.setattr(session.Session, "wait_interval", 0.1)
    slow = Reply.json({"sentences": [1], "answer": "no"}, delay=1.0)
    with FakeOpenAI([slow]) as server:
        assert main(_ask(server, doc)) == 0
    assert "awaiting 1 reply for" in capsys.readouterr().err


def test_usage_without_json_prints_the_usage_line(
    doc: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI([GOOD]) as server:
        assert main([*_ask(server, doc), "-q", "--usage"]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith("usage: 1 model calls, 50 tokens in, 10 out")


def test_a_run_answered_from_the_cache_says_so(
    doc: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI([GOOD]) as server:
        assert main(_ask(server, doc)) == 0
        capsys.readouterr()
        assert main(_ask(server, doc)) == 0
        assert len(server.requests) == 1
    err = capsys.readouterr().err
    assert "no model calls: 1 answered from the cache" in err and "0 model calls" not in err


def test_a_cost_names_its_currency(
    doc: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSQA_PRICE_IN", "1000000")
    monkeypatch.setenv("NEWSQA_PRICE_OUT", "0")
    with FakeOpenAI([GOOD]) as server:
        assert main(_ask(server, doc)) == 0
    assert "estimated cost $50.0000" in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version_load_neither_the_sdk_nor_the_api(flag: str) -> None:
    probe = (
        "import sys\n"
        "from newsqa.cli import main\n"
        "try:\n"
        f"    main([{flag!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = sorted(m for m in ('openai', 'httpx2', 'pydantic', 'newsqa.api') "
        "if m in sys.modules)\n"
        "print(heavy, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stderr.strip() == "[]"
