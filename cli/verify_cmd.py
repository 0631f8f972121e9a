"""`prov verify` and `prov inspect`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from cli.common import (
    CLI_LIMITS,
    Exit,
    JsonOption,
    fail,
    load_policy,
    open_input,
    read_file,
    stderr,
)
from cli.inputs import load_trust
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
from cli.render import print_armored_verdict, print_json, report
from cli.store_inputs import (
    PublisherOption,
    TrustStoreOption,
    require_publishers,
    store_trust_root,
    verify_with_store,
)
from provenance import (
    DEFAULT_ARMOR_LIMITS,
    Bundle,
    Policy,
    ProvenanceError,
    StrictDecodeError,
    TrustRoot,
    VerificationResult,
    Verifier,
    check_armored,
    contains_armor,
    loads_strict,
    printable,
)

LogKeyOption = Annotated[
    list[str] | None,
    typer.Option(
        "--log-key",
        metavar="VKEY",
        help="Also trust this transparency log's verifier key (name+hash+key, as `prov log init` "
        "prints it), so its entries prove the signing time; repeatable.",
    ),
]


def verify(
    file: Annotated[Path, typer.Argument(help="The signed file.")],
    key: Annotated[Path | None, typer.Option(help="Trust this public key (PEM).")] = None,
    trust: Annotated[Path | None, typer.Option(help="Trust root file (JSON).")] = None,
    bundle: Annotated[
        Path | None,
        typer.Option(help="Detached bundle (default: the armor in FILE, else FILE.prov.json)."),
    ] = None,
    identity: IdentityOption = None,
    identity_regex: IdentityRegexOption = None,
    issuer: IssuerOption = None,
    require_claim: RequireClaimOption = None,
    unsafe_any_identity: UnsafeAnyIdentityOption = False,
    require_fresh_crl: RequireFreshCrlOption = False,
    max_age: MaxAgeOption = None,
    policy_file: PolicyFileOption = None,
    as_json: JsonOption = False,
    publisher: PublisherOption = None,
    trust_store: TrustStoreOption = None,
    log_key: LogKeyOption = None,
) -> None:
    """Verify FILE: its clear-signed blocks, else its bundle (--bundle, else FILE.prov.json).

    Without --key or --trust, the trust store gives the trust root: --publisher's, else that of
    the publisher whose anchors validate the chain. Exit 0 verified, 1 not verified (partly signed
    text included), 2 usage, 3 unreadable.
    """
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
    if key is None and trust is None:
        if log_key:
            fail("--log-key needs --key or --trust", Exit.USAGE)
        policy = load_policy(options)
        _verify_with_store(file, bundle, policy, publisher, trust_store, as_json)
    if publisher is not None:
        fail("--publisher contradicts --key and --trust", Exit.USAGE)
    trust_root = load_trust(key, trust, log_key or ())
    policy = load_policy(options)
    label = trust_label(trust_root, from_key=key is not None)
    armored = None if bundle else _armored_document(file)
    if armored is not None:
        _verify_armored(
            Verifier(trust_root), file, armored, policy, as_json, label, at=datetime.now(UTC)
        )
    bundle_path = bundle or file.with_name(file.name + ".prov.json")
    bundle_bytes = read_file(bundle_path, "bundle", CLI_LIMITS.max_bundle_file_bytes)
    result = _check_file(Verifier(trust_root), file, bundle_bytes, policy)
    report(result, str(file), as_json, label)


def trust_label(trust_root: TrustRoot, *, from_key: bool) -> str:
    """Who the reader trusts, for the plain sentences: ``you (--key)`` or the trust root's name."""
    return "you (--key)" if from_key else printable(trust_root.name)


def _verify_with_store(
    file: Path,
    bundle: Path | None,
    policy: Policy,
    publisher: str | None,
    store: Path | None,
    as_json: bool,
) -> NoReturn:
    require_publishers(store, publisher)
    armored = None if bundle else _armored_document(file)
    now = datetime.now(UTC)
    if armored is not None:
        name, trust_root = store_trust_root(store, publisher, armored, policy, now)
        _verify_armored(
            Verifier(trust_root),
            file,
            armored,
            policy,
            as_json,
            printable(name),
            at=now,
            publisher=name,
        )
    bundle_path = bundle or file.with_name(file.name + ".prov.json")
    bundle_bytes = read_file(bundle_path, "bundle", CLI_LIMITS.max_bundle_file_bytes)
    found = verify_with_store(store, publisher, file, bundle_bytes, policy, now)
    if as_json:
        print_json({**found.result.to_json(), "publisher": found.publisher})
        raise typer.Exit(int(Exit.VERIFIED if found.result.verified else Exit.NOT_VERIFIED))
    report(
        found.result, f"{file} (publisher {found.publisher})", as_json, printable(found.publisher)
    )


def _armored_document(file: Path) -> bytes | None:
    """FILE's bytes when they hold a signed text block (one byte past the cap, to report it)."""
    try:
        with open_input(file, "input file") as stream:
            data = stream.read(DEFAULT_ARMOR_LIMITS.max_document_bytes + 1)
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    return data if contains_armor(data) else None


def _verify_armored(
    verifier: Verifier,
    file: Path,
    document: bytes,
    policy: Policy,
    as_json: bool,
    trust: str,
    *,
    at: datetime,
    publisher: str | None = None,
) -> NoReturn:
    """Verify clear-signed text at ``at`` (the clock reading that also chose the publisher);
    ``publisher`` (the store's name of who vouched) is reported."""
    outcome = check_armored(verifier, document, policy, at=at)
    if as_json:
        extra = {} if publisher is None else {"publisher": publisher}
        print_json({**outcome.to_json(), **extra})
    else:
        subject = str(file) if publisher is None else f"{file} (publisher {publisher})"
        print_armored_verdict(outcome, subject, trust)
    raise typer.Exit(int(Exit.VERIFIED if outcome.verified else Exit.NOT_VERIFIED))


def _check_file(
    verifier: Verifier, file: Path, bundle: bytes, policy: Policy
) -> VerificationResult:
    try:
        with open_input(file, "input file") as stream:
            return verifier.check(stream, bundle, policy, at=datetime.now(UTC))
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")


def inspect(
    bundle: Annotated[Path, typer.Argument(help="The bundle to show.")],
    as_json: JsonOption = False,
) -> None:
    """Show what a bundle says, WITHOUT verifying or trusting any of it."""
    try:
        parsed = Bundle.from_bytes(read_file(bundle, "bundle", CLI_LIMITS.max_bundle_file_bytes))
        statement = loads_strict(parsed.envelope.payload, max_bytes=len(parsed.envelope.payload))
    except StrictDecodeError as exc:  # the payload, parsed as strictly as a verifier parses it
        fail(f"{bundle}: statement: {printable(str(exc))}", Exit.UNREADABLE)
    except (ProvenanceError, ValueError) as exc:
        fail(f"{bundle}: {printable(str(exc))}", Exit.UNREADABLE)
    summary = {
        "unverified": True,
        "statement": statement,
        "certificates": [c.subject.rfc4514_string() for c in parsed.certificates],
        "publicKeyHint": parsed.public_key_hint,
        "tlogEntries": [e.to_json() for e in parsed.tlog_entries],
    }
    if as_json:
        print_json(summary)
        return
    stderr.print(
        "[bold yellow]UNVERIFIED: this shows what the bundle claims; nothing is checked[/]"
    )
    stderr.print_json(json.dumps(summary))
