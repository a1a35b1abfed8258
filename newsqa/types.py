"""Plain data models: documents and the grounded results newsqa returns.

Every piece of evidence holds ``text == document.text[start:end]``. The JSON form of each
result (``to_json``) is a contract read by other tools, versioned by its ``schema_version``.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable
from html import escape
from typing import Any, Final, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, computed_field

__all__ = [
    "SCHEMA_VERSION",
    "Answer",
    "Chunk",
    "ClaimCheck",
    "ClaimLabel",
    "CorpusStanceReport",
    "Document",
    "Evidence",
    "Extraction",
    "KeyPoint",
    "Period",
    "Result",
    "Sentence",
    "Stance",
    "StanceChange",
    "StanceLabel",
    "StanceReport",
    "StanceTimeline",
    "Summary",
    "TargetLabel",
    "TargetStance",
    "Usage",
    "ValueSpan",
    "register_html",
]

_R = TypeVar("_R", bound="Result")
_M = TypeVar("_M", bound=BaseModel)

StanceLabel = Literal["supports", "opposes", "conditional", "neutral", "unclear"]
TargetLabel = Literal["supports", "opposes", "neutral"]
ClaimLabel = Literal["agrees", "disagrees", "discusses", "unrelated"]
Alignment = Literal["exact", "fuzzy", "sentence"]

SCHEMA_VERSION: Final = 2
"""Version of the JSON contract, the first key of every result's JSON (``schema_version``).
Results written before the field existed are version 1."""


class Usage(BaseModel):
    """Token usage of one or more model calls."""

    model_config = ConfigDict(frozen=True)

    calls: int = Field(default=0, description="Number of HTTP requests sent to the model.")
    prompt_tokens: int = Field(default=0, description="Input tokens, as reported by the endpoint.")
    completion_tokens: int = Field(
        default=0, description="Output tokens, as reported by the endpoint."
    )

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens."""
        return self.prompt_tokens + self.completion_tokens

    def cost(self, input_per_million: float, output_per_million: float) -> float:
        """Estimated cost for prices per million input and output tokens."""
        return (
            self.prompt_tokens * input_per_million + self.completion_tokens * output_per_million
        ) / 1_000_000

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            calls=self.calls + other.calls,
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
        )


class Sentence(BaseModel):
    """A sentence of a document with its character span (``text == doc.text[start:end]``)."""

    model_config = ConfigDict(frozen=True)

    id: int = Field(description="1-based sentence number within the document.")
    start: int = Field(description="Offset of the first character in the document text.")
    end: int = Field(description="Offset one past the last character.")
    text: str = Field(description="The verbatim sentence text.")


class Document(BaseModel):
    """A news article: its text, metadata and sentence segmentation."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(description="Stable identifier (file stem or record id).")
    text: str = Field(description="The full article text, as loaded.")
    date: dt.date | None = Field(None, description="Publication date, when known.")
    title: str | None = Field(None, description="Headline or title, when known.")
    source: str | None = Field(None, description="Publisher or path the text came from.")
    sentences: tuple[Sentence, ...] = Field((), description="Sentences with offsets.")

    def sentence(self, sentence_id: int) -> Sentence:
        """Return the sentence with this 1-based id."""
        return self.sentences[sentence_id - 1]


class Chunk(BaseModel):
    """A run of whole sentences that fits a token budget."""

    model_config = ConfigDict(frozen=True)

    index: int = Field(description="0-based position of the chunk in the document.")
    sentence_ids: tuple[int, ...] = Field(description="Ids of the sentences it holds.")
    start: int = Field(description="Offset of the first character.")
    end: int = Field(description="Offset one past the last character.")
    tokens: int = Field(description="Token count of the chunk's sentences.")


_HTML_RENDERERS: dict[type[BaseModel], Callable[[Any], str]] = {}


def register_html(
    cls: type[_R],
) -> Callable[[Callable[[_R], str]], Callable[[_R], str]]:
    """Register the notebook renderer of a result type (``@register_html(Summary)``).

    Screen code lives with the faces (``newsqa.notebook``), which registers itself;
    the data models only look the renderer up.
    """

    def register(render: Callable[[_R], str]) -> Callable[[_R], str]:
        _HTML_RENDERERS[cls] = render
        return render

    return register


class Result(BaseModel):
    """Base of every task result: its usage (not part of the JSON), the JSON form, and
    HTML in Jupyter from the renderer registered for its type."""

    schema_version: Literal[2] = Field(
        SCHEMA_VERSION, description="Version of the JSON contract this result follows."
    )
    usage: Usage = Field(default_factory=lambda: Usage(), exclude=True, description="Tokens spent.")

    def _repr_html_(self) -> str:
        """HTML in Jupyter, from the renderer registered for this type (else the repr)."""
        for cls in type(self).__mro__:  # a parametrized generic (Extraction[X]) is a subclass
            render = _HTML_RENDERERS.get(cls)
            if render is not None:
                return render(self)
        return f"<pre>{escape(repr(self))}</pre>"

    def to_json(self, **kwargs: Any) -> str:
        """Serialise to the stable JSON contract."""
        return self.model_dump_json(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        """Plain ``dict`` in the JSON contract's shape."""
        return self.model_dump(mode="json")


