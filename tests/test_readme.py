"""The README is a contract: its quick start works from a fresh clone against a local
OpenAI-compatible server in three commands, its snippets name only what exists, its JSON
contract lists every field, and it keeps the embedded model's commands that CI runs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from types import ModuleType

import pytest
from pydantic import BaseModel

import newsqa
from newsqa import types
from tests.support.fake_openai import FakeOpenAI, Reply, schema_reply

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"```(\w*)\n(.*?)```", re.S)


def _block_after(marker: str) -> list[str]:
    """The commands of the fenced block right after ``<!-- marker -->`` (comments cut)."""
    rest = README[README.index(f"<!-- {marker} -->") :]
    match = FENCE.search(rest)
    assert match is not None
    lines = [line.split("  #")[0].strip() for line in match.group(2).splitlines()]
    return [line for line in lines if line]


def _section(title: str) -> str:
    start = README.index(f"## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def test_quick_start_is_first_and_remote() -> None:
    first = FENCE.search(README)
    assert first is not None
    commands = _block_after("quickstart")
    assert first.group(2).startswith(commands[0])
    assert len(commands) == 3
    assert commands[0] == "pip install -e ."
    assert commands[1].startswith("export OPENAI_API_KEY=")
    assert commands[2] == "newsqa summarize seeds/000_c21f091162a05fc4.txt"
    for server, url in (("Ollama", "localhost:11434/v1"), ("vLLM", "localhost:8000/v1")):
        recipe = README[README.index(f"\n{server} (") :]
        block = FENCE.search(recipe)
        assert block is not None
        lines = [line for line in block.group(2).splitlines() if line.strip()]
        assert len(lines) == 3 and url in lines[1] and "NEWSQA_MODEL=" in lines[1]


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_three_commands_from_a_fresh_clone_reach_a_first_summary(tmp_path: Path) -> None:
    """``pip install -e .`` is stood in for by putting the clone on ``PYTHONPATH`` (the
    environment already holds the dependencies); the other two commands run verbatim,
    the recipe's server URL pointed at a loopback server."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    clone = tmp_path / "clone"
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, clone / name)

    install, _, summarize = _block_after("quickstart")
    recipe = _block_after("recipe:vllm")[1]
    assert "http://localhost:8000/v1" in recipe
    draft = {
        "headline": "Putin congratulates Trump",
        "summary": "Putin congratulated Trump on his election win.",
        "key_points": [{"point": "Putin congratulated Trump.", "sentences": [1]}],
    }
    with FakeOpenAI([Reply.json(draft)]) as server:
        export = recipe.replace("http://localhost:8000/v1", server.base_url)
        script = "\n".join(
            [
                "set -euo pipefail",
                'pip() { [ "$*" = "install -e ." ] && export PYTHONPATH="$PWD"; }',
                'newsqa() { "$PY" -m newsqa.cli "$@"; }',
                install,
                export,
                summarize,
                '"$PY" -c "import newsqa; print(newsqa.__file__)" >&2',
            ]
        )
        env = {**os.environ, "PY": sys.executable}
        env.pop("PYTHONPATH", None)
        result = subprocess.run(
            ["bash", "-c", script],
            cwd=clone,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        requests = list(server.requests)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Putin congratulates Trump\n")
    assert "Russian President Vladimir Putin extended congratulations" in result.stdout
    assert [r["model"] for r in requests] == ["Qwen/Qwen2.5-7B-Instruct"]
    assert "with Qwen/Qwen2.5-7B-Instruct at 127.0.0.1" in result.stderr
    assert "1 model calls" in result.stderr
    assert result.stderr.strip().endswith(str(clone / "newsqa" / "__init__.py"))


def test_python_snippets_define_every_name(tmp_path: Path) -> None:
    code = "\n\n".join(m.group(2) for m in FENCE.finditer(README) if m.group(1) == "python")
    source = tmp_path / "readme_snippets.py"
    source.write_text(code)
    ruff = [sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache"]
    result = subprocess.run(
        [*ruff, "--select", "F", "--ignore", "F401,F811,F841", str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout


def test_python_snippets_run_against_an_endpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each Python block runs on its own, in a folder holding the seed and an
    ``articles/`` folder, against a loopback server answering every schema."""
    (tmp_path / "seeds").mkdir()
    shutil.copy(ROOT / "seeds" / "000_c21f091162a05fc4.txt", tmp_path / "seeds")
    (tmp_path / "articles").mkdir()
    shutil.copy(ROOT / "seeds" / "000_c21f091162a05fc4.txt", tmp_path / "articles" / "seed.txt")
    (tmp_path / "articles" / "geneva.txt").write_text(
        "date 2024-11-20 Ukraine and Russia met in Geneva for peace talks. Kyiv said no."
    )
    monkeypatch.chdir(tmp_path)
    blocks = [m.group(2) for m in FENCE.finditer(README) if m.group(1) == "python"]
    assert len(blocks) >= 3
    with FakeOpenAI([], max_requests=200, responder=schema_reply) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("NEWSQA_MODEL", "fake")
        for number, block in enumerate(blocks, start=1):
            module = ModuleType("readme")  # a real module: a generic class looks its own up
            monkeypatch.setitem(sys.modules, "readme", module)
            exec(compile(block, f"README python block {number}", "exec"), module.__dict__)
        assert server.requests and all(r["model"] == "fake" for r in server.requests)
    assert (tmp_path / "summaries.jsonl").is_file() and (tmp_path / "news.sqlite").is_file()
    longest = [json.loads(line) for line in (tmp_path / "longest.jsonl").read_text().splitlines()]
    assert [(line["task"], line["max_words"]) for line in longest] == [("longest-sentence", 60)] * 2
    facts = [json.loads(line) for line in (tmp_path / "facts.jsonl").read_text().splitlines()]
    assert [line["task"] for line in facts] == ["extract"] * 2
    assert all("result" in line for line in facts), facts


def test_names_used_in_the_readme_exist() -> None:
    used = set(re.findall(r"\bnewsqa\.([A-Za-z_]\w*)", README))
    modules = {"corpus", "retrieval", "notebook", "cli"}
    with warnings.catch_warnings():  # the Changes section names the deprecated aliases
        warnings.simplefilter("ignore", DeprecationWarning)
        missing = sorted(n for n in used - modules if not hasattr(newsqa, n))
    assert missing == []
    assert {"Retriever", "Hit"} <= used  # sent to the public names, not internals


def _fields(model: type[BaseModel]) -> set[str]:
    return {name for name in model.model_fields if name != "usage"} | set(
        model.model_computed_fields
    )


@pytest.mark.parametrize(
    "model",
    [
        types.Summary,
        types.KeyPoint,
        types.Evidence,
        types.StanceReport,
        types.Stance,
        types.Period,
        types.Answer,
        types.ClaimCheck,
        types.TargetStance,
        types.StanceTimeline,
        types.StanceChange,
        types.CorpusStanceReport,
        types.Extraction,
        types.ValueSpan,
        types.Usage,
    ],
)
def test_the_json_contract_lists_every_field(model: type[BaseModel]) -> None:
    contract = _section("JSON contract")
    missing = sorted(f for f in _fields(model) if f'"{f}"' not in contract)
    assert missing == [], model.__name__


def test_the_json_contract_covers_every_command() -> None:
    contract = _section("JSON contract")
    for command in ("summarize", "stances", "report", "ask", "check", "stance-toward", "extract"):
        assert f"- `{command}`" in contract, command
    built_in = [n for n, c in newsqa.registered().items() if c.__module__.startswith("newsqa.")]
    for task in built_in:  # every task batch can run
        assert f"- `{task}`" in contract, task
    for label in ("agrees", "disagrees", "discusses", "unrelated", "conditional", "unclear"):
        assert label in contract


def test_inputs_and_cost_are_documented() -> None:
    inputs = _section("Input formats")
    assert "date YYYY-MM-DD" in inputs and "`-`" in inputs
    for key in ('"id"', '"text"', '"date"', '"title"', '"source"'):
        assert key in inputs
    cost = _section("Cost")
    for needle in ("NEWSQA_PRICE_IN", "NEWSQA_PRICE_OUT", "usage.cost(", "40 calls"):
        assert needle in cost


def test_the_embedded_commands_stay_and_ci_runs_the_test_command() -> None:
    flags = "-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
    venv = f'python3 -m venv .venv && CMAKE_ARGS="{flags}" .venv/bin/pip install -e '
    run = venv + "'.[local]' && .venv/bin/newsqa report seeds/000_c21f091162a05fc4.txt"
    test = (
        venv + "'.[local,dev,postgres]' && .venv/bin/ruff check . && .venv/bin/mypy && "
        ".venv/bin/python -m pytest"
    )
    assert run in README and test in README
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == test


def test_benchmarks_and_tuning_notes_live_in_docs() -> None:
    docs = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    for needle in ("recall@3", "variants tried", "newsqa/raw", "RealTime QA"):
        assert needle in docs
        assert needle not in README
