"""Grounded extraction into the caller's own Pydantic model.

The caller's model is read into a *shape* (groups, lists and leaf fields) and
turned into a draft schema in which every leaf becomes
``{"sentences": [numbers], "value": ...}``: the model cites the sentences that
state a value before it writes the value, and the numbers it may cite are only
those shown (constrained decoding and validation). Each value is then checked
against its own cited sentences: numbers must be written there, text must share
most of its words with them, a date needs its year, month or day named. A value
that fails is re-asked with the error; if it still fails it becomes ``None``
with no evidence, and so does a value that does not validate, a list item or an
optional field its model cannot be built without: each is reported (path and
reason) and the rest is kept. Nothing is invented. The caller's own validators
run on the final object.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import enum
import json
import re
import threading
import types
import typing
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property, lru_cache
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar, Union

from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    RootModel,
    ValidationError,
    ValidationInfo,
    create_model,
    model_validator,
)
from pydantic.fields import FieldInfo

from newsqa.documents.lexical import (
    WORD,
    amounts,
    content_tokens,
    currencies,
    names_in,
    stems,
)
from newsqa.documents.sentences import split_sentences
from newsqa.errors import OutputValidationError, SchemaError
from newsqa.grounding import Passage, SentenceIds, states, supported_by
from newsqa.grounding.focus import focus
from newsqa.grounding.limits import MAX_WINDOWS, check_windows
from newsqa.grounding.spans import date_at, number_at, value_span
from newsqa.llm.client import LLMClient
from newsqa.llm.structured import read_json, strict_schema
from newsqa.prompts import USER_TEXT_CHARS, one_line, render, user_text
from newsqa.tasks.base import Task, needs_client, register
from newsqa.tasks.calls import grounded_call
from newsqa.tasks.extract_merge import Reading, join_evidence, merge, same_value_key
from newsqa.thresholds import TEXT_SHARE
from newsqa.types import Document, Evidence, Extraction, Sentence, Usage, ValueSpan

__all__ = [
    "MAX_CHOICES",
    "MAX_DEPTH",
    "MAX_EXAMPLES",
    "MAX_FIELDS",
    "MAX_ITEMS",
    "READERS",
    "Example",
    "Extract",
    "check_examples",
    "example_turns",
    "extract",
    "fields_guide",
    "schema_text",
    "shape_of",
]

M = TypeVar("M", bound=BaseModel)

MAX_FIELDS = 30
"""Leaf fields a model may have (a list's item fields count once)."""
MAX_CHOICES = 50
"""Values an enum or ``Literal`` field may have."""
MAX_DEPTH = 4
"""Nesting of models and lists."""
MAX_ITEMS = 8
"""Items the model may write into one list field."""
MAX_TEXT = 300
"""Characters of one text value."""
COPY_SHARE = 0.9
COPY_MIN_WORDS = 8
"""A text value holding this share of the content words of a sentence of at least this
many is the sentence copied, not a value: it is re-asked for the shortest words that
answer the field (and kept if the model insists: it is stated)."""
LIST_SEPARATORS = re.compile(r"\s*(?:[,;&]|\band\b)\s*")
"""Where a text list item that no sentence states whole is read as several items: a
small model writes three names as one item ("Sylvia Blackburn, Brian Wright, Judge
Michael Kay QC"); each part is then checked as an item of its own."""
MAX_OUTPUT_TOKENS = 2000
"""Output cap of one extraction call, whatever the model's size."""
MAX_EXAMPLES = 5
"""Examples one extraction may show the model."""
_CHECK = "extract"

ReadingMode = Literal["auto", "chunks", "focus"]
"""How a document over the context budget is read (see :func:`extract`)."""

Example = tuple[str, BaseModel]
"""A worked example shown to the model: a text and the caller's model filled from it."""

Settled = tuple[BaseModel, dict[str, list[Evidence]], dict[str, str]]
"""The caller's object, its evidence by path and what was dropped (path -> reason)."""

Kind = Literal["text", "integer", "number", "boolean", "date", "datetime", "choice"]
_KIND_NAMES: dict[str, str] = {
    "text": "text",
    "integer": "whole number",
    "number": "number",
    "boolean": "true or false",
    "date": "date YYYY-MM-DD",
    "datetime": "date and time",
}


@dataclass(frozen=True)
class Leaf:
    """A field with one value: what kind of value, its type, the caller's description."""

    kind: Kind
    annotation: Any
    description: str


@dataclass(frozen=True)
class Group:
    """A Pydantic model: its fields' shapes and whether each may be left out."""

    model: type[BaseModel]
    fields: dict[str, Shape]
    defaulted: frozenset[str]
    """Fields with a default: left out when the text does not state them."""


@dataclass(frozen=True)
class Many:
    """A list of leaves or of models."""

    item: Shape


Shape = Leaf | Group | Many


def _without_none(annotation: Any) -> Any:
    """``X`` from ``X | None``, ``Annotated`` unwrapped."""
    while typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return _without_none(members[0])
    return annotation


def _choices(annotation: Any, where: str) -> list[Any] | None:
    if typing.get_origin(annotation) is Literal:
        values = list(typing.get_args(annotation))
    elif isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        values = [m.value for m in annotation]
    else:
        return None
    if not values or len(values) > MAX_CHOICES:
        raise SchemaError(
            f"{where}: {len(values)} choices; an enum or Literal field may have 1 to {MAX_CHOICES}"
        )
    if not all(isinstance(v, str | int) and not isinstance(v, bool) for v in values):
        raise SchemaError(f"{where}: enum and Literal values must be strings or integers")
    if any(isinstance(v, str) and len(v) > USER_TEXT_CHARS for v in values):
        raise SchemaError(f"{where}: a choice is over {USER_TEXT_CHARS:,} characters long")
    return values


def _scalar(annotation: Any) -> Kind | None:
    if annotation is bool:
        return "boolean"
    if annotation is int:
        return "integer"
    if annotation in (float, Decimal):
        return "number"
    if annotation is str:
        return "text"
    if annotation is dt.datetime:
        return "datetime"
    if annotation is dt.date:
        return "date"
    return None


def _shape(
    annotation: Any, description: str, where: str, seen: tuple[type[BaseModel], ...], depth: int
) -> Shape:
    inner = _without_none(annotation)
    if depth > MAX_DEPTH:
        raise SchemaError(f"{where}: nested more than {MAX_DEPTH} levels deep")
    if isinstance(inner, type) and issubclass(inner, BaseModel):
        if inner in seen:
            raise SchemaError(
                f"{where}: {inner.__name__} contains itself; recursive models cannot be extracted"
            )
        return _group(inner, where, (*seen, inner), depth + 1)
    if typing.get_origin(inner) in (list, Sequence):
        args = typing.get_args(inner)
        item = args[0] if args else Any
        shape = _shape(item, description, f"{where}[]", seen, depth + 1)
        if isinstance(shape, Many):
            raise SchemaError(f"{where}: lists of lists are not supported")
        return Many(shape)
    if _choices(inner, where) is not None:
        return Leaf("choice", inner, description)
    kind = _scalar(inner)
    if kind is None:
        raise SchemaError(
            f"{where}: type {_type_name(inner)} is not supported; "
            "use str, int, float, bool, date, datetime, an Enum or Literal, a nested model, "
            "a list of one of these, or X | None"
        )
    return Leaf(kind, inner, description)


def _type_name(annotation: Any) -> str:
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def _group(
    model: type[BaseModel], where: str, seen: tuple[type[BaseModel], ...], depth: int
) -> Group:
    fields: dict[str, Shape] = {}
    for name, info in model.model_fields.items():
        path = f"{where}.{name}" if where else name
        fields[name] = _shape(info.annotation, _description(name, info), path, seen, depth)
    if not fields:
        raise SchemaError(f"{where or model.__name__}: a model needs at least one field")
    defaulted = frozenset(n for n, info in model.model_fields.items() if not info.is_required())
    return Group(model, fields, defaulted)


def _description(name: str, info: FieldInfo) -> str:
    text = one_line(info.description or info.title or name.replace("_", " "))
    return text[:USER_TEXT_CHARS]


def _leaves(shape: Shape, path: str = "") -> Iterator[tuple[str, Leaf]]:
    if isinstance(shape, Leaf):
        yield path, shape
    elif isinstance(shape, Many):
        yield from _leaves(shape.item, f"{path}[]")
    else:
        for name, child in shape.fields.items():
            yield from _leaves(child, f"{path}.{name}" if path else name)


def shape_of(model: Any) -> Group:
    """The shape of ``model`` (a Pydantic model class) as extraction sees it.

    Raises:
        SchemaError: not a model class, a RootModel, recursive, an unsupported type,
            too deep, too many fields or choices; the message names the field.
    """
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise SchemaError(f"extract needs a Pydantic model class, not {model!r}")
    return _shape_of_class(model)


@lru_cache(maxsize=64)
def _shape_of_class(model: type[BaseModel]) -> Group:
    if issubclass(model, RootModel):
        raise SchemaError(
            f"{model.__name__} is a RootModel; wrap its value in a field of a BaseModel"
        )
    group = _group(model, "", (model,), 1)
    count = sum(1 for _ in _leaves(group))
    if count > MAX_FIELDS:
        raise SchemaError(
            f"{model.__name__} has {count} fields; extraction takes at most {MAX_FIELDS} "
            "(split it into several models)"
        )
    return group


def fields_guide(shape: Group) -> str:
    """One line per leaf field for the prompt: path, kind of value, description."""
    lines = []
    for path, leaf in _leaves(shape):
        if leaf.kind == "choice":
            values = _choices(leaf.annotation, path) or []
            kind = "one of: " + " | ".join(json.dumps(v, ensure_ascii=False) for v in values)
        else:
            kind = _KIND_NAMES[leaf.kind]
        lines.append(f"- {path} ({kind}): {leaf.description}")
    return "\n".join(lines)


# --- the draft the model fills -------------------------------------------------


class _Cited(BaseModel):
    """A leaf as the model writes it: the sentences, then the value (or null)."""

    sentences: SentenceIds(0, 3)  # type: ignore[valid-type]


class _Draft(BaseModel):
    """The root of a draft; settles itself against its cited sentences when validated
    with an extraction context (see :class:`_Settle`)."""

    __shape__: ClassVar[Group]
    """The caller's model as read (a dunder: no field of theirs can shadow it)."""
    _settled: Settled | Reading | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _settle(self, info: ValidationInfo) -> _Draft:
        settle = (info.context or {}).get(_CHECK)
        if isinstance(settle, _Settle):
            self._settled = settle(self)
        return self


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text)[:60]


