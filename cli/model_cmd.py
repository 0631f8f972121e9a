"""`prov model`: sign and verify ML models as OpenSSF Model Signing (OMS v1.0) bundles."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from cli.common import (
    Exit,
    JsonOption,
    PassphraseFile,
    fail,
    load_policy,
    load_signing_key,
    read_file,
    stderr,
    write_new_file,
)
from cli.inputs import load_chain, load_trust
from cli.policy_options import (
    IdentityOption,
    IdentityRegexOption,
    IssuerOption,
    PolicyOptions,
    UnsafeAnyIdentityOption,
)
from cli.render import print_json, print_verdict
from provenance import ProvenanceError, printable
from provenance.model import (
    MODEL_SIZE_LIMITS,
    ModelPathError,
    ModelSigner,
    ModelVerification,
    ModelVerifier,
    Serialization,
    check_relative,
    default_ignores,
    list_model,
    serialize_model,
    total_bytes,
)

if TYPE_CHECKING:
    from provenance.tlog import TransparencyLog

DEFAULT_SIGNATURE_NAME = "model.sig"

app = typer.Typer(
    help="ML models: sign and verify OpenSSF Model Signing (OMS v1.0) bundles.",
    no_args_is_help=True,
)

SignatureOption = Annotated[
    Path | None,
    typer.Option(help="The signature file (default: PATH/model.sig, or PATH.sig for a file)."),
]


def default_signature(model: Path) -> Path:
    """PATH/model.sig for a directory (as the reference implementation), PATH.sig for a file."""
    if model.is_dir():
        return model / DEFAULT_SIGNATURE_NAME
    return model.with_name(model.name + ".sig")


def relative_inside(model: Path, path: Path) -> str | None:
    """``path`` relative to the model directory as a POSIX path, or None when outside it.

    The final component is not resolved: a ``model.sig`` that links to another file of the model
    leaves out the link, never its target (which would hide a planted file).
    """
    if not model.is_dir():
        return None
    try:
        unresolved = path.name not in ("", ".", "..")
        target = path.parent.resolve() / path.name if unresolved else path.resolve()
        relative = target.relative_to(model.resolve())
    except ValueError:
        return None
    text = PurePosixPath(relative).as_posix()
    return None if text == "." else text


def _ignore_path(model: Path, given: str) -> str:
    """An --ignore-paths value: relative to the model directory (or absolute inside it)."""
    candidate = Path(given)
    if candidate.is_absolute():
        inside = relative_inside(model, candidate)
        if inside is None:
            fail(f"--ignore-paths {given!r} is not inside the model {model}", Exit.USAGE)
        return inside
    text = PurePosixPath(given).as_posix().rstrip("/")
    try:
        return check_relative(text, "--ignore-paths")
    except ModelPathError as exc:
        fail(str(exc), Exit.USAGE)


@contextmanager
def progress_bar(what: str, total: int | None) -> Iterator[Callable[[int], None] | None]:
    """A byte progress bar on a terminal's stderr (the callback to feed it), else None."""
    if not stderr.is_terminal:
        yield None
        return
    from rich.progress import (  # noqa: PLC0415 (only on a terminal)
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=stderr, transient=True) as progress:
        task = progress.add_task(what, total=total)
        yield lambda count: progress.update(task, advance=count)


def _open_log(directory: Path, passphrase_file: Path | None) -> TransparencyLog:
    from cli.local_log import open_local_log  # noqa: PLC0415 (the log tooling only when logging)

    return open_local_log(directory, passphrase_file)


