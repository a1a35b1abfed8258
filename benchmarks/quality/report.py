"""Timing and reporting shared by the quality benchmarks: a per-system timer and the
Markdown table of figures (newsqa vs baseline)."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from newsqa import NewsQAError, Usage

_HIDDEN = ("timed_items", "errors", "calls", "timing_from_earlier_run")


class Timer:
    """Wall seconds and usage of one system over a dataset."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self.usage = Usage()
        self.errors = 0

    def run(self, fn: Callable[..., tuple[Any, Usage]], *args: Any, **kwargs: Any) -> Any:
        """Call ``fn(*args, **kwargs)``, which returns (value, usage); None on failure."""
        t = time.perf_counter()
        try:
            value, usage = fn(*args, **kwargs)
        except NewsQAError as e:
            print(f"  error: {e}", file=sys.stderr)
            self.errors += 1
            return None
        if usage.calls:
            self.seconds.append(time.perf_counter() - t)
        self.usage += usage
        return value

    def figures(self, n: int) -> dict[str, Any]:
        return {
            "s_per_item": round(statistics.mean(self.seconds), 1) if self.seconds else None,
            "timed_items": len(self.seconds),
            "calls": self.usage.calls,
            "prompt_tokens_per_item": round(self.usage.prompt_tokens / n) if n else None,
            "errors": self.errors,
        }


def with_usage(fn: Callable[..., Any]) -> Callable[..., tuple[Any, Usage]]:
    """A newsqa task function that also returns the result's usage."""

    def run(*args: Any, **kwargs: Any) -> tuple[Any, Usage]:
        result = fn(*args, **kwargs)
        return result, result.usage

    return run


def table(results: dict[str, Any]) -> str:
    """One row per metric of each dataset (newsqa's metrics first, then the baseline's
    own), newsqa and baseline side by side."""
    lines = ["| dataset (n) | metric | newsqa | baseline |", "|---|---|---|---|"]
    for name, res in results.items():
        if not isinstance(res, dict) or "newsqa" not in res:
            continue
        ours, base = res["newsqa"] or {}, res["baseline"] or {}
        for metric in [*ours, *(m for m in base if m not in ours)]:
            if metric in _HIDDEN:
                continue
            a, b = _fmt(ours.get(metric)), _fmt(base.get(metric))
            lines.append(f"| {name} ({res['n']}) | {metric} | {a} | {b} |")
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, dict) and "share" in value:
        ci = value["ci95"]
        return f"{value['k']}/{value['n']} = {_fmt(value['share'])}" + (
            f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else ""
        )
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return (
        "—"
        if value is None
        else f"{value:.3f}"
        if isinstance(value, float) and value < 1.5
        else str(value)
    )
