"""`make bench`: run every benchmark side by side and rewrite bench/RESULTS.md and its plots.

Each section runs on its own; a section that fails is recorded as such and the others still run.
``BENCH_QUICK=1`` runs a small smoke version of everything (a minute or two);
``BENCH_TLOG_ENTRIES=10000000`` makes the PostgreSQL log figure a 10M-entry one (about 10 more
minutes).

Usage::

    .venv/bin/python -m bench.run            # full run (about 15 to 20 minutes on 2 cores)
    BENCH_QUICK=1 .venv/bin/python -m bench.run
    BENCH_ONLY=workers,sign_postgres .venv/bin/python -m bench.run   # those sections only: their
                                             # figures as JSON on stdout, RESULTS.md untouched
"""

from __future__ import annotations

import functools
import json
import os
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import large, library, media, model, service, sigstore_compare
from bench.fixtures import review_fixture
from bench.profiles import py_spy_top, pyinstrument_top
from bench.report import HERE, machine, write_report
from bench.stats import QUICK, scaled
from provenance.verify.verifier import Verifier

GIB = 1 << 30
QUIET_LOAD = 1.5
SERVER_WORKERS = 1
"""The verify/healthz ratio is one worker's (the ``workers`` section compares one and two)."""
SIGN_VARIANTS = {"1 worker": service.Variant(1), "2 workers": service.Variant(2)}
"""Sign at submission is measured with one and two workers side by side."""
QUIET_WAIT = scaled(30, 0)
ONLY = {name for name in os.environ.get("BENCH_ONLY", "").split(",") if name}


def _quiet_moment() -> float:
    """Wait (at most QUIET_WAIT seconds) for the 1-minute load average to fall under QUIET_LOAD:
    other work on the machine would take cores from a side-by-side figure. Returns the load."""
    deadline = time.monotonic() + QUIET_WAIT
    while os.getloadavg()[0] > QUIET_LOAD and time.monotonic() < deadline:
        time.sleep(2)
    return round(os.getloadavg()[0], 2)


def _section(results: dict[str, Any], name: str, run: Callable[[], Any]) -> None:
    if ONLY and name not in ONLY:
        return
    load = _quiet_moment()
    results.setdefault("load_average", {})[name] = load
    print(f"[bench] {name} (load {load}) ...", flush=True)
    started = time.perf_counter()
    try:
        results[name] = run()
    except Exception as exc:  # a failed section is reported, the others still run
        traceback.print_exc()
        results[name] = {"error": f"{type(exc).__name__}: {exc}"}
    print(f"[bench] {name} done in {time.perf_counter() - started:.0f} s", flush=True)


def _tlog_scale() -> dict[str, Any]:
    from bench import tlog_scale  # noqa: PLC0415 (needs the PostgreSQL driver and server)

    entries = int(os.environ.get("BENCH_TLOG_ENTRIES", scaled(1_000_000, 20_000)))
    return tlog_scale.run(tlog_scale.DEFAULT_URL, entries, 4096, scaled(1000, 200), keep=False)


def _profiles() -> dict[str, str]:
    fixture = review_fixture()
    verifier = Verifier(fixture.trust)
    profiles = {
        "library_verify": pyinstrument_top(
            lambda: verifier.check(
                fixture.content, fixture.bundle_bytes, fixture.policy, at=fixture.at
            ),
            scaled(2000, 200),
        )
    }
    profiles["service_verify"] = service.profile_verify(py_spy_top, scaled(8, 3))
    profiles["media_verify"] = media.profile_verify(pyinstrument_top, scaled(40, 5))
    return profiles


@functools.cache
def _big_file() -> Path:
    """The random file of the large-content sections, made once when the first of them runs."""
    return large.make_big_file(scaled(GIB, 64 << 20))


def main() -> None:
    """Run every section, then write results.json, the plots and RESULTS.md."""
    started = time.time()
    results: dict[str, Any] = {"quick": QUICK, "machine": machine()}
    rounds = scaled(7, 3)
    _section(results, "library", lambda: library.raw_and_verify(rounds))
    _section(results, "sigstore", lambda: sigstore_compare.compare(scaled(5, 2)))
    _section(results, "batch", lambda: library.batch(scaled(5, 2)))
    _section(
        results,
        "service",
        lambda: service.verify_vs_health(SERVER_WORKERS, scaled(3, 2), scaled(6, 2)),
    )
    _section(results, "workers", lambda: service.workers_side_by_side(scaled(3, 2), scaled(6, 2)))
    _section(
        results,
        "sign_postgres",
        lambda: service.sign_on_postgres(SIGN_VARIANTS, scaled(3, 1), scaled(6, 2)),
    )
    _section(results, "tlog_scale", _tlog_scale)
    _section(results, "media", lambda: media.media_figures(media.IMAGE, scaled(5, 2)))
    _section(results, "large", lambda: large.large_figures(_big_file(), scaled(3, 1)))
    _section(results, "model", model.model_figures)
    sizes = [1 << 10, 1 << 14, 1 << 18, 1 << 22, 1 << 26, *([GIB] if not QUICK else [])]
    _section(results, "content_curve", lambda: library.content_curve(sizes, _big_file()))
    log_sizes = [1_000, 10_000, *([100_000, 1_000_000, 10_000_000] if not QUICK else [])]
    _section(results, "log_curve", lambda: library.log_curve(log_sizes))
    _section(results, "profiles", _profiles)
    results["elapsed_seconds"] = round(time.time() - started)
    if ONLY:
        print(json.dumps(results, indent=1))
        return
    (HERE / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    write_report(results)
    print(f"[bench] wrote {HERE / 'RESULTS.md'} in {results['elapsed_seconds']} s")


if __name__ == "__main__":
    main()
