"""The Makefile's choice of interpreter for .venv (the README's two commands start there)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRINT_PYTHON = "print-python: ; @echo $(PYTHON)"

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def chosen_python(*assignments: str) -> str:
    """What `make` would create .venv with, given these variable assignments (and none from outside: an
    exported PYTHON, or one passed down from an outer `make PYTHON=… test` through MAKEFLAGS, would win)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHON", "SYSTEM_PYTHON", "MAKEFLAGS", "MFLAGS")}
    result = subprocess.run(
        ["make", "-s", "-C", str(ROOT), *assignments, "--eval", PRINT_PYTHON, "print-python"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.strip()


def test_a_system_python_that_can_make_a_venv_is_chosen(tmp_path):
    # Stands for the distribution's python3: a link to the interpreter under this virtual environment
    # (>= 3.11, with ensurepip or without).
    base = os.path.realpath(sys.executable)
    system = tmp_path / "python3"
    system.symlink_to(base)
    has_ensurepip = subprocess.run([base, "-c", "import ensurepip"], capture_output=True).returncode == 0
    expected = str(system) if has_ensurepip else "python3"
    assert chosen_python(f"SYSTEM_PYTHON={system}") == expected


def test_a_system_python_older_than_3_11_is_passed_over(tmp_path):
    # This interpreter, made to say it is 3.10 before running the Makefile's check: with ensurepip there, only
    # the version check can turn it down.
    base = os.path.realpath(sys.executable)
    if subprocess.run([base, "-c", "import ensurepip"], capture_output=True).returncode != 0:
        pytest.skip("this interpreter has no ensurepip: the check would turn it down for that")
    old = tmp_path / "python3"
    old.write_text(
        "#!/bin/sh\n"
        '[ "$1" = -c ] || exit 2\n'
        f"exec {base} -c \"import sys; sys.version_info = (3, 10, 14, 'final', 0)\n$2\"\n"
    )
    old.chmod(0o755)
    says = subprocess.run([old, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True)
    assert says.stdout.strip() == b"(3, 10)"
    assert chosen_python(f"SYSTEM_PYTHON={old}") == "python3"


def test_without_a_system_python_python3_from_path_is_used(tmp_path):
    assert chosen_python(f"SYSTEM_PYTHON={tmp_path / 'absent'}") == "python3"


def test_the_caller_chooses_over_both():
    assert chosen_python("PYTHON=python3.12") == "python3.12"
