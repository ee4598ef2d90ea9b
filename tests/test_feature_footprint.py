"""What one feature costs a generated service: the lines it adds, and what it repeats.

Every feature shares the audited core (src/shared/ and the contract suite); its own files
hold its types and rules only. These tests keep it so: a one-field feature stays within a
line budget, and no two features' files share a long run of same-shaped lines. They print
the figures they measure.
"""

from __future__ import annotations

import ast
import difflib
import keyword
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.answer_sets import DEFAULT
from tests.conftest import announce, generate_with_data_file

pytestmark = pytest.mark.generation

# The budget of a feature with one field: lines it adds to a service's code and its tests.
SOURCE_BUDGET = 300
TEST_BUDGET = 120
# The longest run of same-shaped lines two features' files may share, counted as a duplicate
# scan counts them: imports, docstrings, comments, blank lines and lone punctuation are passed
# over (migrations aside: they are frozen history and stay self-contained on purpose).
LONGEST_SHARED_RUN = 15

ONE_FIELD_FEATURE = {"domain": "billing", "name": "invoice", "fields": "number:str"}
DEFAULT_FEATURE = {
    "domain": "catalog",
    "name": "product",
    "fields": "name:str, description:text?, price:decimal(10,2), in_stock:bool=true",
}
CODE_SUFFIXES = (".py", ".mako", ".toml", ".ini", ".yml", ".yaml", ".md", ".cfg")


def service_lines(root: Path) -> dict[Path, list[str]]:
    """The lines of every text file of a generated service, by path relative to it."""
    return {
        path.relative_to(root): path.read_text().splitlines()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".git" not in path.parts and path.suffix in CODE_SUFFIXES
    }


def added_lines(before: list[str], after: list[str]) -> int:
    """How many lines ``after`` has that ``before`` does not, in a line diff."""
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    opcodes = matcher.get_opcodes()
    return sum(j2 - j1 for tag, _, _, j1, j2 in opcodes if tag in ("insert", "replace"))


def test_a_one_field_feature_stays_within_its_line_budget(tmp_path: Path) -> None:
    services = {}
    variants = {"one": [DEFAULT_FEATURE], "two": [DEFAULT_FEATURE, ONE_FIELD_FEATURE]}
    for label, features in variants.items():
        destination = tmp_path / label / "inventory-service"
        destination.parent.mkdir()
        answers = {**DEFAULT, "features": features}
        result = generate_with_data_file(answers, destination)
        assert result.returncode == 0, result.explain()
        services[label] = service_lines(destination)
    added = {"src": 0, "tests": 0, "other": 0}
    per_file = []
    for path, lines in services["two"].items():
        count = added_lines(services["one"].get(path, []), lines)
        if count:
            kind = path.parts[0] if path.parts[0] in ("src", "tests") else "other"
            added[kind] += count
            per_file.append(f"{path}: +{count}")
    announce(
        f"a one-field feature adds {added['src']} source lines and {added['tests']} test lines "
        f"({added['other']} elsewhere) in {len(per_file)} files: {'; '.join(per_file)}"
    )
    assert added["src"] <= SOURCE_BUDGET, per_file
    assert added["tests"] <= TEST_BUDGET, per_file


# -- Same-shaped runs between two features' files ---------------------------------------------

TOKEN = re.compile(r"""[A-Za-z_]\w*|\d[\w.]*|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\S""")


def shape(line: str) -> str | None:
    """A line's shape: names, strings and numbers made alike; None for a line not compared.

    Blank lines, comments and lone punctuation say nothing about repeated logic.
    """
    text = line.strip()
    if not text or text.startswith("#") or not re.search(r"\w", text):
        return None
    tokens = []
    for token in TOKEN.findall(text):
        if keyword.iskeyword(token) or not re.match(r"[\w\"']", token):
            tokens.append(token)
        elif token[0].isdigit():
            tokens.append("0")
        elif token[0] in "\"'":
            tokens.append("''")
        else:
            tokens.append("x")
    return " ".join(tokens)


def prose_and_imports(source: str) -> set[int]:
    """The lines of a module's imports and docstrings: declarations and prose, not logic."""
    lines: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        is_docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        if isinstance(node, ast.Import | ast.ImportFrom | ast.Expr) and (
            not isinstance(node, ast.Expr) or is_docstring
        ):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def compared_lines(source: str) -> list[tuple[int, str]]:
    """The lines a scan compares, numbered, with their shapes."""
    skipped = prose_and_imports(source)
    return [
        (number, line_shape)
        for number, line in enumerate(source.splitlines(), 1)
        if number not in skipped and (line_shape := shape(line))
    ]


def longest_shared_run(first: str, second: str) -> tuple[int, int, int]:
    """The longest run of same-shaped compared lines two sources share: its length in compared
    lines (what a duplicate scan counts), and the line each side's run starts at."""
    a, b = compared_lines(first), compared_lines(second)
    matcher = difflib.SequenceMatcher(None, [s for _, s in a], [s for _, s in b], autojunk=False)
    match = matcher.find_longest_match(0, len(a), 0, len(b))
    if match.size == 0:
        return 0, 0, 0
    return match.size, a[match.a][0], b[match.b][0]


def feature_files(root: Path, names: Iterable[str]) -> dict[str, list[Path]]:
    """Each feature's own files (its name in the file's name), migrations left out."""
    files: dict[str, list[Path]] = {name: [] for name in names}
    for path in sorted(root.rglob("*.py")):
        if "migrations" in path.parts or ".venv" in path.parts:
            continue
        owners = [name for name in files if re.search(rf"(^|_){name}(_|$)", path.stem)]
        if len(owners) == 1:
            files[owners[0]].append(path)
    return files


@pytest.mark.answer_set("several-features")
def test_no_two_features_files_share_a_long_run(rendered: Callable[[str], Path]) -> None:
    root = rendered("several-features")
    answers: dict[str, Any] = yaml.safe_load((root / ".copier-answers.yml").read_text())
    files = feature_files(root, [feature["name"] for feature in answers["features"]])
    assert all(files.values()), files
    longest: list[tuple[int, str]] = []
    names = sorted(files)
    for index, first_name in enumerate(names):
        for second_name in names[index + 1 :]:
            for first in files[first_name]:
                for second in files[second_name]:
                    span, start, other = longest_shared_run(first.read_text(), second.read_text())
                    where = f"{first.relative_to(root)}:{start}"
                    longest.append((span, f"{where} ~ {second.relative_to(root)}:{other}"))
    longest.sort(reverse=True)
    announce(f"longest same-shaped runs between two features' files: {longest[:3]}")
    too_long = [entry for entry in longest if entry[0] > LONGEST_SHARED_RUN]
    assert not too_long
