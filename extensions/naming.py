"""Naming filters and identifier checks shared by the questions and the templates.

Every name a team gives (domain, feature, field, package) is stored as a snake_case
identifier; the other spellings (PascalCase classes, kebab-case URLs, plural table
routes, human titles) are derived here so that templates never re-implement them. English
plurals, singulars and articles come from the inflect library, not from rules of our own.
"""

from __future__ import annotations

import functools
import keyword
import re
import sys
import types
from typing import Any, TypeVar

_Decorated = TypeVar("_Decorated")


def _unchecked(target: _Decorated | None = None, **_options: Any) -> Any:
    """typeguard's ``@typechecked`` as it is under ``python -O``: it leaves ``target`` alone."""
    return target if target is not None else _unchecked


def _import_inflect_unchecked() -> None:
    """Import inflect without typeguard: neither its instrumentation nor, if we can, itself.

    inflect decorates 23 methods of its engine with typeguard's ``@typechecked``, and typeguard
    instruments each by parsing and compiling inflect's whole 4 000-line module again: seconds
    per Copier run on a slow machine, most of this template's cost over a plain-file copy.
    The checks only guard the types of inflect's arguments, which are ``str`` in every call
    here; ``python -O`` skips them the same way. Importing typeguard at all (it brings
    ``unittest.mock`` and ``importlib.metadata``) took longer than inflect's own import, so
    while inflect is imported a stand-in module answers the one name it takes from typeguard,
    and is removed afterwards: whatever imports typeguard later gets the real one. If typeguard
    is loaded already, its decorator is swapped for the time of the import instead. Nothing is
    done if inflect is loaded already (another template's extensions may have).
    """
    if "inflect" in sys.modules:
        return
    if "typeguard" not in sys.modules:
        stand_in = types.ModuleType("typeguard")
        stand_in.typechecked = _unchecked  # type: ignore[attr-defined]
        sys.modules["typeguard"] = stand_in
        try:
            import inflect
        finally:
            if sys.modules.get("typeguard") is stand_in:
                del sys.modules["typeguard"]
        return
    import typeguard  # loaded already: this costs nothing

    typechecked = typeguard.typechecked
    typeguard.typechecked = _unchecked
    try:
        import inflect  # noqa: F401
    finally:
        typeguard.typechecked = typechecked


try:
    _import_inflect_unchecked()  # typeguard comes with inflect
    import inflect
except ImportError as missing:  # pragma: no cover - only where Copier runs without it
    raise ImportError(
        "the template's extensions need the inflect library: run Copier with "
        "`uvx --with copier-template-extensions --with inflect --with ruff copier ...`, or, in "
        "a generated service, `uv add --dev inflect` first"
    ) from missing

SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")

# Names written into the service's Python lines (import paths, the distribution's name in
# strings) are bounded, so that no line's layout depends on how long they are: the templates
# write lines that ruff keeps as they are, whatever the names, up to these lengths.
MAX_PACKAGE_NAME_LENGTH = 32
MAX_SLUG_LENGTH = 32

# Top-level packages every generated service already has: a name equal to one of them
# would shadow it on import.
GENERATED_TOP_LEVEL_PACKAGES = frozenset({"shared", "tests"})

# Plurals and articles come from inflect, a well-kept library of English rules, so that
# "status", "address", "person" and "analysis" are spelled as a reader expects.
_ENGLISH = inflect.engine()
# inflect reads these the classical way, as plurals of "datum" and "metadatum"; software uses
# them as mass nouns, the same word in both numbers, so a feature may be called "data".
for _mass_noun in ("data", "metadata"):
    _ENGLISH.defnoun(_mass_noun, _mass_noun)

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


# Templates ask for the same few plurals hundreds of times (every path and file of every
# feature); inflect's rules are slow enough for that to show.
@functools.lru_cache(maxsize=1024)
def plural_word(word: str) -> str:
    """Return the English plural of one lower-case noun (``"person"`` -> ``"people"``).

    Nouns that are the same in both numbers keep their spelling (``"series"``, ``"news"``,
    ``"data"``): a feature so named is served at ``/x`` and ``/x/{id}``, which works as well.
    """
    # inflect matches the case of its input, and reads a word without letters ("2") as upper
    # case ("2S"); names are lower case throughout.
    return _ENGLISH.plural_noun(word).lower() if word else word


