"""The log's leaf (:class:`LogEntry`) and the log entry a bundle carries (:class:`TlogEntry`).

A leaf binds the SHA-256 of the DSSE envelope, the SHA-256 of the signer's certificate (DER) or
public key (SubjectPublicKeyInfo DER), and the integrated time, serialized as RFC 8785 (JCS) JSON.
A bundle's ``tlogEntries[]`` item carries the leaf's index, the integrated time and an inclusion
proof up to a signed checkpoint; the verifier rebuilds the leaf from what it verified itself and
checks that proof, so nothing in the bundle is trusted on its own.
"""

from __future__ import annotations

import binascii
import hashlib
import threading
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from provenance._records import quick_init
from provenance.codes import Code
from provenance.encoding import (
    JSON_LIMITS,
    StrictDecodeError,
    b64decode_strict,
    b64encode,
    canonical_json,
    loads_strict,
)
from provenance.errors import BundleFormatError, LogProofError
from provenance.keys import VerifyingKey
from provenance.tlog.limits import TLOG_LIMITS
from provenance.tlog.merkle import HASH_SIZE, leaf_hash, verify_inclusion
from provenance.tlog.note import NoteVerifier, open_checkpoint

ENTRY_VERSION = 1


def _entry_error(message: str) -> LogProofError:
    return LogProofError(message, code=Code.LOG_ENTRY_MALFORMED)


def _hex_digest(value: object, where: str) -> bytes:
    if not isinstance(value, str) or len(value) != 2 * HASH_SIZE or value != value.lower():
        raise _entry_error(f"{where}: expected 64 lowercase hex digits")
    try:
        return bytes.fromhex(value)
    except ValueError as exc:
        raise _entry_error(f"{where}: expected 64 lowercase hex digits") from exc


def _exact_keys(
    value: object, required: Set[str], optional: Set[str], where: str
) -> Mapping[str, Any]:
    if isinstance(value, dict):
        present = value.keys()
        if present == required or (present >= required and present - required <= optional):
            return value
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected a JSON object")
    keys = set(value)
    if missing := required - keys:
        raise ValueError(f"{where}: missing {', '.join(sorted(missing))}")
    if unknown := keys - required - optional:
        raise ValueError(f"{where}: unknown field {', '.join(sorted(unknown))}")
    return value