def _draft_type(shape: Shape, name: str) -> Any:
    if isinstance(shape, Leaf):
        value: Any = shape.annotation
        if shape.kind == "text":
            value = Annotated[str, Field(max_length=MAX_TEXT)]
        return create_model(
            _safe_name(f"Cited_{name}"),
            __base__=_Cited,
            value=(value | None, Field(description=shape.description)),
        )
    if isinstance(shape, Many):
        return Annotated[list[_draft_type(shape.item, name)], Field(max_length=MAX_ITEMS)]  # type: ignore[misc]
    fields: dict[str, Any] = {
        field: (_draft_type(child, f"{name}_{field}"), ...) for field, child in shape.fields.items()
    }
    return create_model(_safe_name(f"Draft_{name}"), **fields)


@lru_cache(maxsize=64)
def draft_model(model: type[BaseModel]) -> type[_Draft]:
    """The draft schema for ``model``: every leaf as ``{"sentences", "value"}``."""
    shape = shape_of(model)
    fields: dict[str, Any] = {
        field: (_draft_type(child, f"{model.__name__}_{field}"), ...)
        for field, child in shape.fields.items()
    }
    draft: type[_Draft] = create_model(
        _safe_name(f"Draft_{model.__name__}"), __base__=_Draft, **fields
    )
    draft.__shape__ = shape
    return draft


def output_tokens(shape: Shape) -> int:
    """Enough output tokens for a filled draft of ``shape`` (a cap against loops)."""
    if isinstance(shape, Leaf):
        return 90 if shape.kind == "text" else 30
    if isinstance(shape, Many):
        return 4 * output_tokens(shape.item) + 4
    return sum(output_tokens(child) + 6 for child in shape.fields.values()) + 4


