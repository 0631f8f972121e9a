"""Auditing and monitoring a log from its C2SP tlog-tiles (``specs/tlog-v1.md`` §8).

An auditor trusts nothing it fetches until it has checked it: the checkpoint must be signed by a
trusted key for the origin, every hash tile must hash into the level above and the tiles into the
checkpoint's root, every entry bundle must hash to its level-0 tile and parse strictly, and the tree
must extend the last checkpoint the auditor accepted. All I/O goes through a :data:`Fetch` callable,
so the same code audits a directory, a static web server or a test's dictionary.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography import x509

from provenance.codes import Code
from provenance.errors import LogError, LogProofError
from provenance.identity.names import identity_of
from provenance.tlog.entry import LogEntry
from provenance.tlog.limits import TLOG_LIMITS
from provenance.tlog.merkle import HASH_SIZE, leaf_hash, root_from_hashes, subtree_hash
from provenance.tlog.note import Checkpoint, NoteVerifier, open_checkpoint
from provenance.tlog.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    TileId,
    TileNodeReader,
    decode_entry_bundle,
    tile_hashes,
    tile_width,
)

CHECKPOINT_PATH = "checkpoint"

Fetch = Callable[[str], bytes | None]
"""Return the bytes served at a tlog-tiles path (``checkpoint``, ``tile/0/000``, ...), or None
when there is nothing there. Transport failures are the caller's to raise."""

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` after each tile or entry bundle is fetched."""

EntryVisitor = Callable[[int, LogEntry], None]


@dataclass(frozen=True)
class AuditReport:
    """What an audit verified.

    Attributes:
        checkpoint: The verified checkpoint (origin, size, root).
        note: The signed checkpoint note, to keep as the last checkpoint accepted.
        previous_size: The size of the previous checkpoint the log was proven consistent with.
        tiles: How many hash tiles were fetched and checked.
        entries: How many entries were checked against the level-0 tiles and parsed.
    """

    checkpoint: Checkpoint
    note: str
    previous_size: int | None
    tiles: int
    entries: int


@dataclass(frozen=True)
class MonitoredEntry:
    """A log entry whose certificate names a watched identity.

    Attributes:
        index: The leaf index.
        integrated_time: When the log integrated it (Unix seconds).
        envelope_sha256: The SHA-256 of the logged DSSE envelope.
        serial: The certificate's serial number.
        identities: Every URI and email identity in the certificate's SANs.
    """

    index: int
    integrated_time: int
    envelope_sha256: bytes
    serial: int
    identities: tuple[str, ...]


@dataclass(frozen=True)
class MonitorReport:
    """A monitor run: the audit it rests on and the entries found for the identity."""

    audit: AuditReport
    entries: tuple[MonitoredEntry, ...]


def _tile_error(message: str) -> LogProofError:
    return LogProofError(message, code=Code.LOG_TILE_INVALID)


def _consistency_error(message: str) -> LogProofError:
    return LogProofError(message, code=Code.LOG_CONSISTENCY_INVALID)


def tiles_for_size(size: int) -> list[TileId]:
    """Every hash tile a tree of ``size`` leaves has, full or partial at its exact width."""
    needed: list[TileId] = []
    level = 0
    while (count := size >> (TILE_HEIGHT * level)) > 0:
        for index in range((count + TILE_WIDTH - 1) // TILE_WIDTH):
            needed.append(TileId(level, index, tile_width(level, index, size)))
        level += 1
    return needed


def _open_served_checkpoint(
    fetch: Fetch, verifiers: Sequence[NoteVerifier], origin: str
) -> tuple[Checkpoint, str]:
    data = fetch(CHECKPOINT_PATH)
    if data is None:
        raise LogProofError("the log serves no checkpoint", code=Code.LOG_CHECKPOINT_INVALID)
    if len(data) > TLOG_LIMITS.max_note_bytes:
        raise LogProofError(
            f"checkpoint exceeds {TLOG_LIMITS.max_note_bytes} bytes",
            code=Code.LOG_CHECKPOINT_INVALID,
        )
    try:
        note = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LogProofError("checkpoint is not UTF-8", code=Code.LOG_CHECKPOINT_INVALID) from exc
    return open_checkpoint(note, verifiers, origin=origin), note


def _check_not_rolled_back(checkpoint: Checkpoint, previous: Checkpoint | None) -> None:
    if previous is None:
        return
    if previous.origin != checkpoint.origin:
        raise _consistency_error(
            f"the previous checkpoint is of log {previous.origin!r}, not {checkpoint.origin!r}"
        )
    if checkpoint.size < previous.size:
        raise _consistency_error(
            f"the log shrank from {previous.size} to {checkpoint.size} leaves (rolled back)"
        )


def _fetch_tiles(
    fetch: Fetch, needed: Sequence[TileId], step: Callable[[], None]
) -> dict[tuple[int, int], bytes]:
    stored: dict[tuple[int, int], bytes] = {}
    for tile in needed:
        data = fetch(tile.path)
        if data is None:
            raise LogProofError(f"{tile.path} is missing", code=Code.LOG_TILE_MISSING)
        if len(data) != tile.width * HASH_SIZE:
            raise _tile_error(
                f"{tile.path} holds {len(data)} bytes; expected {tile.width * HASH_SIZE}"
            )
        stored[(tile.level, tile.index)] = data
        step()
    return stored


def _check_tile_links(stored: dict[tuple[int, int], bytes]) -> None:
    """Each full tile's Merkle root must be the hash the level above stores for it."""
    for (level, index), data in stored.items():
        if len(data) != TILE_WIDTH * HASH_SIZE:
            continue
        parent = stored.get((level + 1, index // TILE_WIDTH), b"")
        offset = (index % TILE_WIDTH) * HASH_SIZE
        expected = parent[offset : offset + HASH_SIZE]
        if not hmac.compare_digest(root_from_hashes(tile_hashes(data)), expected):
            raise _tile_error(
                f"{TileId(level, index).path} does not hash to entry {index % TILE_WIDTH} of "
                f"{TileId(level + 1, index // TILE_WIDTH).path}"
            )


def _check_root(reader: TileNodeReader, size: int, expected: bytes, what: str, code: Code) -> None:
    computed = subtree_hash(0, size, reader)
    if not hmac.compare_digest(computed, expected):
        raise LogProofError(
            f"the tiles hash to {computed.hex()} for size {size}; {what} is {expected.hex()}",
            code=code,
        )


def _check_entry_bundle(
    fetch: Fetch, tile: TileId, leaf_hashes: Sequence[bytes], visit: EntryVisitor | None
) -> None:
    data = fetch(tile.entries_path)
    if data is None:
        raise LogProofError(f"{tile.entries_path} is missing", code=Code.LOG_TILE_MISSING)
    try:
        entries = decode_entry_bundle(data)
    except LogError as exc:
        raise _tile_error(f"{tile.entries_path}: {exc}") from exc
    if len(entries) != tile.width:
        raise _tile_error(
            f"{tile.entries_path} holds {len(entries)} entries; expected {tile.width}"
        )
    for offset, (entry, expected) in enumerate(zip(entries, leaf_hashes, strict=True)):
        index = tile.index * TILE_WIDTH + offset
        if not hmac.compare_digest(leaf_hash(entry), expected):
            raise _tile_error(f"entry {index} in {tile.entries_path} is not the leaf tile/0 holds")
        parsed = LogEntry.from_bytes(entry)
        if visit is not None:
            visit(index, parsed)


def _audit(
    fetch: Fetch,
    verifiers: Sequence[NoteVerifier],
    origin: str,
    *,
    previous: Checkpoint | None,
    progress: Progress | None,
    visit: EntryVisitor | None,
) -> AuditReport:
    checkpoint, note = _open_served_checkpoint(fetch, verifiers, origin)
    _check_not_rolled_back(checkpoint, previous)
    needed = tiles_for_size(checkpoint.size)
    leaf_tiles = [tile for tile in needed if tile.level == 0]
    total, done = len(needed) + len(leaf_tiles), 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    stored = _fetch_tiles(fetch, needed, step)
    _check_tile_links(stored)
    reader = TileNodeReader(lambda level, index: stored.get((level, index)))
    _check_root(
        reader,
        checkpoint.size,
        checkpoint.root_hash,
        "the checkpoint's root",
        Code.LOG_TILE_INVALID,
    )
    if previous is not None and previous.size:
        _check_root(
            reader,
            previous.size,
            previous.root_hash,
            "the previous checkpoint's root",
            Code.LOG_CONSISTENCY_INVALID,
        )
    for tile in leaf_tiles:
        _check_entry_bundle(fetch, tile, tile_hashes(stored[(0, tile.index)]), visit)
        step()
    return AuditReport(
        checkpoint, note, None if previous is None else previous.size, len(needed), checkpoint.size
    )


def audit(
    fetch: Fetch,
    verifiers: Sequence[NoteVerifier],
    origin: str,
    *,
    previous: Checkpoint | None,
    progress: Progress | None = None,
) -> AuditReport:
    """Audit the log served through ``fetch`` (``specs/tlog-v1.md`` §8).

    Args:
        fetch: Reads a tlog-tiles path; None when absent.
        verifiers: Trusted checkpoint keys; those named ``origin`` apply.
        origin: The log's origin.
        previous: The last checkpoint accepted for this log, or None on a first audit.
        progress: Told ``(done, total)`` after each tile and entry bundle.

    Returns:
        What was verified, with the new checkpoint to keep.

    Raises:
        LogProofError: ``log.checkpoint.invalid`` / ``log.checkpoint.unsigned`` (the checkpoint),
            ``log.tile.missing`` (a tile or entry bundle is not served), ``log.tile.invalid`` (a
            tile or bundle has the wrong size, does not hash into the level above or the root, or
            an entry is not the leaf its tile holds), ``log.entry.malformed`` (an entry does not
            parse strictly), ``log.consistency.invalid`` (the log shrank or does not extend
            ``previous``).
    """
    trusted = [verifier for verifier in verifiers if verifier.name == origin]
    return _audit(fetch, trusted, origin, previous=previous, progress=progress, visit=None)


def _certificate_identities(entry: LogEntry, index: int) -> tuple[int, tuple[str, ...]]:
    assert entry.certificate_der is not None
    try:
        certificate = x509.load_der_x509_certificate(entry.certificate_der)
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return certificate.serial_number, ()
    except ValueError as exc:
        raise LogProofError(
            f"entry {index} carries a certificate that does not parse: {exc}",
            code=Code.LOG_ENTRY_MALFORMED,
        ) from exc
    identities = tuple(value for name in names if (value := identity_of(name)) is not None)
    return certificate.serial_number, identities


def monitor(
    fetch: Fetch,
    verifiers: Sequence[NoteVerifier],
    origin: str,
    *,
    previous: Checkpoint | None,
    since: int,
    identity: str,
    progress: Progress | None = None,
) -> MonitorReport:
    """Audit the log, then list the entries from index ``since`` on signed for ``identity``.

    An entry matches when its certificate's SAN URIs or emails include ``identity`` exactly;
    entries without a certificate (pinned keys) are skipped. Nothing is listed unless the whole
    audit passes.

    Raises:
        LogProofError: As :func:`audit`; ``log.entry.malformed`` for an entry whose certificate
            does not parse.
    """
    found: list[MonitoredEntry] = []

    def visit(index: int, entry: LogEntry) -> None:
        if index < since or entry.certificate_der is None:
            return
        serial, identities = _certificate_identities(entry, index)
        if identity in identities:
            found.append(
                MonitoredEntry(
                    index, entry.integrated_time, entry.envelope_sha256, serial, identities
                )
            )

    trusted = [verifier for verifier in verifiers if verifier.name == origin]
    report = _audit(fetch, trusted, origin, previous=previous, progress=progress, visit=visit)
    return MonitorReport(report, tuple(found))