def _integer(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{where}: expected an integer, found {type(value).__name__}")
    if not 0 <= value <= JSON_LIMITS.max_exact_integer:
        raise ValueError(f"{where}: {value} is outside 0..2**53-1")
    return value


@quick_init
@dataclass(frozen=True)
class LogEntry:
    """The leaf of the log: what a signature's log entry binds.

    Args:
        envelope_sha256: SHA-256 of the DSSE envelope's canonical JSON bytes.
        signer_sha256: SHA-256 of ``certificate_der`` when given, else of the public key's SPKI DER.
        integrated_time: Seconds since the Unix epoch when the log integrated the entry.
        certificate_der: The signing certificate (DER), or None for a pinned raw key.

    Raises:
        LogProofError: (code ``log.entry.malformed``) Wrong digest sizes, a time out of range, or a
            ``signer_sha256`` that is not the certificate's hash.
    """

    envelope_sha256: bytes
    signer_sha256: bytes
    integrated_time: int
    certificate_der: bytes | None = None

    def __post_init__(self) -> None:
        if len(self.envelope_sha256) != HASH_SIZE:
            raise _entry_error(f"envelope_sha256: expected {HASH_SIZE} bytes")
        if len(self.signer_sha256) != HASH_SIZE:
            raise _entry_error(f"signer_sha256: expected {HASH_SIZE} bytes")
        if isinstance(self.integrated_time, bool) or not (
            0 <= self.integrated_time <= JSON_LIMITS.max_exact_integer
        ):
            raise _entry_error(f"integrated time {self.integrated_time} is outside 0..2**53-1")
        if self.certificate_der is not None and (
            certificate_facts(self.certificate_der)[0] != self.signer_sha256
        ):
            raise _entry_error("signer sha256 is not the SHA-256 of the certificate")

    def to_json(self) -> dict[str, Any]:
        """The entry as a JSON object (before canonicalization)."""
        signer: dict[str, Any] = {"sha256": self.signer_sha256.hex()}
        if self.certificate_der is not None:
            signer["certificate"] = b64encode(self.certificate_der)
        return {
            "envelopeSha256": self.envelope_sha256.hex(),
            "integratedTime": self.integrated_time,
            "signer": signer,
            "version": ENTRY_VERSION,
        }

    def to_bytes(self) -> bytes:
        """The leaf data: RFC 8785 canonical JSON.

        Written directly: every value is a lowercase hex or base64 string (nothing to escape) or
        an integer within +-(2**53-1), and the keys are in JCS order, so the text is the one
        :func:`~provenance.encoding.canonical_json` writes for :meth:`to_json` (a test holds the
        two together).
        """
        if type(self.integrated_time) is not int:  # a bool or int subclass: the general path
            return canonical_json(self.to_json())
        certificate = (
            ""
            if self.certificate_der is None
            else f'"certificate":"{certificate_facts(self.certificate_der)[1]}",'
        )
        return (
            f'{{"envelopeSha256":"{self.envelope_sha256.hex()}",'
            f'"integratedTime":{self.integrated_time},'
            f'"signer":{{{certificate}"sha256":"{self.signer_sha256.hex()}"}},'
            f'"version":{ENTRY_VERSION}}}'
        ).encode("ascii")

    @property
    def leaf_hash(self) -> bytes:
        """The RFC 9162 leaf hash of :meth:`to_bytes`, computed once per entry."""
        memo = self.__dict__
        found: bytes | None = memo.get("_leaf_hash")
        if found is None:
            found = memo["_leaf_hash"] = leaf_hash(self.to_bytes())
        return found

    @classmethod
    def from_bytes(cls, data: bytes) -> LogEntry:
        """Parse leaf data strictly: canonical JCS only, no unknown fields, version 1.

        Raises:
            LogProofError: (code ``log.entry.malformed``) Anything else.
        """
        try:
            obj = _exact_keys(
                loads_strict(data, max_bytes=TLOG_LIMITS.max_entry_bytes),
                {"envelopeSha256", "integratedTime", "signer", "version"},
                set(),
                "log entry",
            )
            signer = _exact_keys(obj["signer"], {"sha256"}, {"certificate"}, "log entry signer")
            if obj["version"] != ENTRY_VERSION or isinstance(obj["version"], bool):
                raise ValueError(f"unsupported log entry version {obj['version']!r}")
            certificate = signer.get("certificate")
            if certificate is not None and not isinstance(certificate, str):
                raise ValueError("log entry signer certificate: expected a base64 string")
            entry = cls(
                envelope_sha256=_hex_digest(obj["envelopeSha256"], "envelopeSha256"),
                signer_sha256=_hex_digest(signer["sha256"], "signer.sha256"),
                integrated_time=_integer(obj["integratedTime"], "integratedTime"),
                certificate_der=None if certificate is None else b64decode_strict(certificate),
            )
        except (StrictDecodeError, ValueError) as exc:
            raise _entry_error(f"malformed log entry: {exc}") from exc
        if entry.to_bytes() != data:
            raise _entry_error("log entry is not in RFC 8785 canonical form")
        return entry


class _CertificateFacts:
    """The SHA-256 and base64 of a signer's certificate DER, by the exact DER (a signer's
    certificate recurs in every leaf it signs), oldest first out."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: dict[bytes, tuple[bytes, str]] = {}
        self._lock = threading.Lock()

    def get(self, der: bytes) -> tuple[bytes, str]:
        found = self._items.get(der)
        if found is not None:
            return found
        facts = (hashlib.sha256(der).digest(), b64encode(der))
        with self._lock:
            self._items[der] = facts
            while len(self._items) > self._size:
                del self._items[next(iter(self._items))]
        return facts

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


CERTIFICATE_FACTS_SIZE = 1024
_CERTIFICATE_FACTS = _CertificateFacts(CERTIFICATE_FACTS_SIZE)


def certificate_facts(der: bytes) -> tuple[bytes, str]:
    """The SHA-256 and the base64 of the certificate ``der``, computed once per DER."""
    return _CERTIFICATE_FACTS.get(der)


def signer_binding(
    certificates: Sequence[x509.Certificate], key: VerifyingKey
) -> tuple[bytes, bytes | None]:
    """What a leaf binds of the signer: the SHA-256 of the leaf certificate's DER and that DER, or
    for a pinned key its key id (SHA-256 of the SPKI DER) and no certificate."""
    if certificates:
        der = certificates[0].public_bytes(Encoding.DER)
        return hashlib.sha256(der).digest(), der
    return bytes.fromhex(key.key_id), None


_NONE: frozenset[str] = frozenset()
_PROOF_FIELDS = frozenset({"logIndex", "treeSize", "rootHash", "hashes", "checkpoint"})
_CHECKPOINT_FIELDS = frozenset({"envelope"})
_TLOG_ENTRY_FIELDS = frozenset(
    {"logId", "logIndex", "integratedTime", "leafHash", "inclusionProof"}
)
_LOG_ID_FIELDS = frozenset({"origin"})


@quick_init
@dataclass(frozen=True)
class InclusionProof:
    """An inclusion proof of one leaf up to a signed checkpoint of ``tree_size`` leaves."""

    log_index: int
    tree_size: int
    root_hash: bytes
    hashes: tuple[bytes, ...]
    checkpoint: str

    def to_json(self) -> dict[str, Any]:
        """The proof's JSON shape inside a bundle."""
        return {
            "logIndex": self.log_index,
            "treeSize": self.tree_size,
            "rootHash": b64encode(self.root_hash),
            "hashes": [b64encode(item) for item in self.hashes],
            "checkpoint": {"envelope": self.checkpoint},
        }

    @classmethod
    def from_json(cls, obj: object) -> InclusionProof:
        """Parse strictly (see :meth:`TlogEntry.from_json`).

        Raises:
            ValueError: Malformed; the caller wraps it.
        """
        proof = _exact_keys(obj, _PROOF_FIELDS, _NONE, "inclusionProof")
        hashes = proof["hashes"]
        if not isinstance(hashes, list) or len(hashes) > TLOG_LIMITS.max_proof_hashes:
            raise ValueError(
                f"inclusionProof.hashes: expected a list of at most {TLOG_LIMITS.max_proof_hashes}"
            )
        checkpoint = _exact_keys(proof["checkpoint"], _CHECKPOINT_FIELDS, _NONE, "checkpoint")[
            "envelope"
        ]
        if (
            not isinstance(checkpoint, str)
            or len(checkpoint.encode("utf-8")) > TLOG_LIMITS.max_note_bytes
        ):
            raise ValueError(
                f"checkpoint.envelope: expected a string of at most {TLOG_LIMITS.max_note_bytes} "
                "bytes"
            )
        return cls(
            log_index=_integer(proof["logIndex"], "inclusionProof.logIndex"),
            tree_size=_integer(proof["treeSize"], "inclusionProof.treeSize"),
            root_hash=_hash(proof["rootHash"], "inclusionProof.rootHash"),
            hashes=_hashes(hashes, "inclusionProof.hashes[]"),
            checkpoint=checkpoint,
        )


_ZERO_LOW_2_BITS = frozenset("AEIMQUYcgkosw048")


def _hashes(items: list[object], where: str) -> tuple[bytes, ...]:
    """:func:`_hash` of every item, checked inline (a proof holds up to 64)."""
    canonical = _ZERO_LOW_2_BITS
    try:
        return tuple(
            [
                binascii.a2b_base64(item, strict_mode=True)
                if type(item) is str
                and len(item) == 44
                and item[43] == "="
                and item[42] in canonical
                else _hash(item, where)
                for item in items
            ]
        )
    except ValueError:  # the first item strict mode refused: step by step, for the message
        return tuple([_hash(item, where) for item in items])


def proof_hashes(items: list[object]) -> list[bytes]:
    """:func:`_hash` of every item: 32-byte hashes in canonical base64.

    Raises:
        ValueError: An item that is not one.
    """
    canonical = _ZERO_LOW_2_BITS
    return [
        binascii.a2b_base64(item, strict_mode=True)
        if type(item) is str and len(item) == 44 and item[43] == "=" and item[42] in canonical
        else _hash(item, "a proof hash")
        for item in items
    ]


def _hash(value: object, where: str) -> bytes:
    if (
        type(value) is str
        and len(value) == 44
        and value[43] == "="
        and value[42] in _ZERO_LOW_2_BITS
    ):
        # The canonical base64 of 32 bytes is 43 characters whose last ends in 2 zero bits and
        # one "=": strict mode refuses any other character and any misplaced padding.
        try:
            return binascii.a2b_base64(value, strict_mode=True)
        except ValueError:
            pass
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected a base64 string")
    try:
        decoded = b64decode_strict(value)
    except StrictDecodeError as exc:
        raise ValueError(f"{where}: {exc}") from exc
    if len(decoded) != HASH_SIZE:
        raise ValueError(f"{where}: expected {HASH_SIZE} bytes, found {len(decoded)}")
    return decoded


@quick_init
@dataclass(frozen=True)
class TlogEntry:
    """A bundle's log entry: which log, which leaf, when, and the proof that it is there."""

    origin: str
    log_index: int
    integrated_time: int
    leaf_hash: bytes
    inclusion_proof: InclusionProof

    def to_json(self) -> dict[str, Any]:
        """The entry's JSON shape inside a bundle's ``tlogEntries``."""
        return {
            "logId": {"origin": self.origin},
            "logIndex": self.log_index,
            "integratedTime": self.integrated_time,
            "leafHash": b64encode(self.leaf_hash),
            "inclusionProof": self.inclusion_proof.to_json(),
        }

    @classmethod
    def from_json(cls, obj: object) -> TlogEntry:
        """Parse a ``tlogEntries[]`` item strictly: exact fields, integer types, 32-byte hashes,
        at most 64 proof hashes, a checkpoint of at most 64 KiB.

        Raises:
            BundleFormatError: (code ``bundle.malformed``) Anything else.
        """
        try:
            item = _exact_keys(obj, _TLOG_ENTRY_FIELDS, _NONE, "tlogEntry")
            origin = _exact_keys(item["logId"], _LOG_ID_FIELDS, _NONE, "logId")["origin"]
            if not isinstance(origin, str) or not origin:
                raise ValueError("logId.origin: expected a non-empty string")
            return cls(
                origin=origin,
                log_index=_integer(item["logIndex"], "logIndex"),
                integrated_time=_integer(item["integratedTime"], "integratedTime"),
                leaf_hash=_hash(item["leafHash"], "leafHash"),
                inclusion_proof=InclusionProof.from_json(item["inclusionProof"]),
            )
        except ValueError as exc:
            raise BundleFormatError(f"malformed log entry: {exc}") from exc


def verify_tlog_entry(
    entry: TlogEntry, expected_leaf: LogEntry, verifiers: Sequence[NoteVerifier]
) -> int:
    """Check that ``entry`` proves ``expected_leaf`` is in a log the ``verifiers`` trust.

    Args:
        entry: The bundle's log entry.
        expected_leaf: The leaf rebuilt from the verified envelope, signer and the entry's time.
        verifiers: Trusted log keys; those named like the entry's origin apply.

    Returns:
        The proven integrated time.

    Raises:
        LogProofError: ``log.untrusted`` (no key for the origin), ``log.entry.mismatch`` (the entry
            records another time or index than the leaf it should bind), ``log.checkpoint.invalid``,
            ``log.checkpoint.unsigned``, or ``log.proof.invalid``.
    """
    proof = entry.inclusion_proof
    if entry.integrated_time != expected_leaf.integrated_time:
        raise LogProofError(
            f"log entry records integrated time {entry.integrated_time}, the leaf binds "
            f"{expected_leaf.integrated_time}",
            code=Code.LOG_ENTRY_MISMATCH,
        )
    if entry.log_index != proof.log_index:
        raise LogProofError(
            f"log entry index {entry.log_index} differs from its proof's index {proof.log_index}",
            code=Code.LOG_ENTRY_MISMATCH,
        )
    if entry.leaf_hash != expected_leaf.leaf_hash:
        raise LogProofError(
            f"log entry {entry.origin} #{entry.log_index} records leaf {entry.leaf_hash.hex()}; "
            f"this envelope and signer make leaf {expected_leaf.leaf_hash.hex()} (an entry of "
            "another signature)",
            code=Code.LOG_ENTRY_MISMATCH,
        )
    trusted = [verifier for verifier in verifiers if verifier.name == entry.origin]
    if not trusted:
        known = ", ".join(sorted({verifier.name for verifier in verifiers})) or "none"
        raise LogProofError(
            f"no trusted key for log {entry.origin!r}; trusted logs: {known}",
            code=Code.LOG_UNTRUSTED,
        )
    checkpoint = open_checkpoint(proof.checkpoint, trusted, origin=entry.origin)
    if (checkpoint.size, checkpoint.root_hash) != (proof.tree_size, proof.root_hash):
        raise LogProofError(
            f"checkpoint is for size {checkpoint.size} root {checkpoint.root_hash.hex()}; the proof "
            f"is for size {proof.tree_size} root {proof.root_hash.hex()}",
            code=Code.LOG_PROOF_INVALID,
        )
    verify_inclusion(
        proof.log_index, proof.tree_size, expected_leaf.leaf_hash, proof.hashes, proof.root_hash
    )
    return entry.integrated_time
