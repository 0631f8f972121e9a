"""Auditing and monitoring a log from its C2SP tlog-tiles (``specs/tlog-v1.md`` §8).

An auditor trusts nothing it fetches until it has checked it: the checkpoint must be signed by a
trusted key for the origin, every hash tile must hash into the level above and the tiles into the
checkpoint's root, every entry bundle must hash to its level-0 tile and parse strictly, and the tree
must extend the last checkpoint the auditor accepted. All I/O goes through a :data:`Fetch` callable,
so the same code audits a directory, a static web server or a test's dictionary.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator, Sequence
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
when there is nothing there. Transport failures are the caller's to raise (as
:class:`provenance.errors.LogSourceError`)."""

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
    """Every hash tile a tree of ``size`` leaves has, full or partial at its exact width, level by
    level (a list: for small trees; audits walk :func:`tile_walk`)."""
    needed: list[TileId] = []
    level = 0
    while (count := size >> (TILE_HEIGHT * level)) > 0:
        for index in range((count + TILE_WIDTH - 1) // TILE_WIDTH):
            needed.append(TileId(level, index, tile_width(level, index, size)))
        level += 1
    return needed


def tile_count(size: int) -> int:
    """How many hash tiles a tree of ``size`` leaves has (without listing them)."""
    total, level = 0, 0
    while (count := size >> (TILE_HEIGHT * level)) > 0:
        total += (count + TILE_WIDTH - 1) // TILE_WIDTH
        level += 1
    return total


def _levels(size: int) -> int:
    level = 0
    while size >> (TILE_HEIGHT * level):
        level += 1
    return level


def _edge(level: int, size: int) -> TileId | None:
    """The right-edge partial tile of ``level`` (None when that level's tiles are all full)."""
    index = size >> (TILE_HEIGHT * (level + 1))
    width = tile_width(level, index, size)
    return TileId(level, index, width) if 0 < width < TILE_WIDTH else None


def tile_walk(size: int) -> Iterator[TileId]:
    """Every hash tile of the tree of ``size`` leaves, lazily, each once, a tile before the tiles
    below it and level-0 tiles in index order (tlog-v1 §8.1 step 5).

    The walk starts at each level's right-edge partial tile, top level first (together they hold
    the root), and descends depth first into the full tiles each one roots: a full tile's parent
    is the last tile the walk gave one level up.
    """
    for level in reversed(range(_levels(size))):
        edge = _edge(level, size)
        if edge is not None:
            yield from _subtree(edge)


def _subtree(tile: TileId) -> Iterator[TileId]:
    yield tile
    if tile.level:
        for offset in range(tile.width):
            yield from _subtree(TileId(tile.level - 1, tile.index * TILE_WIDTH + offset))


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


def _check_size(checkpoint: Checkpoint, max_size: int) -> None:
    if checkpoint.size > max_size:
        raise LogProofError(
            f"the checkpoint claims {checkpoint.size} leaves; this audit accepts at most "
            f"{max_size} (its size cap)",
            code=Code.LOG_CHECKPOINT_INVALID,
        )


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


def _fetch_tile(fetch: Fetch, tile: TileId) -> bytes:
    data = fetch(tile.path)
    if data is None:
        raise LogProofError(f"{tile.path} is missing", code=Code.LOG_TILE_MISSING)
    if len(data) != tile.width * HASH_SIZE:
        raise _tile_error(f"{tile.path} holds {len(data)} bytes; expected {tile.width * HASH_SIZE}")
    return data


def _check_link(tile: TileId, data: bytes, parent: bytes) -> None:
    """A full tile's Merkle root must be the hash the level above stores for it."""
    offset = (tile.index % TILE_WIDTH) * HASH_SIZE
    if not hmac.compare_digest(
        root_from_hashes(tile_hashes(data)), parent[offset : offset + HASH_SIZE]
    ):
        raise _tile_error(
            f"{tile.path} does not hash to entry {tile.index % TILE_WIDTH} of "
            f"{TileId(tile.level + 1, tile.index // TILE_WIDTH).path}"
        )


class _Tiles:
    """The tiles an audit holds: the right edge of the checkpoint's tree (the root's tiles), those
    the previous checkpoint's root reads with the tiles linking them up to that edge, and one tile
    per level for the walk. Each tile is fetched once."""

    def __init__(self, fetch: Fetch, size: int) -> None:
        self._fetch = fetch
        self._size = size
        self.kept: dict[tuple[int, int], bytes] = {}
        self._walked: dict[int, bytes] = {}

    def fetch_edge(self) -> None:
        for level in range(_levels(self._size)):
            edge = _edge(level, self._size)
            if edge is not None:
                self.kept[(level, edge.index)] = _fetch_tile(self._fetch, edge)

    def read(self, level: int, index: int) -> bytes | None:
        return self.kept.get((level, index))

    def linked(self, level: int, index: int) -> bytes:
        """Tile ``(level, index)`` of the tree, linked up to the verified right edge."""
        key = (level, index)
        if key not in self.kept:
            tile = TileId(level, index, tile_width(level, index, self._size))
            data = _fetch_tile(self._fetch, tile)
            _check_link(tile, data, self.linked(level + 1, index // TILE_WIDTH))
            self.kept[key] = data
        return self.kept[key]

    def walked(self, tile: TileId) -> bytes:
        """The walk's next tile, checked against its parent (the last tile walked above it)."""
        data = self.kept.get((tile.level, tile.index))
        if data is None:
            data = _fetch_tile(self._fetch, tile)
            _check_link(tile, data, self._walked[tile.level + 1])
        self._walked[tile.level] = data
        return data


def _check_root(tiles: _Tiles, size: int, expected: bytes, what: str, code: Code) -> None:
    computed = subtree_hash(0, size, TileNodeReader(tiles.read))
    if not hmac.compare_digest(computed, expected):
        raise LogProofError(
            f"the tiles hash to {computed.hex()} for size {size}; {what} is {expected.hex()}",
            code=code,
        )


def _check_previous_root(tiles: _Tiles, previous: Checkpoint) -> None:
    for level in range(_levels(previous.size)):
        edge = _edge(level, previous.size)
        if edge is not None:
            tiles.linked(level, edge.index)
    _check_root(
        tiles,
        previous.size,
        previous.root_hash,
        "the previous checkpoint's root",
        Code.LOG_CONSISTENCY_INVALID,
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
    max_size: int,
) -> AuditReport:
    checkpoint, note = _open_served_checkpoint(fetch, verifiers, origin)
    _check_size(checkpoint, max_size)
    _check_not_rolled_back(checkpoint, previous)
    size = checkpoint.size
    tiles = _Tiles(fetch, size)
    tiles.fetch_edge()
    _check_root(tiles, size, checkpoint.root_hash, "the checkpoint's root", Code.LOG_TILE_INVALID)
    if previous is not None and previous.size:
        _check_previous_root(tiles, previous)
    count = tile_count(size)
    total, done = count + (size + TILE_WIDTH - 1) // TILE_WIDTH, 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    for tile in tile_walk(size):
        data = tiles.walked(tile)
        step()
        if tile.level == 0:
            _check_entry_bundle(fetch, tile, tile_hashes(data), visit)
            step()
    return AuditReport(checkpoint, note, None if previous is None else previous.size, count, size)


def audit_log(
    fetch: Fetch,
    verifiers: Sequence[NoteVerifier],
    origin: str,
    *,
    previous: Checkpoint | None,
    progress: Progress | None = None,
    max_size: int = TLOG_LIMITS.max_audit_size,
) -> AuditReport:
    """Audit the log served through ``fetch`` (``specs/tlog-v1.md`` §8).

    Memory stays bounded whatever size the checkpoint claims: tiles are walked lazily and at most
    a few per tree level are held.

    Args:
        fetch: Reads a tlog-tiles path; None when absent.
        verifiers: Trusted checkpoint keys; those named ``origin`` apply.
        origin: The log's origin.
        previous: The last checkpoint accepted for this log, or None on a first audit.
        progress: Told ``(done, total)`` after each tile and entry bundle.
        max_size: The most leaves accepted; a larger checkpoint is ``log.checkpoint.invalid``.

    Returns:
        What was verified, with the new checkpoint to keep.

    Raises:
        LogProofError: ``log.checkpoint.invalid`` / ``log.checkpoint.unsigned`` (the checkpoint,
            or a size over ``max_size``),
            ``log.tile.missing`` (a tile or entry bundle is not served), ``log.tile.invalid`` (a
            tile or bundle has the wrong size, does not hash into the level above or the root, or
            an entry is not the leaf its tile holds), ``log.entry.malformed`` (an entry does not
            parse strictly), ``log.consistency.invalid`` (the log shrank or does not extend
            ``previous``).
    """
    trusted = [verifier for verifier in verifiers if verifier.name == origin]
    return _audit(
        fetch,
        trusted,
        origin,
        previous=previous,
        progress=progress,
        visit=None,
        max_size=max_size,
    )


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
    max_size: int = TLOG_LIMITS.max_audit_size,
) -> MonitorReport:
    """Audit the log, then list the entries from index ``since`` on signed for ``identity``.

    An entry matches when its certificate's SAN URIs or emails include ``identity`` exactly;
    entries without a certificate (pinned keys) are skipped. Nothing is listed unless the whole
    audit passes.

    Raises:
        LogProofError: As :func:`audit` (``max_size`` likewise); ``log.entry.malformed`` for an
            entry whose certificate
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
    report = _audit(
        fetch,
        trusted,
        origin,
        previous=previous,
        progress=progress,
        visit=visit,
        max_size=max_size,
    )
    return MonitorReport(report, tuple(found))