# --- settling a draft against its sentences -------------------------------------


def _date_stated(value: dt.date, text: str) -> bool:
    """Are the day and month of ``value`` written in ``text`` (:func:`date_at`)?"""
    return date_at(value, text) is not None


def _names_stated(value: str, text: str) -> bool:
    """Is every capitalised word of ``value`` (a name) in ``text``, by stem?"""
    return names_in(value, stems(text))


def _number_stated(value: float, text: str) -> bool:
    return number_at(value, text) is not None


def _copies(value: str, sentence: str) -> bool:
    """Does the text ``value`` copy ``sentence`` (nine tenths of its content words, a
    sentence of eight or more) rather than give the words that answer a field?"""
    said = set(content_tokens(sentence))
    if len(said) < COPY_MIN_WORDS:
        return False
    return len(said & set(content_tokens(value))) >= COPY_SHARE * len(said)


def _text_stated(value: str, texts: Sequence[str], share: float) -> bool:
    """Do ``texts`` state the text ``value``: each of its numbers by value however it is
    written ("$64.1bn" by "64.1 billion dollars"), its currencies, all its names and
    ``share`` of its other content words?"""
    joined = " ".join(texts)
    values, money, rest = amounts(value)
    if not all(any(_number_stated(v, joined) for v in options) for options in values):
        return False
    if not money <= currencies(joined):
        return False
    return not content_tokens(rest) or states(rest, texts, min_share=share)


def unstated(
    leaf: Leaf, value: Any, texts: Sequence[str], *, named_choice: bool = False
) -> str | None:
    """Why ``value`` is not stated by ``texts`` (the cited sentences), or ``None``.

    ``named_choice``: the option is a name the document writes ("Neil Gorsuch"), so
    its capitalised words must be in the cited sentences too; a label ("supports",
    "Yes") that the document does not write is checked for its numbers only."""
    if not texts:
        return "no sentence is cited for it"
    joined = " ".join(texts)
    if leaf.kind == "text":
        if not content_tokens(str(value)):
            return "it has no word to find in the cited sentences"
        if not _text_stated(str(value), texts, TEXT_SHARE):
            return "its words are not in the cited sentences"
    if leaf.kind in ("integer", "number") and not _number_stated(float(value), joined):
        return "that number is not written in the cited sentences"
    if leaf.kind in ("date", "datetime") and not _date_stated(value, joined):
        return "the cited sentences do not write that day and month"
    if leaf.kind == "choice":
        if not supported_by(str(value), texts, min_share=0.0):
            return "a number in it is not in the cited sentences"
        if named_choice and not _names_stated(str(value), joined):
            return "the cited sentences do not name it"
    return None


@dataclass
class _Found:
    """What settling one draft finds: evidence by result path, the values dropped (by
    their path in the reply, with the reason) and the lines a re-ask names."""

    evidence: dict[str, list[Evidence]] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    copies: list[str] = field(default_factory=list)
    """Text values that copy their whole sentence (re-asked, kept if they stay so)."""

    def reask(self) -> str:
        """What a re-ask says about the values to write again ("" when none)."""
        parts = []
        if self.problems:
            parts.append(
                "values not stated in their cited sentences:\n"
                + "\n".join(self.problems)
                + "\ncite the sentences that state each value, or give null"
            )
        if self.copies:
            parts.append(
                "values that copy their whole sentence:\n"
                + "\n".join(self.copies)
                + "\nwrite only the shortest words that answer each field (a name, an "
                "amount, a date), not the sentence"
            )
        return "\n".join(parts)


