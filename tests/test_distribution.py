"""What a generated service ships: its wheel holds the service, not the template's tools.

`add-feature` and `update` live in the service's `scripts/template.py` and need Copier and
PyYAML, dev dependencies. The wheel holds `src/shared` and the app package only, names neither
dependency, and installed on its own into a fresh environment (as in production) it imports
and runs its command line without them.
"""

from __future__ import annotations

import functools
import zipfile
from collections.abc import Callable
from email.parser import HeaderParser
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.answer_sets import ANSWER_SETS
from tests.conftest import run, uv

pytestmark = pytest.mark.generation

# What only the template script needs; none of it may reach a production install.
DEV_ONLY = {"copier", "copier-template-extensions", "inflect", "pyyaml"}
# Run in the production environment: the app and the CLI import, and the tools are absent.
IMPORT_CHECK = """
import importlib.util
import sys

absent = [name for name in ("copier", "yaml") if importlib.util.find_spec(name) is None]
import {package}.app
import {package}.cli
loaded = sorted({{name.partition(".")[0] for name in sys.modules}} & {{"copier", "yaml"}})
print("absent:", *absent)
print("loaded:", *loaded)
"""


@pytest.fixture(scope="module")
def wheel_of(
    rendered: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], Path]:
    """Build an answer set's service into a wheel with `uv build`, once per module."""

    @functools.cache
    def built(name: str) -> Path:
        out_dir = tmp_path_factory.mktemp(f"wheel-{name}")
        # Outside the service's tree: a dist/ there would be one more file for its gates.
        result = run([uv(), "build", "--wheel", "--out-dir", str(out_dir)], cwd=rendered(name))
        assert result.returncode == 0, result.explain()
        [wheel] = out_dir.glob("*.whl")
        return wheel

    return built


def answers_of(service: Path) -> dict[str, str]:
    """The service's recorded answers that name it."""
    answers = yaml.safe_load((service / ".copier-answers.yml").read_text())
    return {key: str(answers[key]) for key in ("package_name", "project_slug")}


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_the_wheel_holds_the_service_and_names_no_template_tool(
    wheel_of: Callable[[str], Path], rendered: Callable[[str], Path], name: str
) -> None:
    package = answers_of(rendered(name))["package_name"]
    with zipfile.ZipFile(wheel_of(name)) as wheel:
        files = wheel.namelist()
        [metadata] = [path for path in files if path.endswith(".dist-info/METADATA")]
        headers = HeaderParser().parsestr(wheel.read(metadata).decode())
    top_level = {path.split("/")[0] for path in files if ".dist-info/" not in path}
    assert top_level == {"shared", package}
    assert f"{package}/cli.py" in files
    assert f"{package}/lifecycle.py" not in files
    required = {
        canonicalize_name(Requirement(line).name) for line in headers.get_all("Requires-Dist", [])
    }
    assert {"fastapi", "typer"} <= required
    assert required & DEV_ONLY == set()


def fresh_environment(wheel: Path, directory: Path) -> Path:
    """Install ``wheel`` alone (with its dependencies) into a new virtual environment."""
    environment = directory / "venv"
    python = environment / "bin" / "python"
    for command in (
        [uv(), "venv", "--quiet", str(environment)],
        [uv(), "pip", "install", "--quiet", "--python", str(python), str(wheel)],
    ):
        result = run(command, cwd=directory)
        assert result.returncode == 0, result.explain()
    return environment / "bin"


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_the_installed_wheel_runs_without_copier_or_pyyaml(
    wheel_of: Callable[[str], Path], rendered: Callable[[str], Path], name: str, tmp_path: Path
) -> None:
    names = answers_of(rendered(name))
    bin_dir = fresh_environment(wheel_of(name), tmp_path)
    code = IMPORT_CHECK.format(package=names["package_name"])
    imported = run([str(bin_dir / "python"), "-c", code], cwd=tmp_path)
    assert imported.returncode == 0, imported.explain()
    assert imported.stdout.splitlines() == ["absent: copier yaml", "loaded:"]
    helped = run([str(bin_dir / names["project_slug"]), "--help"], cwd=tmp_path)
    assert helped.returncode == 0, helped.explain()
    assert "audit" in helped.stdout
    assert "add-feature" not in helped.stdout
