"""The saved state of a provider batch run, next to its output, so that running the
command again resumes where it stopped: which batches are in flight (never submitted
twice), how many rounds were submitted, the structured-output mode the endpoint took,
and the failures each request had."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from newsqa.batch.replies import Failure
from newsqa.errors import ConfigError

__all__ = ["RunState", "Submitted", "rounds_folder"]

_STATE = "state.json"


def rounds_folder(out: Path) -> Path:
    """Where a provider batch on ``out`` keeps its state and replies: ``<out>.rounds/``."""
    return out.with_name(out.name + ".rounds")


class Submitted(BaseModel):
    """One batch in flight."""

    id: str
    keys: list[str]
    """The cache keys of its requests (a key missing from its output was lost)."""


class RunState(BaseModel):
    """What a provider batch run has done so far."""

    rounds: int = 0
    """Rounds submitted (or exported) so far."""
    structured_mode: str | None = None
    batches: list[Submitted] = Field(default_factory=list)
    """Batches submitted whose outputs are not loaded yet."""
    exported: list[str] = Field(default_factory=list)
    """Keys written by ``--export-requests`` whose responses are not imported yet."""
    failures: dict[str, Failure] = Field(default_factory=dict)

    @classmethod
    def load(cls, folder: Path) -> RunState:
        """The state saved in ``folder`` (a new one when there is none).

        Raises:
            ConfigError: the state file is not one newsqa wrote.
        """
        path = folder / _STATE
        if not path.exists():
            return cls()
        try:
            return cls.model_validate_json(path.read_bytes())
        except (ValidationError, OSError) as e:
            raise ConfigError(f"{path}: not a provider batch state ({e})") from e

    def save(self, folder: Path) -> None:
        """Write the state to ``folder`` (atomically: a crash leaves the old one)."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / _STATE
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(self.model_dump_json(), encoding="utf-8")
        os.replace(tmp, path)

    @staticmethod
    def clear(folder: Path) -> None:
        """Remove a finished run's state and replies."""
        shutil.rmtree(folder, ignore_errors=True)
