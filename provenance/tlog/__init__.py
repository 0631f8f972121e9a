"""The transparency log: Merkle trees, C2SP checkpoints and tiles, stores, audits.

The face of the log (``specs/log-v1.md``): names load on first use, so importing it costs nothing
and the SQL store pulls in SQLAlchemy only when it is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from provenance._face import lazy_names

if TYPE_CHECKING:
    from provenance.tlog.audit import (
        CHECKPOINT_PATH,
        AuditReport,
        Fetch,
        MonitoredEntry,
        MonitorReport,
        audit_log,
        monitor,
    )
    from provenance.tlog.entry import InclusionProof, LogEntry, TlogEntry, signer_binding
    from provenance.tlog.files import FileStore
    from provenance.tlog.limits import TLOG_LIMITS
    from provenance.tlog.log import TransparencyLog
    from provenance.tlog.merkle import EMPTY_ROOT
    from provenance.tlog.note import (
        Checkpoint,
        NoteSigner,
        NoteVerifier,
        is_valid_key_name,
        open_checkpoint,
        sign_checkpoint,
        verifier_key_string,
    )
    from provenance.tlog.sql import TLOG_TABLES, SqlLogStore, create_tlog_tables
    from provenance.tlog.store import Admit, LogState, LogStore, LogWrite, MemoryStore
    from provenance.tlog.tilecache import TileCache
    from provenance.tlog.tiles import (
        TILE_WIDTH,
        TileId,
        decode_entry_bundle,
        encode_entry_bundle,
        parse_entries_path,
        parse_tile_path,
    )

_FACE = {
    "AuditReport": "provenance.tlog.audit",
    "CHECKPOINT_PATH": "provenance.tlog.audit",
    "Fetch": "provenance.tlog.audit",
    "MonitorReport": "provenance.tlog.audit",
    "MonitoredEntry": "provenance.tlog.audit",
    "audit_log": "provenance.tlog.audit",
    "monitor": "provenance.tlog.audit",
    "InclusionProof": "provenance.tlog.entry",
    "LogEntry": "provenance.tlog.entry",
    "TlogEntry": "provenance.tlog.entry",
    "signer_binding": "provenance.tlog.entry",
    "FileStore": "provenance.tlog.files",
    "TLOG_LIMITS": "provenance.tlog.limits",
    "TransparencyLog": "provenance.tlog.log",
    "EMPTY_ROOT": "provenance.tlog.merkle",
    "Checkpoint": "provenance.tlog.note",
    "NoteSigner": "provenance.tlog.note",
    "NoteVerifier": "provenance.tlog.note",
    "is_valid_key_name": "provenance.tlog.note",
    "open_checkpoint": "provenance.tlog.note",
    "sign_checkpoint": "provenance.tlog.note",
    "verifier_key_string": "provenance.tlog.note",
    "SqlLogStore": "provenance.tlog.sql",
    "TLOG_TABLES": "provenance.tlog.sql",
    "create_tlog_tables": "provenance.tlog.sql",
    "Admit": "provenance.tlog.store",
    "LogState": "provenance.tlog.store",
    "LogStore": "provenance.tlog.store",
    "LogWrite": "provenance.tlog.store",
    "MemoryStore": "provenance.tlog.store",
    "TileCache": "provenance.tlog.tilecache",
    "TILE_WIDTH": "provenance.tlog.tiles",
    "TileId": "provenance.tlog.tiles",
    "decode_entry_bundle": "provenance.tlog.tiles",
    "encode_entry_bundle": "provenance.tlog.tiles",
    "parse_entries_path": "provenance.tlog.tiles",
    "parse_tile_path": "provenance.tlog.tiles",
}

__all__ = [
    "CHECKPOINT_PATH",
    "EMPTY_ROOT",
    "TILE_WIDTH",
    "TLOG_LIMITS",
    "TLOG_TABLES",
    "Admit",
    "AuditReport",
    "Checkpoint",
    "Fetch",
    "FileStore",
    "InclusionProof",
    "LogEntry",
    "LogState",
    "LogStore",
    "LogWrite",
    "MemoryStore",
    "MonitorReport",
    "MonitoredEntry",
    "NoteSigner",
    "NoteVerifier",
    "SqlLogStore",
    "TileCache",
    "TileId",
    "TlogEntry",
    "TransparencyLog",
    "audit_log",
    "create_tlog_tables",
    "decode_entry_bundle",
    "encode_entry_bundle",
    "is_valid_key_name",
    "monitor",
    "open_checkpoint",
    "parse_entries_path",
    "parse_tile_path",
    "sign_checkpoint",
    "signer_binding",
    "verifier_key_string",
]


__getattr__ = lazy_names(__name__, _FACE)
