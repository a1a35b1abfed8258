from __future__ import annotations

import pytest
from pydantic import BaseModel

from newsqa import OutputValidationError, document_from_text
from newsqa.grounding import Passage, SentenceIds
from newsqa.tasks.calls import grounded_call
from tests.conftest import fake_client
from tests.support.fake_openai import FakeOpenAI, Reply


class Ids(BaseModel):
    sentences: SentenceIds(1, 2)  # type: ignore[valid-type]


def test_a_grounded_call_keeps_to_its_own_re_ask_budget() -> None:
    passage = Passage.of([document_from_text("One. Two.")])
    with FakeOpenAI([Reply.json({"sentences": [7]})] * 2) as server:
        client = fake_client(server)  # two re-asks by default
        with pytest.raises(OutputValidationError):
            grounded_call(client, "ask", passage, Ids, max_tokens=20, max_reasks=1, question="?")
        assert len(server.requests) == 2
