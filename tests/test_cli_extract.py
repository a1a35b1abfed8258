"""``newsqa extract`` and ``newsqa batch --task extract``: a JSON Schema file or a
``package.module:Model``, human and JSON Lines output, and every schema mistake a
one-line exit 2 before any document is read or request sent."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newsqa.cli import main
from tests.conftest import SEED
from tests.support.fake_openai import FakeOpenAI, Reply

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "examples" / "peace_talks.schema.json"
SEED_DRAFT = {
    "military_aid_billions": {"sentences": [14], "value": 64.1},
    "aid_since_year": {"sentences": [14], "value": 2022},
    "speakers": [{"sentences": [2], "value": "Putin"}],
    "claimed_deadline": {"sentences": [], "value": None},
}
TALKS: dict[str, Any] = {
    "title": "Talks",
    "type": "object",
    "properties": {
        "casualties": {"type": "integer", "description": "people killed"},
        "place": {"type": "string", "description": "where the envoys met"},
    },
}


def _talks(casualties: int | None, place: str | None, **more: Any) -> Reply:
    return Reply.json(
        {
            "casualties": {"sentences": [1] if casualties else [], "value": casualties},
            "place": {"sentences": [2] if place else [], "value": place},
            **{name: {"sentences": [], "value": value} for name, value in more.items()},
        }
    )


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI([]) as fake:
        yield fake


def _endpoint(server: FakeOpenAI) -> list[str]:
    return ["--base-url", server.base_url, "--model", "fake", "-q", "--no-cache"]


@pytest.fixture
def articles(tmp_path: Path) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.txt").write_text("Three people died in Kharkiv. Envoys met in Geneva.")
    (folder / "b.txt").write_text("Nobody was hurt. The envoys met in <Doha>.")
    return folder


@pytest.fixture
def talks_schema(tmp_path: Path) -> Path:
    path = tmp_path / "talks.json"
    path.write_text(json.dumps(TALKS))
    return path


def test_human_output_lists_every_field_with_its_cited_sentence(
    server: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    server.script = [Reply.json(SEED_DRAFT)]
    assert main(["extract", str(SEED), "--schema", str(SCHEMA), *_endpoint(server)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("PeaceTalksFacts from 000_c21f091162a05fc4\n")
    lines = out.splitlines()
    aid = lines.index("  military_aid_billions: 64.1")
    assert lines[aid + 1] == '      written: "64.1 billion" (2200-2212, exact)'
    assert lines[aid + 2].startswith('      [14] "Since the beginning of the conflict in 2022')
    assert "(2127-2292)" in " ".join(lines[aid + 2 : aid + 4])
    assert "  aid_since_year: 2022" in lines and "  speakers[0]: Putin" in lines
    assert "  claimed_deadline: not stated" in lines
    prompt = server.requests[0]["messages"][-1]["content"]
    assert "military_aid_billions (number): U.S. military aid committed" in prompt


def test_json_prints_one_contract_line_per_document(
    server: FakeOpenAI, articles: Path, talks_schema: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.script = [_talks(3, "Geneva"), _talks(None, "<Doha>")]
    args = ["extract", str(articles), "--schema", str(talks_schema), "--json", "--usage"]
    assert main([*args, *_endpoint(server)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["doc"] for line in lines] == ["a", "b"]
    for line in lines:
        assert set(line) == {
            "schema_version",
            "doc",
            "value",
            "evidence",
            "dropped",
            "spans",
            "usage",
        }
        assert line["usage"]["calls"] == 1
        text = (articles / f"{line['doc']}.txt").read_text()
        for cited in line["evidence"].values():
            assert all(text[e["start"] : e["end"]] == e["text"] for e in cited)
        assert set(line["spans"]) == set(line["evidence"])
        for span in line["spans"].values():
            assert text[span["start"] : span["end"]] == span["text"]
    assert lines[0]["value"] == {"casualties": 3, "place": "Geneva"}
    assert set(lines[0]["evidence"]) == {"casualties", "place"}
    assert lines[1]["value"] == {"casualties": None, "place": "<Doha>"}
    assert set(lines[1]["evidence"]) == {"place"}
    assert lines[1]["spans"]["place"]["text"] == "<Doha>"


def test_stdin_records_and_instructions_reach_the_model(
    server: FakeOpenAI,
    talks_schema: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    records = b'{"id": "r1", "text": "Three people died. Envoys met in Geneva."}\n'
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(records), encoding="utf-8"))
    server.script = [_talks(3, "Geneva")]
    args = ["extract", "-", "--schema", str(talks_schema), "--instructions", "Civilians only."]
    assert main([*args, "--json", *_endpoint(server)]) == 0
    assert json.loads(capsys.readouterr().out)["doc"] == "r1"
    prompt = server.requests[0]["messages"][-1]["content"]
    assert "Instructions: <instructions>Civilians only.</instructions>" in prompt


def test_a_python_model_is_imported_from_the_working_directory(
    server: FakeOpenAI,
    articles: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    module = f"faces17_cli_models_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{module}.py").write_text(
        "from pydantic import BaseModel, Field\n"
        "class Talks(BaseModel):\n"
        "    casualties: int | None = Field(None, description='people killed')\n"
        "    place: str | None = Field(None, description='where the envoys met')\n"
    )
    monkeypatch.chdir(tmp_path)
    server.script = [_talks(3, "Geneva")]
    path_before = list(sys.path)
    try:
        args = ["extract", str(articles / "a.txt"), "--schema", f"{module}:Talks", "--json"]
        assert main([*args, *_endpoint(server)]) == 0
    finally:
        sys.modules.pop(module, None)
    assert sys.path == path_before  # the working directory was on the path only to import
    assert json.loads(capsys.readouterr().out)["value"] == {"casualties": 3, "place": "Geneva"}


def test_a_document_that_never_validates_exits_1_and_the_others_print(
    server: FakeOpenAI, articles: Path, talks_schema: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.script = [Reply.text("not json")] * 3 + [_talks(None, "<Doha>")]
    args = ["extract", str(articles), "--schema", str(talks_schema), *_endpoint(server)]
    assert main(args) == 1
    captured = capsys.readouterr()
    assert "b from b" not in captured.out and captured.out.startswith("Talks from b\n")
    assert "place: <Doha>" in captured.out
    assert (
        "newsqa: a: model output failed validation after 3 tries: reply is not valid JSON"
    ) in captured.err
    assert "1 of 2 documents failed: a" in captured.err
    assert "Traceback" not in captured.err


def _write(tmp_path: Path, name: str, content: str | dict[str, Any]) -> str:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def _object(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


HOSTILE: list[tuple[str, str | dict[str, Any], str]] = [
    (
        "recursive",
        _object(name={"type": "string"}, child={"$ref": "#"}),
        "child: $ref '#' refers to a schema that contains this field",
    ),
    (
        "recursive $defs",
        {
            **_object(root={"$ref": "#/$defs/Node"}),
            "$defs": {"Node": _object(kids={"type": "array", "items": {"$ref": "#/$defs/Node"}})},
        },
        "root.kids[]: $ref '#/$defs/Node' refers to a schema that contains this field",
    ),
    ("500 choices", _object(city={"enum": [f"c{i}" for i in range(500)]}), "city: 500 choices"),
    (
        "dict field",
        _object(counts={"type": "object", "additionalProperties": {"type": "integer"}}),
        'counts: an object without "properties"',
    ),
    (
        "unsupported type",
        _object(link={"type": "string", "format": "uri"}),
        "link: type AnyUrl is not supported",
    ),
    ("unknown type", _object(n={"type": "int"}), "n: unknown type 'int'"),
    ("not JSON", '{"type": "object", ', "not JSON (Expecting property name"),
    ("top-level list", "[]", "a schema must be a JSON object"),
]


@pytest.mark.parametrize(
    ("content", "message"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE]
)
@pytest.mark.parametrize("command", ["extract", "batch"])
def test_hostile_schema_files_exit_2_naming_the_field_before_any_input_or_request(
    server: FakeOpenAI,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str | dict[str, Any],
    message: str,
    command: str,
) -> None:
    schema = _write(tmp_path, "hostile.json", content)
    missing = str(tmp_path / "no-such-article.txt")  # refused first if it were read first
    if command == "extract":
        args = ["extract", missing, "--schema", schema]
    else:
        args = ["batch", missing, "-o", str(tmp_path / "o.jsonl"), "--task", "extract"]
        args += ["--schema", schema]
    assert main([*args, *_endpoint(server)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"newsqa: error: {schema}: ")
    assert message in err and "Traceback" not in err
    assert server.requests == []
    assert not (tmp_path / "o.jsonl").exists()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("{tmp}/absent.json", "absent.json: no such schema file"),
        ("absent_schema", "absent_schema: no such schema file"),
        ("faces17_no_such_module:Talks", "no module named 'faces17_no_such_module'"),
        ("json:loads", "json:loads: loads is a function, not a Pydantic model class"),
        ("newsqa:Document", "newsqa:Document: sentences: type tuple"),
        ("newsqa.types:Nothing", "newsqa.types has no attribute 'Nothing'"),
    ],
)
def test_schema_references_that_do_not_resolve_exit_2(
    server: FakeOpenAI,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    spec: str,
    message: str,
) -> None:
    args = ["extract", str(tmp_path / "missing.txt"), "--schema", spec.format(tmp=tmp_path)]
    assert main([*args, *_endpoint(server)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert server.requests == []


def test_batch_task_extract_appends_lines_and_resumes(
    server: FakeOpenAI,
    articles: Path,
    talks_schema: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "facts.jsonl"
    server.script = [_talks(3, "Geneva"), _talks(None, "<Doha>")]
    args = ["batch", str(articles), "-o", str(out), "--task", "extract"]
    args += ["--schema", str(talks_schema), *_endpoint(server)]
    assert main(args) == 0
    assert "2 done, 0 failed, 0 already done" in capsys.readouterr().out
    assert main(args) == 0
    assert "0 done, 0 failed, 2 already done" in capsys.readouterr().out
    assert len(server.requests) == 2
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(line["id"], line["schema"]) for line in lines] == [("a", "Talks"), ("b", "Talks")]
    assert lines[0]["result"]["value"] == {"casualties": 3, "place": "Geneva"}
    changed = {**TALKS, "properties": {**TALKS["properties"], "side": {"type": "string"}}}
    talks_schema.write_text(json.dumps(changed))
    server.script = [_talks(3, "Geneva", side=None), _talks(None, "<Doha>", side=None)]
    assert main(args) == 0  # another schema: every document runs again
    assert "2 done, 0 failed, 0 already done" in capsys.readouterr().out


def test_batch_extract_shows_the_examples_reads_passes_and_reruns_when_they_change(
    server: FakeOpenAI,
    articles: Path,
    talks_schema: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    example = tmp_path / "examples.json"
    shown = [{"text": "Two died in Lviv. Envoys met in Oslo.", "value": {"casualties": 2}}]
    example.write_text(json.dumps(shown))
    out = tmp_path / "facts.jsonl"
    first, second = _talks(3, "Geneva"), _talks(None, "<Doha>")
    server.script = [first, first, second, second] * 2
    args = ["batch", str(articles), "-o", str(out), "--task", "extract", "--passes", "2"]
    args += ["--schema", str(talks_schema), "--examples", str(example), *_endpoint(server)]
    assert main([*args, "--concurrency", "1"]) == 0
    assert "2 done, 0 failed, 0 already done" in capsys.readouterr().out
    prompts = [r["messages"][-1]["content"] for r in server.requests]
    assert len(prompts) == 4  # two passes over each of the two articles
    assert all("Two died in Lviv." in r["messages"][1]["content"] for r in server.requests)
    assert sum("Values already found" in prompt for prompt in prompts) == 2  # pass 2 differs
    shown[0]["text"] = "Two died in Lviv. Envoys met in Bern."
    example.write_text(json.dumps(shown))
    assert main([*args, "--concurrency", "1"]) == 0  # another example: every document again
    assert "2 done, 0 failed, 0 already done" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--task", "extract"], "--task extract needs --schema"),
        (["--task", "summarize", "--schema", "x.json"], "--schema, --instructions, --examples"),
        (["--task", "ask", "-Q", "Who?", "--instructions", "x"], "are for --task extract"),
        (["--task", "summarize", "--passes", "2"], "are for --task extract"),
        (["--task", "stances", "--examples", "x.json"], "are for --task extract"),
        (["--task", "ask", "-Q", "Who?", "--focus"], "are for --task extract"),
    ],
)
def test_batch_schema_options_belong_to_the_extract_task(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    assert main(["batch", str(tmp_path), "-o", str(tmp_path / "o.jsonl"), *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_a_value_that_cannot_be_kept_is_named_with_its_reason_and_the_rest_printed(
    server: FakeOpenAI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schema = {
        **TALKS,
        "properties": {**TALKS["properties"], "day": {"type": "string", "format": "date"}},
    }
    path = _write(tmp_path, "dated.json", schema)
    (tmp_path / "a.txt").write_text(
        "Three people died in Kharkiv. Envoys met in Geneva on 4 November."
    )
    server.script = [_talks(3, "Geneva", day="November 4")] * 6
    args = ["extract", str(tmp_path / "a.txt"), "--schema", path, *_endpoint(server)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "  casualties: 3\n" in out and "  place: Geneva\n" in out
    assert '  day: dropped: "November 4": value: Input should be a valid date' in out
    assert main([*args, "--json"]) == 0
    line = json.loads(capsys.readouterr().out)
    assert line["value"] == {"casualties": 3, "place": "Geneva", "day": None}
    assert list(line["dropped"]) == ["day"]


def test_a_required_field_nothing_states_is_named_when_the_document_fails(
    server: FakeOpenAI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "req.json", {**TALKS, "required": ["place"]})
    (tmp_path / "a.txt").write_text("Three people died in Kharkiv.")
    server.script = [_talks(3, None)] * 3
    args = ["extract", str(tmp_path / "a.txt"), "--schema", path, *_endpoint(server)]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert (
        "newsqa: a: no reply fits Talks after 3 tries: place: not stated, and Talks requires it"
        in err
    )
    assert "never validated" not in err and "Traceback" not in err
