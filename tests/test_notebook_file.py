"""The tour notebook: valid nbformat, saved with the outputs of a clean run (never run here)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import nbformat  # in the dev extra: this check runs in CI, never skipped
import pytest

from tests.conftest import ROOT

NOTEBOOK = ROOT / "examples" / "newsqa_tour.ipynb"
FRANK = ROOT.parent / "shared" / "eval" / "dev" / "frank_articles_valid.jsonl"


def test_the_tour_is_a_valid_notebook_saved_after_a_clean_run() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)  # type: ignore[no-untyped-call]
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1))
    outputs = [output for cell in code for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    html = [o for o in outputs if o.output_type == "execute_result" and "text/html" in o.data]
    assert len(html) >= 3  # summary, stance table, answer render as HTML
    assert "000_c21f091162a05fc4.txt" in "".join(cell.source for cell in code)
    assert "/work/" not in "".join(cell.source for cell in code)  # no machine paths


def test_the_tour_does_not_reproduce_evaluation_articles() -> None:
    if not FRANK.is_file():
        pytest.skip("the FRANK validation file is not next to the repository")
    saved = NOTEBOOK.read_text(encoding="utf-8")
    with FRANK.open(encoding="utf-8") as fh:
        articles = [json.loads(line)["article"] for line, _ in zip(fh, range(3), strict=False)]
    for article in articles:
        for sentence in article.split(". ")[:5]:
            if len(sentence) > 40:
                assert json.dumps(sentence)[1:-1] not in saved and sentence not in saved


def _first_code_cell() -> str:
    nb = nbformat.read(NOTEBOOK, as_version=4)  # type: ignore[no-untyped-call]
    return str(next(cell.source for cell in nb.cells if cell.cell_type == "code"))


def test_the_tour_copied_out_of_the_repository_finds_its_article(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # as a copy of the notebook runs, far from the clone
    scope: dict[str, Any] = {}
    exec(_first_code_cell(), scope)  # the first cell only finds the article
    assert scope["ROOT"] == ROOT


def test_the_tour_without_the_article_says_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("newsqa.__file__", str(tmp_path / "site-packages/newsqa/__init__.py"))
    with pytest.raises(FileNotFoundError) as info:
        exec(_first_code_cell(), {})
    assert str(info.value).startswith(
        f"seeds/000_c21f091162a05fc4.txt is neither in {tmp_path} or above it"
    )


def test_the_readme_runs_the_tour_without_rewriting_it() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    [command] = [line for line in readme.splitlines() if "jupyter-execute" in line]
    assert "--inplace" not in command
    [output] = re.findall(r"--output[= ](\S+)", command)
    assert Path(output).is_absolute() and not Path(output).is_relative_to(ROOT)
