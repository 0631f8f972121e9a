"""Timing helpers: interleaved rounds, medians and spread.

Side-by-side figures are measured in alternating rounds (A, B, A, B, ...) so that whatever else
the machine does at the time weighs on both sides alike; a figure is the median of its rounds and
its spread the interquartile range.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")


def scaled(full: int, quick: int) -> int:
    """``quick`` in a BENCH_QUICK run, else ``full``."""
    return quick if QUICK else full


@dataclass(frozen=True)
class Summary:
    """The median and quartiles of a series of measurements (in the figure's own unit)."""

    median: float
    q1: float
    q3: float
    count: int

    @property
    def iqr(self) -> float:
        """The interquartile range."""
        return self.q3 - self.q1

    def to_json(self) -> dict[str, Any]:
        """The summary as JSON (rounded to 4 significant digits)."""
        return {
            "median": _round(self.median),
            "q1": _round(self.q1),
            "q3": _round(self.q3),
            "iqr": _round(self.iqr),
            "n": self.count,
        }


def _round(value: float) -> float:
    return float(f"{value:.4g}")


def summarize(values: Sequence[float]) -> Summary:
    """Median and quartiles (inclusive method) of ``values``."""
    if len(values) == 1:
        return Summary(values[0], values[0], values[0], 1)
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return Summary(median, q1, q3, len(values))


def rate(action: Callable[[], object], count: int) -> float:
    """Operations per second of ``count`` calls of ``action``."""
    started = time.perf_counter()
    for _ in range(count):
        action()
    return count / (time.perf_counter() - started)


def interleaved_rates(
    actions: dict[str, tuple[Callable[[], object], int]], rounds: int
) -> dict[str, list[float]]:
    """Per-round rates of each named action, the actions alternating round by round."""
    for action, count in actions.values():
        rate(action, max(1, count // 10))
    series: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(rounds):
        for name, (action, count) in actions.items():
            series[name].append(rate(action, count))
    return series


def ratio_series(numerator: Sequence[float], denominator: Sequence[float]) -> list[float]:
    """Round-by-round ratios of two interleaved series."""
    return [a / b for a, b in zip(numerator, denominator, strict=True)]


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]
