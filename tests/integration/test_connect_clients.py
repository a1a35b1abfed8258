"""``connect()`` with a ready ``openai`` client (Azure, a gateway's) or extra headers."""

from __future__ import annotations

import openai
import pytest

import newsqa
from tests.support.fake_openai import FakeOpenAI, Reply

GOOD = Reply.json({"sentences": [1], "answer": "no"})
DOC = "Kyiv said no to the plan on Monday."


def test_default_headers_go_with_every_request() -> None:
    with FakeOpenAI([GOOD]) as server:
        with newsqa.connect(
            base_url=server.base_url,
            model="fake",
            cache=False,
            default_headers={"X-Gateway-Key": "gw-1", "X-Tenant": "news"},
        ) as client:
            newsqa.ask(DOC, "What was said?", client=client)
        sent = server.headers[0]
    assert (sent["x-gateway-key"], sent["x-tenant"]) == ("gw-1", "news")


def test_an_openai_client_is_used_as_it_is_and_left_open() -> None:
    with FakeOpenAI([GOOD]) as server:
        sdk = openai.OpenAI(
            base_url=server.base_url, api_key="sk-own", default_headers={"X-Own": "yes"}
        )
        with newsqa.connect(openai_client=sdk, model="fake", cache=False) as client:
            answer = newsqa.ask(DOC, "What was said?", client=client)
            assert client.endpoint == f"fake at {server.base_url.split('/')[2]}"
        sent = server.headers[0]
        assert not sdk.is_closed()
        sdk.close()
    assert answer.answer == "no"
    assert sent["x-own"] == "yes" and sent["authorization"] == "Bearer sk-own"


def test_an_azure_client_posts_to_its_deployment() -> None:
    with FakeOpenAI([GOOD]) as server:
        azure = openai.AzureOpenAI(
            azure_endpoint=server.base_url.removesuffix("/v1"),
            api_key="azure-key",
            api_version="2024-06-01",
        )
        with newsqa.connect(openai_client=azure, model="my-deployment", cache=False) as client:
            newsqa.ask(DOC, "What was said?", client=client)
        path, sent = server.paths[0], server.headers[0]
        azure.close()
    assert path == "/openai/deployments/my-deployment/chat/completions?api-version=2024-06-01"
    assert sent["api-key"] == "azure-key"


def test_an_openai_client_needs_a_model_name() -> None:
    sdk = openai.OpenAI(base_url="http://127.0.0.1:9/v1", api_key="k")
    with pytest.raises(newsqa.ConfigError, match="NEWSQA_MODEL"):
        newsqa.connect(openai_client=sdk, cache=False)
    sdk.close()
