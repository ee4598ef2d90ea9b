"""Lines of generated code laid out as ``ruff format`` leaves them, where names decide it.

A statement whose length depends on the answers (a feature's names, a field's arguments) is
written on one line when it fits, as a person would, and otherwise one item a line with a
trailing comma, which ruff keeps as it is. Either way ``ruff format --check`` passes at any
name length, and short names don't pay for long ones in lines.
"""

from __future__ import annotations

from collections.abc import Iterable

# The generated service's ruff line length (template/pyproject.toml.jinja).
LINE_LENGTH = 100


def import_statement(module: str, names: Iterable[str]) -> str:
    """``from module import names``: one line if it fits, else one name a line."""
    names = list(names)
    line = f"from {module} import {', '.join(names)}"
    if len(line) <= LINE_LENGTH:
        return line
    return "\n".join([f"from {module} import (", *(f"    {name}," for name in names), ")"])


def call_statement(head: str, arguments: Iterable[str], indent: str = "") -> str:
    """``head(arguments)`` at ``indent``: one line if it fits, else one argument a line.

    ``head`` is what comes before the parenthesis (``name: str = Field``); the result starts
    with ``indent`` on each line, so a template writes it at the start of a line.
    """
    arguments = list(arguments)
    line = f"{indent}{head}({', '.join(arguments)})"
    if len(line) <= LINE_LENGTH:
        return line
    inner = f"{indent}    "
    return "\n".join(
        [f"{indent}{head}(", *(f"{inner}{argument}," for argument in arguments), f"{indent})"]
    )


def tuple_statement(head: str, items: Iterable[str], indent: str = "") -> str:
    """``head`` and a tuple of ``items`` (source text) at ``indent``, as ``call_statement`` does.

    A one-item tuple keeps its comma (``("a",)``), which ruff leaves on one line.
    """
    items = list(items)
    inside = f"{items[0]}," if len(items) == 1 else ", ".join(items)
    line = f"{indent}{head}({inside})"
    if len(line) <= LINE_LENGTH:
        return line
    return call_statement(head, items, indent)