class Evidence(BaseModel):
    """A verbatim sentence of one document supporting a result:
    ``text == document.text[start:end]``, with the document's id, title and date."""

    model_config = ConfigDict(frozen=True)

    doc: str = Field(description="Id of the document.")
    title: str | None = Field(None, description="Title of the document, when known.")
    date: dt.date | None = Field(None, description="Date of the document, when known.")
    text: str = Field(description="Exact document text between start and end.")
    start: int
    end: int
    sentence_id: int


class KeyPoint(BaseModel):
    """One key point of a summary and the sentences that support it."""

    text: str
    evidence: list[Evidence]


class Summary(Result):
    """A grounded summary of one document."""

    headline: str
    summary: str
    key_points: list[KeyPoint]


LABEL_SOURCE = (
    '"model" where the label is the model\'s, else the name of the label rule that '
    "changed it (newsqa.tasks.stances.LABEL_RULES)."
)


class Period(BaseModel):
    """The dates a stance's evidence spans, oldest to newest."""

    model_config = ConfigDict(frozen=True)

    since: dt.date
    until: dt.date


class Stance(BaseModel):
    """One actor's position on a topic, with evidence from one document or several."""

    actor: str
    label: StanceLabel
    label_source: str = Field(default="model", description=LABEL_SOURCE)
    position: str
    evidence: list[Evidence] = Field(
        description="In document order; across documents oldest first."
    )

    def row(self, topic: str) -> dict[str, Any]:
        """The stance's own columns in a flat record (``records()`` of the reports)."""
        return {
            "topic": topic,
            "actor": self.actor,
            "label": self.label,
            "label_source": self.label_source,
            "position": self.position,
        }

    @computed_field  # type: ignore[prop-decorator]
    @property
    def period(self) -> Period | None:
        """The dates of the oldest and newest dated evidence (``None`` when none is dated)."""
        dates = [e.date for e in self.evidence if e.date is not None]
        return Period(since=min(dates), until=max(dates)) if dates else None


class StanceReport(Result):
    """Stances of every actor that takes a position on ``topic``."""

    topic: str
    stances: list[Stance]

    def records(self) -> list[dict[str, Any]]:
        """One flat dict per stance (pandas-friendly: ``pd.DataFrame(report.records())``)."""
        return [
            s.row(self.topic)
            | {
                "evidence": " | ".join(e.text for e in s.evidence),
                "sentence_ids": [e.sentence_id for e in s.evidence],
            }
            for s in self.stances
        ]


class Answer(Result):
    """An answer to a question, or an abstention when the documents don't say."""

    question: str
    answer: str | None
    answerable: bool
    citations: list[Evidence]
    choice: int | None = Field(
        None, description="0-based index of the chosen option (multiple-choice questions)."
    )


class ValueSpan(BaseModel):
    """Where an extracted value is written: ``text == document.text[start:end]``.

    ``alignment`` says how it was found: ``exact`` (the value as written, a number or
    date by value: "64.1 billion" for 64.1), ``fuzzy`` (the shortest stretch holding the
    words the text check asks for), or ``sentence`` (only the sentence as a whole
    states it: the span is that sentence)."""

    model_config = ConfigDict(frozen=True)

    text: str = Field(description="Exact document text between start and end.")
    start: int
    end: int
    sentence_id: int = Field(description="The sentence the span lies in.")
    alignment: Alignment


