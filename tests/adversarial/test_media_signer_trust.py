"""verify_media's first pass, read with c2pa's signer trust verification off, held to the general
pass (c2pa's signer trust on, the code as it was): same verdict, findings, signer and time.

A first-pass result stands only when the toolkit validated the signer's chain, the validated path
uses no CA certificate the x5chain does not carry, and the chain was checked when c2pa checks it (a
usable time stamp's time, or no time stamp at all); every other result comes from the general pass. The tests below also pin
what c2pa-python 0.38.1 (c2pa-rs 0.91.3) does with ``verify_trust`` off: time-stamp trust is still
decided (``verify_timestamp_trust``), against the same anchors; only ``signingCredential.trusted``
/ ``untrusted`` and the state ``Trusted`` go. c2pa checks certificates at the wall clock, so these
tests sign and verify at it.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from provenance.identity import TrustRoot, build_crl, create_authority, export_trust_root, revoke
from provenance.identity.authority import NewAuthority
from provenance.verify.policy import Identity, Policy, UnsafeAcceptAnyIdentity
from provenance.verify.result import Finding, VerificationResult
from tests.adversarial.media_certificates import TimeStampAuthority, reissued, time_stamp_authority
from tests.adversarial.media_forgery import (
    Signature,
    replace_in_asset,
    rewrite,
    self_made_time_stamp,
)
from tests.factories import CertifiedAuthor, certified_author
from tests.media_samples import JPEG, tiny_png
from tests.shared import shared_dir

pytest.importorskip("c2pa", reason="c2pa-python (the media extra) is not installed")

from provenance.media import sign_media, verification, verify_media
from provenance.media.engine import read_with_c2pa

AUTHOR = "https://reviews.example/u/8841"
PNG = "image/png"
NOW = datetime.now(UTC)


@dataclass(frozen=True)
class Case:
    """One verification: the asset and everything verify_media is given."""

    asset: bytes
    mime: str
    trust: TrustRoot
    policy: Policy
    at: datetime = NOW
    sidecar: bytes | None = None


@dataclass(frozen=True)
class Setting:
    new: NewAuthority
    author: CertifiedAuthor
    trust: TrustRoot
    tsa: TimeStampAuthority

    @property
    def stamped_trust(self) -> TrustRoot:
        """The trust root with the TSA's root added to its anchors."""
        return replace(self.trust, roots=(*self.trust.roots, self.tsa.root))


@pytest.fixture(scope="module")
def setting() -> Setting:
    new = create_authority("Reviews Example", now=NOW - timedelta(days=3))
    author = certified_author(new.authority, AUTHOR, issued=NOW - timedelta(days=2))
    trust = export_trust_root(new.authority, crl=None)
    return Setting(new, author, trust, time_stamp_authority(NOW))


def _sidecar(author: CertifiedAuthor, chain: list[x509.Certificate] | None = None) -> bytes:
    chain = chain or author.chain
    return sign_media(tiny_png(), PNG, key=author.key, chain=chain, at=NOW, sidecar=True)


def _stamp(
    store: bytes,
    author: CertifiedAuthor,
    tsa: TimeStampAuthority,
    when: datetime,
    over: Callable[[bytes], bytes] = lambda signature: signature,
) -> bytes:
    """``store`` re-signed by the author with an RFC 3161 token from ``tsa`` dated ``when``, over
    the countersignature of ``over(signature)`` (the real signature unless a test says)."""
    signature = Signature.of_store(store)

    def stamp(protected: bytes, sig: bytes) -> dict[str, Any]:
        return self_made_time_stamp(tsa.key, tsa.chain, protected, over(sig), when)

    return replace_in_asset(store, signature.cose, rewrite(signature, author.key, stamp=stamp))


def _general(case: Case) -> VerificationResult:
    """The general pass alone: c2pa's signer trust on (the code before the first pass)."""
    stream = io.BytesIO(case.asset)
    run = verification._Run(case.at, verification._sha256(stream), case.mime, True)
    run, findings = verification._verify(run, stream, case.trust, case.policy, case.sidecar)
    return verification._result(run, findings, case.policy)