def plural(value: str) -> str:
    """Pluralise the last word of a snake_case name: ``"purchase_order"`` -> ``"purchase_orders"``.

    Only the last word changes (``"sales_person"`` -> ``"sales_people"``), and the result keeps
    the input's separators, so it can be fed to :func:`kebab` or :func:`pascal` afterwards.
    """
    parts = words(value)
    if not parts:
        return value
    parts[-1] = plural_word(parts[-1])
    return "_".join(parts)


@functools.lru_cache(maxsize=1024)
def singular_word(word: str) -> str | None:
    """Return the singular of ``word`` if it is plainly a plural noun, otherwise ``None``.

    inflect's ``singular_noun`` also "singularises" singulars that end in s (``"bus"`` ->
    ``"bu"``, ``"analysis"`` -> ``"analysi"``), so a word counts as plural only when all three
    hold: inflect finds a different singular for it; pluralising that singular gives the word
    back; and inflect knows no plural of the word beyond appending an s (``"bus"`` ->
    ``"buses"`` shows inflect reads "bus" as a singular, ``"orders"`` -> ``"orderss"`` shows
    it has no idea). Nouns that are the same in both numbers (``"series"``) are not plural.
    Abbreviations that end in s read as plurals too (``"sms"`` -> ``"sm"``): such a feature
    takes a longer name (``sms_message``).
    """
    if not word:
        return None
    candidate = _ENGLISH.singular_noun(word)
    if not candidate or candidate == word:
        return None
    if plural_word(candidate) != word:
        return None
    if plural_word(word) != word + "s":
        return None
    return candidate


def singular(value: str) -> str | None:
    """Return the name with its last word made singular if that word is plainly plural.

    ``"purchase_orders"`` -> ``"purchase_order"``; ``"purchase_order"`` -> ``None``.
    """
    parts = words(value)
    if not parts or (last := singular_word(parts[-1])) is None:
        return None
    return "_".join([*parts[:-1], last])


def with_article(value: str) -> str:
    """Return ``value`` as lower-case words behind its indefinite article: ``"an invoice"``."""
    phrase = " ".join(words(value))
    return _ENGLISH.a(phrase) if phrase else phrase


def plural_problem(value: object, what: str = "feature") -> str:
    """Explain that a feature name is plainly plural, suggesting its singular, or return ``""``.

    Routes, tables and class names are derived from the singular (``purchase_order`` gives
    ``/purchase-orders``): a plural name would be pluralised again (``/purchase-orderss``).
    """
    if not isinstance(value, str):
        return ""
    suggestion = singular(value)
    if suggestion is None:
        return ""
    return f"{what} {value!r} looks plural; name it in the singular: {suggestion!r}"


def identifier_problem(value: object, what: str = "name", *, top_level: bool = False) -> str:
    """Explain why ``value`` can't be used as a snake_case Python identifier, or return ``""``.

    The message names ``what`` (for example ``"package_name"``) so that a prompt can show it
    as is. Checks: snake_case and not a Python keyword; for a ``top_level`` import name (the
    service's package) also at most ``MAX_PACKAGE_NAME_LENGTH`` characters, and not the name
    of a standard-library module or of a package every generated service has.
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
    if len(value) > MAX_PACKAGE_NAME_LENGTH:
        return (
            f"{what} {value!r} is {len(value)} characters long; "
            f"choose one of at most {MAX_PACKAGE_NAME_LENGTH}"
        )
    if value in GENERATED_TOP_LEVEL_PACKAGES:
        return f"{what} {value!r} would shadow the generated {value!r} package"
    if value in sys.stdlib_module_names:
        return f"{what} {value!r} would shadow the standard-library module {value!r}"
    return ""


KEBAB_CASE = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")


def slug_problem(value: object, what: str = "project_slug") -> str:
    """Explain why ``value`` can't be a distribution and command name, or return ``""``.

    It must be kebab-case and at most ``MAX_SLUG_LENGTH`` characters long.
    """
    if not isinstance(value, str) or not KEBAB_CASE.match(value):
        return (
            f"{what} {value!r} must be kebab-case "
            "(lower-case letters, digits and single hyphens, starting with a letter)"
        )
    if len(value) > MAX_SLUG_LENGTH:
        return (
            f"{what} {value!r} is {len(value)} characters long; "
            f"choose one of at most {MAX_SLUG_LENGTH}"
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
