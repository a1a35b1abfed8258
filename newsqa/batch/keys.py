"""The content key: one hash of everything that decides a task's result, so a result
is reused only where the same request would be made again."""

from __future__ import annotations

import hashlib
import json

from newsqa.types import Document

__all__ = ["content_key", "document_text"]


def document_text(doc: Document) -> str:
    """Everything of ``doc`` a prompt shows (id, text, title, date), as one string."""
    date = doc.date.isoformat() if doc.date else None
    return json.dumps([doc.id, doc.text, doc.title, date], ensure_ascii=False)


def content_key(
    text: str, task: str, params: str, model: str, endpoint: str, prompt_version: str
) -> str:
    """SHA-256 of a document's text (:func:`document_text`), the task's name, its
    parameters (JSON), the model, the endpoint that serves it and the prompt version
    (:func:`newsqa.prompts.version` of the templates the task renders): another model,
    base URL, prompt template, parameter or an edited document never reuses a result."""
    payload = {
        "text": text,
        "task": task,
        "params": params,
        "model": model,
        "endpoint": endpoint,
        "prompts": prompt_version,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
