"""Prompt templates: files under ``prompts/`` rendered strictly.

Templates use ``$name`` placeholders (:class:`string.Template`). Rendering fails
with :class:`~newsqa.errors.PromptError` when a placeholder has no value or a
value is given that the template does not use, so a renamed variable cannot
silently produce a broken prompt.

Text that comes from outside reaches a prompt only through :func:`one_line`:
documents in ``<document>`` blocks (:mod:`newsqa.grounding`), and the user's
own strings (question, options, claim, topic, target, actor) through
:func:`user_text`, each delimited and capped, so an instruction planted in them
stays data (spotlighting, Hines et al. 2024).
"""

from __future__ import annotations

import hashlib
import string
from collections.abc import Iterable, Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path

from newsqa.errors import PromptError

__all__ = [
    "USER_TEXT_CHARS",
    "load_template",
    "messages",
    "one_line",
    "prompts_dir",
    "render",
    "user_text",
    "version",
]

USER_TEXT_CHARS = 1000
"""Longest user string (question, claim, topic, target, actor...) a prompt takes."""


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


def version(names: Iterable[str]) -> str:
    """The prompt version of templates ``names``: SHA-256 of their text, so a result is
    reused only with the prompts it was made with.

    Raises:
        PromptError: no such template.
    """
    digest = hashlib.sha256()
    for name in sorted(set(names)):
        digest.update(f"{name}\0{load_template(name).template}\0".encode())
    return digest.hexdigest()


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


def messages(
    task: str, *, turns: Sequence[tuple[str, str]] = (), **values: str
) -> list[dict[str, str]]:
    """Chat messages for ``task``: the shared system prompt, then ``turns`` (worked
    examples: a user message and the answer to it, each), then ``<task>.user``.

    Every task shares one system prompt and puts the documents first in the user
    message, so tasks on the same document share a prompt prefix (a local model
    reuses its already-processed prefix).
    """
    shown = [
        {"role": role, "content": content}
        for asked, answered in turns
        for role, content in (("user", asked), ("assistant", answered))
    ]
    return [
        {"role": "system", "content": render("system")},
        *shown,
        {"role": "user", "content": render(f"{task}.user", **values)},
    ]


def one_line(text: str) -> str:
    """``text`` on one line, with nothing that could open or close a tag (``<`` and
    ``>`` become ``‹`` and ``›``)."""
    return " ".join(text.split()).replace("<", "‹").replace(">", "›")


def user_text(name: str, value: str) -> str:
    """A user string as prompts show it: :func:`one_line`, inside ``<name>`` tags.

    Args:
        name: what it is (``question``, ``claim``, ``topic``, ``target``...), the tag.
        value: the user's text.

    Raises:
        ValueError: over :data:`USER_TEXT_CHARS` characters.
    """
    text = one_line(value)
    if len(text) > USER_TEXT_CHARS:
        raise ValueError(
            f"the {name} is {len(text):,} characters long, over the "
            f"{USER_TEXT_CHARS:,}-character limit"
        )
    return f"<{name}>{text}</{name}>"