@dataclass
class _Settle:
    """Turns a validated draft into the caller's object, evidence and what was dropped.

    ``strict``: a value its sentences do not state, or values that do not fit the
    caller's model, are an error (the model is re-asked). Otherwise such a value, or
    a list item or optional field that cannot be built without it, is dropped and
    reported, and the rest is kept.
    """

    passage: Passage
    strict: bool
    copied: dict[str, set[str]] = field(default_factory=dict)
    """The values of the examples shown, by field: one the article does not write (no
    exact or fuzzy span) is not kept."""
    build: bool = True
    """Build the caller's object; else return the grounded data as a :class:`Reading`
    (one part of a reading in several calls, merged before it is built)."""

    def __call__(self, draft: _Draft) -> Settled | Reading:
        found = _Found()
        shape = draft.__shape__
        data = self._group(shape, draft, "", found)
        if self.strict and found.reask():
            raise ValueError(found.reask())
        if not self.build:
            return Reading(data, found.evidence, found.dropped)
        if self.strict:
            try:
                value = shape.model.model_validate(data, by_name=True)
            except ValidationError as e:
                raise ValueError(_misfit(shape.model, e)) from e
        else:
            value = _fit(shape, data, "", found)
        return value, found.evidence, found.dropped

    def _group(self, shape: Group, draft: BaseModel, path: str, found: _Found) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name, child in shape.fields.items():
            where = f"{path}.{name}" if path else name
            value = self._any(child, getattr(draft, name), where, found)
            if isinstance(child, Group) and value and name in shape.defaulted:
                try:
                    value = _fit(child, value, where, found, strict=self.strict)
                except ValueError as e:  # stated only in part: the default stands
                    found.dropped[where] = str(e)
                    _forget(found.evidence, where)
                    continue
            if value is None or value == {} or value == []:
                if name in shape.defaulted:
                    continue  # the caller's default stands
                if value != []:
                    value = None  # valid if the field accepts None, else the caller's error
            data[name] = value
        return data

    def _any(self, shape: Shape, draft: Any, path: str, found: _Found) -> Any:
        if isinstance(shape, Group):
            return self._group(shape, draft, path, found)
        if isinstance(shape, Many):
            return self._items(shape, draft, path, found)
        value, cited = draft.value, list(draft.sentences)
        if value is None:
            return None
        said = value.value if isinstance(value, enum.Enum) else value  # as a text writes it
        named = self._named(shape, said)
        texts = [e.text for e in self.passage.evidence(cited)]
        problem = unstated(shape, said, texts, named_choice=named)
        if problem is not None:
            stating = self._stating(shape, said, cited) if _checked(shape, said, named) else None
            if stating is None:
                found.problems.append(f"- {path} = {json.dumps(said, default=str)}: {problem}")
                found.dropped[path] = f"{json.dumps(said, default=str)}: {problem}"
                return None
            cited = [stating]
        spans = self.passage.evidence(cited)
        alone = [e for e in spans if unstated(shape, said, [e.text], named_choice=named) is None]
        if self._copies_example(shape, said, path, alone or spans):
            problem = "an example's value, which the article does not write"
            found.problems.append(f"- {path} = {json.dumps(said, default=str)}: {problem}")
            found.dropped[path] = f"{json.dumps(said, default=str)}: {problem}"
            return None
        found.evidence[path] = alone or spans  # the sentences that state it, if any does alone
        if shape.kind == "text" and any(_copies(str(said), e.text) for e in spans):
            found.copies.append(f"- {path} = {json.dumps(said)}")
        return value

    def _items(self, shape: Many, drafts: Sequence[Any], path: str, found: _Found) -> list[Any]:
        """The items kept, numbered without gaps in the evidence; an item is read at
        its place in the reply (the paths a re-ask and ``dropped`` name)."""
        items: list[Any] = []
        seen: dict[str, int] = {}
        for where, item in self._pieces(shape.item, drafts, path, found):
            mine = _Found(dropped=found.dropped, problems=found.problems, copies=found.copies)
            value = self._any(shape.item, item, where, mine)
            if value is None or value == {}:
                continue
            if isinstance(shape.item, Group) and not self.strict:
                try:
                    value = _fit(shape.item, value, where, mine)
                except ValueError as e:  # an item its model cannot be built without
                    found.dropped[where] = str(e)
                    continue
                if not mine.evidence:  # every value it stated was dropped
                    continue
            same = same_value_key(value)
            if same in seen:  # written twice: one item, with the sentences of both
                kept = f"{path}[{seen[same]}]"
                found.dropped[where] = f"{_plain_json(value)}: the same as {kept}, joined"
                for sub, spans in mine.evidence.items():
                    join_evidence(found.evidence.setdefault(kept + sub[len(where) :], []), spans)
                continue
            kept = f"{path}[{len(items)}]"
            seen[same] = len(items)
            for sub, spans in mine.evidence.items():
                found.evidence[kept + sub[len(where) :]] = spans
            items.append(value)
        return items

    def _pieces(
        self, shape: Shape, drafts: Sequence[Any], path: str, found: _Found
    ) -> Iterator[tuple[str, Any]]:
        """The reply's list items by their path, a text item that writes several as one
        ("A, B and C") read apart as ``path[i]/1``, ``path[i]/2``… (named in ``dropped``)."""
        for index, item in enumerate(drafts):
            where = f"{path}[{index}]"
            parts = self._parts(shape, item) if isinstance(shape, Leaf) else []
            if not parts:
                yield where, item
                continue
            found.dropped[where] = (
                f"{json.dumps(item.value)}: {len(parts)} items written as one, read apart"
            )
            for number, part in enumerate(parts, 1):
                yield f"{where}/{number}", item.model_copy(update={"value": part})

    def _parts(self, leaf: Leaf, item: Any) -> list[str]:
        """The parts of a text item that no sentence states whole but that lists
        several values (:data:`LIST_SEPARATORS`); ``[]`` when it is one value."""
        value, cited = item.value, list(item.sentences)
        if leaf.kind != "text" or not isinstance(value, str):
            return []
        parts = [part for part in LIST_SEPARATORS.split(value) if content_tokens(part)]
        if len(parts) < 2:
            return []
        texts = [e.text for e in self.passage.evidence(cited)]
        if unstated(leaf, value, texts) is None or self._stating(leaf, value, cited) is not None:
            return []
        return parts

    def _copies_example(self, leaf: Leaf, value: Any, path: str, cited: list[Evidence]) -> bool:
        """Is ``value`` an example's value for this field that its sentences do not
        write (as words: an exact or fuzzy span)?"""
        if json.dumps(value, default=str) not in self.copied.get(_ITEMS.sub("[]", path), ()):
            return False
        return value_span(leaf.kind, value, cited, TEXT_SHARE).alignment == "sentence"

    def _named(self, leaf: Leaf, value: Any) -> bool:
        """Is ``value`` an option whose capitalised words the shown text writes?"""
        if leaf.kind != "choice" or not isinstance(value, str):
            return False
        if not any(w[:1].isupper() for w in WORD.findall(value)):
            return False
        return names_in(value, self._shown_stems)

    @cached_property
    def _shown_stems(self) -> set[str]:
        """Stems of every sentence shown (computed once per reply, not per option)."""
        return stems(" ".join(u.sentence.text for u in self.passage.units))

    def _stating(self, leaf: Leaf, value: Any, cited: list[int]) -> int | None:
        """The shown sentence that states ``value`` on its own (every content word of a
        text value), sharing most words with the field's description and nearest the
        sentences the model cited; ``None`` if no sentence states it."""
        about = stems(leaf.description)
        near = cited[0] if cited else 0
        named = self._named(leaf, value)
        found = [
            (-len(stems(u.sentence.text) & about), abs(u.number - near), u.number)
            for u in self.passage.units
            if unstated(leaf, value, [u.sentence.text], named_choice=named) is None
            and (leaf.kind != "text" or _text_stated(str(value), [u.sentence.text], 1.0))
        ]
        return min(found)[2] if found else None


def _misfit(model: type[BaseModel], error: ValidationError) -> str:
    """The re-ask for values that do not fit ``model``: each error by path, and what
    to do about a required field nothing states."""
    errors = error.errors(include_url=False)
    lines = [
        f"{'.'.join(str(p) for p in item['loc']) or model.__name__}: {item['msg']}"
        for item in errors[:8]
    ]
    missing = [".".join(str(p) for p in item["loc"]) for item in errors if item["input"] is None]
    if missing:
        lines.append(
            f"{', '.join(missing)}: no value the article states; cite the sentence "
            f"that states it, and if none does, {model.__name__} needs a default or "
            "`| None` there (never guess)"
        )
    return f"the values do not fit {model.__name__}:\n" + "\n".join(lines)


