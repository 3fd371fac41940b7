"""Outside tools agree: bandit finds no medium or high severity issue in app/."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "app"


def test_bandit_finds_no_medium_or_high_issue():
    bandit = Path(sys.executable).parent / "bandit"  # installed with the dev extras, beside this Python
    if not bandit.exists():
        pytest.skip("bandit is not installed (pip install -e '.[dev]')")
    result = subprocess.run(
        [str(bandit), "-r", str(APP), "-f", "json", "-q", "--severity-level", "medium"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = json.loads(result.stdout)
    findings = [f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_text']}" for r in report["results"]]
    assert not findings, "\n".join(findings)
