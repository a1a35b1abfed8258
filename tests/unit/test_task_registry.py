"""Task objects and the public registry: a job is plain JSON, a task of your own runs
through batch, the CLI and the notebook like a built-in one."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

import newsqa
from newsqa.cli import main
from newsqa.tasks import base

BUILT_IN = {"summarize", "stances", "ask", "extract", "check", "stance-toward"}


class Facts(BaseModel):
    casualties: int | None = None


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tasks registered in a test are gone after it."""
    monkeypatch.setattr(base, "_REGISTRY", dict(newsqa.registered()))
    yield


@pytest.mark.parametrize(
    "task",
    [
        newsqa.Summarize(),
        newsqa.Stances("grain deal", actors={"Hungary": ["Orban"]}),
        newsqa.Ask("Who met?", choices=["Kyiv", "Moscow"], as_of=dt.date(2024, 6, 14)),
        newsqa.CheckClaim("Kyiv said no"),
        newsqa.StanceToward("Russia", aliases=["Moscow"]),
    ],
    ids=lambda t: t.name,
)
def test_a_job_is_plain_json_that_makes_the_same_task_back(
    task: newsqa.Task[newsqa.Result],
) -> None:
    carried = json.loads(json.dumps(task.job()))  # through any queue
    back = base.task_from_job(carried)
    assert back == task
    doc = newsqa.document_from_text("Kyiv said no.", id="a")
    assert back.key(doc) == task.key(doc)


def test_every_built_in_task_is_registered_and_names_its_prompt_templates() -> None:
    tasks = newsqa.registered()
    assert set(tasks) >= BUILT_IN
    for name, cls in tasks.items():
        assert cls.name == name
        for template in cls.prompts:
            assert (Path(newsqa.__file__).parent.parent / "prompts" / f"{template}.md").is_file()


def test_parameters_are_checked_by_name_with_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="the ask task needs a question"):
        newsqa.task("ask")
    with pytest.raises(ValueError, match="the extract task needs a schema"):
        newsqa.task("extract")
    with pytest.raises(ValueError, match="the summarize task takes no topic"):
        newsqa.task("summarize", topic="x")
    with pytest.raises(ValueError, match="as_of of the ask task"):
        newsqa.task("ask", question="Who?", as_of="last week")
    with pytest.raises(ValueError, match="unknown task 'sumarize'"):
        newsqa.task("sumarize")
    assert newsqa.task("extract", schema=Facts).job() == {
        "task": "extract",
        "schema": "Facts",
        "instructions": None,
    }


class Counted(newsqa.Result):
    words: int


class WordCount(newsqa.Task[Counted]):
    """Words of the article at least ``min_length`` letters long."""

    name = "word-count"
    uses_model = False
    min_length: int = 1

    def run(self, doc: newsqa.Document, *, client: newsqa.LLMClient | None = None) -> Counted:
        return Counted(words=sum(len(w) >= self.min_length for w in doc.text.split()))

    @classmethod
    def html(cls, result: Counted) -> str:
        return f"<b>{result.words} words</b>"


def test_a_task_of_your_own_runs_through_batch_and_the_notebook(
    registry: None, tmp_path: Path
) -> None:
    newsqa.register(WordCount)
    doc = newsqa.document_from_text("Kyiv said no to the plan.", id="a")
    out = tmp_path / "out.jsonl"
    report = newsqa.batch([doc], newsqa.task("word-count", min_length=4), out)
    line = json.loads(out.read_text())
    assert report.done == 1
    assert (line["task"], line["min_length"], line["result"]["words"]) == ("word-count", 4, 3)
    assert newsqa.run(WordCount(), doc)._repr_html_() == "<b>6 words</b>"


def test_a_task_name_is_one_class_s(registry: None) -> None:
    newsqa.register(WordCount)

    class Other(WordCount):
        pass

    Other.__qualname__ = "Other"
    with pytest.raises(ValueError, match="'word-count' is taken by WordCount"):
        newsqa.register(Other)
    with pytest.raises(ValueError, match="needs a name"):
        newsqa.register(newsqa.Task)


def test_the_cli_runs_a_task_of_your_own_by_module_and_class(
    registry: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "mytasks.py").write_text(
        "from tests.unit.test_task_registry import WordCount as Words\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "mytasks", raising=False)
    article = tmp_path / "a.txt"
    article.write_text("Kyiv said no to the plan.")
    out = tmp_path / "out.jsonl"
    argv = ["batch", str(article), "-o", str(out), "--json", "--task", "mytasks:Words"]
    assert main([*argv, "--params", '{"min_length": 4}']) == 0
    assert json.loads(capsys.readouterr().out)["done"] == 1
    assert json.loads(out.read_text())["result"]["words"] == 3
    with pytest.raises(SystemExit) as exit_:
        main([*argv[:-1], "mytasks:Nope"])
    assert exit_.value.code == 2
    assert "mytasks has no attribute 'Nope'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*argv, "--params", "[4]"])
    assert "a JSON object" in capsys.readouterr().err


def test_the_cli_lists_the_registry_with_each_tasks_parameters_and_result(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["tasks", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert set(listed) >= BUILT_IN
    assert listed["ask"]["parameters"]["properties"].keys() == {"question", "choices", "as_of"}
    assert "schema" in listed["extract"]["parameters"]["properties"]
    assert "key_points" in listed["summarize"]["result"]["properties"]
    assert listed["ask"]["prompts"] == [
        "system",
        "document",
        "ask.user",
        "ask_choice.user",
        "verify.user",
    ]
    assert main(["tasks"]) == 0
    assert "stance-toward: Where the author stands" in capsys.readouterr().out


def test_the_cli_runs_any_registered_task_on_articles(
    registry: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    newsqa.register(WordCount)
    article = tmp_path / "a.txt"
    article.write_text("Kyiv said no to the plan.")
    assert main(["run", "word-count", str(article), "--params", '{"min_length": 4}', "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["words"] == 3
    assert main(["run", "word-count", str(article), "--params", '{"min_lenght": 4}']) == 2
    assert "the word-count task takes no min_lenght" in capsys.readouterr().err