def _why(model: type[BaseModel], errors: Sequence[Any]) -> str:
    """Why values do not fit ``model``, in one line (``errors``: Pydantic's)."""
    reasons = []
    for item in errors[:3]:
        where = ".".join(str(p) for p in item["loc"]) or model.__name__
        if item["input"] is None:
            reasons.append(f"{where}: not stated, and {model.__name__} requires it")
        else:
            reasons.append(f"{where}: {item['msg']}")
    return "; ".join(reasons)


def _fit(
    shape: Group, data: dict[str, Any], path: str, found: _Found, *, strict: bool = False
) -> BaseModel:
    """``data`` as ``shape``'s model. Unless ``strict``, an optional field or a list
    item that keeps it from validating is dropped (reported in ``found``) until it
    validates.

    Raises:
        ValueError: it cannot validate; the message says which field and why.
    """
    data = dict(data)
    while True:
        try:
            return shape.model.model_validate(data, by_name=True)
        except ValidationError as e:
            errors = e.errors(include_url=False)
            spot = None if strict else _droppable(shape, data, errors)
            if spot is None:
                raise ValueError(_why(shape.model, errors)) from e
            container, key, where, reason = spot
            full = f"{path}.{where}" if path else where
            found.dropped[full] = reason
            _forget(found.evidence, full)
            if isinstance(key, int):
                _renumber(found.evidence, full[: full.rindex("[")], key)
            del container[key]


def _droppable(
    shape: Group, data: dict[str, Any], errors: Sequence[Any]
) -> tuple[Any, str | int, str, str] | None:
    """The deepest optional field or list item on the path of the first error that
    has one: (its container, its key, its path, the reason)."""
    for item in errors:
        best: tuple[Any, str | int, str, int] | None = None
        node_shape: Shape = shape
        node: Any = data
        where = ""
        for depth, part in enumerate(item["loc"]):
            if isinstance(node_shape, Group) and isinstance(node, dict):
                name = _field_name(node_shape, part)
                if name is None or name not in node:
                    break
                where = f"{where}.{name}" if where else name
                if name in node_shape.defaulted:
                    best = (node, name, where, depth)
                node_shape, node = node_shape.fields[name], node[name]
            elif isinstance(node_shape, Many) and isinstance(node, list):
                if not isinstance(part, int) or not 0 <= part < len(node):
                    break
                where = f"{where}[{part}]"
                best = (node, part, where, depth)
                node_shape, node = node_shape.item, node[part]
            else:
                break
        if best is not None:
            container, key, at, depth = best
            rest = item["loc"][depth + 1 :]
            model = node_shape.model if isinstance(node_shape, Group) else shape.model
            reason = _why(model, [{**item, "loc": rest}]) if rest else item["msg"]
            return container, key, at, reason
    return None


def _field_name(shape: Group, part: Any) -> str | None:
    """The field a Pydantic error location names (by name or alias)."""
    for name, info in shape.model.model_fields.items():
        if part in (name, info.alias, info.validation_alias):
            return name
    return None


def _forget(evidence: dict[str, list[Evidence]], path: str) -> None:
    """Drop the evidence of ``path`` and of everything under it."""
    for key in [k for k in evidence if k == path or k.startswith((f"{path}.", f"{path}["))]:
        del evidence[key]


def _renumber(evidence: dict[str, list[Evidence]], path: str, removed: int) -> None:
    """Evidence paths of the items after ``path[removed]`` move up by one."""
    pattern = re.compile(rf"^{re.escape(path)}\[(\d+)\]")
    moved = {}
    for key in list(evidence):
        match = pattern.match(key)
        if match and int(match.group(1)) > removed:
            moved[f"{path}[{int(match.group(1)) - 1}]{key[match.end() :]}"] = evidence.pop(key)
    evidence.update(moved)


def _checked(leaf: Leaf, value: Any, named: bool) -> bool:
    """Does :func:`unstated` check what ``value`` says (so a sentence found to state it
    may be cited for it)? Not for a boolean, nor for a label with no number or name."""
    if leaf.kind == "boolean":
        return False
    if leaf.kind == "choice":
        return named or any(c.isdigit() for c in str(value))
    return True


def _values_of(shape: Shape, node: Any, path: str = "") -> Iterator[tuple[str, Leaf, Any]]:
    """(path, leaf, value) of every value a filled model holds (``None`` left out)."""
    if node is None:
        return
    if isinstance(shape, Leaf):
        yield path, shape, node.value if isinstance(node, enum.Enum) else node
    elif isinstance(shape, Many):
        for i, item in enumerate(node):
            yield from _values_of(shape.item, item, f"{path}[{i}]")
    else:
        for name, child in shape.fields.items():
            yield from _values_of(child, getattr(node, name), f"{path}.{name}" if path else name)


def check_examples(schema: type[BaseModel], examples: Sequence[Any]) -> list[Example]:
    """``examples`` as (text, ``schema`` instance) pairs, each value written in its own
    text as an extraction's values must be in the article (numbers by value, dates by
    day and month, text by its words; a boolean or a label is not checked). An item
    may be a ``(text, value)`` pair or ``{"text", "value"}``; a value a ``schema``
    instance or its fields as a mapping.

    Raises:
        SchemaError: ``schema`` cannot be extracted.
        ValueError: over :data:`MAX_EXAMPLES`, a text over the length limit, a value that
            does not fit ``schema`` or is not written in its text; the message names the
            example (from 1) and the field.
    """
    shape = shape_of(schema)
    if len(examples) > MAX_EXAMPLES:
        raise ValueError(f"{len(examples)} examples; at most {MAX_EXAMPLES} may be shown")
    checked: list[Example] = []
    for number, item in enumerate(examples, 1):
        where = f"example {number}"
        if isinstance(item, dict) and set(item) == {"text", "value"}:
            text, value = item["text"], item["value"]
        elif isinstance(item, tuple | list) and len(item) == 2:
            text, value = item
        else:
            raise ValueError(f'{where}: give (text, value) or {{"text", "value"}}')
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{where}: its text must be a non-empty string")

        if not isinstance(value, schema):
            try:
                value = schema.model_validate(
                    value.model_dump() if isinstance(value, BaseModel) else value
                )
            except ValidationError as e:
                raise ValueError(f"{where}: {_why(schema, e.errors(include_url=False))}") from None
        for path, leaf, said in _values_of(shape, value):
            if not _checked(leaf, said, named=False):
                continue
            problem = unstated(leaf, said, [text])
            if problem is not None:
                problem = problem.replace("the cited sentences", "its text")
                raise ValueError(
                    f"{where}: {path} = {json.dumps(said, default=str)} is not written "
                    f"in its text ({problem})"
                )
        try:
            _example_turn(shape, number, text, value, "", "")  # the prompt's length limit
        except ValueError as e:
            raise ValueError(f"{where}: {e}") from None
        checked.append((text, value))
    return checked


