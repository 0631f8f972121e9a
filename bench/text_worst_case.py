"""Worst-case text-v1 canonicalization of 1 MiB inputs (issue 12.9), in CPU seconds.

Unicode normalization reorders and composes each run of non-starters in time quadratic in the run's
length; text-v1 refuses runs longer than 30 (UAX #15 Stream-Safe Text Format), so the worst
accepted input is runs of exactly 30 marks of descending combining class, and a run of marks of any
length is refused after its 31st mark. The last rows show what the cap prevents: plain NFC of one
run of marks, growing with the square of its length.

Usage::

    .venv/bin/python -m bench.text_worst_case
"""

from __future__ import annotations

import statistics
import time
import unicodedata
from collections.abc import Callable

from provenance.errors import CanonicalizationError
from provenance.text import TEXT_LIMITS, Canonicalization, canonicalize

MIB = 1 << 20
REPEATS = 5
DESCENDING_MARKS = "\u0345\u0315\u031b\u0301\u0300\u0316\u0327"
"""Combining marks of classes 240, 232, 216, 230, 230, 220, 202 (reordering has work to do)."""


def _marks(count: int) -> str:
    return "".join(DESCENDING_MARKS[i % len(DESCENDING_MARKS)] for i in range(count))


def _fill(unit: str, size: int = MIB) -> bytes:
    """``unit`` repeated to ``size`` UTF-8 bytes (whole units only)."""
    return (unit * (size // len(unit.encode("utf-8")))).encode("utf-8")


INPUTS: dict[str, bytes] = {
    "ascii, one line": _fill("a"),
    "ascii, 80-character lines": _fill("a" * 79 + "\n"),
    "runs of 30 descending marks (accepted worst case)": _fill(
        "e" + _marks(TEXT_LIMITS.max_non_starter_run)
    ),
    "U+0344 (2 marks in NFKD) x 15 runs": _fill("e" + "\u0344" * 15),
    "precomposed e-acute (decomposed, recomposed)": _fill("\u00e9"),
    "NFD e + U+0301 (composed)": _fill("e\u0301"),
    "conjoining Hangul jamo L V T (composed)": _fill("\u1100\u1161\u11a8"),
    "CJK ideographs": _fill("\u4e2d"),
    "one line of marks (refused)": _fill(_marks(7)),
}


def cpu_seconds(run: Callable[[], object]) -> float:
    """The median CPU time of ``REPEATS`` runs (CPU time, so other load on the machine counts
    less than in wall time)."""
    samples = []
    for _ in range(REPEATS):
        start = time.process_time()
        run()
        samples.append(time.process_time() - start)
    return statistics.median(samples)


def _canonicalize(content: bytes) -> Callable[[], object]:
    def run() -> object:
        try:
            return canonicalize(content, Canonicalization.TEXT_V1)
        except CanonicalizationError as exc:
            return exc

    return run


def main() -> None:
    """Print one row per input: its size, the outcome and the CPU time."""
    print(f"| input (1 MiB) | outcome | CPU s (median of {REPEATS}) |")
    print("|---|---|---|")
    for name, content in INPUTS.items():
        outcome = _canonicalize(content)()
        verdict = "refused" if isinstance(outcome, CanonicalizationError) else "canonical"
        print(f"| {name} | {verdict} | {cpu_seconds(_canonicalize(content)):.3f} |")
    print()
    print("| plain NFC of one run of marks, without the cap | CPU s |")
    print("|---|---|")
    for count in (4_000, 8_000, 16_000):
        text = "e" + _marks(count)
        seconds = cpu_seconds(lambda text=text: unicodedata.normalize("NFC", text))  # type: ignore[misc]
        print(f"| {count:,} marks ({len(text.encode()):,} bytes) | {seconds:.3f} |")


if __name__ == "__main__":
    main()
