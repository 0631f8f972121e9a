"""Atheris target: signed notes, checkpoints, verifier key strings and log leaves.

Each parser may only raise its documented error (``LogProofError`` for notes, checkpoints and
leaves; ``KeyFormatError`` for verifier keys); anything else is a crash. A fuzzed note that opens as
a checkpoint under the test log key must be byte-identical to the one note that key signed.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from provenance.errors import KeyFormatError, LogProofError
    from provenance.keys import Ed25519SigningKey
    from provenance.tlog.entry import LogEntry
    from provenance.tlog.note import (
        Checkpoint,
        NoteSigner,
        NoteVerifier,
        open_checkpoint,
        sign_checkpoint,
    )

ORIGIN = "fuzz.example/log"
SIGNER = NoteSigner(ORIGIN, Ed25519SigningKey(bytes(range(32))))
SIGNED = sign_checkpoint(Checkpoint(ORIGIN, 7, bytes(32)), SIGNER)


def _note(text: str) -> None:
    try:
        checkpoint = open_checkpoint(text, [SIGNER.verifier], origin=ORIGIN)
    except LogProofError:
        return
    if text != SIGNED:
        raise AssertionError(f"a forged note opened as checkpoint {checkpoint}: {text!r}")


def _key_string(text: str) -> None:
    try:
        NoteVerifier.from_key_string(text)
    except KeyFormatError:
        return


def _leaf(data: bytes) -> None:
    try:
        entry = LogEntry.from_bytes(data)
    except LogProofError:
        return
    if entry.to_bytes() != data:
        raise AssertionError(f"leaf parsed from non-canonical bytes {data!r}")


def test_one_input(data: bytes) -> None:
    """Feed ``data`` to every log parser."""
    _leaf(data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    _note(text)
    _key_string(text)
    try:
        Checkpoint.from_text(text)
    except LogProofError:
        return


def main() -> None:
    """Run libFuzzer over :func:`test_one_input`."""
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
