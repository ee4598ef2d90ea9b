"""Generated Python is laid out by ruff as it renders, and templates hold no layout logic."""

import importlib.util
import re
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from jinja2 import Environment, TemplateRuntimeError

from extensions import copier_extension, formatting
from extensions.fields import field_assignment, import_statements, python_literal, python_tuple
from extensions.formatting import format_python, ruff_settings
from tests.conftest import TEMPLATE_ROOT

FEATURE_TEMPLATES = TEMPLATE_ROOT / "template" / "src"
# The templates a feature's fields shape most, and the share of their lines that may be Jinja
# statements ({% ... %}): loops over fields and enum values, and little else.
MOST_SHAPED = {"{{ feat.name }}.py": 0.25, "{{ feat.name }}_dtos.py": 0.25}


def test_imports_are_sorted_into_the_service_sections_and_unused_ones_dropped() -> None:
    source = (
        "from shop_service.routers.feature_router import FeatureApi\n"
        "from shared.models.dto_base import EntityRead\n"
        "from decimal import Decimal\n"
        "from datetime import date\n"
        "from typing import ClassVar\n"
        "from pydantic import Field\n"
        "x: Decimal = Field()\n"
        "y: date = EntityRead, FeatureApi\n"
    )
    assert format_python(source, "shop_service") == (
        "from datetime import date\n"
        "from decimal import Decimal\n"
        "\n"
        "from pydantic import Field\n"
        "\n"
        "from shared.models.dto_base import EntityRead\n"
        "\n"
        "from shop_service.routers.feature_router import FeatureApi\n"
        "\n"
        "x: Decimal = Field()\n"
        "y: date = EntityRead, FeatureApi\n"
    )


def test_a_statement_is_joined_when_it_fits_and_split_when_it_does_not() -> None:
    short = "x = Field(default=None, max_length=12)\n"
    assert format_python(short, "svc") == short
    arguments = ", ".join(f"argument_{n}={n}" for n in range(8))
    split = format_python(f"x = Field({arguments})\n", "svc").splitlines()
    assert split[0] == "x = Field("
    assert split[-1] == ")"
    assert all(len(line) <= 100 for line in split)
    # A one-item tuple keeps its comma on one line; ruff joins what fits.
    assert format_python("t = (\n    'a',\n)\n", "svc") == 't = ("a",)\n'


def test_code_ruff_cant_read_is_refused_naming_the_template() -> None:
    with pytest.raises(TemplateRuntimeError, match=r"model\.py\.jinja rendered code ruff can't"):
        format_python("class (:\n", "svc", "model.py.jinja")


def test_the_render_lays_out_code_with_the_service_own_ruff_settings(
    rendered: Callable[[str], Path],
) -> None:
    pyproject = tomllib.loads((rendered("default") / "pyproject.toml").read_text())
    ruff = pyproject["tool"]["ruff"]
    settings = ruff_settings("inventory_service")
    assert settings["line-length"] == ruff["line-length"]
    assert settings["target-version"] == ruff["target-version"]
    isort = ruff["lint"]["isort"]
    assert settings["lint.isort.known-first-party"] == isort["known-first-party"]
    assert settings["lint.isort.section-order"] == isort["section-order"]
    assert settings["lint.isort.sections"] == isort["sections"]


def test_a_text_is_formatted_once_for_every_copy_of_the_extensions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `copier update` loads each release's extensions from a copy of the template of its own.
    spec = importlib.util.spec_from_file_location("another_copy", formatting.__file__)
    assert spec is not None
    assert spec.loader is not None
    another_copy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(another_copy)
    source = "import os\nimport sys\nprint( sys.argv )\n"
    first = format_python(source, "svc")
    assert first == "import sys\n\nprint(sys.argv)\n"

    def no_ruff(*_: object) -> str:
        raise AssertionError("formatted again")

    monkeypatch.setattr(formatting, "_run", no_ruff)
    monkeypatch.setattr(another_copy, "_run", no_ruff)
    assert format_python(source, "svc") == first
    assert another_copy.format_python(source, "svc") == first
    # Other settings are another layout: the service's package is a section of its own.
    with pytest.raises(AssertionError, match="formatted again"):
        format_python(source, "other_service")


@pytest.mark.parametrize(
    ("value", "source"),
    [
        ({}, "{}"),
        ({"name": "label"}, "{'name': 'label'}"),
        ({"weight": ("int", "decimal")}, "{'weight': ('int', 'decimal')}"),
        (("a",), "('a',)"),
    ],
)
def test_values_are_written_as_python_literals(value: object, source: str) -> None:
    assert python_literal(value) == source


def test_tuples_keep_their_comma_with_one_item() -> None:
    assert python_tuple([]) == "()"
    assert python_tuple(["a"]) == "('a',)"
    assert python_tuple(iter(["a", "b"])) == "('a', 'b')"


def test_a_declaration_gets_field_arguments_or_what_it_has_without() -> None:
    assert field_assignment(["default=None", "max_length=3"]) == (
        " = Field(default=None, max_length=3)"
    )
    assert field_assignment([]) == ""
    assert field_assignment([], " = None") == " = None"


def test_import_entries_become_one_line_each_once() -> None:
    entries = ["uuid.UUID", "json", "uuid.UUID", "shared.db.models.base_model.UTCDateTime"]
    assert import_statements(entries) == [
        "from uuid import UUID",
        "import json",
        "from shared.db.models.base_model import UTCDateTime",
    ]


def control_share(path: Path) -> float:
    lines = path.read_text().splitlines()
    return sum("{%" in line for line in lines) / len(lines)


@pytest.mark.parametrize(("name", "most"), MOST_SHAPED.items())
def test_the_templates_a_feature_shapes_most_are_mostly_code(name: str, most: float) -> None:
    [path] = [path for path in FEATURE_TEMPLATES.rglob("*.jinja") if f"{name}{{%" in path.name]
    assert control_share(path) <= most


def test_no_template_chooses_a_layout_by_length() -> None:
    templates = list((TEMPLATE_ROOT / "template").rglob("*.jinja"))
    by_length = re.compile(r"\{%[^%]*\|\s*length\s*(<|>|<=|>=|==)\s*\d")
    assert [str(path) for path in templates if by_length.search(path.read_text())] == []


def test_no_layout_filter_is_registered() -> None:
    extension = copier_extension.BackendServiceExtension
    environment = Environment(extensions=[extension], autoescape=False)  # noqa: S701 - code
    layout = {"from_imports", "import_statement", "call_statement", "tuple_statement"}
    assert layout.isdisjoint(environment.filters)
    assert "python_formatted" in environment.filters
