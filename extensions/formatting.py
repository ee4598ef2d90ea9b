"""Generated Python laid out by ruff as it is rendered, the way the service formats its own code.

A template whose lines depend on the answers (a feature's names, its fields) is written as
plain code: one statement a line, imports in any order, each import the file may need.
Wrapped in ``{% filter python_formatted %}``, its output has the imports it doesn't use
removed and the others sorted (ruff's F401 and isort rules), and is formatted (``ruff format``)
with the generated service's settings: it passes the service's ``ruff check`` and
``ruff format --check`` as it comes out, at any name length.

Both sides of ``copier update`` are rendered this way, so its three-way merge compares
formatted text: a template change shows as the lines it changes, and a file it doesn't change
renders as before.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping

from jinja2 import TemplateRuntimeError, pass_context
from jinja2.runtime import Context

try:
    from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]
except ImportError as missing:  # pragma: no cover - only where Copier runs without it
    raise ImportError(
        "the template's extensions need ruff: run Copier with "
        "`uvx --with copier-template-extensions --with inflect --with ruff copier ...`, or, in a "
        "generated service, `uv add --dev ruff` first"
    ) from missing

RUFF = find_ruff_bin()

# The generated service's own ruff settings (template/pyproject.toml.jinja) that decide layout
# and import order; tests/test_formatting.py checks that the two agree. The app package,
# named by the answers, is the "service" section.
LINE_LENGTH = 100
TARGET_VERSION = "py311"
KNOWN_FIRST_PARTY = ("shared", "factories", "features_under_test", "conftest")
SECTION_ORDER = (
    "future",
    "standard-library",
    "third-party",
    "first-party",
    "service",
    "local-folder",
)


def ruff_settings(package_name: str) -> Mapping[str, object]:
    """The settings ruff lays a generated file out with, as ``--config`` keys and values."""
    return {
        "line-length": LINE_LENGTH,
        "target-version": TARGET_VERSION,
        # No source folders: only the settings below say which imports are the service's own,
        # wherever Copier runs.
        "src": [],
        "lint.isort.known-first-party": list(KNOWN_FIRST_PARTY),
        "lint.isort.section-order": list(SECTION_ORDER),
        "lint.isort.sections": {"service": [package_name]},
    }


def _options(package_name: str) -> list[str]:
    options = ["--isolated"]
    for key, value in ruff_settings(package_name).items():
        # An inline table is TOML, not JSON: write it as one.
        if isinstance(value, dict):
            text = "{" + ", ".join(f"{k} = {json.dumps(v)}" for k, v in value.items()) + "}"
        else:
            text = json.dumps(value)
        options += ["--config", f"{key} = {text}"]
    return options


def format_python(source: str, package_name: str, name: str = "<template>") -> str:
    """``source`` with its imports sorted and its code formatted, as the service's ruff would."""
    options = _options(package_name)
    steps = [
        ["check", "--fix", "--select", "I,F401", "--exit-zero", "--quiet"],
        ["format"],
    ]
    for step in steps:
        done = subprocess.run(  # noqa: S603 - ruff's own binary, arguments are ours
            [RUFF, *step, *options, "--stdin-filename", "generated.py", "-"],
            input=source,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise TemplateRuntimeError(
                f"{name} rendered code ruff can't read:\n{done.stderr.strip()}"
            )
        source = done.stdout
    return source


@pass_context
def python_formatted(context: Context, source: str) -> str:
    """Jinja filter: the block's rendered Python, sorted and formatted (``format_python``)."""
    return format_python(source, context["package_name"], context.name or "<template>")
