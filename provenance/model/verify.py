"""Verify a model against its signature: the steps of specs/verification.md, then the files.

1. parse: the signature file (OMS bundle v0.3 or provenance bundle v1), envelope and OMS statement.
2. signature: the pinned key (by OMS hint or key id) or the leaf certificate's key; ECDSA DER.
3. log: our log entries (provenance container), or ``log.missing`` when the trust root needs one.
4. certificate: the chain to a trust-root anchor at the signing time (provenance.identity).
5. revocation: the trust root's CRLs (non-fatal).
6. policy: the caller's requirements (an identity for certificate signers).
7. digest: the model on disk against the signed resources (non-fatal): one finding per missing,
   extra, changed or unserializable file. Hashing runs only when the signer is established, so a
   forged signature costs no reading of gigabytes.

Verification never raises for bad input, never reads the clock (``at``), and never opens a path
named by the signature: it lists the model directory and compares names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from provenance.codes import Code
from provenance.errors import (
    KeyUntrustedError,
    SignatureInvalidError,
    VerificationError,
)
from provenance.identity.trust import TrustRoot
from provenance.keys import VerifyingKey
from provenance.model.container import Container, ModelBundle, oms_key_hint, read_model_bundle
from provenance.model.limits import MODEL_SIZE_LIMITS
from provenance.model.serialize import (
    LocalFile,
    ModelPathError,
    Progress,
    Resource,
    hash_files,
    list_model,
    total_bytes,
)
from provenance.model.signing import verify_der
from provenance.model.statement import ModelStatement, parse_statement
from provenance.statement import ContentPredicate, Statement
from provenance.text import Canonicalization
from provenance.tlog.note import NoteVerifier
from provenance.verify.policy import Policy
from provenance.verify.result import (
    Finding,
    SignerIdentity,
    SignerKind,
    VerificationResult,
)
from provenance.verify.verifier import (
    SignerFacts,
    certificate_step,
    check_payload_type,
    leaf_key,
    log_step,
    policy_step,
    revocation_step,
)

MODEL_CONTENT_TYPE = "application/vnd.oms.model"
STEPS = ("parse", "signature", "log", "certificate", "revocation", "policy", "digest")
_NON_FATAL = frozenset({"revocation", "digest"})

_ShardKey = tuple[int, int] | None


@dataclass(frozen=True)
class FileReport:
    """How the model on disk compares with the signed resources (paths relative to the root)."""

    matched: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    unsupported: tuple[tuple[str, str], ...] = ()
    bytes_hashed: int = 0

    @property
    def ok(self) -> bool:
        """Whether every signed file is present and unchanged, and nothing unsigned is there."""
        return not (self.missing or self.extra or self.changed or self.unsupported)

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON object."""
        return {
            "matched": len(self.matched),
            "bytesHashed": self.bytes_hashed,
            "missing": list(self.missing),
            "extra": list(self.extra),
            "changed": list(self.changed),
            "unsupported": [{"path": p, "reason": r} for p, r in self.unsupported],
        }


@dataclass(frozen=True)
class ModelVerification:
    """The verification result, the verified statement's facts, and the file comparison."""

    result: VerificationResult
    statement: ModelStatement | None = None
    files: FileReport | None = None

    @property
    def verified(self) -> bool:
        """Whether every step ran and none failed."""
        return self.result.verified

    def to_json(self) -> dict[str, Any]:
        """The result document of ``prov verify`` plus a ``model`` section."""
        document = self.result.to_json()
        document["model"] = _model_json(self.statement, self.files)
        return document


@dataclass(kw_only=True)
class _Run(SignerFacts):
    root: Path
    data: bytes
    ignore_paths: tuple[str, ...]
    ignore_unsigned: bool
    bundle: ModelBundle | None = None
    statement: ModelStatement | None = None
    files: FileReport | None = None
    file_findings: list[Finding] = field(default_factory=list)

    def parsed(self) -> tuple[ModelBundle, ModelStatement]:
        assert self.bundle is not None and self.statement is not None
        return self.bundle, self.statement


