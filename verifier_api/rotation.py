"""Rotations of a publisher home, each followed by a new trust-root version through TUF.

``specs/identity-v1.md`` §Rotation. Every rotation keeps what verifiers need for signatures made
before it: retired issuing CAs with their final CRLs, retired log keys, and revocations dated at
the rotation (``superseded``), so a bundle keeps verifying at its log-proven time. Run them with the
service stopped (or restart it after): the service loads its keys at start.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy.engine import Engine

from provenance import (
    AuthorityError,
    KeyFormatError,
    KeyType,
    ProvenanceError,
    SigningKey,
    generate_key,
    write_private_key,
)
from provenance.identity import (
    ROOT_CRL_DAYS,
    RevocationEntry,
    check_root_key,
    crl_number,
    crl_signed_by,
    issue_certificate,
    new_issuing_ca,
    revocations_of,
)
from provenance.trust_repository import ONLINE_KEY, TrustRepository, TrustRepositoryError
from verifier_api import crud
from verifier_api.distribution import open_distribution
from verifier_api.publisher import (
    CA_DIR,
    LOG_KEY,
    RETIRED_DIR,
    RETIRED_LOG_KEYS,
    ROOT_CRL,
    SERVICE_CERTIFICATE_DAYS,
    SERVICE_CHAIN,
    SERVICE_KEY,
    TUF_DIR,
    Publisher,
    load_publisher,
)
from verifier_api.settings import SettingsError
from verifier_api.stored_authority import StoredAuthority


class RotationError(ProvenanceError):
    """A rotation was refused; nothing of the home was changed."""


def rotation_time(now: datetime) -> datetime:
    """The revocation time of a rotation: ``now`` rounded up to the whole second.

    Log times are whole seconds; a signature logged in the second of the rotation was made before
    it and stays valid.
    """
    start = now.replace(microsecond=0)
    return start if start == now else start + timedelta(seconds=1)


def rotate_service_key(home: Path, passphrase: bytes, engine: Engine, now: datetime) -> int:
    """A new signing-service key and certificate from the current issuing CA; the old certificate
    is revoked as ``superseded`` from the rotation on.

    Returns:
        The new certificate's serial number.

    Raises:
        SettingsError: The home cannot be loaded.
        ProvenanceError: Issuance or revocation failed.
    """
    publisher = load_publisher(home, passphrase)
    authority = StoredAuthority(engine, publisher)
    authority.record_service_certificate(now)
    old_leaf = publisher.service_chain[0]
    serial = _new_service_certificate(home, publisher, passphrase, engine, now)
    authority.supersede(old_leaf, rotation_time(now), now)
    publish_trust_root(home, passphrase, engine, now)
    return serial


def rotate_issuing_ca(
    home: Path, passphrase: bytes, root_key: SigningKey, engine: Engine, now: datetime
) -> x509.Certificate:
    """A new issuing CA under the same root, the old one retired side by side.

    The old CA's certificates stay valid until they expire; its final CRL (signed by the old key,
    valid until the old CA expires) lists every recorded revocation, the old service certificate
    (``superseded`` from the rotation) included. The service gets a new key certified by the new
    CA, the root metadata a new version, the trust root a new version.

    Returns:
        The new issuing CA certificate.

    Raises:
        SettingsError: The home cannot be loaded.
        ProvenanceError: A root key that is not the root's, or a write that failed.
    """
    publisher = load_publisher(home, passphrase)
    old = publisher.authority
    check_root_key(old.root_certificate, root_key)
    generation = len(publisher.retired.issuing) + 2
    new = new_issuing_ca(old, root_key, generation=generation, now=now)
    authority = StoredAuthority(engine, publisher)
    authority.record_service_certificate(now)
    _revoke_recorded(engine, publisher.service_chain[0], rotation_time(now))
    old_serial = f"{old.issuing_certificate.serial_number:x}"
    retired = home / RETIRED_DIR
    retired.mkdir(mode=0o700, exist_ok=True)
    final = crl_signed_by(
        old.issuing_certificate,
        old.issuing_key,
        crud.revocations(engine),
        number=(crud.read_crl_version(engine) or (0, now))[0] + 1,
        now=now,
        next_update_days=(old.issuing_certificate.not_valid_after_utc - now).days,
    )
    _write(retired / f"issuing-{old_serial}.crl.pem", final.public_bytes(Encoding.PEM))
    _write(retired / f"issuing-{old_serial}.pem", _pem(old.issuing_certificate))
    _write(home / CA_DIR / "issuing.pem", _pem(new.issuing_certificate))
    _replace_key(home / CA_DIR / "issuing.key", new.issuing_key, passphrase)
    current = dataclasses.replace(publisher, authority=new)
    _new_service_certificate(home, current, passphrase, engine, now)
    _sign_tuf_root(home, root_key, now)
    StoredAuthority(engine, load_publisher(home, passphrase)).publish_crl(now)
    publish_trust_root(home, passphrase, engine, now)
    return new.issuing_certificate


def revoke_issuing_ca(
    home: Path,
    passphrase: bytes,
    root_key: SigningKey,
    engine: Engine,
    serial_number: int,
    *,
    reason: x509.ReasonFlags,
    invalidity_date: datetime | None,
    now: datetime,
) -> RevocationEntry:
    """Revoke a retired issuing CA in a CRL the root signs (``retired/root.crl.pem``).

    Signatures under that CA made before the revocation (before ``invalidity_date`` for
    keyCompromise) stay valid; later ones are ``certificate.revoked``.

    Raises:
        RotationError: The serial is the current issuing CA's (rotate first), not a retired one,
            revoked already, or the times are out of order.
        ProvenanceError: A root key that is not the root's, or a write that failed.
    """
    publisher = load_publisher(home, passphrase)
    root = publisher.authority.root_certificate
    check_root_key(root, root_key)
    if serial_number == publisher.authority.issuing_certificate.serial_number:
        raise RotationError(
            "this is the current issuing CA: rotate it first (`prov ca rotate-issuing`)"
        )
    if not any(c.serial_number == serial_number for c in publisher.retired.issuing):
        raise RotationError(f"no retired issuing CA has serial {serial_number:x}")
    path = home / RETIRED_DIR / ROOT_CRL
    previous = x509.load_pem_x509_crl(path.read_bytes()) if path.exists() else None
    entries = revocations_of(previous) if previous is not None else []
    if any(entry.serial_number == serial_number for entry in entries):
        raise RotationError(f"issuing CA {serial_number:x} is revoked already")
    revoked_at = rotation_time(now)
    if invalidity_date is not None and invalidity_date > revoked_at:
        raise RotationError(
            f"invalidity date {invalidity_date.isoformat()} is after the revocation"
            f" {revoked_at.isoformat()}"
        )
    entry = RevocationEntry(serial_number, revoked_at, reason, invalidity_date)
    number = (crl_number(previous) if previous is not None else 0) + 1
    crl = crl_signed_by(
        root, root_key, [*entries, entry], number=number, now=now, next_update_days=ROOT_CRL_DAYS
    )
    _write(path, crl.public_bytes(Encoding.PEM))
    _sign_tuf_root(home, root_key, now)
    publish_trust_root(home, passphrase, engine, now)
    return entry


def rotate_log_key(home: Path, passphrase: bytes, engine: Engine, now: datetime) -> str:
    """A new checkpoint key under the same origin (C2SP: the key name is the origin, the tree
    goes on, verifiers ignore signatures by keys they do not know); the old verifier key stays in
    the trust root so that checkpoints it signed keep verifying.

    Returns:
        The new verifier key string.

    Raises:
        SettingsError: The home cannot be loaded.
        ProvenanceError: A write that failed.
    """
    publisher = load_publisher(home, passphrase)
    retired = home / RETIRED_DIR
    retired.mkdir(mode=0o700, exist_ok=True)
    keys = [*publisher.retired.log_keys, publisher.log_signer.verifier.key_string]
    _write(retired / RETIRED_LOG_KEYS, "".join(f"{key}\n" for key in keys).encode("ascii"))
    _replace_key(home / LOG_KEY, generate_key(KeyType.ED25519), passphrase)
    publish_trust_root(home, passphrase, engine, now)
    return load_publisher(home, passphrase).log_signer.verifier.key_string


def sign_tuf_root(
    home: Path,
    passphrase: bytes,
    root_key: SigningKey,
    engine: Engine,
    now: datetime,
    *,
    new_online_key: bool,
) -> int:
    """Sign the next TUF root version (a fresh expiry), optionally naming a new online key; then
    re-sign every online role with the (new) online key.

    Returns:
        The new root version.

    Raises:
        SettingsError: The repository or the home cannot be loaded, or ``root_key`` is not the
            root key.
        ProvenanceError: A write that failed.
    """
    repository = TrustRepository(home / TUF_DIR)
    key = generate_key(KeyType.ED25519) if new_online_key else None
    try:
        version = repository.sign_root(
            root_key, now, new_online_key=key.public_key if key is not None else None
        )
    except TrustRepositoryError as exc:
        raise SettingsError(str(exc)) from exc
    if key is not None:
        _replace_key(home / TUF_DIR / ONLINE_KEY, key, passphrase)
    authority = StoredAuthority(engine, load_publisher(home, passphrase))
    authority.refresh_crl(now)
    trust, _ = authority.trust_root()
    try:
        online = repository.load_online_key(passphrase)
        repository.publish(trust.to_json(), online, now, force=True)
    except TrustRepositoryError as exc:
        raise SettingsError(str(exc)) from exc
    return version


def publish_trust_root(home: Path, passphrase: bytes, engine: Engine, now: datetime) -> None:
    """Publish the home's current trust root as the next TUF targets version, its CRL first
    re-issued when due (:meth:`StoredAuthority.refresh_crl`: an operator's command may write).

    Raises:
        SettingsError: The home or its TUF repository cannot be loaded.
    """
    authority = StoredAuthority(engine, load_publisher(home, passphrase))
    authority.refresh_crl(now)
    open_distribution(home, passphrase, authority, now)


def _new_service_certificate(
    home: Path, publisher: Publisher, passphrase: bytes, engine: Engine, now: datetime
) -> int:
    key = generate_key(KeyType.P256)
    chain = issue_certificate(
        publisher.authority,
        key.public_key,
        publisher.service_identity,
        now=now,
        days=SERVICE_CERTIFICATE_DAYS,
    )
    retired = home / RETIRED_DIR
    retired.mkdir(mode=0o700, exist_ok=True)
    old = publisher.service_chain[0]
    _write(retired / f"service-{old.serial_number:x}.pem", _pem(*publisher.service_chain))
    _replace_key(home / SERVICE_KEY, key, passphrase)
    _write(home / SERVICE_CHAIN, _pem(*chain))
    crud.record_issued(engine, chain[0], publisher.service_identity, now=now)
    return chain[0].serial_number


def _revoke_recorded(engine: Engine, certificate: x509.Certificate, when: datetime) -> None:
    entry = RevocationEntry(certificate.serial_number, when, x509.ReasonFlags.superseded, None)
    with contextlib.suppress(crud.ConflictError):  # revoked already: that revocation stands
        crud.add_revocation(engine, entry)


def _sign_tuf_root(home: Path, root_key: SigningKey, now: datetime) -> None:
    try:
        TrustRepository(home / TUF_DIR).sign_root(root_key, now)
    except TrustRepositoryError as exc:
        raise SettingsError(str(exc)) from exc


def _pem(*certificates: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(Encoding.PEM) for c in certificates)


def _replace_key(path: Path, key: SigningKey, passphrase: bytes) -> None:
    temporary = path.with_name(f".{path.name}.new")
    temporary.unlink(missing_ok=True)
    try:
        write_private_key(temporary, key, passphrase)
        os.replace(temporary, path)
    except (OSError, KeyFormatError) as exc:
        temporary.unlink(missing_ok=True)
        raise AuthorityError(f"cannot replace {path}: {exc}") from exc


def _write(path: Path, data: bytes) -> None:
    try:
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except OSError as exc:
        raise AuthorityError(f"cannot write {path}: {exc.strerror}") from exc
