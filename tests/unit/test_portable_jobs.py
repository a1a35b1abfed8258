"""Jobs another process rebuilds: every task's parameters as JSON, an extraction schema
by its import path or, when it has none, by its JSON Schema."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel

import newsqa
from newsqa import SchemaError, model_from_json_schema
from newsqa.schema_models import portable_job, task_from_portable_job
from newsqa.tasks.base import task_from_job


def _round_trip(task: newsqa.Task[Any]) -> newsqa.Task[Any]:
    return task_from_portable_job(json.loads(json.dumps(portable_job(task))))


def test_an_importable_schema_travels_by_its_path() -> None:
    from examples.peace_talks import PeaceTalksFacts

    task = newsqa.Extract(PeaceTalksFacts, instructions="Only U.S. aid.")
    job = portable_job(task)
    assert job["schema"] == {"model": "examples.peace_talks:PeaceTalksFacts"}
    with pytest.raises(ValueError):
        task_from_job(json.loads(json.dumps(task.job())))  # the plain job cannot
    again = _round_trip(task)
    assert again == task and again.job() == task.job()
    doc = newsqa.document_from_text("Aid rose.", id="a")
    assert again.key(doc) == task.key(doc)


def test_a_schema_without_a_path_travels_as_json_schema() -> None:
    facts = model_from_json_schema(
        {"title": "Facts", "type": "object", "properties": {"dead": {"type": "integer"}}}
    )
    task = newsqa.Extract(facts)
    assert "json_schema" in portable_job(task)["schema"]
    again = _round_trip(task)
    assert isinstance(again, newsqa.Extract) and again.job() == task.job()
    assert again.schema_.model_json_schema() == facts.model_json_schema()


def test_a_schema_that_cannot_be_imported_by_a_worker_is_named() -> None:
    job = {"task": "extract", "schema": {"model": "nowhere.models:Facts"}}
    with pytest.raises(SchemaError, match="no module named 'nowhere'"):
        task_from_portable_job(job)


def test_other_tasks_travel_as_their_job() -> None:
    task = newsqa.Ask("Who met?")
    assert portable_job(task) == task.job()
    assert _round_trip(task) == task


def test_a_task_class_defined_in_a_function_is_refused() -> None:
    class Local(BaseModel):
        x: int | None = None

    assert "json_schema" in portable_job(newsqa.Extract(Local))["schema"]

    class Shout(newsqa.Task[newsqa.Summary]):
        name = "shout-local"

    with pytest.raises(SchemaError, match="cannot be imported by name by a worker"):
        portable_job(Shout())
