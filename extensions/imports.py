"""Import lines in the order ruff's isort gives them, for the few places names decide it.

Templates write their imports as plain code; where the modules or names depend on the answers
(a feature's types, every feature's routers) they ask this module for the order, and lay the
lines out themselves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def _natural(text: str) -> tuple[tuple[int, int | str], ...]:
    # ruff compares names lower-cased and in natural order ("line2" before "line10").
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part)
        for part in re.split(r"(\d+)", text.lower())
        if part
    )


def _member_order(name: str) -> tuple[int, tuple[tuple[int, int | str], ...], str]:
    # Inside one ``from`` import ruff puts constants first, then classes, then the rest.
    kind = 0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2
    return (kind, _natural(name), name)


def from_imports(entries: Iterable[str]) -> list[tuple[str, list[str]]]:
    """``"module.name"`` entries of one import section as ``(module, names)``, sorted as ruff does."""
    modules: dict[str, set[str]] = {}
    for entry in entries:
        module, _, name = entry.rpartition(".")
        modules.setdefault(module, set()).add(name)
    return [
        (module, sorted(names, key=_member_order))
        for module, names in sorted(modules.items(), key=lambda item: _natural(item[0]))
    ]


def member_order(names: Iterable[str]) -> list[str]:
    """Names imported from one module, in ruff's order."""
    return sorted(set(names), key=_member_order)
