"""Rotations of a publisher home: service key, issuing CA, log key, and root-signed CRLs.

Registered as `prov serve rotate-key`, `prov serve sign-tuf-root`, `prov ca rotate-issuing`,
`prov ca revoke-issuing` and `prov log rotate-key`. Each publishes a new trust-root version through the home's TUF repository;
restart the service afterwards so that it loads the new keys.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from cryptography import x509

from cli.common import Exit, PassphraseFile, fail, read_file, read_passphrase, stderr
from provenance import ProvenanceError, SigningKey, load_private_key

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

Home = Annotated[Path, typer.Option(help="The publisher home (made by `prov init`).")]
RootKey = Annotated[
    Path | None,
    typer.Option(help="The offline root key (default <home>/ca/root.key), unlocked only now."),
]


def _passphrase(passphrase_file: Path | None) -> bytes:
    passphrase = read_passphrase(passphrase_file, confirm=False)
    if passphrase is None:
        fail(
            "the home's keys are encrypted: give --passphrase-file or set PROVENANCE_PASSPHRASE",
            Exit.USAGE,
        )
    return passphrase


def _engine(home: Path) -> Engine:
    from verifier_api.service import open_database  # noqa: PLC0415
    from verifier_api.settings import Settings, SettingsError  # noqa: PLC0415

    try:
        return open_database(Settings(home=home))
    except (ValueError, SettingsError) as exc:
        fail(f"cannot open the home's database: {exc}", Exit.USAGE)


def _root_key(home: Path, path: Path | None, passphrase: bytes) -> SigningKey:
    location = path or home / "ca" / "root.key"
    try:
        return load_private_key(read_file(location, "root key"), passphrase)
    except ProvenanceError as exc:
        fail(f"{location}: {exc}")


def _run(home: Path, passphrase_file: Path | None, what: str) -> tuple[bytes, Engine]:
    if not (home / "settings.json").exists():
        fail(f"{home} is not a publisher home (run `prov init`)", Exit.USAGE)
    stderr.print(f"{what} in {home}; restart the service afterwards")
    return _passphrase(passphrase_file), _engine(home)


def rotate_key(home: Home, passphrase_file: PassphraseFile = None) -> None:
    """Rotate the signing service's key and certificate (the old one: superseded from now)."""
    from verifier_api.rotation import rotate_service_key  # noqa: PLC0415

    passphrase, engine = _run(home, passphrase_file, "rotating the signing-service key")
    try:
        serial = rotate_service_key(home, passphrase, engine, datetime.now(UTC))
    except (ProvenanceError, ValueError) as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    stderr.print(f"new signing-service certificate {serial:x}; new trust-root version published")


def rotate_issuing(
    home: Home, root_key: RootKey = None, passphrase_file: PassphraseFile = None
) -> None:
    """Rotate the issuing CA under the same root (unlocks the root key for this operation)."""
    from verifier_api.rotation import rotate_issuing_ca  # noqa: PLC0415

    passphrase, engine = _run(home, passphrase_file, "rotating the issuing CA")
    key = _root_key(home, root_key, passphrase)
    try:
        certificate = rotate_issuing_ca(home, passphrase, key, engine, datetime.now(UTC))
    except (ProvenanceError, ValueError) as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    stderr.print(
        f"new issuing CA {certificate.subject.rfc4514_string()} (serial"
        f" {certificate.serial_number:x}); the old one is retired side by side"
    )


def revoke_issuing(
    home: Home,
    serial: Annotated[str, typer.Option(help="The retired issuing CA's serial number (hex).")],
    reason: Annotated[
        str, typer.Option(help="CRL reason code (e.g. keyCompromise).")
    ] = "superseded",
    invalidity_date: Annotated[
        datetime | None, typer.Option(help="When its key became unsafe (UTC), for keyCompromise.")
    ] = None,
    root_key: RootKey = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Revoke a retired issuing CA in a CRL signed by the root (unlocks the root key once)."""
    from verifier_api.rotation import revoke_issuing_ca  # noqa: PLC0415

    try:
        number = int(serial, 16)
        flag = x509.ReasonFlags(reason)
    except ValueError as exc:
        fail(f"--serial is hex and --reason a CRL reason code: {exc}", Exit.USAGE)
    when = invalidity_date.replace(tzinfo=UTC) if invalidity_date else None
    passphrase, engine = _run(home, passphrase_file, f"revoking issuing CA {number:x}")
    key = _root_key(home, root_key, passphrase)
    try:
        entry = revoke_issuing_ca(
            home,
            passphrase,
            key,
            engine,
            number,
            reason=flag,
            invalidity_date=when,
            now=datetime.now(UTC),
        )
    except (ProvenanceError, ValueError) as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    stderr.print(f"revoked issuing CA {entry.serial_number:x} from {entry.revoked_at.isoformat()}")


def rotate_log_key(home: Home, passphrase_file: PassphraseFile = None) -> None:
    """Rotate the log's checkpoint key under the same origin (the old key stays trusted)."""
    from verifier_api.rotation import rotate_log_key as rotate  # noqa: PLC0415

    passphrase, engine = _run(home, passphrase_file, "rotating the log key")
    try:
        key = rotate(home, passphrase, engine, datetime.now(UTC))
    except (ProvenanceError, ValueError) as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    stderr.print(f"new log key {key}")


def sign_tuf_root(
    home: Home,
    rotate_online_key: Annotated[
        bool, typer.Option(help="Also name a new online (targets, snapshot, timestamp) key.")
    ] = False,
    root_key: RootKey = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Sign the next TUF root version: a fresh expiry (do it before a year passes), and a new
    online key after its compromise (unlocks the root key for this operation)."""
    from verifier_api.rotation import sign_tuf_root as sign  # noqa: PLC0415

    passphrase, engine = _run(home, passphrase_file, "signing the next TUF root version")
    key = _root_key(home, root_key, passphrase)
    try:
        version = sign(
            home, passphrase, key, engine, datetime.now(UTC), new_online_key=rotate_online_key
        )
    except (ProvenanceError, ValueError) as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    stderr.print(f"signed TUF root version {version}")


def init_tuf(home: Home, root_key: RootKey = None, passphrase_file: PassphraseFile = None) -> None:
    """Add a TUF repository to a home made before trust distribution (unlocks the root key)."""
    from provenance.trust_repository import TrustRepository, TrustRepositoryError  # noqa: PLC0415
    from verifier_api.rotation import publish_trust_root  # noqa: PLC0415

    passphrase, engine = _run(home, passphrase_file, "creating the TUF repository")
    key = _root_key(home, root_key, passphrase)
    now = datetime.now(UTC)
    try:
        TrustRepository.create(home / "tuf", root_key=key, passphrase=passphrase, now=now)
        publish_trust_root(home, passphrase, engine, now)
    except (TrustRepositoryError, ProvenanceError, ValueError) as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    stderr.print(f"TUF root metadata {home / 'tuf' / 'metadata' / '1.root.json'}")