EXAMPLES_SHOWN = "earlier turns"
"""How examples reach the model (:func:`example_turns`), in the content key of an
extraction with examples: a result made when they were shown otherwise is not reused."""


def example_turns(
    shape: Group, examples: Sequence[Example], note: str, guide: str
) -> list[tuple[str, str]]:
    """The examples as the conversation shows them, before the article: each one asked
    as the article is (its sentences numbered as a document, ``note``, ``guide``) and
    answered in the form the model writes an answer."""
    return [
        _example_turn(shape, number, text, value, note, guide)
        for number, (text, value) in enumerate(examples, 1)
    ]


def _example_turn(
    shape: Group, number: int, text: str, value: BaseModel, note: str, guide: str
) -> tuple[str, str]:
    """One example as asked and answered.

    Raises:
        ValueError: its text is over the prompt's length limit for a user string."""
    sentences = split_sentences(text)
    user_text("example_text", text)  # the same length limit as any user string
    numbered = "\n".join(f"[{s.id}] {one_line(s.text)}" for s in sentences)
    document = render("document", id=f"example-{number}", attributes="", sentences=numbered)
    asked = render("extract.user", documents=document, instructions=note, fields=guide)
    answer = json.dumps(
        _as_draft(shape, value, sentences), ensure_ascii=False, separators=(",", ":"), default=str
    )
    return asked, answer


def _as_draft(shape: Shape, node: Any, sentences: Sequence[Sentence]) -> Any:
    """``node`` (part of an example's value) as the model writes it: each value with
    the sentences that state it (those that share most words with it when none does
    alone, or with the field's description for a value no check reads)."""
    if isinstance(shape, Many):
        return [_as_draft(shape.item, item, sentences) for item in node or []]
    if isinstance(shape, Group):
        return {
            name: _as_draft(child, None if node is None else getattr(node, name), sentences)
            for name, child in shape.fields.items()
        }
    if node is None:
        return {"sentences": [], "value": None}
    said = node.value if isinstance(node, enum.Enum) else node
    cited = [
        s.id
        for s in sentences
        if _checked(shape, said, named=False) and unstated(shape, said, [s.text]) is None
    ]
    if not cited:
        about = stems(f"{said} {shape.description}")
        best = max(sentences, key=lambda s: (len(stems(s.text) & about), -s.id))
        cited = [best.id]
    return {"sentences": cited[:3], "value": said}


def _copied(shape: Group, examples: Sequence[Example]) -> dict[str, set[str]]:
    """The examples' values, by field (list items as ``[]``), as JSON."""
    found: dict[str, set[str]] = {}
    for _, value in examples:
        for path, _, said in _values_of(shape, value):
            found.setdefault(_ITEMS.sub("[]", path), set()).add(json.dumps(said, default=str))
    return found


_ITEMS = re.compile(r"\[\d+\](?:/\d+)?")


def extract(
    doc: Document,
    schema: type[M],
    *,
    client: LLMClient,
    instructions: str | None = None,
    examples: Sequence[Any] = (),
    passes: int = 1,
    reading: ReadingMode = "auto",
) -> Extraction[M]:
    """Fill ``schema`` (the caller's Pydantic model) from ``doc``, each value tied to
    the verbatim sentences that state it.

    A document over ``client.settings.context_tokens`` is read in chunks of whole
    sentences, at most :data:`READERS` calls at once, and what they find is merged
    (:mod:`newsqa.tasks.extract_merge`: lists without duplicates, a field the chunks
    disagree on by the value more sentences state, the others in ``dropped``).
    ``reading``: ``"auto"`` reads in chunks when they need at most
    :data:`~newsqa.grounding.limits.MAX_WINDOWS` calls and else focused, in one call
    over the sentences that best match the fields; ``"chunks"`` always in chunks
    (refused over that many calls); ``"focus"`` always focused. ``passes`` above 1
    reads it again for recall, each pass asking something new: chunks with other
    boundaries, or the same sentences with the values already found listed.

    ``examples`` (:func:`check_examples`: ``(text, schema(...))`` pairs) are shown to
    the model as earlier turns of the conversation (:func:`example_turns`); a value of
    theirs that the article does not write is never kept.

    When no reply is right as a whole, the latest one is kept without the values its
    sentences do not state or that do not validate, and without the list items and
    optional fields that cannot be built without them; the result's ``dropped`` says
    which and why.

    Raises:
        SchemaError: ``schema`` cannot be extracted (before any request).
        ValueError: ``instructions`` over the length limit; an example that does not
            fit ``schema`` or whose values its text does not write; ``passes`` below 1.
        DocumentError: ``reading="chunks"`` over the call limit.
        OutputValidationError: no reply fitted ``schema`` even with those values
            dropped (a required field unstated, or a validator of the whole model);
            the message names the field and the reason.
        LLMError: the endpoint failed.
    """
    draft = draft_model(schema)
    shape = draft.__shape__
    strict_schema(draft)  # fails here, before any request, on a type JSON Schema lacks
    guide = fields_guide(shape)
    shown_examples = check_examples(schema, examples)
    note = f"Instructions: {user_text('instructions', instructions)}\n" if instructions else ""
    turns = example_turns(shape, shown_examples, note, guide)
    copied = _copied(shape, shown_examples)
    if passes < 1:
        raise ValueError(f"passes must be at least 1, not {passes}")
    passage = Passage.of([doc])
    budget = client.settings.context_tokens
    plans = [_windows(passage, budget, k, passes) for k in range(passes)]
    calls = sum(map(len, plans))
    if reading == "focus" or (reading == "auto" and calls > MAX_WINDOWS):
        plans = [[focus(passage, f"{instructions or ''} {guide}", budget)]] * passes
    else:
        check_windows(calls, doc.id)
    read = _Parts(client, draft, note, guide, copied, turns)
    several = len(plans) > 1 or len(plans[0]) > 1
    value, evidence, dropped = read(plans) if several else read.once(plans[0][0])
    return Extraction[schema](  # type: ignore[valid-type]
        doc=doc.id,
        value=value,
        evidence=evidence,
        dropped=dropped,
        spans=value_spans(shape, value, evidence),
        usage=read.usage,
    ).with_document(doc)


