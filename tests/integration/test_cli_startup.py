"""`prov` imports a command group only when it runs or lists it: a model command loads neither
TUF, the network client, nor the log, CA or media tooling (start-up counts in every command)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

SCRIPT = """
import json, sys
from typer.testing import CliRunner
from cli.main import app
result = CliRunner().invoke(app, sys.argv[1:])
print(json.dumps({"code": result.exit_code, "modules": sorted(sys.modules)}))
"""
NEVER_FOR_MODELS = ("tuf", "urllib3", "cli.log_cmd", "cli.ca_cmd", "cli.media_cmd", "cli.trust_cmd")


def _never_for_models(module: str) -> bool:
    return module in NEVER_FOR_MODELS or module.split(".", maxsplit=1)[0] in NEVER_FOR_MODELS


def _loaded(*args: str) -> tuple[int, set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    report = json.loads(done.stdout.splitlines()[-1])
    return report["code"], set(report["modules"])


@pytest.mark.parametrize("command", ["sign", "verify"])
def test_model_commands_load_only_their_own_group(command: str) -> None:
    code, modules = _loaded("model", command, "--help")
    assert code == 0
    assert "cli.model_cmd" in modules
    assert sorted(m for m in modules if _never_for_models(m)) == []


def test_root_help_still_lists_and_loads_every_group() -> None:
    code, modules = _loaded("--help")
    assert code == 0
    assert {"cli.log_cmd", "cli.ca_cmd", "cli.media_cmd", "cli.trust_cmd", "tuf"} <= modules
