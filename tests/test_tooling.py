"""The template's own code passes the checks it imposes on generated services."""

from __future__ import annotations

import sys

from tests.conftest import TEMPLATE_ROOT, run


def test_ruff_check_passes() -> None:
    result = run([sys.executable, "-m", "ruff", "check", "."], cwd=TEMPLATE_ROOT)
    assert result.returncode == 0, result.explain()


def test_ruff_format_has_nothing_to_change() -> None:
    result = run([sys.executable, "-m", "ruff", "format", "--check", "."], cwd=TEMPLATE_ROOT)
    assert result.returncode == 0, result.explain()


def test_mypy_strict_passes() -> None:
    result = run([sys.executable, "-m", "mypy"], cwd=TEMPLATE_ROOT)
    assert result.returncode == 0, result.explain()
