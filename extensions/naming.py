"""Naming filters and identifier checks shared by the questions and the templates.

Every name a team gives (domain, feature, field, package) is stored as a snake_case
identifier; the other spellings (PascalCase classes, kebab-case URLs, plural table
routes, human titles) are derived here so that templates never re-implement them.
"""

from __future__ import annotations

import keyword
import re
import sys

SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")

# Top-level packages every generated service already has: a name equal to one of them
# would shadow it on import.
GENERATED_TOP_LEVEL_PACKAGES = frozenset({"shared", "tests"})

# Nouns whose plural is not formed by a rule. Keys are singular, values plural.
IRREGULAR_PLURALS = {
    "person": "people",
    "man": "men",
    "woman": "women",
    "child": "children",
    "tooth": "teeth",
    "foot": "feet",
    "mouse": "mice",
    "goose": "geese",
    "ox": "oxen",
    "datum": "data",
    "medium": "media",
    "criterion": "criteria",
    "phenomenon": "phenomena",
    "index": "indices",
    "matrix": "matrices",
    "vertex": "vertices",
    "analysis": "analyses",
    "basis": "bases",
    "crisis": "crises",
    "thesis": "theses",
    "leaf": "leaves",
    "life": "lives",
    "knife": "knives",
    "wife": "wives",
    "half": "halves",
    "shelf": "shelves",
    "wolf": "wolves",
    "potato": "potatoes",
    "tomato": "tomatoes",
    "hero": "heroes",
    "echo": "echoes",
    "quiz": "quizzes",
}
# Nouns spelled the same in singular and plural.
UNCOUNTABLE = frozenset(
    {"equipment", "information", "news", "series", "species", "sheep", "fish", "deer", "metadata"}
)

_WORD_BOUNDARY = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def words(value: str) -> list[str]:
    """Split any spelling (snake, kebab, Pascal, camel, spaced) into lower-case words."""
    return [part.lower() for part in _WORD_BOUNDARY.split(value.strip()) if part]


def snake(value: str) -> str:
    """Return ``value`` as snake_case: ``"Purchase Order"`` -> ``"purchase_order"``."""
    return "_".join(words(value))


def upper_snake(value: str) -> str:
    """Return ``value`` as UPPER_SNAKE_CASE: ``"purchase_order"`` -> ``"PURCHASE_ORDER"``."""
    return snake(value).upper()


def pascal(value: str) -> str:
    """Return ``value`` as PascalCase: ``"purchase_order"`` -> ``"PurchaseOrder"``."""
    return "".join(word.capitalize() for word in words(value))


def kebab(value: str) -> str:
    """Return ``value`` as kebab-case: ``"Purchase Order"`` -> ``"purchase-order"``."""
    return "-".join(words(value))


def title(value: str) -> str:
    """Return ``value`` as words with capitals: ``"purchase_order"`` -> ``"Purchase Order"``."""
    return " ".join(word.capitalize() for word in words(value))


def plural_word(word: str) -> str:
    """Return the English plural of one lower-case noun."""
    if word in UNCOUNTABLE:
        return word
    if word in IRREGULAR_PLURALS:
        return IRREGULAR_PLURALS[word]
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def plural(value: str) -> str:
    """Pluralise the last word of a snake_case name: ``"purchase_order"`` -> ``"purchase_orders"``.

    Only the last word changes (``"line_item"`` -> ``"line_items"``), and the result keeps the
    input's separators, so it can be fed to :func:`kebab` or :func:`pascal` afterwards.
    """
    parts = words(value)
    if not parts:
        return value
    parts[-1] = plural_word(parts[-1])
    return "_".join(parts)


def identifier_problem(value: object, what: str = "name", *, top_level: bool = False) -> str:
    """Explain why ``value`` can't be used as a snake_case Python identifier, or return ``""``.

    The message names ``what`` (for example ``"package_name"``) so that a prompt can show it
    as is. Checks: snake_case and not a Python keyword; for a ``top_level`` import name also
    not the name of a standard-library module or of a package every generated service has.
    """
    if not isinstance(value, str) or not value:
        return f"{what} must not be empty"
    if not SNAKE_CASE.match(value):
        return (
            f"{what} {value!r} is not a snake_case identifier "
            "(lower-case letters, digits and single underscores, starting with a letter)"
        )
    if keyword.iskeyword(value) or keyword.issoftkeyword(value):
        return f"{what} {value!r} is a Python keyword"
    if not top_level:
        return ""
    if value in GENERATED_TOP_LEVEL_PACKAGES:
        return f"{what} {value!r} would shadow the generated {value!r} package"
    if value in sys.stdlib_module_names:
        return f"{what} {value!r} would shadow the standard-library module {value!r}"
    return ""


KEBAB_CASE = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")


def slug_problem(value: object, what: str = "project_slug") -> str:
    """Explain why ``value`` can't be a distribution and command name, or return ``""``."""
    if not isinstance(value, str) or not KEBAB_CASE.match(value):
        return (
            f"{what} {value!r} must be kebab-case "
            "(lower-case letters, digits and single hyphens, starting with a letter)"
        )
    return ""


# HTML tags, and character references (``&lt;``, ``&#60;``) that a page would decode into them;
# a plain ampersand ("R&D tools") is fine.
MARKUP = re.compile(r"[<>]|&#?\w+;")


def project_name_problem(value: object) -> str:
    """Explain why ``value`` can't name the project, or return ``""``.

    The name is written into Python strings, TOML, Markdown and the HTML of the API documents,
    so it must be one printable line without quotes, backslashes or markup characters, and it
    must yield a slug. (Pages that show it escape it as well.)
    """
    if not isinstance(value, str) or not value.strip():
        return "project_name must not be empty"
    if any(char in value for char in "\"'\\`") or not value.isprintable():
        return f"project_name {value!r} must be one printable line without quotes or backslashes"
    if MARKUP.search(value):
        return f"project_name {value!r} must not contain HTML markup (< > or &...; references)"
    if not words(value):
        return f"project_name {value!r} must contain letters or digits"
    return ""
