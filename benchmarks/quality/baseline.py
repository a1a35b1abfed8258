"""The naive baseline: one plain prompt per item on the same model, no sentence ids,
no per-target decomposition, no grounding checks; the reply is parsed leniently."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from newsqa.documents import count_tokens
from newsqa.llm.client import LLMClient
from newsqa.llm.structured import strict_schema
from newsqa.types import Document, Usage

M = TypeVar("M", bound=BaseModel)

PROMPTS = Path(__file__).resolve().parent / "prompts"
MAX_TOKENS = {
    "qa": 8,
    "qa_json": 12,
    "qa_open": 60,
    "ruw": 16,
    "fnc": 4,
    "summary": 160,
    "stances": 240,
    "extract": 96,
}


def _prompt(name: str, **values: str) -> str:
    return string.Template((PROMPTS / f"{name}.md").read_text(encoding="utf-8")).substitute(values)


def lead(doc: Document, max_tokens: int) -> str:
    """The document's first sentences within ``max_tokens`` (at least one)."""
    kept: list[str] = []
    spent = 0
    for s in doc.sentences:
        spent += count_tokens(s.text) + 1
        if kept and spent > max_tokens:
            break
        kept.append(s.text)
    return " ".join(kept)


def ask(client: LLMClient, prompt: str, task: str) -> tuple[str, Usage]:
    reply = client.chat([{"role": "user", "content": prompt}], max_tokens=MAX_TOKENS[task])
    return reply.text, reply.usage


def qa(
    client: LLMClient, docs: list[Document], question: str, choices: list[str], budget: int
) -> tuple[int | None, str | None, Usage]:
    """(choice index, cited document id, usage); each article's lead gets an equal share."""
    share = max(50, budget // len(docs))
    articles = "\n\n".join(
        f"Article {i} ({d.date}): {d.title or ''}\n{lead(d, share)}" for i, d in enumerate(docs, 1)
    )
    options = "\n".join(f"{string.ascii_uppercase[i]}. {c}" for i, c in enumerate(choices))
    text, usage = ask(
        client, _prompt("qa", articles=articles, question=question, options=options), "qa"
    )
    m = re.search(r"\b([A-J])\b", text)
    choice = string.ascii_uppercase.index(m.group(1)) if m else None
    if choice is not None and choice >= len(choices):
        choice = None
    n = re.search(r"\b(\d+)\b", text[m.end() :] if m else text)
    cited = docs[int(n.group(1)) - 1].id if n and 1 <= int(n.group(1)) <= len(docs) else None
    return choice, cited, usage


def ruw(client: LLMClient, text: str) -> tuple[dict[str, str], Usage]:
    """Labels toward Russia and Ukraine (NONE when the reply does not say)."""
    reply, usage = ask(client, _prompt("ruw", text=" ".join(text.split())), "ruw")
    labels = {}
    for target in ("Russia", "Ukraine"):
        m = re.search(rf"{target}\W+(FAVOR|AGAINST|NONE)", reply, re.IGNORECASE)
        labels[target] = m.group(1).upper() if m else "NONE"
    return labels, usage


def fnc(client: LLMClient, headline: str, article: Document, budget: int) -> tuple[str, Usage]:
    """agree / disagree / discuss (discuss when the reply does not say)."""
    reply, usage = ask(
        client, _prompt("fnc", headline=headline, article=lead(article, budget)), "fnc"
    )
    m = re.search(r"disagree|agree|discuss", reply.lower())
    return (m.group(0) if m else "discuss"), usage


def summary(client: LLMClient, article: Document, budget: int) -> tuple[str, Usage]:
    return ask(client, _prompt("summary", article=lead(article, budget)), "summary")


_STANCE_LINE = re.compile(
    r"^\W*([A-Z][\w .'-]+?)\s*[|:-]\s*(supports|opposes|conditional|neutral)\b\W*(.*)$",
    re.IGNORECASE | re.MULTILINE,
)


def stances(
    client: LLMClient, article: Document, topic: str, budget: int
) -> tuple[list[tuple[str, str, str]], Usage]:
    """(country, label, quote) lines of one plain prompt over the article's lead."""
    reply, usage = ask(
        client, _prompt("stances", article=lead(article, budget), topic=topic), "stances"
    )
    rows = [
        (m.group(1).strip(), m.group(2).lower(), m.group(3).strip().strip('"“”'))
        for m in _STANCE_LINE.finditer(reply)
    ]
    return rows, usage


def json_object(text: str) -> dict[str, Any] | None:
    """The JSON object in a reply: the whole reply, else the span from its first ``{``
    to its last ``}`` (prose or a code fence around it); ``None`` when neither is one."""
    candidates = [text]
    if "{" in text and "}" in text:
        candidates.append(text[text.index("{") : text.rindex("}") + 1])
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def lenient_instance(text: str, model: type[M]) -> tuple[M | None, list[str]]:
    """``model`` filled from the reply, leniently: top-level fields that fail validation
    fall back to their default (the names are returned); ``None`` when the reply holds
    no JSON object or the rest still does not validate."""
    data = json_object(text)
    if data is None:
        return None, []
    data = {k: v for k, v in data.items() if k in model.model_fields}
    dropped: list[str] = []
    while True:
        try:
            return model.model_validate(data), dropped
        except ValidationError as e:
            bad = {str(err["loc"][0]) for err in e.errors() if err["loc"]} & set(data)
            if not bad:
                return None, dropped
            dropped += sorted(bad)
            data = {k: v for k, v in data.items() if k not in bad}


def extract(
    client: LLMClient, article: Document, model: type[M], budget: int
) -> tuple[tuple[M | None, list[str], str], Usage]:
    """((instance or None, dropped fields, raw reply), usage) of one prompt: the
    article's lead, "Fill this JSON schema", the schema; strict json_schema output."""
    schema = strict_schema(model)
    prompt = _prompt(
        "extract", article=lead(article, budget), schema=json.dumps(schema, ensure_ascii=False)
    )
    reply = client.chat(
        [{"role": "user", "content": prompt}],
        max_tokens=MAX_TOKENS["extract"],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": model.__name__, "schema": schema, "strict": True},
        },
    )
    value, dropped = lenient_instance(reply.text, model)
    return (value, dropped, reply.text), reply.usage


