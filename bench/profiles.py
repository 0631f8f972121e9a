"""Profiles of what misses its target: pyinstrument in process, py-spy on the server."""

from __future__ import annotations

import collections
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from pyinstrument import Profiler


def pyinstrument_top(action: Callable[[], object], count: int, lines: int = 28) -> str:
    """The call tree of ``count`` calls of ``action`` (frames under 2% hidden), as text."""
    action()
    profiler = Profiler(interval=0.0002)
    profiler.start()
    for _ in range(count):
        action()
    profiler.stop()
    text = profiler.output_text(unicode=False, color=False, show_all=False)
    body = [line for line in text.splitlines() if line.strip()][4:]
    return "\n".join(body[:lines])


def py_spy_top(pid: int, seconds: int, load: Callable[[], object], lines: int = 15) -> str:
    """Sample ``pid`` and its worker processes while ``load`` runs, only threads holding the GIL
    (the CPU-bound Python work); the functions with the most own samples (leaf frames) and the
    project's functions with the most total samples, as text."""
    py_spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if py_spy is None:
        return "(py-spy is not installed)"
    with tempfile.TemporaryDirectory() as directory:
        output = Path(directory) / "stacks.txt"
        command = [
            py_spy,
            "record",
            "--pid",
            str(pid),
            "--subprocesses",
            "--gil",
            "--format",
            "raw",
        ]
        recorder = subprocess.Popen(
            [*command, "--duration", str(seconds), "--rate", "200", "--output", str(output)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        load()
        recorder.wait(timeout=seconds + 60)
        if not output.exists():
            return "(py-spy could not sample the server)"
        return _collapsed_summary(output.read_text(), lines)


def _collapsed_summary(text: str, lines: int) -> str:
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_short(frame) for frame in stack.split(";")]
        samples += count
        own[frames[-1]] += count
        for frame in set(frames):
            total[frame] += count
    if not samples:
        return "(no samples)"
    own_lines = [f"{100 * n / samples:5.1f}%  {name}" for name, n in own.most_common(lines)]
    relevant = [
        (name, n)
        for name, n in total.most_common(200)
        if "provenance/" in name or "verifier_api/" in name
    ][:lines]
    total_lines = [f"{100 * n / samples:5.1f}%  {name}" for name, n in relevant]
    return "\n".join(
        [
            f"{samples} samples; own time (leaf frames):",
            *own_lines,
            "total time, project frames:",
            *total_lines,
        ]
    )


def _short(frame: str) -> str:
    """``function (path/to/module.py:123)`` -> ``function (module.py)``."""
    name, _, where = frame.partition(" (")
    module = "/".join(where.rstrip(")").split(":", 1)[0].split("/")[-2:])
    return f"{name} ({module})" if module else name
