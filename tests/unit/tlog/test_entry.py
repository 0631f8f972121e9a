"""Log entries (leaves), bundle log entries and their verification."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import pytest

from provenance.errors import BundleFormatError, LogProofError
from provenance.keys import Ed25519SigningKey
from provenance.tlog.entry import InclusionProof, LogEntry, TlogEntry, verify_tlog_entry
from provenance.tlog.log import TransparencyLog
from provenance.tlog.note import Checkpoint, NoteSigner, sign_checkpoint
from provenance.tlog.store import MemoryStore

ORIGIN = "example.org/log"
NOW = 1_700_000_000
CERT = b"0\x82 not really DER but bytes"


def _signer(name: str = ORIGIN, seed: int = 3) -> NoteSigner:
    return NoteSigner(name, Ed25519SigningKey(bytes([seed]) * 32))


def _leaf(n: int, time: int = NOW) -> LogEntry:
    return LogEntry(
        hashlib.sha256(b"env%d" % n).digest(), hashlib.sha256(CERT).digest(), time, CERT
    )


def _logged(count: int = 10) -> tuple[TransparencyLog, list[LogEntry], NoteSigner]:
    signer = _signer()
    log = TransparencyLog(MemoryStore(), signer, ORIGIN, lambda: NOW)
    leaves = [_leaf(n) for n in range(count)]
    log.append_batch(leaves)
    return log, leaves, signer


def test_log_entry_serializes_as_jcs() -> None:
    entry = LogEntry(bytes(32), bytes([1]) * 32, 1700000000)
    assert entry.to_bytes() == (
        b'{"envelopeSha256":"' + b"00" * 32 + b'","integratedTime":1700000000,'
        b'"signer":{"sha256":"' + b"01" * 32 + b'"},"version":1}'
    )
    assert LogEntry.from_bytes(entry.to_bytes()) == entry


def test_log_entry_with_certificate_round_trips() -> None:
    entry = _leaf(1)
    assert b'"certificate":"' in entry.to_bytes()
    assert LogEntry.from_bytes(entry.to_bytes()) == entry


@pytest.mark.parametrize(
    "mutate",
    [
        lambda raw: raw.replace(b'"version":1', b'"version":2'),
        lambda raw: raw.replace(b'"version":1', b'"version":1,"x":1'),
        lambda raw: raw.replace(b'{"envelopeSha256"', b'{ "envelopeSha256"'),
        lambda raw: raw.replace(b'"integratedTime":1700000000', b'"integratedTime":true'),
        lambda raw: raw.replace(b'"00', b'"0A', 1),
        lambda raw: raw.replace(b'"integratedTime":1700000000', b'"integratedTime":-1'),
    ],
)
def test_log_entry_parsing_is_strict(mutate: Any) -> None:
    raw = mutate(LogEntry(bytes(32), bytes([1]) * 32, 1700000000).to_bytes())
    with pytest.raises(LogProofError) as caught:
        LogEntry.from_bytes(raw)
    assert caught.value.code == "log.entry.malformed"


def test_log_entry_refuses_a_signer_hash_that_is_not_the_certificates() -> None:
    with pytest.raises(LogProofError, match="not the SHA-256 of the certificate"):
        LogEntry(bytes(32), bytes(32), NOW, CERT)


def test_tlog_entry_json_round_trips_with_the_bundle_shape() -> None:
    log, _, _ = _logged()
    entry = log.tlog_entry_for(4)
    obj = entry.to_json()
    assert set(obj) == {"logId", "logIndex", "integratedTime", "leafHash", "inclusionProof"}
    assert obj["logId"] == {"origin": ORIGIN}
    assert set(obj["inclusionProof"]) == {
        "logIndex",
        "treeSize",
        "rootHash",
        "hashes",
        "checkpoint",
    }
    assert obj["inclusionProof"]["checkpoint"] == {"envelope": log.checkpoint()}
    assert TlogEntry.from_json(obj) == entry


def _mutated(change: Any) -> dict[str, Any]:
    log, _, _ = _logged()
    obj = log.tlog_entry_for(4).to_json()
    change(obj)
    return obj


@pytest.mark.parametrize(
    "change",
    [
        lambda o: o.update(extra=1),
        lambda o: o["logId"].update(name="x"),
        lambda o: o["inclusionProof"].update(extra=1),
        lambda o: o["inclusionProof"]["checkpoint"].update(extra=1),
        lambda o: o.update(logIndex="4"),
        lambda o: o.update(integratedTime=True),
        lambda o: o.update(logIndex=-1),
        lambda o: o.pop("integratedTime"),
        lambda o: o["inclusionProof"].update(rootHash="AAAA"),
        lambda o: o["inclusionProof"].update(hashes=["AAAA"]),
        lambda o: o["inclusionProof"].update(hashes=["A" * 43 + "="] * 65),
        lambda o: o["inclusionProof"]["checkpoint"].update(envelope="x" * (64 * 1024 + 1)),
        lambda o: o["logId"].update(origin=""),
        lambda o: o.update(leafHash="AAAA"),
        lambda o: o.pop("leafHash"),
    ],
)
def test_tlog_entry_parsing_refuses_malformed_json(change: Any) -> None:
    with pytest.raises(BundleFormatError) as caught:
        TlogEntry.from_json(_mutated(change))
    assert caught.value.code == "bundle.malformed"


def test_verify_tlog_entry_returns_the_integrated_time() -> None:
    log, leaves, signer = _logged()
    assert verify_tlog_entry(log.tlog_entry_for(7), leaves[7], [signer.verifier]) == NOW


def _code(entry: TlogEntry, leaf: LogEntry, signer: NoteSigner) -> str:
    with pytest.raises(LogProofError) as caught:
        verify_tlog_entry(entry, leaf, [signer.verifier])
    return caught.value.code


def test_verify_rejects_swapped_log_entry() -> None:
    log, leaves, signer = _logged()
    swapped = dataclasses.replace(log.tlog_entry_for(3), integrated_time=NOW)
    assert _code(swapped, leaves[7], signer) == "log.entry.mismatch"


def test_verify_rejects_an_entry_whose_leaf_hash_was_edited_to_match() -> None:
    log, leaves, signer = _logged()
    forged = dataclasses.replace(log.tlog_entry_for(3), leaf_hash=leaves[7].leaf_hash)
    assert _code(forged, leaves[7], signer) == "log.proof.invalid"


def test_verify_rejects_an_entry_recording_another_integrated_time() -> None:
    log, _, signer = _logged()
    assert _code(log.tlog_entry_for(7), _leaf(7, NOW + 1), signer) == "log.entry.mismatch"


def test_verify_rejects_an_entry_whose_index_differs_from_its_proof() -> None:
    log, leaves, signer = _logged()
    entry = dataclasses.replace(log.tlog_entry_for(7), log_index=6)
    assert _code(entry, leaves[7], signer) == "log.entry.mismatch"


def test_verify_rejects_a_log_without_a_trusted_key() -> None:
    log, leaves, _ = _logged()
    assert _code(log.tlog_entry_for(7), leaves[7], _signer("other.example/log")) == "log.untrusted"


def test_verify_rejects_a_checkpoint_signed_by_another_key_of_the_same_name() -> None:
    log, leaves, _ = _logged()
    assert _code(log.tlog_entry_for(7), leaves[7], _signer(seed=4)) == "log.checkpoint.unsigned"


def test_verify_rejects_a_tampered_checkpoint() -> None:
    log, leaves, signer = _logged()
    entry = log.tlog_entry_for(7)
    note = entry.inclusion_proof.checkpoint.replace("\n10\n", "\n11\n")
    proof = dataclasses.replace(entry.inclusion_proof, checkpoint=note)
    tampered = dataclasses.replace(entry, inclusion_proof=proof)
    assert _code(tampered, leaves[7], signer) == "log.checkpoint.invalid"


def test_verify_rejects_a_proof_for_another_size_than_the_checkpoint() -> None:
    log, leaves, signer = _logged()
    entry = log.tlog_entry_for(7)
    older = log.inclusion_proof(7, 9)
    proof = dataclasses.replace(older, checkpoint=entry.inclusion_proof.checkpoint)
    assert _code(dataclasses.replace(entry, inclusion_proof=proof), leaves[7], signer) == (
        "log.proof.invalid"
    )


def test_verify_rejects_a_corrupted_proof_hash() -> None:
    log, leaves, signer = _logged()
    entry = log.tlog_entry_for(7)
    hashes = list(entry.inclusion_proof.hashes)
    hashes[1] = bytes([hashes[1][0] ^ 1]) + hashes[1][1:]
    proof = dataclasses.replace(entry.inclusion_proof, hashes=tuple(hashes))
    assert _code(dataclasses.replace(entry, inclusion_proof=proof), leaves[7], signer) == (
        "log.proof.invalid"
    )


def test_verify_accepts_a_checkpoint_cosigned_by_an_unknown_witness() -> None:
    log, leaves, signer = _logged()
    entry = log.tlog_entry_for(7)
    checkpoint = Checkpoint(ORIGIN, 10, entry.inclusion_proof.root_hash)
    witness_line = sign_checkpoint(checkpoint, _signer("witness.example", 5)).split("\n\n")[1]
    proof = dataclasses.replace(
        entry.inclusion_proof, checkpoint=entry.inclusion_proof.checkpoint + witness_line
    )
    assert (
        verify_tlog_entry(
            dataclasses.replace(entry, inclusion_proof=proof), leaves[7], [signer.verifier]
        )
        == NOW
    )


def test_inclusion_proof_json_shape() -> None:
    proof = InclusionProof(1, 2, bytes(32), (bytes(32),), "note")
    assert proof.to_json() == {
        "logIndex": 1,
        "treeSize": 2,
        "rootHash": "A" * 43 + "=",
        "hashes": ["A" * 43 + "="],
        "checkpoint": {"envelope": "note"},
    }
