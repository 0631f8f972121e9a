"""A caller-built ``DecodedBundle`` whose value holds a cycle hung ``Verifier.check``.

``check_decoded`` (provenance/encoding.py) first walks the value level by level in
``_json_depth`` to check the exact JSON types and find the depth. The walk had no bound:
a list that holds itself (or a dict that holds itself) was walked forever, although the depth cap
(``max_depth``) is passed in and any value deeper than it is refused anyway. The promise is that
any input gives findings with a code, never a hang: a cycle nests without end, so the value is
refused in bounded time (found by the eighth attack, 2026-12-03): ``bundle.too_large`` (the size
cap is checked first, specs/bundle-v1.md §6.0, and its count stops at the cap), or
``bundle.malformed`` when a value that is not JSON is within reach.

The check runs in a child process with a timeout: the hang is a busy loop that no signal handler
in the same process would interrupt reliably.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_SECONDS = 20

_CHILD = """
import sys
from provenance import DecodedBundle, Verifier
from provenance.verify.policy import AllOf
from tests.adversarial.attack import PINNED_TRUST
from tests.factories import NOW, REVIEW

kind = sys.argv[1]
if kind == "list":
    value = []
    value.append(value)
elif kind == "dict":
    value = {}
    value["a"] = value
elif kind == "fan_out":  # every level twice as wide
    value = {}
    value["a"] = value
    value["b"] = [value, value]
elif kind == "bundle_shaped":  # verificationMaterial holds itself
    inner = {}
    inner["x"] = [inner]
    value = {"mediaType": "x", "dsseEnvelope": {}, "verificationMaterial": inner}
else:  # a tuple, and a cycle that a depth-first search from the last child meets first
    value = [(1,)]
    value.append(value)
result = Verifier(PINNED_TRUST).check(REVIEW, DecodedBundle(value), AllOf(()), at=NOW)
print("VERDICT", result.verified, [f.code for f in result.findings if not f.ok])
"""


EXPECTED = {
    "list": "bundle.too_large",
    "dict": "bundle.too_large",
    "fan_out": "bundle.too_large",
    "bundle_shaped": "bundle.too_large",
    "cycle_then_tuple": "bundle.malformed",
}


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_a_cyclic_decoded_bundle_gets_a_finding_not_a_hang(kind: str) -> None:
    try:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, kind],
            check=False,
            cwd=ROOT,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"Verifier.check on a cyclic DecodedBundle ({kind}) hung > {TIMEOUT_SECONDS}s")
    assert done.returncode == 0, done.stderr[-2000:]
    verdict = f"VERDICT False ['{EXPECTED[kind]}']"
    assert verdict in done.stdout, done.stdout + done.stderr[-2000:]
