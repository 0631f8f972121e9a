"""`prov model sign` and `verify` options: one-file models, shards, ignored paths, the log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.log_cmd import log_settings
from cli.main import app
from provenance.identity.trust import TrustRoot
from tests.model_support import KEY, make_model


def _prov(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.setenv("PROVENANCE_PASSPHRASE", "correct horse battery")
    private, public = tmp_path / "k.pem", tmp_path / "k.pub"
    private.write_bytes(KEY.to_pem())
    public.write_bytes(KEY.public_key.to_pem())
    return private, public


def test_one_file_model_signature_defaults_to_path_dot_sig(
    tmp_path: Path, keys: tuple[Path, Path]
) -> None:
    weights = tmp_path / "weights.safetensors"
    weights.write_bytes(b"\x07" * 5000)
    assert _prov("model", "sign", weights, "--key", keys[0])[0] == 0
    assert (tmp_path / "weights.safetensors.sig").exists()
    code, out, _ = _prov("model", "verify", weights, "--key", keys[1], "--json")
    assert code == 0
    assert json.loads(out)["model"]["name"] == "weights.safetensors"
    weights.write_bytes(b"\x07" * 4999 + b"\x08")
    code, out, _ = _prov("model", "verify", weights, "--key", keys[1], "--json")
    assert code == 1
    assert [f["code"] for f in json.loads(out)["findings"] if not f["ok"]] == ["model.file.changed"]


def test_shards_and_ignored_paths_are_recorded_and_honored(
    tmp_path: Path, keys: tuple[Path, Path]
) -> None:
    model = make_model(tmp_path / "m")
    (model / "notes").mkdir()
    (model / "notes" / "draft.md").write_text("not part of the release\n")
    code, _, err = _prov(
        "model", "sign", model, "--key", keys[0], "--shard-size", "1000",
        "--ignore-paths", "notes/", "--signature", tmp_path / "m.sig",
    )  # fmt: skip
    assert code == 0, err
    bundle = json.loads((tmp_path / "m.sig").read_bytes())
    assert bundle["verificationMaterial"] == {
        "publicKey": {"hint": bundle["verificationMaterial"]["publicKey"]["hint"]},
        "tlogEntries": [],
    }
    (model / "notes" / "draft.md").write_text("edited after signing\n")
    args = ("model", "verify", model, "--key", keys[1], "--signature", tmp_path / "m.sig")
    code, out, _ = _prov(*args, "--json")
    assert code == 0, out
    document = json.loads(out)
    assert document["model"]["serialization"]["method"] == "shards"
    assert "notes" in document["model"]["serialization"]["ignore_paths"]


@pytest.mark.parametrize("bad", ["../outside", "a/../../b", ""])
def test_ignore_path_leaving_the_model_is_a_usage_error(
    tmp_path: Path, keys: tuple[Path, Path], bad: str
) -> None:
    model = make_model(tmp_path / "m")
    code, _, err = _prov("model", "sign", model, "--key", keys[0], "--ignore-paths", bad)
    assert code == 2, err
    assert not (model / "model.sig").exists()


def test_symlink_in_the_model_refuses_to_sign_with_exit_3(
    tmp_path: Path, keys: tuple[Path, Path]
) -> None:
    model = make_model(tmp_path / "m")
    (model / "link").symlink_to(model / "config.json")
    code, _, err = _prov("model", "sign", model, "--key", keys[0])
    assert code == 3
    assert "link: a symbolic link" in err


def test_logged_model_signature_needs_a_trust_root_that_trusts_the_log(
    tmp_path: Path, keys: tuple[Path, Path]
) -> None:
    log = tmp_path / "log"
    assert _prov("log", "init", "--out", log, "--origin", "models.example/log")[0] == 0
    model = make_model(tmp_path / "m")
    code, _, err = _prov("model", "sign", model, "--key", keys[0], "--log", log)
    assert code == 0, err
    assert "logged" in err
    trust = tmp_path / "trust.json"
    root = TrustRoot(
        name="models",
        pinned_keys=(("alice", KEY.public_key),),
        log_keys=(log_settings(log)["verifierKey"],),
        require_log=True,
    )
    trust.write_bytes(root.to_json())
    code, out, _ = _prov("model", "verify", model, "--trust", trust, "--json")
    assert code == 0, out
    assert json.loads(out)["logEntries"][0]["origin"] == "models.example/log"
    code, out, _ = _prov("model", "verify", model, "--key", keys[1], "--json")
    assert code == 1
    assert [f["code"] for f in json.loads(out)["findings"] if not f["ok"]] == ["log.untrusted"]
