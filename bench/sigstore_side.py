"""sigstore-python's side of the comparison, run as its own process (so that it can live in a
separate virtual environment when its pins conflict with ours).

Parses and verifies ../shared/fixtures/sigstore/bundle_v3.txt.sigstore offline against
staging_trusted_root.json with the identity policy of that folder's README.txt, ``count`` times
after a warm-up, and prints JSON: the sigstore version and the seconds of each parse + verify.

Usage: python bench/sigstore_side.py FIXTURES_DIR COUNT
"""

from __future__ import annotations

import json
import sys
import time
from importlib.metadata import version
from pathlib import Path

from sigstore.models import Bundle, TrustedRoot
from sigstore.verify import Verifier
from sigstore.verify.policy import Identity

IDENTITY = Identity(identity="william@yossarian.net", issuer="https://github.com/login/oauth")


def main() -> None:
    """Time ``COUNT`` parse + verify calls and print them as JSON."""
    fixtures, count = Path(sys.argv[1]), int(sys.argv[2])
    data = (fixtures / "bundle_v3.txt").read_bytes()
    raw = (fixtures / "bundle_v3.txt.sigstore").read_text()
    verifier = Verifier(
        trusted_root=TrustedRoot.from_file(str(fixtures / "staging_trusted_root.json"))
    )
    for _ in range(max(3, count // 10)):
        verifier.verify_artifact(data, Bundle.from_json(raw), IDENTITY)
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        verifier.verify_artifact(data, Bundle.from_json(raw), IDENTITY)
        timings.append(time.perf_counter() - started)
    tampered = data + b"x"
    try:
        verifier.verify_artifact(tampered, Bundle.from_json(raw), IDENTITY)
        refused = "accepted tampered data"
    except Exception as exc:
        refused = str(exc)
    print(json.dumps({"sigstore": version("sigstore"), "seconds": timings, "tampered": refused}))


if __name__ == "__main__":
    main()
