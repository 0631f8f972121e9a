"""`prov key`: generate key pairs and certificate requests."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.common import (
    Exit,
    PassphraseFile,
    Unencrypted,
    fail,
    load_signing_key,
    new_key_passphrase,
    stderr,
    write_new_file,
)
from provenance import KeyType, ProvenanceError, generate_key, write_private_key, write_public_key
from provenance.identity import create_csr

app = typer.Typer(help="Generate keys and certificate requests.", no_args_is_help=True)


@app.command("generate")
def generate(
    out: Annotated[Path, typer.Option(help="Private key path; the public key goes to PATH.pub.")],
    key_type: Annotated[KeyType, typer.Option("--type", help="Key algorithm.")] = KeyType.P256,
    passphrase_file: PassphraseFile = None,
    unencrypted: Unencrypted = False,
) -> None:
    """Generate a key pair: PATH (private, mode 0600) and PATH.pub (public PEM)."""
    passphrase = new_key_passphrase(passphrase_file, unencrypted)
    key = generate_key(key_type)
    public_path = out.with_name(out.name + ".pub")
    if public_path.exists():
        fail(f"{public_path} exists already; refusing to overwrite it", Exit.USAGE)
    try:
        write_private_key(out, key, passphrase)
        write_public_key(public_path, key.public_key)
    except ProvenanceError as exc:
        fail(str(exc))
    stderr.print(f"wrote {out} (private, {key_type.value}) and {public_path}")
    stderr.print(f"key id {key.public_key.key_id}")


@app.command("csr")
def csr(
    key: Annotated[Path, typer.Option(help="The private key to certify (P-256).")],
    identity: Annotated[str, typer.Option(help="The identity to ask for (https URI or email).")],
    out: Annotated[Path, typer.Option(help="Where to write the PEM request.")],
    passphrase_file: PassphraseFile = None,
) -> None:
    """Write a certificate signing request for KEY (the authority decides the identity)."""
    signing_key = load_signing_key(key, passphrase_file)
    try:
        request = create_csr(signing_key, identity)
    except ProvenanceError as exc:
        fail(str(exc), Exit.USAGE)
    write_new_file(out, request, "certificate request")
    stderr.print(f"wrote {out} asking for {identity}")
