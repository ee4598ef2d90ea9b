"""The template's README shows the default service's requests as that service's README does."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import TEMPLATE_ROOT

# The example block of one feature in a generated README: from its curl POST to the line
# about filters.
FEATURE_EXAMPLES = re.compile(r"^```sh\ncurl -X POST .*?^- filter by equality.*?$", re.M | re.S)


def test_the_default_feature_requests_match_the_generated_readme(copie: Any) -> None:
    result = copie.copy()
    assert result.exit_code == 0, result.exception
    generated = (result.project_dir / "README.md").read_text(encoding="utf-8")
    [examples] = FEATURE_EXAMPLES.findall(generated)
    assert examples in (TEMPLATE_ROOT / "README.md").read_text(encoding="utf-8")


def test_the_copy_commands_bring_what_the_extensions_import() -> None:
    readme = (TEMPLATE_ROOT / "README.md").read_text(encoding="utf-8")
    commands = [line for line in readme.splitlines() if " copier copy " in line]
    assert commands
    assert all("--with inflect --with ruff " in command for command in commands)


def test_ci_runs_the_test_command_the_readme_gives_a_new_user() -> None:
    # The second of the README's two commands, and the one pytest run of .ci/run: its last line.
    readme = (TEMPLATE_ROOT / "README.md").read_text(encoding="utf-8")
    two_commands = readme.split("## Two commands", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    readme_command = two_commands.split("# 2.", 1)[1].splitlines()[1].strip()
    ci = [line.strip() for line in (TEMPLATE_ROOT / ".ci/run").read_text().splitlines()]
    commands = [line for line in ci if line and not line.startswith("#")]
    assert commands[-1] == readme_command == "uv run pytest"
    assert [line for line in commands if "pytest" in line] == [readme_command]
