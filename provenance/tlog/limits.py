"""The caps of the transparency log: its formats (C2SP checkpoints, tiles, entry bundles) and its
appends."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TlogLimits:
    """The caps of the transparency log.

    Attributes:
        max_tree_size: A tree size (C2SP: an unsigned 64-bit integer).
        max_entry_bytes: One entry of an entry bundle (its 16-bit length prefix).
        max_proof_hashes: Hashes in one inclusion or consistency proof.
        max_note_bytes: A signed note (checkpoint).
        max_note_signatures: Signature lines of a note.
        max_batch: Entries appended in one batch.
        max_skew_seconds: How far an entry's time may be from the log's clock, by default.
        max_audit_size: The most leaves an audit accepts by default (tlog-v1 §8.1 step 2): 16.8
            million level-0 tiles and as many entry bundles to fetch; a checkpoint claiming more
            is ``log.checkpoint.invalid`` (attacker review F4).
    """

    max_tree_size: int = 2**64 - 1
    max_entry_bytes: int = 0xFFFF
    max_proof_hashes: int = 64
    max_note_bytes: int = 64 * 1024
    max_note_signatures: int = 100
    max_batch: int = 4096
    max_skew_seconds: int = 300
    max_audit_size: int = 2**32


TLOG_LIMITS = TlogLimits()
