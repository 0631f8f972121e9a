"""`prov sign`: sign a file into a bundle."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, BinaryIO

import typer
from cryptography import x509
from rich.markup import escape
from rich.text import Text

from cli.common import (
    Exit,
    fail,
    load_signing_key,
    open_input,
    read_file,
    stderr,
    write_new_file,
)
from cli.inputs import guess_content_type, load_chain, parse_claims
from cli.local_log import open_local_log
from cli.sign_checks import certificate_warnings, reading_with_progress
from provenance import (
    DEFAULT_ARMOR_LIMITS,
    Author,
    Canonicalization,
    ContentPredicate,
    ProvenanceError,
    Signer,
    TrustRoot,
    armor_text,
    printable,
)


def sign(
    file: Annotated[Path, typer.Argument(help="The file to sign.")],
    key: Annotated[Path, typer.Option(help="Private key (PEM).")],
    text: Annotated[
        bool, typer.Option(help="Sign under the text-v1 profile (survives copy and paste).")
    ] = False,
    armored: Annotated[
        bool,
        typer.Option(
            "--armor",
            help="Write clear-signed text (default FILE.asc) instead of a bundle; implies --text.",
        ),
    ] = False,
    claim: Annotated[
        list[str] | None,
        typer.Option(help="A claim NAME=VALUE (repeatable); VALUE typed as for --require-claim."),
    ] = None,
    author: Annotated[str | None, typer.Option(help="The author's identity (attested).")] = None,
    content_type: Annotated[str | None, typer.Option(help="Media type of the content.")] = None,
    cert: Annotated[
        Path | None, typer.Option(help="Certificate chain (PEM, leaf first) for the key.")
    ] = None,
    log: Annotated[
        Path | None, typer.Option(help="Log the signature in this log (from `prov log init`).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Output path (default FILE.prov.json, or FILE.asc with --armor)."),
    ] = None,
    passphrase_file: Annotated[Path | None, typer.Option(help="Passphrase file.")] = None,
    trust: Annotated[
        Path | None,
        typer.Option(help="Warn when verifiers of this trust root will refuse --cert (revoked)."),
    ] = None,
) -> None:
    """Sign FILE and write its bundle (or, with --armor, its clear-signed text).

    Warns (and still signs) when the --cert certificate has expired, is not yet valid, or, with
    --trust, does not validate or is revoked there: verifiers will refuse such a signature.
    """
    claims = parse_claims(claim or [])
    chain = load_chain(cert) if cert else []
    trust_root = _warn_about_certificate(chain, trust)
    if trust_root is not None and trust_root.require_log and log is None:
        stderr.print(
            "note: verifiers of this trust root require the log: submit the result to the"
            " publisher's log (`prov log submit`) before publishing it"
        )
    try:
        transparency_log = open_local_log(log, passphrase_file) if log else None
        signer = Signer(load_signing_key(key, passphrase_file), chain, transparency_log)
    except ProvenanceError as exc:
        fail(str(exc), Exit.USAGE)
    as_text = text or armored
    profile = Canonicalization.TEXT_V1 if as_text else Canonicalization.NONE
    predicate = ContentPredicate(
        content_type=content_type or guess_content_type(file, as_text),
        canonicalization=profile,
        created=datetime.now(UTC),
        author=Author(author) if author else None,
        claims=claims,
    )
    if armored:
        _sign_armored(file, signer, predicate, out or file.with_name(file.name + ".asc"))
        return
    bundle_path = out or file.with_name(file.name + ".prov.json")
    try:
        with (
            open_input(file, "input file") as stream,
            reading_with_progress(stream, _size(stream), stderr, f"signing {file.name}") as read,
        ):
            bundle = signer.sign(read, file.name, predicate)
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    except ProvenanceError as exc:
        fail(f"{file}: {exc}")
    write_new_file(bundle_path, bundle.to_bytes(), "bundle")
    stderr.print(f"signed {file} ({profile.value}) -> {bundle_path}")


def _sign_armored(file: Path, signer: Signer, predicate: ContentPredicate, out: Path) -> None:
    data = read_file(file, "text", DEFAULT_ARMOR_LIMITS.max_document_bytes)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        fail(f"{file} is not UTF-8 text ({exc.reason} at byte {exc.start}); --armor signs text")
    try:
        armored = armor_text(text, signer.sign(data, file.name, predicate))
    except ProvenanceError as exc:
        fail(f"{file}: {exc}")
    write_new_file(out, armored.encode("utf-8"), "armored text")
    stderr.print(f"signed {escape(str(file))} (text-v1, clear-signed) -> {escape(str(out))}")


def _warn_about_certificate(chain: list[x509.Certificate], trust: Path | None) -> TrustRoot | None:
    """Warn about a certificate verifiers will refuse; the --trust trust root, if given."""
    trust_root = None
    if trust is not None:
        try:
            trust_root = TrustRoot.from_json(read_file(trust, "trust root"))
        except ProvenanceError as exc:
            fail(f"{trust}: {exc}", Exit.USAGE)
    for warning in certificate_warnings(chain, trust_root, datetime.now(UTC)):
        stderr.print(
            Text("warning: ", style="bold yellow")
            + Text(printable(f"{warning}; verifiers will refuse this signature"))
        )
    return trust_root


def _size(stream: BinaryIO) -> int:
    return os.fstat(stream.fileno()).st_size
