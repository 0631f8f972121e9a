"""Atheris target: bundle parsing and full verification against every positive spec vector.

Fails (crashes) when ``Verifier.check`` raises anything, or when fuzzed bytes verify without being a
documented no-op of a known-good bundle. See fuzz/README.md for the command.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from fuzz.oracle import is_documented_no_op, positive_vectors

VECTORS = positive_vectors()
KNOWN_GOOD = [vector.bundle for vector in VECTORS]


def test_one_input(data: bytes) -> None:
    """Check ``data`` as a bundle against each positive vector's content, trust root and policy."""
    for vector in VECTORS:
        result = vector.verifier.check(vector.content, data, vector.policy, at=vector.at)
        if result.verified and not is_documented_no_op(data, KNOWN_GOOD):
            raise AssertionError(f"fuzzed bundle verified against {vector.name}: {data!r}")


def main() -> None:
    """Run libFuzzer over :func:`test_one_input`."""
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
