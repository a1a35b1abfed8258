"""The ``newsqa`` command: recorded runs end to end, and user errors without tracebacks."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from newsqa import load_document
from newsqa.cli import main
from newsqa.cli.parser import build_parser
from tests.conftest import SEED

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def model_args(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replays never load a model; a recording run needs the real one. Without the
    ``local`` extra, the check ``connect()`` makes of the embedded backend is skipped
    (the cassette answers every request)."""
    try:
        import llama_cpp  # noqa: F401

        from newsqa.config import Settings
        from newsqa.llm.model_files import ensure_model

        return ["--model-path", str(ensure_model(Settings().cache_dir))]
    except Exception:
        from newsqa.llm import local

        monkeypatch.setattr(local, "check_embedded", lambda settings: None)
        return ["--model-path", "/nonexistent/replay-only.gguf"]


@pytest.mark.vcr
def test_stances_json_follows_the_contract(
    model_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["stances", str(SEED), "--json", "-q", *model_args]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == ["schema_version", "topic", "stances"] and out["schema_version"] == 2
    text = SEED.read_text(encoding="utf-8")
    assert {"Russia", "United States", "Ukraine"} <= {s["actor"] for s in out["stances"]}
    for stance in out["stances"]:
        assert set(stance) == {"actor", "label", "label_source", "position", "evidence", "period"}
        assert stance["period"] == {"since": "2024-11-08", "until": "2024-11-08"}  # its date
        for ev in stance["evidence"]:
            assert set(ev) == {"doc", "title", "date", "text", "start", "end", "sentence_id"}
            assert (ev["doc"], ev["date"]) == (SEED.stem, "2024-11-08") and ev["text"] in text


@pytest.mark.vcr
def test_ask_human_output(model_args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    question = "How much military aid has the U.S. committed to Ukraine?"
    assert main(["ask", str(SEED), "-Q", question, "-q", *model_args]) == 0
    human = capsys.readouterr().out
    assert human.startswith(f"Q: {question}\nA: ") and "64.1" in human
    assert "Citations:" in human


@pytest.mark.vcr
def test_ask_multiple_choice_json(
    model_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    question = "How much military aid has the U.S. committed to Ukraine since 2022?"
    choices = ["About 12 billion dollars", "Over 64.1 billion dollars", "About 300 billion dollars"]
    options = [arg for c in choices for arg in ("--choice", c)]
    assert main(["ask", str(SEED), "-Q", question, *options, "--json", "-q", *model_args]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["choice"] == 1 and out["answer"] == choices[1]
    text = SEED.read_text(encoding="utf-8")
    assert out["citations"] and all(c["text"] in text for c in out["citations"])


@pytest.mark.vcr
def test_check_claim_human_output(
    model_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    claim = "The U.S. has committed over 64 billion dollars in military aid to Ukraine"
    assert main(["check", str(SEED), "--claim", claim, "-q", *model_args]) == 0
    human = capsys.readouterr().out
    assert human.startswith(f"Claim: {claim}\nVerdict: agrees\n")
    assert "64.1 billion" in " ".join(human.split())


@pytest.mark.vcr
def test_stance_toward_json(model_args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    targets = ["--target", "Russia", "--target", "Ukraine"]
    assert main(["stance-toward", str(SEED), *targets, "--json", "-q", *model_args]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["target"] for r in out] == ["Russia", "Ukraine"]
    text = load_document(SEED).text
    for result in out:
        assert set(result) == {"schema_version", "target", "label", "evidence"}
        assert result["label"] in {"supports", "opposes", "neutral"}
        assert all(text[e["start"] : e["end"]] == e["text"] for e in result["evidence"])
        assert result["label"] == "neutral" or result["evidence"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "document is empty"),
        (b"  \n\t \n", "document is empty"),
        (b"\x00\x01\x02binary\x00", "binary"),
        ("Caf\u00e9 au lait".encode("latin-1"), "not valid UTF-8"),
    ],
)
@pytest.mark.parametrize("command", ["summarize", "stances", "ask"])
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes,
    message: str,
    command: str,
) -> None:
    path = tmp_path / "input.txt"
    path.write_bytes(content)
    extra = ["-Q", "why?"] if command == "ask" else []
    assert main([command, str(path), *extra, "--model-path", "/nonexistent.gguf"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and lines[0].startswith("newsqa: error:")


def test_missing_file_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summarize", "/no/such/file.txt"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_huge_article_is_refused_without_model_calls(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "huge.txt"
    sentence = "Negotiators met again in Geneva on Monday without a breakthrough. "
    path.write_text(sentence * (5 * 1024 * 1024 // len(sentence)))
    assert path.stat().st_size > 5_000_000
    from tests.support.fake_openai import FakeOpenAI

    with FakeOpenAI([]) as server:  # an empty script: any model call would be seen
        args = ["summarize", str(path), "-q", "--base-url", server.base_url, "--model", "fake"]
        assert main(args) == 2
        assert server.requests == []
    err = capsys.readouterr().err.strip()
    assert "too long" in err and len(err.splitlines()) == 1


def test_unreachable_endpoint_exits_1_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.support.fake_openai import FakeOpenAI

    with FakeOpenAI([]) as server:
        url = server.base_url  # closed when the block ends: nothing listens there
    args = ["ask", str(SEED), "-Q", "Who?", "--base-url", url, "--model", "fake", "-q"]
    assert main(args) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("newsqa: cannot reach")


def test_missing_embedded_model_is_a_clear_config_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "absent.gguf"
    assert main(["ask", str(SEED), "-Q", "Who?", "--model-path", str(missing), "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and ("model file not found" in err[0] or "llama-cpp" in err[0])
    assert str(missing) in err[0] or "llama-cpp" in err[0]


def test_usage_error_and_help_come_from_argparse() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "newsqa.cli", "ask", str(SEED)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "the following arguments are required: -Q/--question" in result.stderr
    assert "Traceback" not in result.stderr


def test_batch_command_appends_results_and_resumes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSQA_PRICE_IN", "1000000")  # 1 per token: easy to check
    monkeypatch.setenv("NEWSQA_PRICE_OUT", "0")
    from tests.support.fake_openai import FakeOpenAI, Reply

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("Kyiv said no.")
    (folder / "b.txt").write_text("Moscow said yes.")
    out = tmp_path / "out.jsonl"
    reply = Reply.json({"sentences": [1], "answer": "no"})
    with FakeOpenAI([reply, reply]) as server:
        args = [
            "batch",
            str(folder),
            "-o",
            str(out),
            "--task",
            "ask",
            "-Q",
            "What was said?",
            "--base-url",
            server.base_url,
            "--model",
            "fake",
            "-q",
        ]
        assert main(args) == 0
        summary = capsys.readouterr().out
        assert "2 done, 0 failed" in summary
        assert "100 tokens in" in summary and "estimated cost $100.0000" in summary
        assert main(args) == 0  # second run: nothing left to do, no model call
        assert "0 done, 0 failed, 2 already done; 0 model calls" in capsys.readouterr().out
        assert len(server.requests) == 2
    assert len(out.read_text().splitlines()) == 2


def test_batch_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["batch", str(tmp_path / "nope"), "-o", "x.jsonl", "--task", "summarize"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert main(["batch", str(tmp_path), "-o", "x.jsonl", "--task", "ask"]) == 2
    assert "needs --question" in capsys.readouterr().err


def test_cli_reuses_cached_responses_unless_told_not_to(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.support.fake_openai import FakeOpenAI, Reply

    reply = Reply.json({"sentences": [14], "answer": "64.1 billion dollars"})
    with FakeOpenAI([reply, reply]) as server:
        args = [
            "ask",
            str(SEED),
            "-Q",
            "How much military aid?",
            "--base-url",
            server.base_url,
            "--model",
            "fake",
            "-q",
            "--json",
        ]
        outputs = []
        for extra in ([], [], ["--no-cache"]):
            assert main([*args, *extra]) == 0
            outputs.append(json.loads(capsys.readouterr().out))
        assert len(server.requests) == 2  # the second run came from the cache
    assert outputs[0] == outputs[1] == outputs[2]
    assert outputs[1]["answer"] == "64.1 billion dollars"


def test_index_then_ask_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "news.sqlite"
    assert main(["index", str(SEED), str(DATA), "--db", str(db), "-q"]) == 0
    out = capsys.readouterr().out
    assert "3 added" in out and "3 documents" in out
    assert main(["index", str(SEED), "--db", str(db), "-q"]) == 0
    assert "1 unchanged" in capsys.readouterr().out
    assert main(["ask", "-Q", "Who?", "--db", str(tmp_path / "absent.sqlite")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no such corpus" in err[0]
    assert main(["ask", "-Q", "Who?", "--db", str(db), str(SEED)]) == 2
    assert "either documents or --db" in capsys.readouterr().err
    assert main(["ask", "-Q", "Who?", str(SEED), "--until", "2024-01-01"]) == 2
    assert "need --db" in capsys.readouterr().err
    assert main(["ask", "-Q", "Who?", "--db", str(db), "--as-of", "2024-01-01"]) == 2
    assert "is --until" in capsys.readouterr().err
    batch = ["batch", str(SEED), "-o", str(tmp_path / "o.jsonl"), "--task", "summarize"]
    assert main([*batch, "--as-of", "2024-06-14"]) == 2
    assert "--as-of is for --task ask" in capsys.readouterr().err


@pytest.mark.parametrize(("as_of", "kept"), [("2024-11-10", True), ("2025-06-01", False)])
def test_ask_as_of_the_day_it_is_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], as_of: str, kept: bool
) -> None:
    from tests.support.fake_openai import FakeOpenAI, Reply

    story = tmp_path / "story.txt"
    story.write_text("date 2024-11-08\nThe senate passed the budget bill.")
    reply = Reply.json({"sentences": [1], "answer": "the budget bill"})
    with FakeOpenAI([reply]) as server:
        code = main(
            [
                "ask",
                str(story),
                "-Q",
                "Which bill did the senate pass this week?",
                "--as-of",
                as_of,
                "--json",
                "--base-url",
                server.base_url,
                "--model",
                "fake",
                "-q",
            ]
        )
    assert code == 0
    assert json.loads(capsys.readouterr().out)["answerable"] is kept


@pytest.mark.vcr
def test_ask_db_cites_article_metadata(
    tmp_path: Path, model_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "news.sqlite"
    assert main(["index", str(SEED), str(DATA), "--db", str(db), "-q"]) == 0
    capsys.readouterr()
    question = "How much military aid has the U.S. committed to Ukraine?"
    assert (
        main(["ask", "-Q", question, "--db", str(db), "--until", "2024-11-08", "-q", *model_args])
        == 0
    )
    out = capsys.readouterr().out
    assert "64.1" in out and f"({SEED.stem}: 2024-11-08" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", "-Q", "x", "--db", "x.sqlite", "--k", "0"], "must be at least 1"),
        (
            ["batch", "in", "-o", "o.jsonl", "--task", "ask", "--concurrency", "-2"],
            "must be at least 1",
        ),
        (["summarize", "x.txt", "--context-tokens", "abc"], "not a whole number"),
        (["ask", "x.txt", "-Q", "x", "--as-of", "soon"], "not a full date"),
        (["ask", "-Q", "x", "--db", "x.sqlite", "--since", "2024-13-01"], "not a full date"),
        (["ask", "-Q", "x", "--db", "x.sqlite", "--until", "Nov 2024"], "not a full date"),
        (["stances", "--db", "x.sqlite", "--since", "yesterday"], "not a full date"),
    ],
)
def test_bad_numbers_and_dates_are_usage_errors(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_os_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "batch",
        str(DATA),
        "-o",
        str(tmp_path),
        "--task",
        "summarize",
        "-q",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--model",
        "fake",
    ]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a regular file" in err[0]
    assert main(["ask", str(SEED), "-Q", "x", "--base-url", "http://[::1"]) == 2
    assert "invalid endpoint" in capsys.readouterr().err
    assert main(["index", "nope.txt", "--db", str(tmp_path / "n.sqlite")]) == 2
    assert not (tmp_path / "n.sqlite").exists()


def _timeline_inputs(tmp_path: Path) -> list[str]:
    late = tmp_path / "late.txt"
    late.write_text("date 2024-03-01 Kyiv rejected the talks.")
    early = tmp_path / "early.txt"
    early.write_text("date 2024-01-01 Kyiv welcomed the talks.")
    return [str(late), str(early)]


def test_timeline_prints_dated_points_with_evidence_and_changes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.support.fake_openai import FakeOpenAI, Reply

    names = Reply.json({"actors": ["Ukraine"]})
    script = [
        names,
        Reply.json({"sentences": [1], "says": "Welcomes talks.", "label": "supports"}),
        names,
        Reply.json({"sentences": [1], "says": "Rejects talks.", "label": "opposes"}),
    ]
    with FakeOpenAI(script * 2) as server:
        args = [
            "timeline",
            *_timeline_inputs(tmp_path),
            "--topic",
            "the talks",
            "--base-url",
            server.base_url,
            "--model",
            "fake",
            "--no-cache",
            "-q",
        ]
        assert main(args) == 0
        human = capsys.readouterr().out.splitlines()
        assert main([*args, "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
    assert human[0] == "Topic: the talks"
    assert "Ukraine: 2 point(s), 1 change(s)" in human
    first, second = (i for i, line in enumerate(human) if line.startswith("  2024-"))
    assert human[first].split() == ["2024-01-01", "supports", "early:", "Welcomes", "talks."]
    assert human[second].split()[:4] == ["2024-03-01", "opposes", "CHANGED", "late:"]
    assert human[second + 1].strip() == 'evidence [1] "Kyiv rejected the talks." (0-24)'
    assert data["topic"] == "the talks"
    points = data["actors"]["Ukraine"]
    assert [(p["date"], p["doc"], p["label"], p["changed"]) for p in points] == [
        ("2024-01-01", "early", "supports", False),
        ("2024-03-01", "late", "opposes", True),
    ]
    assert points[1]["evidence"][0] == {
        "doc": "late",
        "title": None,
        "date": "2024-03-01",
        "text": "Kyiv rejected the talks.",
        "start": 0,
        "end": 24,
        "sentence_id": 1,
    }


def test_timeline_without_actors_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.support.fake_openai import FakeOpenAI, Reply

    path = tmp_path / "a.txt"
    path.write_text("date 2024-01-01 The weather was mild.")
    with FakeOpenAI([Reply.json({"actors": []})]) as server:
        assert (
            main(["timeline", str(path), "--base-url", server.base_url, "--model", "fake", "-q"])
            == 0
        )
    assert "No actor takes a position" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: [str(d / "absent.txt")], "no such file"),
        (lambda d: [str(d / "empty.txt")], "document is empty"),
        (lambda d: [str(d / "bin.txt"), str(d / "empty.txt")], "1 more input(s) that cannot"),
        (lambda d: [str(d / "nothing")], "no .txt, .md or .jsonl files"),
    ],
)
def test_timeline_user_errors_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: Any, message: str
) -> None:
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "ok.txt").write_text("Kyiv said no.")
    (tmp_path / "bin.txt").write_bytes(b"\x00\x01binary")
    (tmp_path / "nothing").mkdir()
    # no model behind this address: an error must come before any call
    assert (
        main(
            [
                "timeline",
                *make(tmp_path),
                "--base-url",
                "http://127.0.0.1:9/v1",
                "--model",
                "fake",
                "-q",
            ]
        )
        == 2
    )
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert captured.out == "" and len(lines) == 1
    assert lines[0].startswith("newsqa: error:") and message in lines[0]
    assert "Traceback" not in captured.err


def test_timeline_needs_files_or_a_corpus() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "newsqa.cli", "timeline", "--topic", "x"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2 and "give articles, or --db CORPUS" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["stances", "--db", "absent.sqlite"], "no such corpus"),
        (["stances", "--since", "2024-01-01"], "need --db"),
        (["stances", "--k", "3"], "need --db"),
        (["stances"], "give an article, or --db"),
        (["stances", str(SEED), "--db", "x.sqlite"], "either an article or --db"),
        (
            ["stances", "--db", "x.sqlite", "--since", "2024-02-01", "--until", "2024-01-01"],
            "--since is after --until",
        ),
    ],
)
def test_corpus_stances_user_errors_exit_2_with_one_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_corpus_stances_on_a_corrupt_db_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"not a database" * 100)
    assert main(["stances", "--db", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a newsqa corpus" in err[0]
    with pytest.raises(SystemExit) as info:
        main(["stances", "--db", str(bad), "--until", "2024-02-30"])
    assert info.value.code == 2


def test_corpus_stances_output_dates_every_evidence_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.support.fake_openai import FakeOpenAI, Reply

    db = tmp_path / "news.sqlite"
    assert main(["index", str(SEED), str(DATA), "--db", str(db), "-q"]) == 0
    capsys.readouterr()
    text = load_document(SEED).text
    # every actor cites the first sentence it is shown (read from its own prompt)
    with FakeOpenAI([]) as server:
        common = [
            "stances",
            "--db",
            str(db),
            "--base-url",
            server.base_url,
            "--model",
            "fake",
            "-q",
            "--no-cache",
        ]
        names = Reply.json({"actors": []})
        empty = Reply.json({"sentences": [], "says": "-", "label": "unclear"})
        server.script = [names, *[empty] * 3]
        assert main([*common, "--until", "2024-11-08", "--max-actors", "3"]) == 0
        assert "No actor takes a position" in capsys.readouterr().out
        prompts = [r["messages"][-1]["content"] for r in server.requests]
        assert len(prompts) == 4
        assert all('date="2024-11-08"' in p and "injection" not in p for p in prompts)
        # each actor's own sentences are listed last, best first
        firsts = [int(p.rsplit("first: [", 1)[1].split("]", 1)[0]) for p in prompts[1:]]

        def cite_firsts() -> list[Reply]:
            return [
                names,
                *(
                    Reply.json({"sentences": [n], "says": "Backs talks.", "label": "supports"})
                    for n in firsts
                ),
            ]

        server.script = cite_firsts()
        assert main([*common, "--until", "2024-11-08", "--max-actors", "3", "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        server.script = cite_firsts()
        assert main([*common, "--until", "2024-11-08", "--max-actors", "3"]) == 0
        human = capsys.readouterr().out
    assert out["until"] == "2024-11-08" and len(out["stances"]) == 3
    for stance in out["stances"]:
        for ev in stance["evidence"]:
            assert ev["date"] == "2024-11-08" and ev["doc"] == SEED.stem
            assert text[ev["start"] : ev["end"]] == ev["text"]
    assert human.startswith("Topic: peace talks to end the war in Ukraine (… to 2024-11-08)")
    assert human.count(f"2024-11-08 {SEED.stem} [") == 3


@pytest.mark.parametrize(
    "written", ["2024-11-08", "November 8, 2024", "8 Nov 2024", "Fri, 08 Nov 2024 10:00:00 +0000"]
)
def test_since_and_until_take_the_date_formats_documents_take(written: str) -> None:
    args = build_parser().parse_args(["ask", "-Q", "x", "--db", "x.sqlite", "--until", written])
    assert args.until == datetime.date(2024, 11, 8)


def test_actor_options_reach_the_stance_call_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.support.fake_openai import FakeOpenAI, Reply

    path = tmp_path / "a.txt"
    path.write_text("Acmeland said it backs the talks. Russia said it was ready for talks.")
    script = [
        Reply.json({"actors": ["Russia"]}),
        Reply.json({"sentences": [1], "says": "Backs the talks.", "label": "supports"}),
        Reply.json({"sentences": [2], "says": "Ready for talks.", "label": "supports"}),
    ]
    with FakeOpenAI(script) as server:
        args = ["stances", str(path), "--topic", "talks", "--json", "-q"]
        args += ["--actor", "Acme Union=Acmeland", "--base-url", server.base_url, "--model", "f"]
        assert main(args) == 0
        prompts = [str(r["messages"][-1]["content"]) for r in server.requests]
    # the user's actor comes first although the model named only Russia
    assert (
        "Actor: <actor>Acme Union</actor> (named in the text as: <aliases>Acmeland" in (prompts[1])
    )
    assert [s["actor"] for s in json.loads(capsys.readouterr().out)["stances"]] == [
        "Acme Union",
        "Russia",
    ]


@pytest.mark.parametrize("value", ["=Orban", "Hungary=", "Hungary= , ", " "])
def test_a_malformed_actor_option_is_a_usage_error(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["stances", str(SEED), f"--actor={value}"])
    assert exit_.value.code == 2
    assert "expected NAME or NAME=ALIAS,ALIAS" in capsys.readouterr().err
