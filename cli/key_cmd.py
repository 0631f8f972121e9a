"""`prov key`: generate key pairs and certificate requests."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.common import Exit, fail, read_passphrase, stderr
from provenance.errors import ProvenanceError
from provenance.keys import KeyType, generate_key, write_private_key, write_public_key

app = typer.Typer(help="Generate keys and certificate requests.", no_args_is_help=True)

PassphraseFile = Annotated[
    Path | None,
    typer.Option(
        help="Read the passphrase from this file (else $PROVENANCE_PASSPHRASE or a prompt)."
    ),
]


@app.command("generate")
def generate(
    out: Annotated[Path, typer.Option(help="Private key path; the public key goes to PATH.pub.")],
    key_type: Annotated[KeyType, typer.Option("--type", help="Key algorithm.")] = KeyType.P256,
    passphrase_file: PassphraseFile = None,
    unencrypted: Annotated[
        bool, typer.Option(help="Store the private key without a passphrase.")
    ] = False,
) -> None:
    """Generate a key pair: PATH (private, mode 0600) and PATH.pub (public PEM)."""
    passphrase = None if unencrypted else read_passphrase(passphrase_file, confirm=True)
    if passphrase is None and not unencrypted:
        fail(
            "no passphrase: give --passphrase-file, set PROVENANCE_PASSPHRASE, run on a terminal, "
            "or pass --unencrypted",
            Exit.USAGE,
        )
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
