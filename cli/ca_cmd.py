"""`prov ca`: run a publisher's certificate authority."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from cli.common import (
    Exit,
    PassphraseFile,
    Unencrypted,
    fail,
    new_key_passphrase,
    read_file,
    read_passphrase,
    stderr,
    write_new_file,
)
from cli.local_log import log_settings
from provenance import PassphraseRequiredError, ProvenanceError
from provenance.identity import (
    CertificateAuthority,
    build_crl,
    create_authority,
    export_trust_root,
    issue_from_csr,
    load_authority,
    revoke,
    save_authority,
    spki_sha256,
)

app = typer.Typer(help="Run a certificate authority for your authors.", no_args_is_help=True)

CaDir = Annotated[Path, typer.Option("--ca", help="The CA directory (from `prov ca init`).")]


class Reason(StrEnum):
    """CRL reason codes offered on the command line."""

    UNSPECIFIED = "unspecified"
    KEY_COMPROMISE = "keyCompromise"
    AFFILIATION_CHANGED = "affiliationChanged"
    SUPERSEDED = "superseded"
    CESSATION_OF_OPERATION = "cessationOfOperation"
    CERTIFICATE_HOLD = "certificateHold"
    PRIVILEGE_WITHDRAWN = "privilegeWithdrawn"


_REASON_FLAGS = {
    Reason.UNSPECIFIED: x509.ReasonFlags.unspecified,
    Reason.KEY_COMPROMISE: x509.ReasonFlags.key_compromise,
    Reason.AFFILIATION_CHANGED: x509.ReasonFlags.affiliation_changed,
    Reason.SUPERSEDED: x509.ReasonFlags.superseded,
    Reason.CESSATION_OF_OPERATION: x509.ReasonFlags.cessation_of_operation,
    Reason.CERTIFICATE_HOLD: x509.ReasonFlags.certificate_hold,
    Reason.PRIVILEGE_WITHDRAWN: x509.ReasonFlags.privilege_withdrawn,
}


def open_authority(directory: Path, passphrase_file: Path | None) -> CertificateAuthority:
    """Load the CA in ``directory``, asking for its passphrase when its keys are encrypted."""
    try:
        return load_authority(directory, passphrase=None)
    except ProvenanceError as exc:
        if not isinstance(exc.__cause__, PassphraseRequiredError):
            fail(str(exc))
    passphrase = read_passphrase(passphrase_file, confirm=False)
    try:
        return load_authority(directory, passphrase=passphrase)
    except ProvenanceError as exc:
        fail(str(exc))


def pem_chain(certificates: list[x509.Certificate]) -> bytes:
    """Concatenated PEM certificates."""
    return b"".join(c.public_bytes(Encoding.PEM) for c in certificates)


@app.command("init")
def init(
    out: Annotated[Path, typer.Option(help="New CA directory.")],
    name: Annotated[str, typer.Option(help="The authority's name (e.g. Example Reviews).")],
    passphrase_file: PassphraseFile = None,
    unencrypted: Unencrypted = False,
) -> None:
    """Create a root CA and an issuing CA (keys encrypted as in `prov key generate`)."""
    if out.exists() and any(out.iterdir()):
        fail(f"{out} exists and is not empty; refusing to overwrite an authority", Exit.USAGE)
    passphrase = new_key_passphrase(passphrase_file, unencrypted)
    try:
        new = create_authority(name, now=datetime.now(UTC))
        save_authority(out, new, passphrase=passphrase)
    except ProvenanceError as exc:
        fail(str(exc))
    stderr.print(f"created authority {name!r} in {out}")
    stderr.print(f"keep {out / 'root.key'} offline: only the issuing key is needed day to day")
    for role, certificate in (
        ("root", new.authority.root_certificate),
        ("issuing CA", new.authority.issuing_certificate),
    ):
        stderr.print(f"{role} key SHA-256 (pin it with --issuer): {spki_sha256(certificate)}")


@app.command("issue")
def issue(
    ca: CaDir,
    csr: Annotated[Path, typer.Option(help="The author's certificate request (PEM).")],
    identity: Annotated[str, typer.Option(help="The identity YOU assert (https URI or email).")],
    out: Annotated[Path, typer.Option(help="Where to write the chain (PEM, leaf first).")],
    days: Annotated[int, typer.Option(help="Validity in days.")] = 90,
    crl_url: Annotated[
        str | None,
        typer.Option(help="Where you publish the CRL (http/https): the leaf's distribution point."),
    ] = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Certify the key of a CSR for IDENTITY (whatever identity the CSR asked for)."""
    authority = open_authority(ca, passphrase_file)
    authority.crl_url = crl_url
    request = read_file(csr, "certificate request")
    try:
        chain = issue_from_csr(authority, request, identity, now=datetime.now(UTC), days=days)
    except ProvenanceError as exc:
        fail(str(exc), Exit.USAGE)
    write_new_file(out, pem_chain(chain), "certificate chain")
    stderr.print(f"issued {identity} (serial {chain[0].serial_number:x}) -> {out}")