class Extraction(Result, Generic[_M]):
    """The caller's own model filled from a document, each value tied to the verbatim
    sentences that state it (``newsqa.extract``)."""

    doc: str = Field(description="Id of the document read.")
    value: _M = Field(
        description="The caller's model; fields the text does not state keep their default (None)."
    )
    evidence: dict[str, list[Evidence]] = Field(
        default_factory=dict,
        description='Field path ("casualties", "meetings[2].place") -> the sentences that '
        "state its value; fields without a stated value have no entry.",
    )
    dropped: dict[str, str] = Field(
        default_factory=dict,
        description='Path of a value in the model\'s reply ("quotes[2]", "said_on") -> why it '
        "was left out: not stated in its cited sentences, not a valid value, or needed by "
        "an item or optional model that was left out with it.",
    )
    spans: dict[str, ValueSpan] = Field(
        default_factory=dict,
        description="Field path -> where its value is written in the document (each "
        "path of `evidence` has one).",
    )
    _document: Document | None = PrivateAttr(default=None)

    @property
    def document(self) -> Document | None:
        """The document read (not part of the JSON; ``None`` for a result parsed from it)."""
        return self._document

    def with_document(self, doc: Document) -> Extraction[_M]:
        """This result holding ``doc`` (what a page of the whole article is drawn from)."""
        self._document = doc
        return self

    def records(self) -> list[dict[str, Any]]:
        """One row per leaf field (for ``pandas.DataFrame``): ``doc``, ``field`` (its
        path), ``value``, ``sentence_ids``, ``evidence`` (the cited sentences' text,
        joined by a space), and the value's span: ``start``, ``end``, ``span`` (its
        text) and ``alignment`` (``None`` for a value not stated). An empty list is one
        row with the value ``[]``."""
        rows = []
        for path, value in _leaf_values(self.value.model_dump(mode="json", by_alias=False)):
            cited = self.evidence.get(path, [])
            span = self.spans.get(path)
            rows.append(
                {
                    "doc": self.doc,
                    "field": path,
                    "value": value,
                    "sentence_ids": [e.sentence_id for e in cited],
                    "evidence": " ".join(e.text for e in cited),
                    "start": span.start if span else None,
                    "end": span.end if span else None,
                    "span": span.text if span else None,
                    "alignment": span.alignment if span else None,
                }
            )
        return rows


def _leaf_values(data: Any, path: str = "") -> list[tuple[str, Any]]:
    """(path, value) of every leaf of plain JSON data, in field order."""
    if isinstance(data, dict):
        return [
            pair
            for key, child in data.items()
            for pair in _leaf_values(child, f"{path}.{key}" if path else str(key))
        ]
    if isinstance(data, list) and data:
        return [
            pair for i, child in enumerate(data) for pair in _leaf_values(child, f"{path}[{i}]")
        ]
    return [(path, data)]


class TargetStance(Result):
    """Where the author of a text stands toward a target, with evidence."""

    target: str
    label: TargetLabel
    evidence: list[Evidence]


class ClaimCheck(Result):
    """What an article says about a claim (e.g. a headline), with evidence."""

    claim: str
    label: ClaimLabel
    evidence: list[Evidence]


class StanceChange(BaseModel):
    """One dated point of an actor's stance in a timeline."""

    date: dt.date | None = Field(description="Date of the document (None if undated).")
    doc: str = Field(description="Id of the document.")
    label: StanceLabel
    label_source: str = Field(default="model", description=LABEL_SOURCE)
    position: str
    evidence: list[Evidence]
    changed: bool = Field(description="The label differs from the actor's previous point.")


class StanceTimeline(Result):
    """How each actor's stance on ``topic`` evolves across dated documents."""

    topic: str
    actors: dict[str, list[StanceChange]]

    def changes(self) -> dict[str, list[StanceChange]]:
        """Only the points where an actor's label changed."""
        return {
            a: [p for p in pts if p.changed]
            for a, pts in self.actors.items()
            if any(p.changed for p in pts)
        }


class CorpusStanceReport(Result):
    """Stances on ``topic`` found in the passages a corpus search retrieved."""

    topic: str
    since: dt.date | None
    until: dt.date | None
    stances: list[Stance]

    def records(self) -> list[dict[str, Any]]:
        """One flat dict per evidence sentence (pandas-friendly)."""
        return [
            s.row(self.topic)
            | {
                "doc": e.doc,
                "date": e.date,
                "title": e.title,
                "evidence": e.text,
            }
            for s in self.stances
            for e in s.evidence
        ]

    def timeline(self) -> StanceTimeline:
        """The same stances as a :class:`StanceTimeline`: one point per actor and cited
        article, dated by the article, holding that article's evidence.

        Each actor has one label here (one call over all its articles), so no point is
        ``changed``; :func:`newsqa.stance_timeline` labels each article separately.
        """
        actors: dict[str, list[StanceChange]] = {}
        for s in self.stances:
            by_doc: dict[str, list[Evidence]] = {}
            for e in s.evidence:
                by_doc.setdefault(e.doc, []).append(e)
            actors[s.actor] = [
                StanceChange(
                    date=evs[0].date,
                    doc=doc,
                    label=s.label,
                    label_source=s.label_source,
                    position=s.position,
                    evidence=evs,
                    changed=False,
                )
                for doc, evs in by_doc.items()
            ]
        return StanceTimeline(topic=self.topic, actors=actors, usage=self.usage)


_DEPRECATED = {"Citation": Evidence, "CorpusEvidence": Evidence, "CorpusStance": Stance}


def __getattr__(name: str) -> Any:
    """The names of the types :class:`Evidence` and :class:`Stance` replaced, deprecated."""
    if name in _DEPRECATED:
        new = _DEPRECATED[name]
        warnings.warn(
            f"newsqa.{name} is deprecated: use newsqa.{new.__name__}",
            DeprecationWarning,
            stacklevel=2,
        )
        return new
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
