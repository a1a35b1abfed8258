"""Prompt templates: files under ``prompts/`` rendered strictly.

Templates use ``$name`` placeholders (:class:`string.Template`). Rendering fails
with :class:`~newsqa.errors.PromptError` when a placeholder has no value or a
value is given that the template does not use, so a renamed variable cannot
silently produce a broken prompt.
"""

from __future__ import annotations

import string
from functools import lru_cache
from importlib import resources
from pathlib import Path

from newsqa.errors import PromptError

__all__ = ["load_template", "messages", "prompts_dir", "render"]


def prompts_dir() -> Path:
    """Folder holding the templates: inside the wheel, or the source checkout's ``prompts/``."""
    packaged = Path(str(resources.files("newsqa"))) / "prompts"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "prompts"


@lru_cache(maxsize=64)
def load_template(name: str) -> string.Template:
    """Load ``prompts/<name>.md``.

    Raises:
        PromptError: no such template.
    """
    path = prompts_dir() / f"{name}.md"
    try:
        return string.Template(path.read_text(encoding="utf-8").strip())
    except OSError as e:
        raise PromptError(f"prompt template {name!r} not found at {path}") from e


def render(name: str, **values: str) -> str:
    """Render template ``name`` with exactly the placeholders it declares.

    Raises:
        PromptError: missing template, missing value or unexpected value.
    """
    template = load_template(name)
    declared = set(template.get_identifiers())
    missing = declared - values.keys()
    extra = values.keys() - declared
    if missing or extra:
        raise PromptError(f"prompt {name!r}: missing {sorted(missing)}, unexpected {sorted(extra)}")
    return template.substitute(values)


def messages(task: str, **values: str) -> list[dict[str, str]]:
    """Chat messages for ``task``: the shared system prompt, then ``<task>.user``.

    Every task shares one system prompt and puts the documents first in the user
    message, so tasks on the same document share a prompt prefix (a local model
    reuses its already-processed prefix).
    """
    return [
        {"role": "system", "content": render("system")},
        {"role": "user", "content": render(f"{task}.user", **values)},
    ]
