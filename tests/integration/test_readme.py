"""The README's command-line walkthrough runs top to bottom exactly as written.

Each command of the sections below runs in one directory, in order, with `prov` on the PATH. A
comment ``# exit N`` on a command is its expected exit code (0 otherwise); a quoted text in the
comment on a command or on the comment lines under it must appear in what it printed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
SECTIONS = (
    "## Sign and verify a file with a key",
    "## Clear-signed text",
    "## Run an authority for your authors",
    "## Log every signature",
)
_EXIT = re.compile(r"exit (\d)")
_QUOTED = re.compile(r'"([^"]+)"')


@dataclass
class Command:
    """One README command, its expected exit code and the texts its output must contain."""

    line: str
    exit_code: int
    expected: list[str]


def _shell_blocks(section: str) -> list[str]:
    text = README.read_text(encoding="utf-8").split(section, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL)


def readme_commands() -> list[Command]:
    """The commands of :data:`SECTIONS`, in order."""
    commands: list[Command] = []
    for section in SECTIONS:
        for block in _shell_blocks(section):
            for raw in block.splitlines():
                code, _, comment = raw.partition(" #")
                if raw.startswith((" ", "#")) and commands and comment:
                    commands[-1].expected += _QUOTED.findall(comment)
                    continue
                if not code.strip() or raw.startswith(("#", "source ")):
                    continue
                found = _EXIT.search(comment)
                commands.append(Command(code.strip(), int(found.group(1)) if found else 0, []))
                commands[-1].expected += _QUOTED.findall(comment) if not found else []
    return commands


def _flat(text: str) -> str:
    return re.sub(r"[\s│╭╮╰╯─]+", " ", text)


def test_readme_walkthrough_runs_as_written(tmp_path: Path) -> None:
    commands = readme_commands()
    assert len(commands) > 30
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PROVENANCE_PASSPHRASE": "use a real secret",  # typed at the first prompt
        "HOME": str(tmp_path),
        "COLUMNS": "200",
    }
    for command in commands:
        if command.line.startswith("export "):
            name, _, value = command.line.removeprefix("export ").partition("=")
            env[name] = value.strip("'\"")
            continue
        done = subprocess.run(
            ["bash", "-c", command.line],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        output = done.stdout + done.stderr
        assert done.returncode == command.exit_code, (command.line, output)
        for text in command.expected:
            assert _flat(text).lower() in _flat(output).lower(), (command.line, text, output)


def test_readme_and_makefile_agree_on_the_benchmark_duration() -> None:
    minutes = re.compile(r"about (\d+) minutes")
    readme = minutes.findall(README.read_text(encoding="utf-8"))
    makefile = minutes.findall((ROOT / "Makefile").read_text(encoding="utf-8"))
    assert readme and readme == makefile
