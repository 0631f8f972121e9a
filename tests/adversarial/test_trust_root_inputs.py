"""Hostile trust roots: certificates, CRLs and log keys whose parsing fails late. A trust root that
cannot be used is refused when it is loaded (`TrustRootError`; `prov verify` exits 3 with one line),
never a traceback during verification."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from typer.testing import CliRunner

from cli.main import app
from provenance.errors import TrustRootError
from provenance.identity.trust import TrustRoot
from provenance.tlog.note import NoteVerifier
from tests.adversarial.attack import AUTHOR, CERT_TRUST, CERTIFIED, LOG_SIGNER
from tests.factories import IDENTITY, NOW, REVIEW

NAME_CONSTRAINTS = x509.ObjectIdentifier("2.5.29.30")
GOOD_LOG_KEY = LOG_SIGNER.verifier.key_string


def _tlv(tag: int, body: bytes) -> bytes:
    assert len(body) < 0x80
    return bytes([tag, len(body)]) + body


def _ip_name_constraints(ip: bytes) -> bytes:
    """NameConstraints DER permitting one iPAddress GeneralName whose OCTET STRING is ``ip``
    (RFC 5280 wants address and mask: 8 or 32 bytes)."""
    return _tlv(0x30, _tlv(0xA0, _tlv(0x30, _tlv(0x87, ip))))


def _root_with_extension(oid: x509.ObjectIdentifier, value: bytes) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name.from_rfc4514_string("CN=Odd Root,O=Odd")
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW - timedelta(days=100))
        .not_valid_after(NOW + timedelta(days=1000))
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(x509.UnrecognizedExtension(oid, value), critical=True)
        .sign(key, hashes.SHA256())
    )


def _pem(item: x509.Certificate | x509.CertificateRevocationList) -> str:
    return item.public_bytes(Encoding.PEM).decode("ascii")


def _trust_file(tmp_path: Path, **changes: object) -> Path:
    document = json.loads(CERT_TRUST.to_json())
    document.update(changes)
    path = tmp_path / "trust.json"
    path.write_text(json.dumps(document))
    return path


def _prov_verify(tmp_path: Path, trust: Path) -> tuple[int, str]:
    review = tmp_path / "review.txt"
    review.write_bytes(REVIEW)
    (tmp_path / "review.txt.prov.json").write_bytes(CERTIFIED.to_bytes())
    result = CliRunner().invoke(
        app, ["verify", str(review), "--trust", str(trust), "--identity", IDENTITY]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stderr


# An IPv4 or IPv6 address without its mask: cryptography raises TypeError, not ValueError.
MALFORMED_IP_CONSTRAINTS = [bytes(4), bytes(16), bytes(5), bytes.fromhex("0a000000ff00ff00")]


@pytest.mark.parametrize("ip", MALFORMED_IP_CONSTRAINTS, ids=lambda ip: f"{len(ip)}-bytes")
@pytest.mark.parametrize("role", ["certificateAuthorities", "intermediates"])
def test_ca_with_malformed_ip_name_constraints_makes_verify_exit_3_with_one_line(
    tmp_path: Path, ip: bytes, role: str
) -> None:
    odd = _root_with_extension(NAME_CONSTRAINTS, _ip_name_constraints(ip))
    document = json.loads(CERT_TRUST.to_json())
    trust = _trust_file(tmp_path, **{role: [*document[role], _pem(odd)]})
    code, stderr = _prov_verify(tmp_path, trust)
    assert code == 3
    assert len(stderr.strip().splitlines()) == 1
    assert "Traceback" not in stderr


@pytest.mark.parametrize("ip", MALFORMED_IP_CONSTRAINTS, ids=lambda ip: f"{len(ip)}-bytes")
def test_ca_with_malformed_ip_name_constraints_is_a_trust_root_error(ip: bytes) -> None:
    odd = _root_with_extension(NAME_CONSTRAINTS, _ip_name_constraints(ip))
    with pytest.raises(TrustRootError, match="CN=Odd Root"):
        TrustRoot(name="odd", roots=(odd,))


def _crl_with_extension(value: bytes) -> x509.CertificateRevocationList:
    key = ec.generate_private_key(ec.SECP256R1())
    issuer = AUTHOR.chain[1].subject
    return (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer)
        .last_update(NOW - timedelta(days=1))
        .next_update(NOW + timedelta(days=6))
        .add_extension(x509.CRLNumber(1), critical=False)
        .add_extension(
            x509.UnrecognizedExtension(x509.ObjectIdentifier("2.5.29.28"), value),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )


def test_crl_with_an_unparsable_extension_is_a_trust_root_error(tmp_path: Path) -> None:
    # issuingDistributionPoint whose body is not DER: parsed lazily by cryptography.
    crl = _crl_with_extension(b"\x30\x03\x02")
    with pytest.raises(TrustRootError, match=r"crls\[0\]|CRL"):
        TrustRoot.from_json(_trust_file(tmp_path, crls=[_pem(crl)]).read_bytes())
    code, stderr = _prov_verify(tmp_path, _trust_file(tmp_path, crls=[_pem(crl)]))
    assert (code, len(stderr.strip().splitlines())) == (3, 1)


def _log_key_with(raw: bytes, key_id: str | None = None) -> str:
    name, good_id, _ = GOOD_LOG_KEY.split("+", 2)
    return f"{name}+{key_id or good_id}+{base64.b64encode(raw).decode()}"


_GOOD_RAW = base64.b64decode(GOOD_LOG_KEY.split("+", 2)[2])
MALFORMED_LOG_KEYS = {
    "key-id-mismatch": _log_key_with(_GOOD_RAW, "00000000"),
    "algorithm-byte-02": _log_key_with(b"\x02" + _GOOD_RAW[1:]),
    "algorithm-byte-00": _log_key_with(b"\x00" + _GOOD_RAW[1:]),
    "short-key": _log_key_with(_GOOD_RAW[:20]),
    "long-key": _log_key_with(_GOOD_RAW + b"\x00"),
}


@pytest.mark.parametrize("log_key", MALFORMED_LOG_KEYS.values(), ids=MALFORMED_LOG_KEYS.keys())
def test_malformed_log_key_in_a_trust_root_is_refused_when_loaded(log_key: str) -> None:
    with pytest.raises(TrustRootError, match="log key"):
        TrustRoot(name="odd", log_keys=(log_key,))


@pytest.mark.parametrize("log_key", MALFORMED_LOG_KEYS.values(), ids=MALFORMED_LOG_KEYS.keys())
def test_malformed_log_key_makes_verify_exit_3_with_one_line(tmp_path: Path, log_key: str) -> None:
    code, stderr = _prov_verify(tmp_path, _trust_file(tmp_path, logKeys=[log_key]))
    assert code == 3
    assert len(stderr.strip().splitlines()) == 1
    assert "Traceback" not in stderr


def test_the_good_log_key_still_loads() -> None:
    trust = TrustRoot(name="ok", log_keys=(GOOD_LOG_KEY,))
    assert NoteVerifier.from_key_string(trust.log_keys[0]).name == LOG_SIGNER.verifier.name
