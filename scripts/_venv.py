"""Create or refresh the project's virtual environment (.venv) with what it needs.

Used by scripts/test and scripts/demo so that a fresh clone needs only Python 3.11+.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def ensure(extras: str = "dev") -> Path:
    if sys.version_info < (3, 11):
        sys.exit(f"anbu needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    py = BIN / "python"
    if not py.exists():
        print("creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / f".installed-{extras}"
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text() != want:
        print("installing anbu and its dependencies into .venv ...", flush=True)
        subprocess.check_call([str(py), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
        subprocess.check_call(
            [str(py), "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[{extras}]"]
        )
        stamp.write_text(want)
    return py
