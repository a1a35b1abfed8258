"""What a batch reads and writes: never its own output as input, only a regular file
as output, and paths checked in a first walk before any model call."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import newsqa
from tests.conftest import fake_client
from tests.support.fake_openai import FakeOpenAI, Reply

GOOD = {"sentences": [1], "answer": "Kyiv"}
QUESTION = "Which city said no?"


def _articles(tmp_path: Path) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.txt").write_text("Kyiv said no.")
    (folder / "b.txt").write_text("Kyiv said no again.")
    return folder


def test_a_batch_never_reads_its_own_output(tmp_path: Path) -> None:
    folder = _articles(tmp_path)
    out = folder / "out.jsonl"
    with FakeOpenAI([], responder=lambda _: Reply.json(GOOD)) as server:
        client = fake_client(server)
        first = newsqa.batch(folder, newsqa.Ask(QUESTION), out, client=client)
        (folder / "out.jsonl.partial").write_text('{"id": "a", "task": "as\n')
        calls = len(server.requests)
        again = newsqa.batch(str(folder), newsqa.Ask(QUESTION), out, client=client)
        # as a shell glob names them: articles/*
        named = sorted(str(p) for p in folder.iterdir())
        third = newsqa.batch(named, newsqa.Ask(QUESTION), out, client=client)
        client.close()
    assert (first.done, first.failed) == (2, 0)
    assert (again.done, again.failed, again.skipped) == (0, 0, 2)
    assert (third.done, third.failed, third.skipped) == (0, 0, 2)
    assert len(server.requests) == calls
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert ids == ["a", "b"]


@pytest.mark.parametrize("target", ["/dev/null", "/dev/full", "folder"])
def test_an_output_that_is_not_a_regular_file_is_refused_before_any_call(
    tmp_path: Path, target: str
) -> None:
    folder = _articles(tmp_path)
    out = Path(target)
    if target == "folder":
        out = tmp_path / target
        out.mkdir()
    if not out.exists():
        pytest.skip(f"{target} does not exist here")
    with FakeOpenAI([]) as server:
        client = fake_client(server)
        with pytest.raises(ValueError) as info:
            newsqa.batch(folder, newsqa.Summarize(), out, client=client)
        client.close()
        assert not server.requests
    assert str(info.value) == f"{out}: not a regular file; the output must be a JSONL file"


def test_paths_with_one_id_twice_are_refused_before_any_call(tmp_path: Path) -> None:
    for name in ("x1", "x2"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "news.txt").write_text(f"Kyiv said no in {name}.")
    (tmp_path / "x2" / "other.txt").write_text("Moscow said yes.")
    out = tmp_path / "out.jsonl"
    paths: list[str | Path] = [tmp_path / "x1", str(tmp_path / "x2")]
    with FakeOpenAI([]) as server:
        client = fake_client(server)
        with pytest.raises(ValueError, match="two documents share the id 'news'"):
            newsqa.batch(paths, newsqa.Summarize(), out, client=client)
        client.close()
        assert not server.requests
    assert not out.exists()


def test_a_run_over_paths_knows_its_total_before_it_starts(tmp_path: Path) -> None:
    folder = _articles(tmp_path)
    (folder / "c.txt").write_bytes(b"\x00\x01" * 40)  # a failed input counts too
    with FakeOpenAI([], responder=lambda _: Reply.json(GOOD)) as server:
        client = fake_client(server)
        run = newsqa.abatch(folder, newsqa.Ask(QUESTION), tmp_path / "o.jsonl", client=client)
        assert run.total == 3 and not server.requests
        assert [e.source for e in run.unreadable] == [str(folder / "c.txt")]
        items = list(run)
        client.close()
    assert sorted(i.ok for i in items) == [False, True, True]