def stuffed(docs: list[Document], budget: int) -> str:
    """The articles' leads, numbered, each an equal share of ``budget`` tokens."""
    share = max(50, budget // len(docs))
    return "\n\n".join(
        f"Article {i} ({d.date}): {d.title or ''}\n{lead(d, share)}" for i, d in enumerate(docs, 1)
    )


def _json_reply(
    client: LLMClient, prompt: str, name: str, properties: dict[str, Any], task: str
) -> tuple[dict[str, Any], Usage]:
    """One user prompt whose reply is an object of ``properties`` (strict json_schema,
    so the embedded model's grammar constrains it), parsed leniently."""
    schema = {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }
    reply = client.chat(
        [{"role": "user", "content": prompt}],
        max_tokens=MAX_TOKENS[task],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": name, "schema": schema, "strict": True},
        },
    )
    return json_object(reply.text) or {}, reply.usage


def qa_letter(
    client: LLMClient, docs: list[Document], question: str, choices: list[str], budget: int
) -> tuple[int, Usage]:
    """The strong raw baseline for multiple choice: the articles' leads stuffed up to
    ``budget`` tokens in one prompt, the reply a letter constrained by the grammar
    (it cannot abstain); -1 when the reply holds none."""
    letters = list(string.ascii_uppercase[: len(choices)])
    options = "\n".join(f"{letter}. {c}" for letter, c in zip(letters, choices, strict=True))
    prompt = _prompt(
        "qa_letter", articles=stuffed(docs, budget), question=question, options=options
    )
    data, usage = _json_reply(
        client, prompt, "Choice", {"choice": {"type": "string", "enum": letters}}, "qa_json"
    )
    choice = data.get("choice")
    return (letters.index(choice) if choice in letters else -1), usage


def qa_open(
    client: LLMClient, docs: list[Document], question: str, budget: int
) -> tuple[str | None, Usage]:
    """The raw baseline for free-text questions: the same stuffed prompt (so it shares
    the multiple-choice prompt's prefix), the reply ``{"answer": text or null}``."""
    prompt = _prompt("qa_open", articles=stuffed(docs, budget), question=question)
    text = {"anyOf": [{"type": "string", "maxLength": 200}, {"type": "null"}]}
    data, usage = _json_reply(client, prompt, "Answer", {"answer": text}, "qa_open")
    answer = data.get("answer")
    if not isinstance(answer, str) or answer.strip().lower() in _NO_ANSWER:
        return None, usage
    return answer.strip(), usage


_NO_ANSWER = {"", "null", "none", "n/a", "unknown"}
"""Replies a raw model writes as a string when it means that the articles do not say."""
