"""Lay out generated Python the way ``ruff format`` would, so output needs no formatter run.

Only the shapes the templates produce are handled: a call on the right of an assignment and
a ``from module import names`` line whose length depends on the team's names.
"""

from __future__ import annotations

import re
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
    if len(inner) + len(joined) <= LINE_LENGTH or len(args) == 1:
        return f"{head}(\n{inner}{joined}\n{outer}){tail}"
    body = "".join(f"{inner}{_fit(arg, indent + 1)},\n" for arg in args)
    return f"{head}(\n{body}{outer}){tail}"


_CALL = re.compile(r"^(?P<head>[\w.]+=?[\w.]*)\((?P<args>.*)\)$", re.DOTALL)


def _fit(arg: str, indent: int) -> str:
    """An argument on a line of its own: split like a call when it is one and too long."""
    if len(INDENT * indent) + len(arg) + 1 <= LINE_LENGTH:
        return arg
    match = _CALL.match(arg)
    if not match:
        return arg
    return wrap_call(match["head"], _split_arguments(match["args"]), indent)


def _split_arguments(text: str) -> list[str]:
    """Split call arguments on the commas outside brackets and strings."""
    parts: list[str] = []
    depth, quote, start = 0, "", 0
    for position, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:position].strip())
            start = position + 1
    parts.append(text[start:].strip())
    return [part for part in parts if part]


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


def _natural(text: str) -> tuple[tuple[int, int | str], ...]:
    # ruff's isort compares names lower-cased and in natural order ("line2" before "line10").
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part)
        for part in re.split(r"(\d+)", text.lower())
        if part
    )


def _name_order(name: str) -> tuple[int, tuple[tuple[int, int | str], ...], str]:
    # Inside one ``from`` import ruff puts constants first, then classes, then the rest.
    kind = 0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2
    return (kind, _natural(name), name)


def import_block(
    dotted_names: Iterable[str],
    first_party: Iterable[str] = ("shared",),
    service: Iterable[str] = (),
) -> str:
    """Render imports as ruff's isort lays them out.

    Entries are ``"module.name"`` (``from module import name``), a bare ``"module"``
    (``import module``) or ``"module as alias"``. They are grouped into standard library,
    third party, first party (``first_party`` top-level packages) and the section configured
    after it for the service's own package (``service``), sorted, groups separated by a blank
    line; in each group plain imports come first, then one ``from`` line per module.
    """
    first_party = set(first_party)
    service = set(service)
    sections: list[tuple[set[str], dict[str, set[str]]]] = [(set(), {}) for _ in range(4)]
    for dotted in dotted_names:
        # "pkg.module.name" -> from pkg.module import name; "pkg" or "pkg as alias" -> import
        module, _, name = dotted.rpartition(".") if " as " not in dotted else ("", "", dotted)
        top = (module or name).split(".")[0].split(" ")[0]
        if top in sys.stdlib_module_names:
            section = 0
        elif top in first_party:
            section = 2
        elif top in service:
            section = 3
        else:
            section = 1
        plain, from_imports = sections[section]
        if module:
            from_imports.setdefault(module, set()).add(name)
        else:
            plain.add(name)
    blocks = []
    for plain, from_imports in sections:
        lines = [f"import {module}" for module in sorted(plain, key=_natural)]
        lines += [
            import_line(module, sorted(names, key=_name_order))
            for module, names in sorted(from_imports.items(), key=lambda item: _natural(item[0]))
        ]
        if lines:
            blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def wrap_collection(
    head: str, items: Sequence[str], brackets: str, indent: int = 0, tail: str = ""
) -> str:
    """Render ``head`` + a list/tuple/set literal of ``items`` + ``tail``, as ruff lays it out.

    ``brackets`` is ``"[]"``, ``"()"`` or ``"{}"``; a one-item tuple gets its comma. ``tail``
    is what follows on the same line (``","`` inside an enclosing collection).
    """
    opening, closing = brackets[0], brackets[1]
    joined = ", ".join(items)
    if brackets == "()" and len(items) == 1:
        joined += ","
    one_line = f"{head}{opening}{joined}{closing}{tail}"
    if len(INDENT * indent) + len(one_line) <= LINE_LENGTH:
        return one_line
    inner = INDENT * (indent + 1)
    body = "".join(f"{inner}{_fit(item, indent + 1)},\n" for item in items)
    return f"{head}{opening}\n{body}{INDENT * indent}{closing}{tail}"


def quoted_items(items: Iterable[str]) -> list[str]:
    """The items as double-quoted string literals."""
    return [f'"{item}"' for item in items]


def braced(name: str) -> str:
    """``{name}``: a path parameter or an f-string field, written without Jinja escapes."""
    return "{" + name + "}"