class ModelVerifier:
    """Verifies model signatures against one explicit trust root.

    Args:
        trust: The trust root; nothing else is ever trusted.
        workers: Hashing threads (default: cores + 4).
        progress: Called with the bytes hashed as they are hashed.
    """

    def __init__(
        self, trust: TrustRoot, *, workers: int | None = None, progress: Progress | None = None
    ) -> None:
        self._trust = trust
        self._workers = workers
        self._progress = progress
        self._log_verifiers = tuple(NoteVerifier.from_key_string(k) for k in trust.log_keys)
        self._steps: tuple[tuple[str, Callable[[_Run], str]], ...] = (
            ("parse", self._parse),
            ("signature", self._signature),
            ("log", self._log),
            ("certificate", self._certificate),
            ("revocation", self._revocation),
            ("policy", self._policy),
            ("digest", self._digest),
        )

    def verify(
        self,
        root: Path,
        signature: bytes,
        policy: Policy,
        *,
        at: datetime,
        ignore_paths: Sequence[str] = (),
        ignore_unsigned_files: bool = False,
    ) -> ModelVerification:
        """Verify the model at ``root`` against the signature file's bytes; never raises for bad
        input: one finding per step that ran (several for the files of the digest step).

        Args:
            root: The model directory or file.
            signature: The signature file's bytes.
            policy: The caller's requirements.
            at: The verification time (timezone-aware).
            ignore_paths: Paths (relative to ``root``) to leave out besides those the statement
                names, e.g. the signature file when it lies inside the model.
            ignore_unsigned_files: Do not report files the signature does not name.
        """
        if at.tzinfo is None:
            raise ValueError("verification time must be timezone-aware")
        run = _Run(
            root=root,
            data=signature,
            policy=policy,
            at=at.astimezone(UTC),
            ignore_paths=tuple(ignore_paths),
            ignore_unsigned=ignore_unsigned_files,
        )
        findings: list[Finding] = []
        for name, step in self._steps:
            try:
                message = step(run)
            except VerificationError as exc:
                findings.append(Finding(name, exc.code, False, exc.message))
                if name not in _NON_FATAL:
                    break
                continue
            findings.extend(run.file_findings if name == "digest" and run.file_findings else [])
            if name != "digest" or not run.file_findings:
                findings.append(Finding(name, f"{name}.ok", True, message))
            findings.extend(run.notices)
            run.notices.clear()
        return self._outcome(run, findings)

    def _outcome(self, run: _Run, findings: list[Finding]) -> ModelVerification:
        ran = {f.step for f in findings}
        verified = ran == set(STEPS) and all(f.ok for f in findings)
        result = VerificationResult(
            verified=verified,
            findings=tuple(findings),
            signer=run.signer,
            statement=None,
            certificate_checked_at=run.signing_time if run.chain else None,
            time_source=run.time_source,
            log_proofs=tuple(run.log_proofs),
            warnings=run.policy.warnings
            + tuple(
                f"{f.code}: {f.message}" for f in findings if f.ok and f.code != f"{f.step}.ok"
            ),
        )
        statement = run.statement if run.signer is not None else None
        return ModelVerification(result, statement, run.files)

    def _parse(self, run: _Run) -> str:
        bundle = read_model_bundle(run.data)
        check_payload_type(bundle.envelope)
        run.bundle = bundle
        run.statement = parse_statement(bundle.envelope.payload)
        return (
            f"{bundle.container.value} bundle, OMS statement of "
            f"{len(run.statement.resources)} resources ({run.statement.serialization.method})"
        )

    def _signature(self, run: _Run) -> str:
        bundle, _ = run.parsed()
        key, signer = self._signing_key(bundle)
        signature = bundle.envelope.signatures[0]
        if signature.keyid and signature.keyid not in (key.key_id, oms_key_hint(key)):
            raise SignatureInvalidError(
                f"signature keyid {signature.keyid} names another key than {key.key_id}",
                code=Code.KEY_MISMATCH,
            )
        oms = bundle.container is Container.OMS
        verify_der(key, signature.sig, bundle.envelope.pae, allow_high_s=oms)
        run.key, run.signer = key, signer
        return f"signature by key {key.key_id} verifies"

    def _signing_key(self, bundle: ModelBundle) -> tuple[VerifyingKey, SignerIdentity | None]:
        hint = bundle.key_hint
        if hint is None:
            return leaf_key(bundle.certificates[0]), None
        for name, key in self._trust.pinned_keys:
            if hint in (key.key_id, oms_key_hint(key)):
                return key, SignerIdentity(SignerKind.PINNED_KEY, (name,), key.key_id)
        raise KeyUntrustedError(
            f"key {hint} is not pinned by trust root {self._trust.name!r}; pinned: "
            f"{[n for n, _ in self._trust.pinned_keys]}"
        )

    def _log(self, run: _Run) -> str:
        signature = run.parsed()[0]
        return log_step(run, signature, self._trust, self._log_verifiers, "the model signature")

    def _certificate(self, run: _Run) -> str:
        return certificate_step(run, run.parsed()[0].certificates, self._trust)

    def _revocation(self, run: _Run) -> str:
        return revocation_step(run, self._trust)

    def _policy(self, run: _Run) -> str:
        assert run.signing_time is not None
        return policy_step(run, _as_statement(run.parsed()[1], run.signing_time))

    def _digest(self, run: _Run) -> str:
        _, statement = run.parsed()
        try:
            report = compare_model(
                run.root,
                statement,
                ignore_paths=run.ignore_paths,
                ignore_unsigned_files=run.ignore_unsigned,
                workers=self._workers,
                progress=self._progress,
            )
        except ModelPathError as exc:
            raise VerificationError(str(exc), code=Code.MODEL_PATH_UNSUPPORTED) from exc
        run.files = report
        run.file_findings = _file_findings(report, statement.serialization.hash_type)
        return (
            f"{len(report.matched)} files ({report.bytes_hashed} bytes) match the signed "
            f"{statement.serialization.hash_type} digests"
        )


