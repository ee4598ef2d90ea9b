"""Lay out generated Python the way ``ruff format`` would, so output needs no formatter run.

Only the shapes the templates produce are handled: a call on the right of an assignment and
a ``from module import names`` line whose length depends on the team's names.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence

LINE_LENGTH = 100
INDENT = "    "


def wrap_call(head: str, args: Sequence[str], indent: int = 0, tail: str = "") -> str:
    """Render ``head(args...)tail`` at ``indent`` levels, split the way ruff splits it.

    ``head`` is everything before the opening parenthesis (``"name: str = Field"``,
    ``"def get(self"`` is not: pass ``"def get"`` and ``self`` as an argument), ``tail``
    what follows the closing one (``" -> Product:"``). The first line is returned without
    indentation, so the template places it; continuation lines carry their own.
    """
    outer = INDENT * indent
    inner = INDENT * (indent + 1)
    joined = ", ".join(args)
    one_line = f"{head}({joined}){tail}"
    if len(outer) + len(one_line) <= LINE_LENGTH:
        return one_line
    if len(inner) + len(joined) <= LINE_LENGTH:
        return f"{head}(\n{inner}{joined}\n{outer}){tail}"
    body = "".join(f"{inner}{arg},\n" for arg in args)
    return f"{head}(\n{body}{outer}){tail}"


def field_line(name: str, annotation: str, args: Sequence[str], indent: int = 1) -> str:
    """Render a model attribute: ``name: annotation`` or ``name: annotation = Field(...)``."""
    if not args:
        return f"{name}: {annotation}"
    return wrap_call(f"{name}: {annotation} = Field", args, indent)


def import_line(module: str, names: Sequence[str]) -> str:
    """Render ``from module import names``, wrapped in parentheses when it is too long."""
    one_line = f"from {module} import {', '.join(names)}"
    if len(one_line) <= LINE_LENGTH:
        return one_line
    body = "".join(f"{INDENT}{name},\n" for name in names)
    return f"from {module} import (\n{body})"


def _name_order(name: str) -> tuple[int, str]:
    # ruff's isort order inside one ``from`` import: constants, then classes, then the rest.
    if name.isupper() and len(name) > 1:
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name.lower())


def import_block(dotted_names: Iterable[str], first_party: Iterable[str] = ("shared",)) -> str:
    """Render imports as ruff's isort lays them out.

    Entries are ``"module.name"`` (``from module import name``) or a bare ``"module"``
    (``import module``). They are grouped into standard library, third party and first party
    (``first_party`` top-level packages), sorted, groups separated by a blank line; in each
    group plain imports come first, then one ``from`` line per module.
    """
    first_party = set(first_party)
    sections: list[tuple[set[str], dict[str, set[str]]]] = [(set(), {}) for _ in range(3)]
    for dotted in dotted_names:
        module, _, name = dotted.rpartition(".")
        top = (module or name).split(".")[0]
        plain, from_imports = sections[
            0 if top in sys.stdlib_module_names else 2 if top in first_party else 1
        ]
        if module:
            from_imports.setdefault(module, set()).add(name)
        else:
            plain.add(name)
    blocks = []
    for plain, from_imports in sections:
        lines = [f"import {module}" for module in sorted(plain, key=str.lower)]
        lines += [
            import_line(module, sorted(names, key=_name_order))
            for module, names in sorted(from_imports.items(), key=lambda item: item[0].lower())
        ]
        if lines:
            blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def python_tuple(items: Iterable[str]) -> str:
    """Render strings as a tuple literal as ruff formats it: ``()``, ``("a",)``, ``("a", "b")``."""
    quoted = [f'"{item}"' for item in items]
    if len(quoted) == 1:
        return f"({quoted[0]},)"
    return f"({', '.join(quoted)})"


def python_list(items: Iterable[str]) -> str:
    """Render strings as a list literal the way ruff formats it: ``["a", "b"]``."""
    return "[" + ", ".join(f'"{item}"' for item in items) + "]"


def braced(name: str) -> str:
    """``{name}``: a path parameter or an f-string field, written without Jinja escapes."""
    return "{" + name + "}"
