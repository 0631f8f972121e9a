"""Sign at submission before and after a change, side by side in one run.

Both servers (this checkout and another, e.g. ``main`` in a temporary worktree) run at once, each on
its own fresh PostgreSQL database, loaded in alternating rounds by the same generator; every
returned bundle is then verified against its server's trust root.

Usage::

    git -C /work/main worktree add --detach /tmp/before main
    PYTHONPATH=$PWD .venv/bin/python -m bench.sign_compare --before /tmp/before [--workers 1]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from bench.service import Variant, sign_on_postgres


def main() -> None:
    """Measure and print the figures as JSON, then the after/before ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="the other checkout")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()
    variants = {
        "before": Variant(args.workers, args.before.resolve()),
        "after": Variant(args.workers),
    }
    load = round(os.getloadavg()[0], 2)
    figures = sign_on_postgres(variants, args.rounds, args.seconds, args.clients)
    print(json.dumps({"loadAverageAtStart": load, **figures}, indent=1))
    before, after = figures["before"], figures["after"]
    for key in ("throughput", "p50Ms", "p99Ms", "serverCpuMsPerRequest"):
        ratio = after[key]["median"] / before[key]["median"]
        print(f"{key}: before {before[key]['median']}, after {after[key]['median']}, x{ratio:.2f}")


if __name__ == "__main__":
    main()