def _verify(case: Case, monkeypatch: pytest.MonkeyPatch) -> tuple[VerificationResult, list[bool]]:
    """verify_media's result and the signer-trust setting of each c2pa read it made."""
    passes: list[bool] = []

    def recording(*args: Any, **kwargs: Any) -> Any:
        passes.append(kwargs["signer_trust"])
        return read_with_c2pa(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(verification, "read_with_c2pa", recording)
        result = verify_media(
            case.asset, case.mime, case.trust, case.policy, at=case.at, sidecar=case.sidecar
        )
    return result, passes


def _revoked_author() -> tuple[CertifiedAuthor, TrustRoot]:
    """An author whose key was reported compromised an hour ago, and the trust root with the CRL."""
    authority = create_authority("Reviews Example", now=NOW - timedelta(days=30)).authority
    author = certified_author(authority, AUTHOR, issued=NOW - timedelta(days=2))
    revoke(
        authority,
        author.chain[0],
        reason=x509.ReasonFlags.key_compromise,
        now=NOW - timedelta(minutes=30),
        invalidity_date=NOW - timedelta(hours=1),
    )
    crl = build_crl(authority, now=NOW - timedelta(minutes=5))
    return author, export_trust_root(authority, crl=crl)


def _late_issuing_chain(setting: Setting) -> list[x509.Certificate]:
    """The author's leaf with its issuing CA re-issued by the same root, valid only from an hour
    ago (the leaf is two days old)."""
    issuing = setting.new.authority.issuing_certificate
    late = reissued(issuing, setting.new.root_key, not_before=NOW - timedelta(hours=1))
    return [setting.author.chain[0], late]


def _own_cases(setting: Setting) -> dict[str, Case]:
    author, trust, tsa = setting.author, setting.trust, setting.tsa
    policy = Identity(AUTHOR)
    png = sign_media(tiny_png(), PNG, key=author.key, chain=author.chain, at=NOW, trust=trust)
    jpeg = sign_media(JPEG, "image/jpeg", key=author.key, chain=author.chain, at=NOW)
    tampered = bytearray(png)
    tampered[-20] ^= 0x01
    other = create_authority("Other", now=NOW - timedelta(days=3)).authority
    stranger = certified_author(other, AUTHOR, issued=NOW - timedelta(days=2))
    parent = sign_media(tiny_png(), PNG, key=stranger.key, chain=stranger.chain, at=NOW)
    with_parent = sign_media(parent, PNG, key=author.key, chain=author.chain, at=NOW)
    return {
        "png": Case(png, PNG, trust, policy),
        "png sidecar": Case(tiny_png(), PNG, trust, policy, sidecar=_sidecar(author)),
        "jpeg": Case(jpeg, "image/jpeg", trust, policy),
        "png, other identity required": Case(png, PNG, trust, Identity("https://x.example/u/1")),
        "png, a year later": Case(png, PNG, trust, policy, at=NOW + timedelta(days=365)),
        "png, before the leaf": Case(png, PNG, trust, policy, at=NOW - timedelta(days=2, hours=1)),
        "png, log required": Case(png, PNG, replace(trust, require_log=True), policy),
        "tampered png": Case(bytes(tampered), PNG, trust, policy),
        "signer of another authority": Case(
            sign_media(tiny_png(), PNG, key=stranger.key, chain=stranger.chain, at=NOW),
            PNG,
            trust,
            policy,
        ),
        "parent ingredient of another authority": Case(with_parent, PNG, trust, policy),
        "leaf-only x5chain": Case(
            sign_media(tiny_png(), PNG, key=author.key, chain=author.chain[:1], at=NOW),
            PNG,
            trust,
            policy,
        ),
        "late issuing CA, no stamp": Case(
            tiny_png(), PNG, trust, policy, sidecar=_sidecar(author, _late_issuing_chain(setting))
        ),
        "late issuing CA, stamp before it": Case(
            tiny_png(),
            PNG,
            setting.stamped_trust,
            policy,
            sidecar=_stamp(
                _sidecar(author, _late_issuing_chain(setting)),
                author,
                tsa,
                NOW - timedelta(days=1),
            ),
        ),
    }


def _stamp_cases(setting: Setting) -> dict[str, Case]:
    author, tsa, trust = setting.author, setting.tsa, setting.stamped_trust
    policy, store = Identity(AUTHOR), _sidecar(setting.author)
    before = NOW - timedelta(minutes=5)
    foreign = time_stamp_authority(NOW)
    expired = time_stamp_authority(NOW, valid=(timedelta(days=-10), timedelta(days=-1)))
    mixed = time_stamp_authority(
        NOW, usages=(ExtendedKeyUsageOID.TIME_STAMPING, ExtendedKeyUsageOID.EMAIL_PROTECTION)
    )
    mixed_trust = replace(trust, roots=(*trust.roots, mixed.root))
    leaf_only = TimeStampAuthority(tsa.key, tsa.chain[:1])
    revoked, revoked_trust = _revoked_author()
    revoked_store = _sidecar(revoked)
    revoked_stamped = replace(revoked_trust, roots=(*revoked_trust.roots, tsa.root))
    three_hours_ago = NOW - timedelta(hours=3)

    def case(sidecar: bytes, trust_root: TrustRoot = trust) -> Case:
        return Case(tiny_png(), PNG, trust_root, policy, sidecar=sidecar)

    return {
        "stamp of a trusted TSA": case(_stamp(store, author, tsa, before)),
        "stamp of a trusted TSA, its leaf only": case(_stamp(store, author, leaf_only, before)),
        "stamp of an untrusted TSA": case(_stamp(store, author, foreign, before)),
        "stamp over other data": case(
            _stamp(store, author, tsa, before, lambda sig: bytes(len(sig)))
        ),
        "stamp of an expired TSA": case(_stamp(store, author, expired, before)),
        "stamp of a TSA that may also protect email": case(
            _stamp(store, author, mixed, before), mixed_trust
        ),
        "stamp made with the author certificate": case(
            _stamp(store, author, TimeStampAuthority(author.key, author.chain), three_hours_ago)
        ),
        "revoked key, trusted stamp before the compromise": case(
            _stamp(revoked_store, revoked, tsa, three_hours_ago), revoked_stamped
        ),
        "revoked key, untrusted stamp before the compromise": case(
            _stamp(revoked_store, revoked, foreign, three_hours_ago), revoked_stamped
        ),
        "revoked key, no stamp": case(revoked_store, revoked_trust),
    }


FIRST_PASS_STANDS = {
    "png",
    "png sidecar",
    "jpeg",
    "png, other identity required",
    "tampered png",
    "late issuing CA, no stamp",
    "stamp of a trusted TSA",
    "stamp of a trusted TSA, its leaf only",
    "revoked key, trusted stamp before the compromise",
    "revoked key, no stamp",
}
"""The cases verify_media answers in one pass (the toolkit validated the signer's chain as c2pa
would see it, and the store holds no ingredient's manifest); every other case needs the general
pass too."""


@pytest.fixture(scope="module")
def cases(setting: Setting) -> dict[str, Case]:
    return {**_own_cases(setting), **_stamp_cases(setting)}


CASE_NAMES = [
    "png",
    "png sidecar",
    "jpeg",
    "png, other identity required",
    "png, a year later",
    "png, before the leaf",
    "png, log required",
    "tampered png",
    "signer of another authority",
    "parent ingredient of another authority",
    "leaf-only x5chain",
    "late issuing CA, no stamp",
    "late issuing CA, stamp before it",
    "stamp of a trusted TSA",
    "stamp of a trusted TSA, its leaf only",
    "stamp of an untrusted TSA",
    "stamp over other data",
    "stamp of an expired TSA",
    "stamp of a TSA that may also protect email",
    "stamp made with the author certificate",
    "revoked key, trusted stamp before the compromise",
    "revoked key, untrusted stamp before the compromise",
    "revoked key, no stamp",
]


def test_case_names_cover_every_case(cases: dict[str, Case]) -> None:
    assert sorted(CASE_NAMES) == sorted(cases)
    assert set(cases) >= FIRST_PASS_STANDS


@pytest.mark.parametrize("name", CASE_NAMES)
def test_verify_media_answers_as_the_general_pass(
    name: str, cases: dict[str, Case], monkeypatch: pytest.MonkeyPatch
) -> None:
    case = cases[name]
    result, passes = _verify(case, monkeypatch)
    assert result == _general(case)
    assert passes == ([False] if name in FIRST_PASS_STANDS else [False, True])


FIXTURES = {
    "C.jpg": "image/jpeg",
    "C.dng": "image/dng",
    "C_with_CAWG_data.jpg": "image/jpeg",
    "XCA.jpg": "image/jpeg",
    "E-sig-CA.jpg": "image/jpeg",
    "no_manifest.jpg": "image/jpeg",
}


@pytest.mark.parametrize("anchored", [False, True], ids=["default", "trusted"])
@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_public_fixtures_get_the_general_passs_answer(
    name: str, anchored: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = shared_dir("fixtures", "c2pa")
    roots = x509.load_pem_x509_certificates((folder / "test_cert_root_bundle.pem").read_bytes())
    trust = TrustRoot(name="C2PA test roots", roots=tuple(roots) if anchored else ())
    case = Case((folder / name).read_bytes(), FIXTURES[name], trust, UnsafeAcceptAnyIdentity())
    result, passes = _verify(case, monkeypatch)
    assert result == _general(case)
    stands = anchored and name == "C.dng"
    assert passes == ([False] if stands else [False, True])


def _codes(items: list[dict[str, Any]]) -> list[str]:
    return sorted(str(item["code"]) for item in items)


def _read(case: Case, signer_trust: bool) -> tuple[str, dict[str, list[str]]]:
    assert case.sidecar is not None
    reading = read_with_c2pa(
        io.BytesIO(case.asset),
        case.mime,
        anchors=case.trust.roots,
        sidecar=case.sidecar,
        signer_trust=signer_trust,
    )
    manifest = reading.results["activeManifest"]
    kinds = ("success", "informational", "failure")
    return reading.state, {kind: _codes(manifest.get(kind) or []) for kind in kinds}


@pytest.mark.parametrize(
    ("name", "time_stamp_code"),
    [
        ("stamp of a trusted TSA", "timeStamp.trusted"),
        ("stamp of an untrusted TSA", "timeStamp.untrusted"),
        ("stamp over other data", "timeStamp.mismatch"),
        ("stamp of an expired TSA", "timeStamp.outsideValidity"),
    ],
)
def test_c2pa_decides_time_stamp_trust_with_its_signer_trust_off(
    name: str, time_stamp_code: str, cases: dict[str, Case]
) -> None:
    """c2pa 0.91.3 keeps time-stamp trust under ``verify_timestamp_trust``: turning its signer
    trust off drops only ``signingCredential.trusted`` and the state ``Trusted``."""
    on_state, on = _read(cases[name], signer_trust=True)
    off_state, off = _read(cases[name], signer_trust=False)
    assert (on_state, off_state) == ("Trusted", "Valid")
    assert time_stamp_code in on["success"] + on["informational"]
    assert on["success"] == sorted([*off["success"], "signingCredential.trusted"])
    assert (on["informational"], on["failure"]) == (off["informational"], off["failure"])


def test_c2pa_with_its_signer_trust_off_does_not_flag_a_foreign_signer(
    cases: dict[str, Case],
) -> None:
    """Why a refusal is never taken from the first pass: c2pa's own ``untrusted`` is missing."""
    case = cases["signer of another authority"]
    stream = io.BytesIO(case.asset)
    readings = {
        trust: read_with_c2pa(
            stream, PNG, anchors=case.trust.roots, sidecar=None, signer_trust=trust
        )
        for trust in (True, False)
        if stream.seek(0) == 0
    }
    assert "signingCredential.untrusted" in _codes(
        readings[True].results["activeManifest"]["failure"]
    )
    assert readings[False].results["activeManifest"].get("failure", []) == []
    assert readings[False].state == "Valid"


def test_leaf_only_x5chain_is_refused_though_the_trust_roots_intermediate_completes_it(
    cases: dict[str, Case], monkeypatch: pytest.MonkeyPatch
) -> None:
    """c2pa gets the x5chain and the anchors, not the trust root's intermediates: it cannot build
    the path and says ``untrusted``. The toolkit's own validation completes the path with the trust
    root's intermediate, so a first pass taken alone would verify this asset."""
    result, passes = _verify(cases["leaf-only x5chain"], monkeypatch)
    assert [f.code for f in result.failures] == ["c2pa.signingCredential.untrusted"]
    assert passes == [False, True]


def test_path_through_the_trust_roots_intermediate_instead_of_the_carried_one_is_refused(
    cases: dict[str, Case], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The x5chain carries an issuing CA valid only from an hour ago; a trusted stamp dates the
    signature a day ago. c2pa checks the x5chain at the stamp's time: ``untrusted``. The toolkit's
    validation at that time finds the trust root's own (older) copy of the issuing CA and succeeds,
    so a first pass taken alone would verify this asset."""
    result, passes = _verify(cases["late issuing CA, stamp before it"], monkeypatch)
    assert [f.code for f in result.failures] == ["c2pa.signingCredential.untrusted"]
    assert passes == [False, True]


@pytest.mark.parametrize(
    ("name", "time_source"),
    [
        ("stamp of a trusted TSA", "timestamp"),
        ("stamp of a trusted TSA, its leaf only", "timestamp"),
        ("stamp of an untrusted TSA", "verification"),
        ("stamp over other data", "verification"),
        ("stamp of an expired TSA", "verification"),
        ("stamp of a TSA that may also protect email", None),
    ],
)
def test_time_stamps_set_the_check_time_only_from_a_trusted_tsa(
    name: str, time_source: str | None, cases: dict[str, Case]
) -> None:
    case = cases[name]
    result = verify_media(
        case.asset, case.mime, case.trust, case.policy, at=case.at, sidecar=case.sidecar
    )
    assert result.time_source == time_source
    assert result.verified is (time_source is not None), result.failures


@pytest.mark.parametrize(
    ("name", "codes"),
    [
        ("revoked key, trusted stamp before the compromise", []),
        ("revoked key, untrusted stamp before the compromise", ["certificate.revoked"]),
        ("revoked key, no stamp", ["certificate.revoked"]),
    ],
)
def test_only_a_trusted_tsas_stamp_dates_a_signature_before_a_key_compromise(
    name: str, codes: list[str], cases: dict[str, Case]
) -> None:
    case = cases[name]
    result = verify_media(
        case.asset, case.mime, case.trust, case.policy, at=case.at, sidecar=case.sidecar
    )
    assert [f.code for f in result.failures] == codes


def test_concurrent_first_and_general_passes_agree(
    cases: dict[str, Case], setting: Setting
) -> None:
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

    names = ["png", "signer of another authority", "stamp of a trusted TSA", "tampered png"]
    expected = {name: _general(cases[name]) for name in names}

    def check(index: int) -> bool:
        case = cases[names[index % len(names)]]
        result = verify_media(
            case.asset, case.mime, case.trust, case.policy, at=case.at, sidecar=case.sidecar
        )
        return result == expected[names[index % len(names)]]

    with ThreadPoolExecutor(4) as pool:
        assert all(pool.map(check, range(24)))


def test_first_pass_with_a_state_finding_does_not_stand(cases: dict[str, Case]) -> None:
    """``c2pa.state.*`` names the state each pass expects (``Valid`` / ``Trusted``), so such a
    result is always the general pass's."""
    case = cases["png"]
    stream = io.BytesIO(case.asset)
    run = verification._Run(case.at, verification._sha256(stream), case.mime, False)
    run, findings = verification._verify(run, stream, case.trust, case.policy, None)
    assert verification._stands_without_c2pa_signer_trust(run, findings)
    state = Finding("manifest", "c2pa.state.invalid", False, "state 'Invalid'")
    assert not verification._stands_without_c2pa_signer_trust(run, [state, *findings[1:]])