@app.command("sign")
def sign(
    path: Annotated[Path, typer.Argument(help="The model: a directory or one file.")],
    key: Annotated[Path, typer.Option(help="Private key (PEM, P-256).")],
    cert: Annotated[
        Path | None, typer.Option(help="Certificate chain (PEM, leaf first): certificate method.")
    ] = None,
    signature: SignatureOption = None,
    ignore_paths: Annotated[
        list[str] | None,
        typer.Option(help="A path to leave unsigned, relative to the model (repeatable)."),
    ] = None,
    shard_size: Annotated[
        int | None, typer.Option(help="Hash files in shards of N bytes (the shards method).")
    ] = None,
    log: Annotated[
        Path | None,
        typer.Option(help="Log the signature in this log (writes a provenance bundle)."),
    ] = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Sign the model at PATH into an OMS bundle (Sigstore bundle v0.3)."""
    if not path.exists():
        fail(f"the model {path} does not exist")
    if shard_size is not None and shard_size <= 0:
        fail(f"--shard-size must be a positive number of bytes, found {shard_size}", Exit.USAGE)
    out = signature or default_signature(path)
    ignores = [_ignore_path(path, p) for p in ignore_paths or []]
    if (inside := relative_inside(path, out)) is not None:
        ignores.append(inside)
    serialization = Serialization(
        method="files" if shard_size is None else "shards",
        shard_size=shard_size,
        ignore_paths=default_ignores(ignores),
    )
    chain = load_chain(cert) if cert else []
    try:
        transparency_log = _open_log(log, passphrase_file) if log else None
        signer = ModelSigner(load_signing_key(key, passphrase_file), chain, transparency_log)
    except ProvenanceError as exc:
        fail(str(exc), Exit.USAGE)
    try:
        total = total_bytes(list_model(path, serialization.ignore_paths).files)
        with progress_bar(f"hashing {path.name}", total) as progress:
            manifest = serialize_model(path, serialization, progress=progress)
        bundle = signer.sign(manifest)
    except ProvenanceError as exc:
        fail(f"{path}: {exc}")
    write_new_file(out, bundle.to_bytes(), "signature")
    method = "certificate" if chain else "key"
    stderr.print(
        Text(
            printable(
                f"signed {path} ({len(manifest.resources)} resources, {total} bytes, "
                f"{method} method{', logged' if log else ''}) -> {out}"
            )
        )
    )


@app.command("verify")
def verify(
    path: Annotated[Path, typer.Argument(help="The model: a directory or one file.")],
    key: Annotated[Path | None, typer.Option(help="Trust this public key (PEM).")] = None,
    trust: Annotated[Path | None, typer.Option(help="Trust root file (JSON).")] = None,
    signature: SignatureOption = None,
    identity: IdentityOption = None,
    identity_regex: IdentityRegexOption = None,
    issuer: IssuerOption = None,
    unsafe_any_identity: UnsafeAnyIdentityOption = False,
    ignore_unsigned_files: Annotated[
        bool, typer.Option(help="Do not report files the signature does not name.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Verify the model at PATH against its OMS (or provenance) signature.

    Exit 0 verified, 1 not verified (every missing, extra or changed file is named), 2 usage,
    3 unreadable.
    """
    trust_root = load_trust(key, trust)
    policy = load_policy(PolicyOptions(identity, identity_regex, issuer, (), unsafe_any_identity))
    if not path.exists():
        fail(f"the model {path} does not exist")
    signature_path = signature or default_signature(path)
    data = read_file(signature_path, "signature", MODEL_SIZE_LIMITS.max_signature_bytes)
    inside = relative_inside(path, signature_path)
    with progress_bar(f"hashing {path.name}", None) as progress:
        outcome = ModelVerifier(trust_root, progress=progress).verify(
            path,
            data,
            policy,
            at=datetime.now(UTC),
            ignore_paths=[inside] if inside else [],
            ignore_unsigned_files=ignore_unsigned_files,
        )
    _report(outcome, str(path), as_json)


def _report(outcome: ModelVerification, subject: str, as_json: bool) -> None:
    if as_json:
        print_json(outcome.to_json())
    else:
        print_verdict(outcome.result, subject)
        if outcome.statement is not None:
            statement = outcome.statement
            stderr.print(
                Text(
                    printable(
                        f"model {statement.model_name} sha256:{statement.root_digest} "
                        f"({len(statement.resources)} resources, "
                        f"{statement.serialization.method}, {statement.serialization.hash_type})"
                    )
                )
            )
    raise typer.Exit(int(Exit.VERIFIED if outcome.verified else Exit.NOT_VERIFIED))