READERS = 4
"""Calls one extraction of a long document has in flight at once."""


@dataclass
class _Parts:
    """A reading in several calls (chunks, passes), merged and built into the caller's
    object; ``usage`` adds up every call."""

    client: LLMClient
    draft: type[_Draft]
    note: str
    guide: str
    copied: dict[str, set[str]]
    turns: list[tuple[str, str]]
    usage: Usage = field(default_factory=Usage)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __call__(self, plans: list[list[Passage]]) -> Settled:
        """Read each pass's chunks (``plans``), merge and build; the chunks of a pass
        that repeats an earlier one's are read after, with the values found listed."""
        seen: set[tuple[frozenset[int], ...]] = set()
        fresh: list[list[Passage]] = []
        again: list[list[Passage]] = []
        for plan in plans:
            key = tuple(w.numbers for w in plan)
            (again if key in seen else fresh).append(plan)
            seen.add(key)
        readings = self._read([w for plan in fresh for w in plan], self.note)
        for plan in again:  # the same chunks: asked with what was found so far
            listed = _found_note(merge(readings).data)
            readings += self._read(plan, self.note + listed)
        total = merge(readings)
        found = _Found(evidence=total.evidence, dropped=total.dropped)
        shape = self.draft.__shape__
        try:
            value = _fit(shape, total.data, "", found)
        except ValueError as e:
            raise OutputValidationError(
                f"no reading fits {shape.model.__name__}: {e}", attempts=[], usage=self.usage
            ) from None
        return value, found.evidence, found.dropped

    def once(self, shown: Passage) -> Settled:
        """One call over ``shown``, built into the caller's object."""
        return typing.cast(Settled, self._call(shown, self.note, build=True))

    def _read(self, windows: list[Passage], note: str) -> list[Reading]:
        with cf.ThreadPoolExecutor(max_workers=min(READERS, len(windows))) as pool:
            parts = pool.map(lambda shown: self._call(shown, note, build=False), windows)
            return [typing.cast(Reading, part) for part in parts]

    def _call(self, shown: Passage, note: str, *, build: bool) -> Settled | Reading:
        """One call over ``shown``: the grounded reply, or the latest one read leniently."""
        shape = self.draft.__shape__
        settle = _Settle(shown, strict=True, copied=self.copied, build=build)
        try:
            result = grounded_call(
                self.client,
                "extract",
                shown,
                self.draft,
                max_tokens=min(MAX_OUTPUT_TOKENS, output_tokens(shape)),
                context={_CHECK: settle},
                instructions=note,
                fields=self.guide,
                turns=self.turns,
            )
            found, usage = result.value._settled, result.usage
        except OutputValidationError as e:
            found = _lenient(e, self.draft, shown, self.copied, build=build)
            usage = e.usage
        with self._lock:
            self.usage += usage
        if found is None:  # validated without the context (never: the call passes it)
            raise RuntimeError("draft was not settled")
        return found


def _windows(passage: Passage, budget: int, k: int, passes: int) -> list[Passage]:
    """The chunks of pass ``k`` (from 0) of ``passes``: the passage's windows within
    ``budget``, their boundaries moved by ``k / passes`` of the first window."""
    if passage.fits(budget):  # no tokenizer for a passage its bytes show fits
        return [passage]
    windows = passage.windows(budget)
    shift = k * len(windows[0].units) // passes
    if shift == 0 or len(windows) == 1:
        return windows
    head = Passage(passage.units[:shift])
    return [head, *Passage(passage.units[shift:]).windows(budget)]


def _found_note(data: dict[str, Any]) -> str:
    """The values already found, for a pass that reads the same sentences again."""
    found = json.dumps(_plain_values(data), ensure_ascii=False, default=str)
    if len(found) > USER_TEXT_CHARS:
        found = found[: USER_TEXT_CHARS - 1] + "…"
    return (
        "Values already found (look for the values the article states that are not among "
        f"them; repeat one only with a sentence that states it): {user_text('found', found)}\n"
    )


def _plain_json(value: Any) -> str:
    """A value as JSON, the way ``dropped`` quotes it."""
    return json.dumps(_plain_values(value), ensure_ascii=False, default=str)


def _plain_values(data: Any) -> Any:
    if isinstance(data, BaseModel):
        return data.model_dump(mode="json", exclude_none=True)
    if isinstance(data, dict):
        return {k: _plain_values(v) for k, v in data.items() if v not in (None, [], {})}
    if isinstance(data, list):
        return [_plain_values(v) for v in data]
    return data.value if isinstance(data, enum.Enum) else data


_STEP = re.compile(r"(\w+)|\[(\d+)\]")


def value_spans(
    shape: Group, value: BaseModel, evidence: dict[str, list[Evidence]]
) -> dict[str, ValueSpan]:
    """Where each value with evidence is written in its sentences (:func:`value_span`),
    by field path."""
    kinds = {path: leaf.kind for path, leaf in _leaves(shape)}
    spans = {}
    for path, cited in evidence.items():
        kind = kinds.get(re.sub(r"\[\d+\]", "[]", path))
        if kind is None or not cited:
            continue
        node: Any = value
        for name, index in _STEP.findall(path):
            node = getattr(node, name) if name else node[int(index)]
        said = node.value if isinstance(node, enum.Enum) else node
        spans[path] = value_span(kind, said, cited, TEXT_SHARE)
    return spans


