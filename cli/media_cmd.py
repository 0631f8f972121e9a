"""`prov media`: sign, verify and inspect C2PA manifests in images, video and audio.

provenance.media (and c2pa-python with it) is imported only when a media command runs, so the rest
of `prov` works without the ``media`` extra.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from cli.common import (
    CLI_LIMITS,
    Exit,
    JsonOption,
    fail,
    load_policy,
    load_signing_key,
    open_input,
    read_file,
    stderr,
    write_new_file,
)
from cli.inputs import load_chain, load_trust, media_type, parse_claims
from cli.policy_options import (
    IdentityOption,
    IdentityRegexOption,
    IssuerOption,
    MaxAgeOption,
    PolicyFileOption,
    PolicyOptions,
    RequireClaimOption,
    RequireFreshCrlOption,
    UnsafeAnyIdentityOption,
)
from cli.render import print_json, report
from provenance import ProvenanceError, VerificationError, printable

app = typer.Typer(help="C2PA media: sign, verify and inspect.", no_args_is_help=True)

MimeType = Annotated[
    str | None, typer.Option(help="MIME type of FILE (default: guessed from its name).")
]
SidecarManifest = Annotated[
    Path | None, typer.Option(help="Verify with this .c2pa sidecar manifest instead.")
]


@app.command("sign")
def sign(
    file: Annotated[Path, typer.Argument(help="The image, video or audio file to sign.")],
    key: Annotated[Path, typer.Option(help="Private key (PEM, P-256).")],
    cert: Annotated[Path, typer.Option(help="Certificate chain (PEM, leaf first).")],
    out: Annotated[
        Path | None,
        typer.Option(help="The signed file; with --sidecar the .c2pa (default FILE's name .c2pa)."),
    ] = None,
    sidecar: Annotated[
        bool, typer.Option(help="Write a .c2pa sidecar manifest; leave FILE untouched.")
    ] = False,
    claim: Annotated[
        list[str] | None, typer.Option(help="A claim NAME=VALUE (repeatable).")
    ] = None,
    author: Annotated[str | None, typer.Option(help="The author's identity (attested).")] = None,
    thumbnail: Annotated[
        bool, typer.Option(help="Embed a thumbnail (about 30x the time and size).")
    ] = False,
    mime_type: MimeType = None,
    passphrase_file: Annotated[Path | None, typer.Option(help="Passphrase file.")] = None,
) -> None:
    """Sign FILE with a C2PA manifest carrying the author and claims."""
    from provenance.media import MediaProfileError, sign_media  # noqa: PLC0415 (optional extra)

    if out is None and not sidecar:
        fail("give --out for the signed file (or --sidecar to write FILE's .c2pa)", Exit.USAGE)
    out = out or file.with_suffix(".c2pa")
    claims = parse_claims(claim or [])
    chain = load_chain(cert)
    signing_key = load_signing_key(key, passphrase_file)
    try:
        with open_input(file, "input file") as stream:
            signed = sign_media(
                stream,
                media_type(file, mime_type),
                key=signing_key,
                chain=chain,
                at=datetime.now(UTC),
                author=author,
                claims=claims,
                title=file.name,
                sidecar=sidecar,
                thumbnail=thumbnail,
            )
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    except MediaProfileError as exc:
        fail(f"{cert}: {exc}", Exit.USAGE)
    except ProvenanceError as exc:
        fail(f"{file}: {exc}")
    write_new_file(out, signed, "sidecar manifest" if sidecar else "signed file")
    stderr.print(f"signed {file} -> {out}" + (" (sidecar manifest)" if sidecar else ""))


@app.command("verify")
def verify(
    file: Annotated[Path, typer.Argument(help="The signed media file.")],
    trust: Annotated[Path, typer.Option(help="Trust root file (JSON).")],
    identity: IdentityOption = None,
    identity_regex: IdentityRegexOption = None,
    issuer: IssuerOption = None,
    require_claim: RequireClaimOption = None,
    unsafe_any_identity: UnsafeAnyIdentityOption = False,
    require_fresh_crl: RequireFreshCrlOption = False,
    max_age: MaxAgeOption = None,
    policy_file: PolicyFileOption = None,
    sidecar_manifest: SidecarManifest = None,
    mime_type: MimeType = None,
    as_json: JsonOption = False,
) -> None:
    """Verify FILE's C2PA manifest; exit 0 verified, 1 not verified, 2 usage, 3 unreadable."""
    from provenance.media import verify_media  # noqa: PLC0415 (optional extra)

    trust_root = load_trust(None, trust)
    options = PolicyOptions(
        identity,
        identity_regex,
        issuer,
        tuple(require_claim or ()),
        unsafe_any_identity,
        require_fresh_crl,
        max_age,
        policy_file,
    )
    policy = load_policy(options)
    sidecar = _read_sidecar(sidecar_manifest)
    try:
        with open_input(file, "input file") as stream:
            result = verify_media(
                stream,
                media_type(file, mime_type),
                trust_root,
                policy,
                at=datetime.now(UTC),
                sidecar=sidecar,
            )
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    report(result, str(file), as_json, printable(trust_root.name))


@app.command("inspect")
def inspect(
    file: Annotated[Path, typer.Argument(help="The media file to show.")],
    sidecar_manifest: SidecarManifest = None,
    mime_type: MimeType = None,
    as_json: JsonOption = False,
) -> None:
    """Show FILE's C2PA manifests WITHOUT trusting any of them."""
    from provenance.media import inspect_media  # noqa: PLC0415 (optional extra)

    sidecar = _read_sidecar(sidecar_manifest)
    try:
        with open_input(file, "input file") as stream:
            summary = inspect_media(stream, media_type(file, mime_type), sidecar=sidecar)
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    except VerificationError as exc:
        fail(f"{file}: [{exc.code}] {exc.message}", Exit.NOT_VERIFIED)
    if as_json:
        print_json(summary)
        return
    stderr.print("[bold yellow]UNVERIFIED: this shows what the manifests claim; no trust root[/]")
    stderr.print_json(json.dumps(summary))


def _read_sidecar(path: Path | None) -> bytes | None:
    return (
        None if path is None else read_file(path, "sidecar manifest", CLI_LIMITS.max_sidecar_bytes)
    )