def compare_model(
    root: Path,
    statement: ModelStatement,
    *,
    ignore_paths: Sequence[str] = (),
    ignore_unsigned_files: bool = False,
    workers: int | None = None,
    progress: Progress | None = None,
) -> FileReport:
    """Compare the model at ``root`` with the statement's resources, hashing only signed files.

    Raises:
        ModelPathError: ``root`` itself is missing, a symbolic link or a special file, or a file
            cannot be read.
    """
    serialization = statement.serialization
    listing = list_model(root, (*serialization.ignore_paths, *ignore_paths))
    expected = _grouped(statement.resources)
    local = {f.path: f for f in listing.files}
    problems = tuple(p for p in listing.problems if not ignore_unsigned_files or p[0] in expected)
    missing = sorted(set(expected) - set(local), key=_path_order)
    extra = [] if ignore_unsigned_files else sorted(set(local) - set(expected), key=_path_order)
    common: list[LocalFile] = [local[p] for p in expected if p in local]
    hashed = _grouped(hash_files(root, common, serialization, workers=workers, progress=progress))
    changed = sorted((p for p in hashed if hashed[p] != expected[p]), key=_path_order)
    matched = sorted((p for p in hashed if hashed[p] == expected[p]), key=_path_order)
    return FileReport(
        matched=tuple(matched),
        missing=tuple(missing),
        extra=tuple(extra),
        changed=tuple(changed),
        unsupported=problems,
        bytes_hashed=total_bytes(common),
    )


def _grouped(resources: Sequence[Resource]) -> dict[str, dict[_ShardKey, bytes]]:
    grouped: dict[str, dict[_ShardKey, bytes]] = {}
    for resource in resources:
        key = (
            None
            if resource.start is None or resource.end is None
            else (resource.start, resource.end)
        )
        grouped.setdefault(resource.path, {})[key] = resource.digest
    return grouped


def _path_order(path: str) -> tuple[str, ...]:
    return tuple(path.split("/"))


def _file_findings(report: FileReport, hash_type: str) -> list[Finding]:
    items = [
        *(
            (Code.MODEL_FILE_MISSING, f"{p}: signed, but missing from the model")
            for p in report.missing
        ),
        *((Code.MODEL_FILE_EXTRA, f"{p}: in the model, but not signed") for p in report.extra),
        *(
            (Code.MODEL_FILE_CHANGED, f"{p}: its {hash_type} digest differs from the signed one")
            for p in report.changed
        ),
        *((Code.MODEL_PATH_UNSUPPORTED, f"{p}: {reason}") for p, reason in report.unsupported),
    ]
    findings = [Finding("digest", code, False, message) for code, message in items]
    if len(findings) > MODEL_SIZE_LIMITS.max_file_findings:
        hidden = len(findings) - MODEL_SIZE_LIMITS.max_file_findings
        findings = findings[: MODEL_SIZE_LIMITS.max_file_findings]
        findings.append(
            Finding(
                "digest",
                Code.MODEL_FILE_MORE,
                False,
                f"{hidden} more file findings; --json lists all",
            )
        )
    return findings


def _as_statement(statement: ModelStatement, signing_time: datetime) -> Statement:
    """The verified model as the statement policies read (subject: the model; no claims)."""
    predicate = ContentPredicate(
        content_type=MODEL_CONTENT_TYPE,
        canonicalization=Canonicalization.NONE,
        created=signing_time,
    )
    return Statement(statement.model_name, statement.root_digest, predicate)


def _model_json(
    statement: ModelStatement | None, files: FileReport | None
) -> dict[str, Any] | None:
    if statement is None:
        return None
    return {
        "name": statement.model_name,
        "digest": {"sha256": statement.root_digest},
        "serialization": statement.serialization.to_json(),
        "resources": len(statement.resources),
        "files": files.to_json() if files is not None else None,
    }