def _lenient(
    error: OutputValidationError,
    draft: type[_Draft],
    shown: Passage,
    copied: dict[str, set[str]],
    *,
    build: bool = True,
) -> Settled | Reading:
    """The latest try read leaf by leaf, with what cannot be kept dropped; else an
    :class:`OutputValidationError` that says why the latest JSON reply cannot fit."""
    context = {"sentence_ids": shown.numbers}
    why = ""
    for attempt in reversed(error.attempts):
        try:
            data = read_json(attempt.raw)
        except ValueError:
            continue
        if not isinstance(data, dict):
            continue
        dropped: dict[str, str] = {}
        try:
            settled = _Settle(shown, strict=False, copied=copied, build=build)(
                _tolerant(draft, data, context, "", dropped)
            )
        except ValueError as e:
            why = why or str(e)
            continue
        if isinstance(settled, Reading):
            settled.dropped = {**dropped, **settled.dropped}
            return settled
        value, evidence, more = settled
        return value, evidence, {**dropped, **more}
    if not why:
        raise error
    raise OutputValidationError(
        f"no reply fits {draft.__shape__.model.__name__} after {len(error.attempts)} tries: "
        f"{why}\n{error}",
        attempts=error.attempts,
        usage=error.usage,
    )


def _tolerant(
    cls: type[BaseModel], data: Any, context: dict[str, Any], path: str, dropped: dict[str, str]
) -> Any:
    """``data`` as an instance of draft class ``cls``, read leaf by leaf: a leaf that
    does not validate (a value of the wrong type, a sentence never shown) is dropped,
    reported in ``dropped`` and read as unstated."""
    if issubclass(cls, _Cited):
        try:
            return cls.model_validate(data, context=context)
        except ValidationError as e:
            if isinstance(data, dict) and all(
                item["loc"][:1] == ("sentences",) for item in e.errors(include_url=False)
            ):  # sentences never shown: read as uncited (a sentence stating it is found)
                return _tolerant(cls, {**data, "sentences": []}, context, path, dropped)
            said = data.get("value") if isinstance(data, dict) else data
            reasons = "; ".join(
                f"{'.'.join(str(p) for p in item['loc']) or 'value'}: {item['msg']}"
                for item in e.errors(include_url=False)[:3]
            )
            dropped[path] = f"{json.dumps(said, default=str)}: {reasons}"
            return cls.model_construct(sentences=[], value=None)
    if not isinstance(data, dict):
        if data is not None:
            dropped[path] = f"{json.dumps(data)[:80]}: not an object"
        data = {}
    fields: dict[str, Any] = {}
    for name, info in cls.model_fields.items():
        where = f"{path}.{name}" if path else name
        raw = data.get(name)
        if typing.get_origin(info.annotation) is list:
            (item,) = typing.get_args(info.annotation)
            if raw is not None and not isinstance(raw, list):
                dropped[where] = f"{json.dumps(raw)[:80]}: not a list"
                raw = []
            for extra in range(MAX_ITEMS, len(raw or [])):
                dropped[f"{where}[{extra}]"] = f"over {MAX_ITEMS} items"
            fields[name] = [
                _tolerant(item, one, context, f"{where}[{i}]", dropped)
                for i, one in enumerate((raw or [])[:MAX_ITEMS])
            ]
        else:
            fields[name] = _tolerant(
                typing.cast(type[BaseModel], info.annotation), raw, context, where, dropped
            )
    return cls.model_construct(**fields)


@lru_cache(maxsize=64)
def schema_text(schema: type[BaseModel]) -> str:
    """The JSON Schema of ``schema``, keys sorted: what the resume key of an extract
    job holds (field names, types, descriptions, choices, defaults, the title)."""
    return json.dumps(schema.model_json_schema(), sort_keys=True, ensure_ascii=False)


@register
class Extract(Task[Extraction[M]], Generic[M]):
    """Fill the schema (your Pydantic model) from the article, each value tied to the
    sentences that state it; instructions guide the model (see :func:`extract`)."""

    name: ClassVar[str] = "extract"
    prompts: ClassVar[tuple[str, ...]] = ("system", "document", "extract.user")

    schema_: type[M] = Field(alias="schema")
    instructions: str | None = None
    examples: tuple[Example, ...] = ()
    """Worked examples shown to the model, checked (see :func:`check_examples`)."""
    passes: int = Field(1, ge=1)
    """Readings of the document for recall (see :func:`extract`)."""
    reading: ReadingMode = "auto"
    """How a document over the context budget is read (see :func:`extract`)."""

    def __init__(
        self,
        schema: type[M],
        instructions: str | None = None,
        examples: Sequence[Any] = (),
        passes: int = 1,
        reading: ReadingMode = "auto",
    ) -> None:
        shown = tuple(check_examples(schema, examples)) if examples else ()
        BaseModel.__init__(
            self,
            schema=schema,
            instructions=instructions,
            examples=shown,
            passes=passes,
            reading=reading,
        )

    def check(self) -> None:
        check_examples(self.schema_, self.examples)

    def job(self) -> dict[str, Any]:
        """The schema by its class name (and the instructions, ``null`` when none; the
        examples as ``{"text", "value"}``, the passes and the reading when not the
        defaults)."""
        job: dict[str, Any] = {
            "task": self.name,
            "schema": self.schema_.__name__,
            "instructions": self.instructions or None,
        }
        if self.examples:
            job["examples"] = [
                {"text": text, "value": value.model_dump(mode="json")}
                for text, value in self.examples
            ]
        if self.passes != 1:
            job["passes"] = self.passes
        if self.reading != "auto":
            job["reading"] = self.reading
        return job

    def key_fields(self) -> dict[str, Any]:
        """The schema by its whole JSON Schema (:func:`schema_text`): a field added,
        retyped or described differently runs every document again (a changed
        validator, which the JSON Schema does not show, does not). With examples, also
        how they are shown (:data:`EXAMPLES_SHOWN`), which no template records."""
        fields = {**self.job(), "schema": schema_text(self.schema_)}
        if self.examples:
            fields["examples_shown"] = EXAMPLES_SHOWN
        return fields

    def run(self, doc: Document, *, client: LLMClient | None = None) -> Extraction[M]:
        return extract(
            doc,
            self.schema_,
            client=needs_client(self, client),
            instructions=self.instructions,
            examples=self.examples,
            passes=self.passes,
            reading=self.reading,
        )
