"""Task objects and the public registry.

A task is one small class: its fields are its parameters (a Pydantic model, so a job is
plain JSON any queue can carry), :meth:`Task.check` refuses a job that cannot run,
:meth:`Task.key` is its resume key, :meth:`Task.run` runs it on one document, and
:meth:`Task.text` / :meth:`Task.html` render its result for the terminal and the
notebook. :func:`register` adds a class to the registry, from which batch runs, the CLI
and the notebook know every task, built-in or a user's own.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import json
import pkgutil
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from newsqa.llm.client import LLMClient
from newsqa.types import Document, Result, register_html

__all__ = [
    "Task",
    "needs_client",
    "register",
    "registered",
    "result_type",
    "task_from_job",
    "task_named",
]

R = TypeVar("R", bound=Result)
T = TypeVar("T", bound="Task[Any]")


class Task(BaseModel, Generic[R]):
    """One task over one document; its fields are its parameters.

    A subclass sets :attr:`name` (what ``batch --task`` and the JSONL lines call it) and
    implements :meth:`run`; :func:`register` makes it known by name. An ``__init__`` of
    its own (for positional parameters) must take the fields by their names: Pydantic
    calls it with them when a job's JSON is read back.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    name: ClassVar[str]
    """The task's name in the registry, the CLI and each JSONL line."""
    prompts: ClassVar[tuple[str, ...]] = ()
    """The prompt templates the task renders, as :func:`newsqa.prompts.load_template`
    names them (``"system"``, ``"ask.user"``): what a prompt version is a hash of."""
    uses_model: ClassVar[bool] = True
    """Does :meth:`run` call the model (else it needs no client)?"""
    rounds: ClassVar[int] = 1
    """Model calls one document makes one after the other, at least: the rounds a
    provider batch takes (re-asks and long documents may add more)."""

    def check(self) -> None:
        """Refuse a job that cannot run, before any document is read (``ValueError``)."""

    def run(self, doc: Document, *, client: LLMClient | None = None) -> R:
        """The task's result for ``doc`` (``client``: for a task that uses the model)."""
        raise NotImplementedError

    async def arun(self, doc: Document, *, client: LLMClient | None = None) -> R:
        """:meth:`run` for ``await`` (in a worker thread)."""
        return await asyncio.to_thread(self.run, doc, client=client)

    def job(self) -> dict[str, Any]:
        """The job as each JSONL line shows it: ``{"task": name, **parameters}``."""
        return {"task": self.name, **self.model_dump(mode="json", exclude_none=True)}

    def key_fields(self) -> dict[str, Any]:
        """What the resume key holds besides the document (default: :meth:`job`)."""
        return self.job()

    def key(self, doc: Document) -> str:
        """Resume key of this job on ``doc``: SHA-256 of :meth:`key_fields` and of
        everything of the document the task reads (id, text, title, date), so an edited
        document or another parameter never reuses an old result."""
        payload = {
            **self.key_fields(),
            "id": doc.id,
            "text": doc.text,
            "title": doc.title,
            "date": doc.date.isoformat() if doc.date else None,
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    @classmethod
    def text(cls, result: R) -> str:
        """The result for the terminal (default: its JSON, indented)."""
        return json.dumps(result.to_dict(), indent=2, ensure_ascii=False)

    @classmethod
    def html(cls, result: R) -> str:
        """The result for the notebook (default: the renderer registered for its type)."""
        return result._repr_html_()


def needs_client(task: Task[Any], client: LLMClient | None) -> LLMClient:
    """``client``, or a clear error for a task that uses the model."""
    if client is None:
        raise ValueError(f"the {task.name} task needs a model client")
    return client


_REGISTRY: dict[str, type[Task[Any]]] = {}


def register(cls: type[T]) -> type[T]:
    """Make a task class known by its ``name`` (a class decorator).

    Raises:
        ValueError: the class has no name, or another class has that name.
    """
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{cls.__name__} needs a name (a class attribute) to be registered")
    taken = _REGISTRY.get(name)
    if taken is not None and taken.__qualname__ != cls.__qualname__:
        raise ValueError(f"the task name {name!r} is taken by {taken.__qualname__}")
    _REGISTRY[name] = cls
    if "html" in vars(cls):  # its own renderer: what its results show in Jupyter
        register_html(result_type(cls))(cls.html)
    return cls


def result_type(cls: type[Task[Any]]) -> type[Result]:
    """The result type a task class declares (``Summary`` for ``Task[Summary]``)."""
    for base in cls.__mro__:
        meta = getattr(base, "__pydantic_generic_metadata__", None) or {}
        if meta.get("origin") is Task and meta.get("args"):
            found = meta["args"][0]
            origin = getattr(found, "__pydantic_generic_metadata__", {}).get("origin")
            return origin or found  # type: ignore[no-any-return]
    raise ValueError(f"{cls.__name__} does not say its result type (subclass Task[YourResult])")


@lru_cache(maxsize=1)
def _builtins() -> None:
    """Import every task module of :mod:`newsqa.tasks` once (each registers its task)."""
    import newsqa.tasks

    for info in pkgutil.iter_modules(newsqa.tasks.__path__):
        importlib.import_module(f"newsqa.tasks.{info.name}")


def registered() -> dict[str, type[Task[Any]]]:
    """Every registered task class by name, built-in ones first."""
    _builtins()
    return dict(_REGISTRY)


def task_named(name: str, params: Mapping[str, Any] | None = None) -> Task[Any]:
    """The registered task ``name`` with ``params`` (checked by :meth:`Task.check`).

    Raises:
        ValueError: no task of that name, or parameters it does not take or accept.
    """
    tasks = registered()
    if name not in tasks:
        raise ValueError(f"unknown task {name!r}; known: {', '.join(sorted(tasks))}")
    cls, given = tasks[name], dict(params or {})
    fields = {info.alias or field: info for field, info in cls.model_fields.items()}
    problems = [f"the {name} task takes no {key}" for key in given if key not in fields]
    problems += [
        f"the {name} task needs a {key}"
        for key, info in fields.items()
        if info.is_required() and key not in given
    ]
    if problems:  # before validation: an __init__ of a task's own takes only its fields
        raise ValueError("; ".join(problems))
    try:
        task = cls.model_validate(given)
    except ValidationError as e:
        raise ValueError("; ".join(_problem(name, error) for error in e.errors())) from None
    task.check()
    return task


def _problem(name: str, error: Any) -> str:
    """One validation error of a task's parameters, in words."""
    where = ".".join(str(part) for part in error["loc"])
    return f"{where} of the {name} task: {error['msg']}"


def task_from_job(job: Mapping[str, Any]) -> Task[Any]:
    """The task of a job as :meth:`Task.job` wrote it (``{"task": name, **params}``)."""
    params = dict(job)
    name = params.pop("task", None)
    if not isinstance(name, str):
        raise ValueError('a job needs a "task" name')
    return task_named(name, params)
