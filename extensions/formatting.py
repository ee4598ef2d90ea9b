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
import sys
from collections.abc import Mapping
from types import ModuleType

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
    """``source`` with its imports sorted and its code formatted, as the service's ruff would.

    Unused imports go (F401), the rest are sorted (isort), then ``ruff format`` runs. The
    same text with the same commands always comes out the same, so it is formatted once.
    """
    options = [*_options(package_name), "--stdin-filename", "generated.py", "-"]
    fix = [RUFF, "check", "--fix", "--select", "I,F401", "--exit-zero", "--quiet", *options]
    layout = [RUFF, "format", *options]
    formatted = _formatted()
    key = (*fix, *layout, source)
    if key not in formatted:
        if len(formatted) >= MAX_FORMATTED:
            formatted.clear()
        formatted[key] = _run(fix, layout, source, name)
    return formatted[key]


def _run(fix: list[str], layout: list[str], source: str, name: str) -> str:
    # The two processes start together, the first's output piped into the second: a file
    # waits for one start-up rather than two. Each reads all of its input before it writes,
    # so writing the source, then reading the result, can't block either.
    pipe = subprocess.PIPE
    with (
        subprocess.Popen(fix, stdin=pipe, stdout=pipe, text=True) as fixing,  # noqa: S603
        subprocess.Popen(  # noqa: S603 - ruff's own binary, with our arguments only
            layout, stdin=fixing.stdout, stdout=pipe, stderr=pipe, text=True
        ) as formatting,
    ):
        if fixing.stdin is None or fixing.stdout is None:  # pragma: no cover - both piped
            raise RuntimeError("ruff's pipes were not opened")
        fixing.stdout.close()  # the formatter reads it now
        fixing.stdin.write(source)
        fixing.stdin.close()
        result, problems = formatting.communicate()
    if fixing.returncode != 0 or formatting.returncode != 0:
        raise TemplateRuntimeError(f"{name} rendered code ruff can't read:\n{problems.strip()}")
    return result


# `copier update` renders the service's release twice and the new one once, each from a copy
# of the template whose extensions load as a package of their own (copier_extension.py), so a
# file the release doesn't change is the same text three times. The texts formatted so far are
# kept in a module that every copy finds by its name.
_FORMATTED_MODULE = "copier_backend_service_formatted_python"
# A bound, for a process that renders many services (the template's tests).
MAX_FORMATTED = 4096


def _formatted() -> dict[tuple[str, ...], str]:
    module = sys.modules.get(_FORMATTED_MODULE)
    if module is None:
        module = ModuleType(_FORMATTED_MODULE, "Python texts formatted by the template's ruff")
        sys.modules[_FORMATTED_MODULE] = module
    formatted: dict[tuple[str, ...], str] = vars(module).setdefault("formatted", {})
    return formatted


@pass_context
def python_formatted(context: Context, source: str) -> str:
    """Jinja filter: the block's rendered Python, sorted and formatted (``format_python``)."""
    return format_python(source, context["package_name"], context.name or "<template>")
