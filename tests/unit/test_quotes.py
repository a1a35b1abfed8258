"""The quotes task: who said what, each quotation verbatim, from Python, batch, the CLI and
the notebook, with no model call."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import newsqa
from newsqa import LLMClient, document_from_text, load_document
from newsqa.cli import main

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "seeds" / "000_c21f091162a05fc4.txt"


def _said(text: str) -> list[tuple[str | None, str | None, str]]:
    report = newsqa.run(newsqa.task("quotes"), document_from_text(text, id="t"))
    return [(q.speaker, q.actor, q.text) for q in report.quotes]


def test_the_seed_says_who_said_what_verbatim() -> None:
    doc = load_document(SEED)
    report = newsqa.run(newsqa.task("quotes"), doc)
    assert all(doc.text[q.start : q.end] == q.text for q in report.quotes)
    said = {q.text.split()[0]: (q.speaker, q.actor) for q in report.quotes}
    assert said["I"] == ("Putin", "Russia")  # “…,” Putin remarked
    assert said["We"] == ("Putin", "Russia")  # “…,” he said, right after
    assert said["If"] == ("Peskov", "Russia")
    assert said["Strong"] == ("Zelensky", "Ukraine")
    # Trump's words inside a sentence the Kremlin speaks in are not the Kremlin's
    assert said["within"] == (None, None)


def test_a_speaker_is_named_as_the_text_names_them_and_resolved_in_the_gazetteer() -> None:
    assert _said("“We will not give up our land,” Kremlin spokesman Dmitry Peskov said.") == [
        ("Dmitry Peskov", "Russia", "We will not give up our land,")
    ]
    assert _said("“Talks must start at once,” said Anna Smith, an analyst.") == [
        ("Anna Smith", None, "Talks must start at once,")
    ]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (  # the name just before the verb, the actor from the whole title
            "“We will push at once,” White House national security advisor Jake Sullivan said.",
            ("Jake Sullivan", "United States"),
        ),
        (
            "“They lack diesel,” Maj. Gen. Igor Konashenkov said.",
            ("Maj. Gen. Igor Konashenkov", None),
        ),
        ("“The talks will go on,” Zelensky’s office said.", ("Zelensky’s office", "Ukraine")),
        (  # the mark outside the quotation, British style
            'So far, Russia "has concentrated its pressure in the east", said Reuters.',
            ("Reuters", None),
        ),
        (  # a quotation over two sentences, attributed after its end
            "“This decision was necessary. Russia sees that the West is united,” Polish "
            "President Andrzej Duda said.",
            ("Polish President Andrzej Duda", "Poland"),
        ),
        (  # "she" is the speaker the sentence before names
            "Kavanagh said the strikes could provoke Putin. “Putin has an incentive to push "
            "on,” she said.",
            ("Kavanagh", None),
        ),
        (  # the word that opens the sentence is not part of the name
            "But Zelensky rejected this, saying: “They lied about the civilians.”",
            ("Zelensky", "Ukraine"),
        ),
        (  # a quotation right after the sentence's end
            '"They do not read the news," Fadek said. "But their parents were worried."',
            ("Fadek", None),
        ),
        (  # a name after the mark that does not speak
            'The statement vowed to "prevent the evasion of our measures against Russia," an '
            "admission that Russia has found workarounds.",
            (None, None),
        ),
    ],
)
def test_the_speaker_after_a_closing_mark(text: str, said: tuple[str | None, str | None]) -> None:
    assert _said(text)[0][:2] == said  # the first quotation of the text


def test_a_quotation_after_a_colon_is_the_sentence_speakers() -> None:
    assert _said("Zelensky said: “We will never accept this plan.”") == [
        ("Zelensky", "Ukraine", "We will never accept this plan.")
    ]


def test_he_said_goes_on_with_the_speaker_just_before_and_no_further() -> None:
    text = (
        "“We are ready for talks,” Lavrov told reporters. “The West must listen,” he added. "
        "Markets fell. Prices rose. “Nobody expected this outcome,” she said."
    )
    assert [s[:2] for s in _said(text)] == [
        ("Lavrov", "Russia"),
        ("Lavrov", "Russia"),
        (None, None),
    ]


def test_scare_quotes_are_not_quotations() -> None:
    assert _said("Moscow calls it a “special operation” and Kyiv an invasion.") == []


def _no_client(*_: object, **__: object) -> LLMClient:
    raise AssertionError("the quotes task needs no model client")


def test_batch_runs_quotes_without_a_client(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(newsqa.api, "connect", _no_client)
    out = tmp_path / "quotes.jsonl"
    report = newsqa.batch([load_document(SEED)], newsqa.task("quotes"), out)
    again = newsqa.batch([load_document(SEED)], newsqa.task("quotes"), out)
    assert (report.done, again.skipped) == (1, 1)
    line = json.loads(out.read_text().splitlines()[0])
    assert line["task"] == "quotes"
    assert line["result"]["quotes"][0]["speaker"] == "Putin"


def test_the_cli_runs_quotes_in_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(newsqa, "connect", _no_client)
    out = tmp_path / "quotes.jsonl"
    assert main(["batch", str(SEED), "--task", "quotes", "-o", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["done"] == 1
    assert json.loads(out.read_text())["result"]["quotes"][-1]["actor"] == "Ukraine"


def test_the_cli_runs_quotes_on_an_article(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(newsqa, "connect", _no_client)
    assert main(["run", "quotes", str(SEED)]) == 0
    out = capsys.readouterr().out
    assert "[12] 1815-1911 Zelensky (Ukraine): “Strong and unwavering" in out


def test_the_notebook_and_the_terminal_show_each_quote_with_its_speaker() -> None:
    task = newsqa.task("quotes")
    report = newsqa.run(task, load_document(SEED))
    html = report._repr_html_()
    assert "<td><b>Zelensky (Ukraine)</b></td>" in html
    assert "“Strong and unwavering" in html
    assert "Peskov (Russia): “If the new administration" in task.text(report)
