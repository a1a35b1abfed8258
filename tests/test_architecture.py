"""The shape of the package: no import cycles, the CLI on the public API only, every
imported distribution declared, and a public API whose types catch mistakes."""

from __future__ import annotations

import ast
import importlib.metadata
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import newsqa

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "newsqa"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement of a module, function-level ones included, except those
    under ``if TYPE_CHECKING:`` (they never run)."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for branch in node.orelse:
                visit(branch)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def _package_edges(name: str) -> set[str]:
    """The newsqa modules ``name`` imports when it runs."""
    edges: set[str] = set()
    package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]
    for node in _imports(MODULES[name]):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names]
            targets = [t if t in MODULES else base for t in targets]
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                edges.add(target)
    return edges


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                walk(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            walk(node)
    return cycles


def test_no_import_cycle_inside_newsqa() -> None:
    graph = {name: _package_edges(name) for name in MODULES}
    assert "newsqa.types" in graph["newsqa.notebook"]  # the walk sees real imports
    assert _cycles(graph) == []


def test_the_cycle_detector_sees_a_function_level_import() -> None:
    graph = {"a": {"b"}, "b": {"a"}, "c": {"a"}}
    assert _cycles(graph) == [["a", "b", "a"]]


def test_types_hold_no_screen_code() -> None:
    assert not {"newsqa.notebook", "newsqa.cli"} & _package_edges("newsqa.types")


def _non_public_names(path: Path) -> list[str]:
    """What a CLI module imports from newsqa that is not public (its own package aside)."""
    public = set(newsqa.__all__)
    bad: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            bad.append(f"from {'.' * node.level}{node.module or ''} import ...")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("newsqa"):
            if (node.module or "").startswith("newsqa.cli"):
                continue
            if node.module != "newsqa":
                bad.append(f"from {node.module} import ...")
            bad.extend(a.name for a in node.names if a.name not in public)
        elif isinstance(node, ast.Import):
            bad.extend(
                a.name
                for a in node.names
                if a.name.startswith("newsqa")
                and a.name != "newsqa"
                and not a.name.startswith("newsqa.cli")
            )
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "newsqa"
            and node.attr not in public
        ):
            bad.append(f"newsqa.{node.attr}")
    return bad


def test_the_cli_uses_only_public_names() -> None:
    modules = sorted((PACKAGE / "cli").rglob("*.py"))
    assert len(modules) > 3  # the walk sees the package
    bad = {str(p.relative_to(ROOT)): _non_public_names(p) for p in modules}
    assert {path: names for path, names in bad.items() if names} == {}


def test_the_public_names_check_sees_a_private_import(tmp_path: Path) -> None:
    module = tmp_path / "probe.py"
    module.write_text(
        "import newsqa\nfrom newsqa.llm.client import LLMClient\n"
        "from newsqa.cli.text import format_summary\nnewsqa._private\n"
    )
    assert _non_public_names(module) == ["from newsqa.llm.client import ...", "newsqa._private"]


def test_every_imported_distribution_is_declared() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {
        dep.split(">")[0].split("<")[0].split("=")[0].split("[")[0].strip().lower()
        for dep in project["dependencies"]
    }
    extras = project["optional-dependencies"]

    def extra(name: str) -> set[str]:
        return {dep.split(">")[0].split("[")[0].strip().lower() for dep in extras[name]}

    # the `local` and `postgres` extras, imported only when they are installed
    optional = {"llama_cpp", "numpy"} if {"llama-cpp-python", "numpy"} <= extra("local") else set()
    if {"psycopg", "procrastinate"} <= extra("postgres"):
        optional |= {"psycopg", "procrastinate"}
    dists = importlib.metadata.packages_distributions()
    missing: set[str] = set()
    for path in MODULES.values():
        for node in _imports(path):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if not node.level
                else []
            )
            for name in names:
                top = name.split(".")[0]
                if not top or top == "newsqa" or top in sys.stdlib_module_names or top in optional:
                    continue
                if not {d.lower() for d in dists.get(top, [top])} & declared:
                    missing.add(top)
    assert missing == set()