@app.command("revoke")
def revoke_command(
    ca: CaDir,
    cert: Annotated[Path, typer.Option(help="The certificate (PEM; the first of a chain).")],
    reason: Annotated[Reason, typer.Option(help="CRL reason code.")] = Reason.UNSPECIFIED,
    invalidity_date: Annotated[
        datetime | None,
        typer.Option(help="When the key became unsafe (UTC), for keyCompromise."),
    ] = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Revoke a certificate from now on (and from --invalidity-date for keyCompromise)."""
    authority = open_authority(ca, passphrase_file)
    try:
        certificate = x509.load_pem_x509_certificate(read_file(cert, "certificate"))
    except ValueError as exc:
        fail(f"{cert} is not a PEM certificate: {exc}")
    when = invalidity_date.replace(tzinfo=UTC) if invalidity_date else None
    try:
        entry = revoke(
            authority,
            certificate,
            reason=_REASON_FLAGS[reason],
            now=datetime.now(UTC),
            invalidity_date=when,
        )
    except ProvenanceError as exc:
        fail(str(exc), Exit.USAGE)
    stderr.print(f"revoked serial {entry.serial_number:x} ({reason.value}); publish a new CRL")


@app.command("crl")
def crl(
    ca: CaDir,
    out: Annotated[Path, typer.Option(help="Where to write the CRL (PEM).")],
    passphrase_file: PassphraseFile = None,
) -> None:
    """Issue the next CRL, signed by the issuing CA."""
    authority = open_authority(ca, passphrase_file)
    try:
        revocations = build_crl(authority, now=datetime.now(UTC))
    except ProvenanceError as exc:
        fail(str(exc))
    write_new_file(out, revocations.public_bytes(Encoding.PEM), "CRL")
    stderr.print(f"wrote {out} with {len(revocations)} revoked certificate(s)")


@app.command("export-trust")
def export_trust(
    ca: CaDir,
    out: Annotated[Path, typer.Option(help="Where to write the trust root (JSON).")],
    log: Annotated[
        Path | None, typer.Option(help="Trust this log's checkpoint key (from `prov log init`).")
    ] = None,
    require_log: Annotated[
        bool, typer.Option(help="Refuse bundles without a log inclusion proof.")
    ] = False,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Write the trust root verifiers use: the root, issuing CA, a fresh CRL (and log key)."""
    if require_log and log is None:
        fail("--require-log needs --log", Exit.USAGE)
    log_keys = [log_settings(log)["verifierKey"]] if log else []
    authority = open_authority(ca, passphrase_file)
    try:
        crl = build_crl(authority, now=datetime.now(UTC))
        trust = export_trust_root(authority, crl=crl, log_keys=log_keys, require_log=require_log)
    except ProvenanceError as exc:
        fail(str(exc))
    write_new_file(out, trust.to_json(), "trust root")
    stderr.print(f"wrote trust root {trust.name!r} to {out}")
