"""Import lines in the order ruff's isort gives them, for the few places names decide it.

Templates write their imports as plain code; where the modules or names depend on the answers
(a feature's types, every feature's routers) they ask this module for the order, and lay the
lines out themselves.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable

# Top-level modules of a generated service that ruff counts as first party (besides the app
# package, which has a section of its own).
FIRST_PARTY = frozenset({"shared", "factories", "features_under_test"})


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


def section_of(module: str) -> str:
    """The ruff import section a module goes in: standard-library, third-party or first-party."""
    top = module.split(".")[0]
    if top in sys.stdlib_module_names:
        return "standard-library"
    return "first-party" if top in FIRST_PARTY else "third-party"


def from_imports(entries: Iterable[str], section: str | None = None) -> list[tuple[str, list[str]]]:
    """``"module.name"`` entries as ``(module, names)``, sorted as ruff does.

    With ``section``, only the entries of that section (see :func:`section_of`).
    """
    modules: dict[str, set[str]] = {}
    for entry in entries:
        if section is not None and section_of(entry) != section:
            continue
        module, _, name = entry.rpartition(".")
        modules.setdefault(module, set()).add(name)
    return [
        (module, sorted(names, key=_member_order))
        for module, names in sorted(modules.items(), key=lambda item: _natural(item[0]))
    ]


def member_order(names: Iterable[str]) -> list[str]:
    """Names imported from one module, in ruff's order."""
    return sorted(set(names), key=_member_order)