_TYPING_PROBE = """
import newsqa

newsqa.connect(modle="qwen")
run = newsqa.abatch("articles/", newsqa.Summarize(), "out.jsonl")
for doc_id, outcome in run:
    if not isinstance(outcome, Exception):
        reveal_type(outcome)
        print(outcome.headline)
answers = newsqa.abatch("articles/", newsqa.Ask("Who?"), "out.jsonl")
for item in answers:
    if not isinstance(item.outcome, Exception):
        print(item.outcome.answer)
"""


def _mypy_lines(probe: str, tmp_path: Path) -> list[str]:
    """mypy --strict's lines about ``probe`` (written to probe.py)."""
    source = tmp_path / "probe.py"
    source.write_text(probe)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-error-summary",
            "--cache-dir",
            str(ROOT / ".mypy_cache"),
            str(source),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    return [line for line in result.stdout.splitlines() if "probe.py" in line]


@pytest.mark.parametrize("probe", [_TYPING_PROBE])
def test_mypy_catches_a_misspelt_setting_and_knows_batch_outcomes(
    probe: str, tmp_path: Path
) -> None:
    lines = _mypy_lines(probe, tmp_path)
    assert any('Unexpected keyword argument "modle"' in line for line in lines), lines
    assert any('Revealed type is "newsqa.types.Summary"' in line for line in lines), lines
    errors = [line for line in lines if ": error:" in line]
    assert len(errors) == 1, errors  # only the misspelt keyword


_EXTRACT_PROBE = """
from pydantic import BaseModel

import newsqa


class Facts(BaseModel):
    casualties: int | None = None


for doc_id, outcome in newsqa.abatch("articles/", newsqa.Extract(Facts), "o.jsonl"):
    if not isinstance(outcome, Exception):
        reveal_type(outcome)
        print(outcome.value.casualties)
        print(outcome.value.casulaties)
"""


def test_mypy_knows_extract_batch_outcomes_are_of_the_callers_model(tmp_path: Path) -> None:
    lines = _mypy_lines(_EXTRACT_PROBE, tmp_path)
    assert any('Revealed type is "newsqa.types.Extraction[probe.Facts]"' in line for line in lines)
    errors = [line for line in lines if ": error:" in line]
    assert len(errors) == 1 and '"casulaties"' in errors[0], errors  # the misspelt field


_LAYERS = [
    (
        "newsqa.errors",
        "newsqa.types",
        "newsqa.config",
        "newsqa.safe_text",
        "newsqa.sqlite_files",
        "newsqa.thresholds",
    ),
    ("newsqa.documents",),
    ("newsqa.prompts", "newsqa.retrieval"),
    ("newsqa.llm",),
    ("newsqa.grounding",),
    ("newsqa.tasks",),
    ("newsqa.batch", "newsqa.corpus"),
    ("newsqa.api", "newsqa.schema_models"),
    ("newsqa.cli", "newsqa.notebook"),
]
_API = 7
"""The rank of the public API, which the faces use (``newsqa`` re-exports every layer)."""


def _layer(module: str) -> int:
    if module == "newsqa":
        return _API
    for rank, prefixes in enumerate(_LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return rank
    raise AssertionError(f"{module} has no layer")


def test_lower_layers_never_import_higher_ones() -> None:
    upward = [
        f"{name} -> {target}"
        for name in MODULES
        if name != "newsqa"
        for target in _package_edges(name)
        if _layer(target) > _layer(name)
    ]
    assert upward == []


def test_grounding_imports_no_llm_code() -> None:
    """Numbering, checks and focus know no transport: the grounded call is a task's."""
    grounding = [name for name in MODULES if name.startswith("newsqa.grounding")]
    assert "newsqa.grounding.passage" in grounding
    llm = [
        f"{name} -> {target}"
        for name in grounding
        for target in _package_edges(name)
        if target.startswith("newsqa.llm")
    ]
    assert llm == []


def test_the_batch_function_is_not_shadowed_by_the_batch_package() -> None:
    assert callable(newsqa.batch) and callable(newsqa.abatch)
