"""Models from outside Python code: JSON Schema files and ``package.module:Model``
references, refused with the field named before any document or request."""

from __future__ import annotations

import datetime as dt
import json
import sys
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import newsqa
from newsqa import SchemaError, import_model, model_from_json_schema
from newsqa.schema_models import MAX_SCHEMA_BYTES

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "peace_talks.schema.json"


def _object(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


def test_the_example_schema_file_is_the_example_model() -> None:
    from examples.peace_talks import PeaceTalksFacts

    model = model_from_json_schema(EXAMPLE)
    assert model.__name__ == "PeaceTalksFacts"
    python = PeaceTalksFacts.model_json_schema()
    from_file = model.model_json_schema()
    assert list(from_file["properties"]) == list(python["properties"])
    for name, field in python["properties"].items():
        assert from_file["properties"][name]["description"] == field["description"], name
    assert from_file.get("required", []) == python.get("required", []) == []
    for name, kind in {"military_aid_billions": float, "aid_since_year": int}.items():
        field = model.model_fields[name]
        assert field.annotation is kind and field.default is None, name
    assert model.model_fields["speakers"].annotation == typing.List[str]  # noqa: UP006
    assert model().model_dump() == {n: None for n in python["properties"]}


def test_json_schema_types_become_the_types_extract_checks() -> None:
    model = model_from_json_schema(
        {
            "title": "Talks",
            **_object(
                place={"type": "string"},
                day={"type": "string", "format": "date"},
                at={"type": ["string", "null"], "format": "date-time"},
                casualties={"type": "integer"},
                side={"enum": ["Kyiv", "Moscow"]},
                meetings={
                    "type": "array",
                    "items": {"$ref": "#/$defs/Meeting"},
                },
            ),
            "$defs": {"Meeting": _object(city={"type": "string"})},
            "required": ["place"],
        }
    )
    fields = model.model_fields
    assert model.__name__ == "Talks"
    assert fields["place"].annotation is str and fields["place"].is_required()
    assert fields["day"].annotation is dt.date and fields["day"].default is None
    assert fields["at"].annotation == dt.datetime | None
    assert not fields["casualties"].is_required()
    meeting = typing.get_args(fields["meetings"].annotation)[0]
    assert list(meeting.model_fields) == ["city"]
    value = model.model_validate({"place": "Geneva", "side": "Kyiv", "meetings": [{"city": "X"}]})
    assert value.model_dump()["side"] == "Kyiv"


HOSTILE: list[tuple[str, dict[str, Any], str]] = [
    ("root $ref", _object(name={"type": "string"}, child={"$ref": "#"}), "child: .*recursive"),
    (
        "$ref cycle",
        {
            **_object(root={"$ref": "#/$defs/Node"}),
            "$defs": {"Node": _object(kids={"type": "array", "items": {"$ref": "#/$defs/Node"}})},
        },
        r"root\.kids\[\]: .*recursive",
    ),
    (
        "mutual $refs",
        {
            **_object(a={"$ref": "#/$defs/A"}),
            "$defs": {"A": _object(b={"$ref": "#/$defs/B"}), "B": _object(a={"$ref": "#/$defs/A"})},
        },
        r"a\.b\.a: .*recursive",
    ),
    ("500 choices", _object(city={"enum": [f"c{i}" for i in range(500)]}), "city: 500 choices"),
    (
        "dict field",
        _object(counts={"type": "object", "additionalProperties": {"type": "integer"}}),
        'counts: an object without "properties"',
    ),
    ("free-form object", _object(extra={"type": "object"}), "extra: an object without"),
    (
        "url",
        _object(link={"type": "string", "format": "uri"}),
        "link: type AnyUrl is not supported",
    ),
    ("time", _object(at={"type": "string", "format": "time"}), "at: type time is not supported"),
    ("union", _object(x={"anyOf": [{"type": "string"}, {"type": "integer"}]}), "x: type"),
    ("unknown type", _object(x={"type": "banana"}), "x: unknown type 'banana'"),
    ("no type", _object(x={"description": "?"}), 'x: no "type"'),
    ("array without items", _object(x={"type": "array"}), 'x: an array needs "items"'),
    ("tuple array", _object(x={"type": "array", "items": [{"type": "string"}]}), "x: tuple"),
    ("remote $ref", _object(x={"$ref": "https://example.org/s.json"}), "x: .*only local"),
    ("dangling $ref", _object(x={"$ref": "#/$defs/Gone"}), "x: .*points to nothing"),
    ("boolean schema", _object(x=True), "x: a schema must be a JSON object"),
    (
        "list of lists",
        _object(x={"type": "array", "items": {"type": "array", "items": {"type": "string"}}}),
        "x: lists of lists",
    ),
    ("top-level map", {"type": "object", "additionalProperties": {"type": "integer"}}, "top level"),
    ("top-level array", {"type": "array", "items": {"type": "string"}}, "top level"),
    ("no properties", {"type": "object", "properties": {}}, "at least one field"),
    ("too many fields", _object(**{f"f{i}": {"type": "string"} for i in range(31)}), "31 fields"),
]


@pytest.mark.parametrize(
    ("schema", "message"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE]
)
def test_hostile_json_schemas_are_refused_naming_the_field(
    schema: dict[str, Any], message: str
) -> None:
    with pytest.raises(SchemaError, match=message):
        model_from_json_schema(schema)


def test_deep_nesting_is_refused_before_the_converter_recurses() -> None:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(2000):
        schema = _object(a=schema)
    with pytest.raises(SchemaError, match="nested more than"):
        model_from_json_schema(schema)


def test_shared_definitions_are_walked_once() -> None:
    """30 definitions, each using the next twice: a walk without memory would visit
    2**30 nodes; the check stays linear (shape_of then refuses the depth)."""
    defs = {
        f"D{i}": _object(a={"$ref": f"#/$defs/D{i + 1}"}, b={"$ref": f"#/$defs/D{i + 1}"})
        for i in range(30)
    }
    defs["D30"] = {"type": "string"}
    wide = {**_object(**{f"f{i}": {"$ref": "#/$defs/D0"} for i in range(20)}), "$defs": defs}
    with pytest.raises(SchemaError, match="nested"):
        model_from_json_schema(wide)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"type": "object", "properties": {', "not JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[1, 2]", "a schema must be a JSON object"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply|not JSON"),
    ],
)
def test_unreadable_schema_files_name_the_file(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "facts.json"
    path.write_bytes(content)
    with pytest.raises(SchemaError, match=message) as caught:
        model_from_json_schema(path)
    assert str(caught.value).startswith(f"{path}: ")


def test_missing_folder_and_oversized_schema_files(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="no such schema file"):
        model_from_json_schema(tmp_path / "nope.json")
    with pytest.raises(SchemaError, match="a folder"):
        model_from_json_schema(tmp_path)
    big = tmp_path / "big.json"
    big.write_text(json.dumps(_object(x={"type": "string", "description": "x" * MAX_SCHEMA_BYTES})))
    with pytest.raises(SchemaError, match="a schema file may hold"):
        model_from_json_schema(big)


def test_a_file_without_title_is_named_after_its_stem(tmp_path: Path) -> None:
    path = tmp_path / "casualty_report.schema.json"
    path.write_text(json.dumps(_object(deaths={"type": "integer"})))
    assert model_from_json_schema(path).__name__ == "casualty_report"
    with pytest.raises(SchemaError, match=r"casualty_report\.schema\.json: deaths: unknown"):
        path.write_text(json.dumps(_object(deaths={"type": "int"})))
        model_from_json_schema(path)


@pytest.fixture
def models_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A module ``faces17_models_<n>`` on ``sys.path`` with good and bad attributes."""
    name = f"faces17_models_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(
        "from pydantic import BaseModel\n"
        "class Facts(BaseModel):\n"
        "    casualties: int | None = None\n"
        "    class Inner(BaseModel):\n"
        "        place: str | None = None\n"
        "class Loose(BaseModel):\n"
        "    counts: dict[str, int] = {}\n"
        "def helper() -> None: ...\n"
        "NUMBER = 3\n"
    )
    (tmp_path / f"{name}_broken.py").write_text("raise RuntimeError('no database here')\n")
    (tmp_path / f"{name}_needs.py").write_text("import faces17_missing_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    for module in [m for m in sys.modules if m.startswith(name)]:
        del sys.modules[module]


def test_import_model_takes_module_and_attribute(models_module: str) -> None:
    assert import_model(f"{models_module}:Facts").__name__ == "Facts"
    assert import_model(f"{models_module}:Facts.Inner").__name__ == "Inner"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("{m}", "name a model as package.module:Model"),
        ("{m}:", "name a model as package.module:Model"),
        (":Facts", "name a model as package.module:Model"),
        ("faces17_nowhere:Facts", "no module named 'faces17_nowhere'"),
        ("{m}_needs:Facts", "importing .* failed: No module named 'faces17_missing_dependency'"),
        ("{m}_broken:Facts", "importing .* failed: RuntimeError: no database here"),
        ("{m}:Nope", "has no attribute 'Nope'"),
        ("{m}:helper", "helper is a function, not a Pydantic model class"),
        ("{m}:NUMBER", "NUMBER is a int, not a Pydantic model class"),
        ("json:JSONDecoder", "JSONDecoder is a class, not a Pydantic model class"),
        ("{m}:Loose", "Loose: counts: type dict.* is not supported"),
    ],
)
def test_import_model_errors_are_schema_errors(models_module: str, spec: str, message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        import_model(spec.format(m=models_module))


def test_schema_errors_are_value_errors_and_public() -> None:
    assert issubclass(SchemaError, ValueError) and issubclass(SchemaError, newsqa.NewsQAError)
    assert {"import_model", "model_from_json_schema"} <= set(newsqa.__all__)
