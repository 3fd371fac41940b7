"""mypy finds no type error in app/ and config.py, with the settings in pyproject.toml ([tool.mypy])."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_finds_no_type_error():
    mypy = Path(sys.executable).parent / "mypy"  # installed with the dev extras, beside this Python
    if not mypy.exists():
        pytest.skip("mypy is not installed (make install-dev)")
    # The files to check and how strictly come from pyproject.toml; mypy's cache (.mypy_cache)
    # makes a run after a small change take seconds.
    result = subprocess.run(
        [str(mypy), "--no-error-summary", "--no-pretty", "--show-error-codes"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert result.returncode == 0 and not errors, "\n".join(errors) or result.stdout + result.stderr
