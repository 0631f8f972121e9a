"""Model signing: `prov model sign`/`verify` of a 2 GiB, 8-file model side by side with the OMS
reference implementation (`model_signing sign|verify key`) and single-core `sha256sum` over the
same files; wall time, throughput and peak memory (GNU time's maximum RSS) of each child.

Rounds interleave the commands, in reversed order every other round, so that whatever else the
machine does weighs on each alike; figures are medians (with quartiles) and minimums, and the
ratios are taken round by round. CPU seconds (user + system) are reported too: on a machine shared
with other work, wall times vary with the load while CPU time hardly does.

Both tools run from compiled bytecode, as installed packages do: pip compiles the reference's
modules when it installs them, but an editable checkout under ``PYTHONDONTWRITEBYTECODE=1`` would
recompile all of prov at every start. The children therefore run without that variable and with
``PYTHONPYCACHEPREFIX`` set to a temporary directory (filled by the warm-up pass, for both tools
alike; nothing is written into the source tree).

Run alone (about 3 minutes on 2 idle cores; the model is made in /tmp and deleted afterwards)::

    .venv/bin/python -m bench.model            # BENCH_QUICK=1: 8 x 8 MiB
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.large import timed_with_cpu
from bench.stats import QUICK, ratio_series, scaled, summarize
from provenance.keys import KeyType, generate_key

PROV = str(Path(sys.executable).with_name("prov"))
REFERENCE = [sys.executable, "-m", "model_signing"]
FILES = 8
FILE_BYTES = scaled(256 << 20, 8 << 20)
TARGET_SPEEDUP = 1.7
TARGET_PEAK_MB = 200
ROUNDS = scaled(5, 1)


def make_model(folder: Path, files: int = FILES, size: int = FILE_BYTES) -> Path:
    """``files`` files of ``size`` random bytes in ``folder``/model."""
    model = folder / "model"
    model.mkdir()
    for index in range(files):
        with (model / f"model-{index:05d}-of-{files:05d}.safetensors").open("wb") as out:
            subprocess.run(["head", "-c", str(size), "/dev/urandom"], stdout=out, check=True)
    return model


def _commands(folder: Path, model: Path) -> dict[str, list[str]]:
    key, public = folder / "key.pem", folder / "key.pub"
    ours, theirs = folder / "prov.sig", folder / "reference.sig"
    files = sorted(str(p) for p in model.iterdir())
    return {
        "sha256sum": ["sha256sum", *files],
        "prov_sign": [PROV, "model", "sign", str(model), "--key", str(key), "--signature", str(ours)],
        "prov_verify": [
            PROV, "model", "verify", str(model), "--key", str(public), "--signature", str(ours),
        ],
        "reference_sign": [
            *REFERENCE, "sign", "key", str(model), "--private_key", str(key),
            "--signature", str(theirs),
        ],
        "reference_verify": [
            *REFERENCE, "verify", "key", str(model), "--public_key", str(public),
            "--signature", str(theirs),
        ],
    }  # fmt: skip


def child_environment(folder: Path) -> dict[str, str]:
    """This environment with bytecode written to and read from ``folder``/pycache."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    return env


def model_figures(rounds: int = ROUNDS) -> dict[str, Any]:
    """Each command ``rounds`` times, interleaved, after one warm-up pass (page cache hot)."""
    key = generate_key(KeyType.P256)
    with tempfile.TemporaryDirectory(prefix="prov-bench-model-") as directory:
        folder = Path(directory)
        (folder / "key.pem").write_bytes(key.to_pem())
        (folder / "key.pub").write_bytes(key.public_key.to_pem())
        model = make_model(folder)
        total = sum(p.stat().st_size for p in model.iterdir())
        commands = _commands(folder, model)
        env = child_environment(folder)
        for command in commands.values():
            timed_with_cpu(command, env)
        runs: dict[str, list[tuple[float, int, float]]] = {name: [] for name in commands}
        for index in range(rounds):
            names = list(commands) if index % 2 == 0 else list(reversed(commands))
            for name in names:
                runs[name].append(timed_with_cpu(commands[name], env))
        shutil.rmtree(model)
    return _figures(runs, total)


def _figures(runs: dict[str, list[tuple[float, int, float]]], total: int) -> dict[str, Any]:
    seconds = {name: [t for t, _, _ in values] for name, values in runs.items()}
    cpu = {name: [c for _, _, c in values] for name, values in runs.items()}
    figures: dict[str, Any] = {"bytes": total, "files": FILES, "cores": os.cpu_count()}
    for name, values in runs.items():
        figures[f"{name}_seconds"] = summarize(seconds[name]).to_json()
        figures[f"{name}_seconds_min"] = round(min(seconds[name]), 3)
        figures[f"{name}_cpu_seconds"] = summarize(cpu[name]).to_json()
        figures[f"{name}_mib_per_s"] = round(total / 2**20 / summarize(seconds[name]).median, 1)
        figures[f"{name}_peak_rss_mb"] = round(max(m for _, m, _ in values) / 1e6, 1)
    for step in ("sign", "verify"):
        ours, theirs = f"prov_{step}", f"reference_{step}"
        figures[f"{ours}_speedup_vs_sha256sum"] = summarize(
            ratio_series(seconds["sha256sum"], seconds[ours])
        ).to_json()
        figures[f"{ours}_speedup_vs_reference"] = summarize(
            ratio_series(seconds[theirs], seconds[ours])
        ).to_json()
        figures[f"{ours}_speedup_vs_reference_of_minimums"] = round(
            min(seconds[theirs]) / min(seconds[ours]), 3
        )
        figures[f"{ours}_cpu_saving_vs_reference"] = summarize(
            ratio_series(cpu[theirs], cpu[ours])
        ).to_json()
    return figures


def main() -> None:
    """Run the section alone and print its figures as JSON."""
    figures = model_figures()
    figures["quick"] = QUICK
    figures["load_average"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
