"""Models for :func:`newsqa.extract` defined outside Python code: a JSON Schema (a file
or a mapping) or a ``package.module:Model`` reference (what ``newsqa extract --schema``
takes); and ``package.module:Task`` references to task classes of your own (what
``newsqa batch --task`` takes).

Both are checked as extraction sees them (:func:`newsqa.tasks.extract.shape_of`), so a
schema that cannot be extracted is a :class:`~newsqa.errors.SchemaError` naming the
field (``meetings[].place``), raised before any document is read or request sent.
A JSON Schema is checked first on its own terms (references that lead back to
themselves, unknown types, free-form objects), then turned into a Pydantic model by
``json-schema-to-pydantic``.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from json_schema_to_pydantic import create_model
from pydantic import BaseModel

from newsqa.errors import SchemaError
from newsqa.tasks.base import Task, register, task_from_job
from newsqa.tasks.extract import Extract, shape_of

__all__ = [
    "MAX_SCHEMA_BYTES",
    "check_model",
    "import_model",
    "import_task",
    "model_from_json_schema",
    "portable_job",
    "task_from_portable_job",
]

_C = TypeVar("_C")

MAX_SCHEMA_BYTES = 1_000_000
"""Size of the largest JSON Schema file read."""
_MAX_NESTING = 32
"""Schema objects inside one another (``properties``, ``items``, ``anyOf``, ``$ref``)."""
_JSON_TYPES = frozenset({"object", "array", "string", "integer", "number", "boolean", "null"})
_COMBINERS = ("anyOf", "oneOf", "allOf")
_TYPED_BY = ("$ref", "enum", "const", "properties", "items", *_COMBINERS)
"""Keys that give a schema without ``type`` its type."""


def check_model(model: Any) -> type[BaseModel]:
    """``model`` itself, once it is known to be a Pydantic model class that
    :func:`newsqa.extract` can fill.

    Raises:
        SchemaError: not a model class, or one that cannot be extracted (recursive, an
            unsupported type, too deep, too many fields or choices); the message names
            the field.
    """
    shape_of(model)  # a model class that can be extracted, else SchemaError
    checked: type[BaseModel] = model
    return checked


def _read(path: Path) -> Any:
    try:
        size = path.stat().st_size
        if size > MAX_SCHEMA_BYTES:
            raise SchemaError(
                f"{path}: {size:,} bytes; a schema file may hold {MAX_SCHEMA_BYTES:,}"
            )
        raw = path.read_bytes()
    except FileNotFoundError as e:
        raise SchemaError(f"{path}: no such schema file") from e
    except IsADirectoryError as e:
        raise SchemaError(f"{path}: a folder, not a schema file") from e
    except OSError as e:
        raise SchemaError(f"{path}: cannot read the schema file ({e.strerror or e})") from e
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise SchemaError(f"{path}: not UTF-8 text") from e
    except json.JSONDecodeError as e:
        raise SchemaError(f"{path}: not JSON ({e.msg}, line {e.lineno} column {e.colno})") from e
    except RecursionError as e:
        raise SchemaError(f"{path}: JSON nested too deeply") from e


def _pointer(root: Mapping[str, Any], ref: str, where: str) -> Any:
    """The part of ``root`` a local ``$ref`` (``#/$defs/Name``) points to."""
    if not ref.startswith("#"):
        raise SchemaError(f"{where}: $ref {ref!r}: only local references (#/...) are supported")
    node: Any = root
    for part in filter(None, ref[1:].split("/")):
        key = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            raise SchemaError(f"{where}: $ref {ref!r} points to nothing in the schema")
    return node


class _Walk:
    """Refuses what a model cannot be made of, naming the field: a ``$ref`` that leads
    back to a schema it is inside of, unknown types, free-form objects, tuple arrays.

    Each ``$ref`` target is walked once (a schema of many shared definitions stays
    linear); a reference to a target still being walked is a cycle.
    """

    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        self.open: set[str] = {"#"}
        self.done: set[str] = set()

    def __call__(self, node: Any, where: str, depth: int) -> None:
        label = where or "the schema"
        if depth > _MAX_NESTING:
            raise SchemaError(f"{label}: nested more than {_MAX_NESTING} levels deep")
        if not isinstance(node, Mapping):
            raise SchemaError(f"{label}: a schema must be a JSON object, not {type(node).__name__}")
        ref = node.get("$ref")
        if ref is not None:
            self._follow(ref, where, depth)
        self._fields(node, where, depth)

    def _follow(self, ref: Any, where: str, depth: int) -> None:
        label = where or "the schema"
        if not isinstance(ref, str):
            raise SchemaError(f"{label}: $ref must be a string")
        target = "#" if ref.rstrip("/") == "#" else ref
        if target in self.open:
            raise SchemaError(
                f"{label}: $ref {ref!r} refers to a schema that contains this field; "
                "recursive schemas cannot be extracted"
            )
        if target in self.done:
            return
        self.open.add(target)
        self(_pointer(self.root, ref, label), where, depth + 1)
        self.open.discard(target)
        self.done.add(target)

    def _fields(self, node: Mapping[str, Any], where: str, depth: int) -> None:
        label = where or "the schema"
        kinds = node.get("type")
        for kind in kinds if isinstance(kinds, list) else [kinds]:
            if kind is not None and kind not in _JSON_TYPES:
                raise SchemaError(f"{label}: unknown type {str(kind)[:40]!r}")
        if kinds is None and not any(key in node for key in _TYPED_BY):
            raise SchemaError(f'{label}: no "type" (string, integer, number, boolean, ...)')
        if "array" in (kinds if isinstance(kinds, list) else [kinds]) and "items" not in node:
            raise SchemaError(f'{label}: an array needs "items" (the schema of one item)')
        properties = node.get("properties")
        if properties is not None:
            if not isinstance(properties, Mapping):
                raise SchemaError(f'{label}: "properties" must be an object')
            for name, child in properties.items():
                self(child, f"{where}.{name}" if where else str(name), depth + 1)
        elif kinds == "object" or node.get("additionalProperties") not in (None, False):
            raise SchemaError(
                f'{label}: an object without "properties" (a free-form map) cannot be '
                'extracted; list its fields under "properties"'
            )
        items = node.get("items")
        if isinstance(items, list) or "prefixItems" in node:
            raise SchemaError(f"{label}: tuple arrays (a list of item schemas) are not supported")
        if items is not None:
            self(items, f"{where}[]", depth + 1)
        for combiner in _COMBINERS:
            options = node.get(combiner)
            if options is None:
                continue
            if not isinstance(options, list) or not options:
                raise SchemaError(f"{label}: {combiner} must be a non-empty list of schemas")
            for option in options:
                self(option, where, depth + 1)
        enum = node.get("enum")
        if enum is not None and not isinstance(enum, list):
            raise SchemaError(f"{label}: enum must be a list")


def model_from_json_schema(
    schema: Mapping[str, Any] | str | os.PathLike[str],
) -> type[BaseModel]:
    """A Pydantic model for :func:`newsqa.extract` from a JSON Schema.

    Args:
        schema: the schema as a mapping, or the path of a JSON file holding it. Its top
            level is an object with ``properties``; ``$defs`` and local ``$ref`` work,
            ``"format": "date"`` / ``"date-time"`` give dates, ``enum`` gives choices,
            fields not ``required`` may be left unstated. The model is named after its
            ``title`` (else the file's stem).

    Raises:
        SchemaError: an unreadable file or invalid JSON; a recursive schema, an unknown
            or unsupported type, a free-form object, too many fields or choices; the
            message names the file and the field.

    Example:
        >>> Facts = model_from_json_schema({"type": "object", "properties": {
        ...     "casualties": {"type": "integer"}}})
        >>> list(Facts.model_fields)
        ['casualties']
    """
    prefix, name = "", "Schema"
    if isinstance(schema, Mapping):
        data: Any = schema
    else:
        path = Path(schema)
        prefix, name = f"{path}: ", path.name.split(".")[0] or name
        data = _read(path)
    if isinstance(data, Mapping) and "title" not in data:
        data = {"title": name, **data}
    try:
        if not isinstance(data, Mapping):
            raise SchemaError("a schema must be a JSON object")
        top = data
        if isinstance(data.get("$ref"), str):
            top = _pointer(data, data["$ref"], "the schema")
        if not isinstance(top, Mapping) or not isinstance(top.get("properties"), Mapping):
            raise SchemaError(
                'the top level must describe an object: {"type": "object", "properties": {...}}'
            )
        _Walk(data)(data, "", 0)
        try:
            model: type[BaseModel] = create_model(dict(data))
        except Exception as e:  # any failure of the converter on hostile input
            first = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise SchemaError(f"cannot be turned into a model: {first}") from e
        return check_model(model)
    except SchemaError as e:
        if not prefix:
            raise
        raise SchemaError(prefix + str(e)) from e


def _imported(spec: str, kind: str) -> Any:
    """What ``"package.module:Name"`` names (``Outer.Inner`` after the colon works too);
    the module is imported (its code runs) from ``sys.path``.

    Raises:
        SchemaError: a malformed reference, a module that cannot be imported, a missing
            attribute.
    """
    module_name, colon, attribute = spec.partition(":")
    if not colon or not module_name.strip() or not attribute.strip():
        raise SchemaError(f"{spec!r}: name a {kind.lower()} as package.module:{kind}")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name and module_name.startswith(e.name):
            raise SchemaError(f"{spec}: no module named {e.name!r}") from e
        raise SchemaError(f"{spec}: importing {module_name} failed: {e}") from e
    except Exception as e:  # the module's own code failed
        first = str(e).splitlines()[0] if str(e) else ""
        raise SchemaError(
            f"{spec}: importing {module_name} failed: {type(e).__name__}: {first}"
        ) from e
    found: Any = module
    for part in attribute.split("."):
        if not hasattr(found, part):
            raise SchemaError(f"{spec}: {module_name} has no attribute {attribute!r}")
        found = getattr(found, part)
    return found


def _imported_class(spec: str, kind: str, base: type[_C], what: str) -> type[_C]:
    """The class ``spec`` names (see :func:`_imported`), a subclass of ``base``."""
    found = _imported(spec, kind)
    if not (isinstance(found, type) and issubclass(found, base)):
        attribute = spec.partition(":")[2]
        made = "class" if isinstance(found, type) else type(found).__name__
        raise SchemaError(f"{spec}: {attribute} is a {made}, not {what}")
    return found


def import_model(spec: str) -> type[BaseModel]:
    """The Pydantic model named by ``"package.module:Model"`` (``Outer.Inner`` after
    the colon works too), checked for :func:`newsqa.extract`.

    The module is imported (its code runs) from ``sys.path``.

    Raises:
        SchemaError: a malformed reference, a module that cannot be imported, a missing
            attribute, an attribute that is not a model class, or a model that cannot
            be extracted.
    """
    found = _imported_class(spec, "Model", BaseModel, "a Pydantic model class")
    try:
        return check_model(found)
    except SchemaError as e:
        raise SchemaError(f"{spec}: {e}") from e


def import_task(spec: str) -> type[Task[Any]]:
    """The task class named by ``"package.module:Task"``, registered (what ``newsqa batch
    --task`` takes for a task of your own).

    Raises:
        SchemaError: a malformed reference, a module that cannot be imported, a missing
            attribute, or an attribute that is not a task class.
    """
    found = _imported_class(spec, "Task", Task, "a newsqa.Task class")
    try:
        return register(found)
    except ValueError as e:
        raise SchemaError(f"{spec}: {e}") from e


def _reference(cls: type[Any]) -> str | None:
    """``package.module:Class`` when importing it gives ``cls`` back, else ``None``."""
    spec = f"{cls.__module__}:{cls.__qualname__}"
    if cls.__module__ == "__main__" or "<locals>" in cls.__qualname__:
        return None
    try:
        return spec if _imported(spec, "Class") is cls else None
    except SchemaError:
        return None


def portable_job(task: Task[Any]) -> dict[str, Any]:
    """The task as JSON another process rebuilds (:func:`task_from_portable_job`): its
    :meth:`~newsqa.tasks.base.Task.job`, an extraction schema as
    ``{"model": "package.module:Model"}`` when that imports back to the same class, else
    as ``{"json_schema": ...}``, and a task class of your own as ``"task_class":
    "package.module:Class"``.

    Raises:
        SchemaError: a task class of your own that cannot be imported by its name.
    """
    job = task.job()
    cls = type(task)
    if not cls.__module__.startswith("newsqa."):
        reference = _reference(cls)
        if reference is None:
            raise SchemaError(
                f"{cls.__qualname__} cannot be imported by name by a worker; "
                "define it at the top level of an importable module"
            )
        job["task_class"] = reference
    if isinstance(task, Extract):
        model = task.schema_
        reference = _reference(model)
        job["schema"] = (
            {"model": reference} if reference else {"json_schema": model.model_json_schema()}
        )
    return job


def task_from_portable_job(job: Mapping[str, Any]) -> Task[Any]:
    """The task of a job :func:`portable_job` wrote.

    Raises:
        SchemaError: a task class or schema model that cannot be imported here, or a
            schema that cannot be extracted.
        ValueError: an unknown task or parameters it does not take.
    """
    params = dict(job)
    reference = params.pop("task_class", None)
    if isinstance(reference, str):
        import_task(reference)
    schema = params.get("schema")
    if params.get("task") == Extract.name and isinstance(schema, Mapping):
        if isinstance(schema.get("model"), str):
            params["schema"] = import_model(schema["model"])
        else:
            params["schema"] = model_from_json_schema(schema.get("json_schema") or {})
    return task_from_job(params)
