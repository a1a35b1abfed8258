"""Structured output: a Pydantic model in, a validated instance out.

The request asks for JSON in the strongest way the endpoint supports —
``response_format`` json_schema (strict), then JSON mode, then the schema in the
prompt — and falls back when the endpoint rejects a mode. The reply is validated
with Pydantic (plus any task context, such as the sentence ids that exist); on a
validation error the model is re-asked with its answer and the error, a bounded
number of times. The caller's messages are never mutated.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from newsqa.errors import Attempt, LLMError, OutputValidationError, ProviderError
from newsqa.llm.client import LLMClient, Message
from newsqa.types import Usage

__all__ = ["MODES", "Structured", "generate", "parse_reply", "read_json", "strict_schema"]

M = TypeVar("M", bound=BaseModel)
MODES = ("json_schema", "json_object", "prompt")
SchemaHook = Callable[[dict[str, Any]], dict[str, Any]]
_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


@dataclass(frozen=True)
class Structured(Generic[M]):
    """A validated output with the usage of every try it took."""

    value: M
    usage: Usage
    attempts: int


@lru_cache(maxsize=128)
def strict_schema(model: type[BaseModel]) -> dict[str, Any]:
    """JSON schema of ``model`` in OpenAI strict form: refs inlined, every property
    required, no additional properties, titles and defaults dropped.

    Cached per model class: treat the returned dict as read-only."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return walk(copy.deepcopy(defs[node["$ref"].split("/")[-1]]))
            out = {k: walk(v) for k, v in node.items() if k not in ("title", "default")}
            if out.get("type") == "object" and "properties" in out:
                out["required"] = list(out["properties"])
                out["additionalProperties"] = False
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    result: dict[str, Any] = walk(schema)
    return result


def _response_format(mode: str, name: str, schema: dict[str, Any]) -> dict[str, Any] | None:
    if mode == "json_schema":
        return {
            "type": "json_schema",
            "json_schema": {"name": name, "schema": schema, "strict": True},
        }
    if mode == "json_object":
        return {"type": "json_object"}
    return None


def _with_schema_in_prompt(messages: list[Message], schema: dict[str, Any]) -> list[Message]:
    last = dict(messages[-1])
    last["content"] = (
        f"{last['content']}\n\nReply with one JSON object only, no prose, matching this "
        f"JSON schema:\n{json.dumps(schema, separators=(',', ':'))}"
    )
    return [*messages[:-1], last]


def _format_errors(error: ValidationError | ValueError) -> str:
    if isinstance(error, ValidationError):
        lines = []
        for item in error.errors(include_url=False)[:8]:
            where = ".".join(str(p) for p in item["loc"]) or "(root)"
            lines.append(f"- {where}: {item['msg']}")
        return "\n".join(lines)
    return f"- {error}"


def parse_reply(text: str, output_type: type[M], context: dict[str, Any] | None) -> M:
    """Validate a raw reply (JSON, maybe in a Markdown fence) as ``output_type``.

    Raises:
        ValueError: not JSON.
        ValidationError: JSON that does not validate.
    """
    return output_type.model_validate(read_json(text), context=context)


def read_json(text: str) -> Any:
    """The JSON value of a raw reply (maybe in a Markdown fence).

    Raises:
        ValueError: not JSON.
    """
    fenced = _FENCE.match(text)
    payload = fenced.group(1) if fenced else text
    try:
        return json.loads(payload)
    except json.JSONDecodeError as e:
        raise ValueError(f"reply is not valid JSON ({e})") from e


def _is_format_rejection(error: ProviderError) -> bool:
    return error.status_code in (400, 422) and any(
        word in str(error).lower() for word in ("response_format", "json_schema", "json_object")
    )


def generate(
    client: LLMClient,
    messages: Sequence[Message],
    output_type: type[M],
    *,
    max_tokens: int,
    context: dict[str, Any] | None = None,
    schema_hook: SchemaHook | None = None,
    max_reasks: int | None = None,
) -> Structured[M]:
    """Ask for an ``output_type`` instance and validate it, re-asking on errors.

    Args:
        client: the LLM client (its ``structured_mode`` may be downgraded).
        messages: the conversation; not mutated.
        output_type: Pydantic model the reply must validate against.
        max_tokens: output cap per try (keeps a small model from looping).
        context: passed to Pydantic validators (e.g. the valid sentence ids).
        schema_hook: adjusts the JSON schema sent to the model (e.g. id enums).
        max_reasks: re-asks after the first try; default ``client.settings.max_reasks``.

    Raises:
        OutputValidationError: no try validated; carries every raw output.
        LLMError: the endpoint failed.
    """
    schema = strict_schema(output_type)
    if schema_hook is not None:
        schema = schema_hook(schema)
    budget = client.settings.max_reasks if max_reasks is None else max_reasks
    base: list[Message] = [dict(m) for m in messages]
    conversation = list(base)
    attempts: list[Attempt] = []
    usage = Usage()
    while True:
        mode = client.structured_mode
        sent = (
            conversation if mode == "json_schema" else _with_schema_in_prompt(conversation, schema)
        )
        try:
            completion = client.chat(
                sent,
                max_tokens=max_tokens,
                response_format=_response_format(mode, output_type.__name__, schema),
                store=False,  # cached only once it validates
            )
        except LLMError as e:
            if isinstance(e, ProviderError) and _is_format_rejection(e) and mode != MODES[-1]:
                client.structured_mode = MODES[MODES.index(mode) + 1]
                usage = usage + (e.usage or Usage())  # the rejected request was sent too
                continue
            e.attempts, e.usage = attempts, usage + (e.usage or Usage())  # earlier tries too
            raise
        usage = usage + completion.usage
        try:
            value = parse_reply(completion.text, output_type, context)
        except (ValidationError, ValueError) as e:
            detail = _format_errors(e)
            if completion.finish_reason == "length":
                detail += f"\n- the reply was cut off at {max_tokens} tokens: be more concise"
            attempts.append(Attempt(raw=completion.text, error=detail))
            if len(attempts) > budget:
                raise OutputValidationError(
                    f"model output failed validation after {len(attempts)} tries:\n{detail}",
                    attempts=attempts,
                    usage=usage,
                ) from e
            conversation = [
                *base,
                {"role": "assistant", "content": completion.text},
                {
                    "role": "user",
                    "content": (
                        "Your reply was rejected:\n"
                        + detail
                        + "\nReply again with the corrected JSON object only."
                    ),
                },
            ]
            continue
        client.remember(completion)
        return Structured(value=value, usage=usage, attempts=len(attempts) + 1)
