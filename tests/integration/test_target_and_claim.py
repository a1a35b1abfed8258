"""stance_toward and check_claim against a scripted loopback model: what the library
does with the replies (evidence mapping, label rules, focusing long texts)."""

from __future__ import annotations

import pytest

from newsqa import check_claim, document_from_text, stance_toward, stances_toward
from newsqa.types import Document
from tests.conftest import fake_client
from tests.support.fake_openai import FakeOpenAI, Reply


def _user(request: dict[str, object]) -> str:
    messages = request["messages"]
    assert isinstance(messages, list)
    return str(messages[-1]["content"])


def test_stance_toward_maps_evidence_and_shows_gazetteer_names(seed: Document) -> None:
    script = [Reply.json({"Russia": {"sentences": [8], "label": "favor"}})]
    with FakeOpenAI(script) as server:
        result = stance_toward(seed, "Russia", client=fake_client(server))
        prompt = _user(server.requests[0])
    assert "toward <target>Russia</target>?" in prompt
    assert result.label == "supports" and result.evidence[0].sentence_id == 8
    ev = result.evidence[0]
    assert seed.text[ev.start : ev.end] == ev.text


def test_stances_toward_judges_all_targets_in_one_call_each_with_evidence() -> None:
    doc = document_from_text("Russia is wrong. Ukraine will win.")
    script = [
        Reply.json(
            {
                "Russia": {"sentences": [], "label": "against"},  # no evidence: re-asked
                "Ukraine": {"sentences": [2], "label": "favor"},
            }
        ),
        Reply.json(
            {
                "Russia": {"sentences": [1], "label": "against"},
                "Ukraine": {"sentences": [2], "label": "favor"},
            }
        ),
    ]
    with FakeOpenAI(script) as server:
        russia, ukraine = stances_toward(doc, ["Russia", "Ukraine"], client=fake_client(server))
        assert len(server.requests) == 2  # both targets in one call, re-asked once
        prompt = _user(server.requests[0])
    assert "toward <target>Russia</target> and <target>Ukraine</target>?" in prompt
    assert russia.label == "opposes" and russia.evidence[0].text == "Russia is wrong."
    assert ukraine.label == "supports" and ukraine.evidence[0].text == "Ukraine will win."


def test_stance_toward_long_text_shows_only_sentences_naming_the_target() -> None:
    filler = " ".join(f"Weather report number {i} says rain again." for i in range(150))
    doc = document_from_text(f"{filler} The Kremlin rejected the plan. {filler}")
    target_id = next(s.id for s in doc.sentences if "Kremlin" in s.text)
    script = [Reply.json({"Russia": {"sentences": [target_id], "label": "none"}})]
    with FakeOpenAI(script) as server:
        stance_toward(doc, "Russia", client=fake_client(server))
        prompt = _user(server.requests[0])
    assert f"[{target_id}] The Kremlin rejected the plan." in prompt
    assert prompt.count("Weather report") < 40


@pytest.mark.parametrize("targets", [[], ["  "], ["Russia", "Russia"], list("abcdef")])
def test_stances_toward_refuses_bad_targets(seed: Document, targets: list[str]) -> None:
    with FakeOpenAI([]) as server, pytest.raises(ValueError, match="target"):
        stances_toward(seed, targets, client=fake_client(server))


def test_check_claim_keeps_grounded_verdicts_and_demotes_ungrounded(seed: Document) -> None:
    claim = "The US has given Ukraine over 64 billion dollars in military aid"
    script = [
        Reply.json({"sentences": [14], "label": "agrees"}),
        Reply.json({"sentences": [], "label": "disagrees"}),
    ]
    with FakeOpenAI(script) as server:
        first = check_claim(seed, claim, client=fake_client(server))
        second = check_claim(seed, claim, client=fake_client(server))
        prompt = _user(server.requests[0])
    assert f"Claim: <claim>{claim}</claim>" in prompt
    assert first.label == "agrees" and "64.1 billion" in first.evidence[0].text
    assert second.label == "discusses" and second.evidence == []


def test_check_claim_on_empty_document_is_unrelated_without_a_call() -> None:
    doc = Document(id="empty", text="")
    with FakeOpenAI([]) as server:
        result = check_claim(doc, "Anything", client=fake_client(server))
        assert server.requests == []
    assert result.label == "unrelated"
