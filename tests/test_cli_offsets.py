"""Offsets the CLI prints slice the document's text exactly (human and JSON output)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from newsqa import load_document
from newsqa.cli import main
from tests.support.fake_openai import FakeOpenAI, Reply, schema_reply

TEXT = "date 2024-11-08  Kyiv said no.\nMoscow said yes. Paris said maybe. Kyiv said no."


def _last_choices(node: Any) -> Any:
    """The schema with every enum reversed: sentence numbers pick the last sentence."""
    if isinstance(node, dict):
        out = {k: _last_choices(v) for k, v in node.items()}
        if isinstance(node.get("enum"), list):
            out["enum"] = node["enum"][::-1]
        return out
    if isinstance(node, list):
        return [_last_choices(v) for v in node]
    return node


def _last_sentence(request: dict[str, Any]) -> Reply:
    """A valid reply citing the last sentence, whose text also opens the document."""
    return schema_reply(_last_choices(request))


def _args(server: FakeOpenAI, path: Path, *more: str) -> list[str]:
    base = ["--base-url", server.base_url, "--model", "fake", "-q", "--no-cache"]
    return [*more[:1], str(path), *more[1:], *base]


@pytest.mark.parametrize("command", [["summarize"], ["check", "--claim", "Kyiv said no"]])
def test_printed_offsets_slice_the_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    path = tmp_path / "news.txt"
    path.write_text(TEXT)
    doc = load_document(path)
    with FakeOpenAI([], responder=_last_sentence) as server:
        assert main(_args(server, path, *command)) == 0
        human = capsys.readouterr().out
        assert main([*_args(server, path, *command), "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
    quotes = re.findall(r'\[(\d+)\] "(.*?)" \((\d+)-(\d+)\)', human)
    assert quotes and {q[0] for q in quotes} == {"4"}  # "Kyiv said no." the second time
    for sentence_id, text, start, end in quotes:
        assert doc.text[int(start) : int(end)] == text
        assert doc.sentences[int(sentence_id) - 1].text == text
    evidence = [ev for kp in data.get("key_points", [data]) for ev in kp["evidence"]]
    assert evidence
    for ev in evidence:
        assert doc.text[ev["start"] : ev["end"]] == ev["text"]
        assert doc.sentences[ev["sentence_id"] - 1].start == ev["start"]
