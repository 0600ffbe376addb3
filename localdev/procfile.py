"""Run the Procfile's processes exactly as a platform would: each line through `bash -c`, with PORT set."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

from localdev.processes import REPO_ROOT, ManagedProcess
from switchboard.settings import Settings, load_settings

PROCFILE = REPO_ROOT / "Procfile"
VENV_BIN = Path(sys.executable).parent
_LINE = re.compile(r"^([A-Za-z0-9_-]+):\s*(.+?)\s*$")


def procfile_commands(path: Path = PROCFILE) -> dict[str, str]:
    """{process type: command line}; blank lines and comments skipped, as Heroku and honcho do."""
    commands = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise ValueError(f"not a Procfile line: {line!r}")
        commands[match.group(1)] = match.group(2)
    return commands


def procfile_env(env: Mapping[str, str], **extra: str) -> dict[str, str]:
    """The deployment's env plus `extra`, with the venv's bin first on PATH (the Procfile names bare commands)."""
    return {**env, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}", **extra}


def procfile_process(kind: str, env: Mapping[str, str], log_path: Path) -> ManagedProcess:
    """The Procfile's `kind` line as a (not yet started) process in the repo root."""
    return ManagedProcess(f"procfile-{kind}", ["bash", "-c", procfile_commands()[kind]], env, log_path)


def settings_for(env: Mapping[str, str]) -> Settings:
    """The Settings a process started with `env` reads (only the variables `env` names; the rest default)."""
    fields = {name: env[name.upper()] for name in Settings.model_fields if name.upper() in env}
    return load_settings(**fields)
