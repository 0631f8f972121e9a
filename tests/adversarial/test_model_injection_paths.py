"""Files slipped into a signed model that the verifier must still name (attacker2's probes)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from tests.model_support import KEY, make_model, sign_model


def _prov_verify(model: Path, public_key: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["model", "verify", str(model), "--key", str(public_key)])
    return result.exit_code, result.stdout + result.stderr


def test_default_signature_symlinked_to_a_planted_file_does_not_hide_that_file(
    tmp_path: Path,
) -> None:
    """The signed statement ignores model.sig; the CLI also ignores the signature file. When
    model.sig is a link to a file the attacker added, only model.sig may be left out: the added
    file is in the model and unsigned."""
    model = make_model(tmp_path / "model")
    data = sign_model(model)
    public_key = tmp_path / "pinned.pub"
    public_key.write_bytes(KEY.public_key.to_pem())
    assert _prov_verify(model, public_key)[0] == 0
    (model / "model.sig").unlink()
    (model / "weights" / "planted.bin").write_bytes(data)
    (model / "model.sig").symlink_to(Path("weights") / "planted.bin")
    code, output = _prov_verify(model, public_key)
    assert code == 1, output
    assert "model.file.extra" in output and "weights/planted.bin" in output
