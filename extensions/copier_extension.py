"""The Jinja extension Copier loads: it registers the filters and globals templates use.

copier-template-extensions imports this file by path as a lone module, so the sibling
modules can't be reached with relative imports from here. The package is therefore loaded
once, by path, under a private name, and its functions are registered from there.
"""

from __future__ import annotations

import hashlib
import importlib.util
import secrets
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from jinja2 import Environment
from jinja2.ext import Extension

# One name per location of these files: `copier update` renders the old release and the new
# one in the same process, and each must run its own extensions, not the first one loaded.
_HERE = Path(__file__).resolve().parent
_PACKAGE = "copier_backend_service_extensions_" + hashlib.sha256(bytes(_HERE)).hexdigest()[:16]


def _load_package() -> ModuleType:
    if _PACKAGE in sys.modules:
        return sys.modules[_PACKAGE]
    spec = importlib.util.spec_from_file_location(
        _PACKAGE, _HERE / "__init__.py", submodule_search_locations=[str(_HERE)]
    )
    if spec is None or spec.loader is None:  # pragma: no cover - only on a broken checkout
        raise ImportError(f"can't load the template's extensions from {_HERE}")
    package = importlib.util.module_from_spec(spec)
    sys.modules[_PACKAGE] = package
    spec.loader.exec_module(package)
    return package


def _submodule(name: str) -> ModuleType:
    _load_package()
    return importlib.import_module(f"{_PACKAGE}.{name}")


def random_secret() -> str:
    """A fresh secret for signing the generated service's development tokens."""
    return secrets.token_urlsafe(48)


class BackendServiceExtension(Extension):
    """Register the template's filters and globals on Copier's Jinja environment."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        naming = _submodule("naming")
        fields = _submodule("fields")
        features = _submodule("features")
        formatting = _submodule("formatting")
        filters: dict[str, Any] = {
            "snake": naming.snake,
            "upper_snake": naming.upper_snake,
            "pascal": naming.pascal,
            "kebab": naming.kebab,
            "plural": naming.plural,
            "title": naming.title,
            "with_article": naming.with_article,
            "plural_problem": naming.plural_problem,
            "identifier_problem": naming.identifier_problem,
            "slug_problem": naming.slug_problem,
            "project_name_problem": naming.project_name_problem,
            "parse_fields": fields.parse_fields,
            "fields_problem": fields.fields_problem,
            "readme_row": fields.readme_row,
            "features_problem": features.features_problem,
            "features_fingerprint": features.features_fingerprint,
            "load_features": features.load_features,
            "migrated_features": features.migrated_features,
            "referenced_features": features.referenced_features,
            "retired_tables": features.retired_tables,
            "domains": features.domains,
            "revisions": features.revisions,
            "feature_renames": features.feature_renames,
            "table_drops": features.table_drops,
            "code_list": features.code_list,
            "python_literal": fields.python_literal,
            "python_tuple": fields.python_tuple,
            "field_assignment": fields.field_assignment,
            "python_formatted": formatting.python_formatted,
        }
        environment.filters.update(filters)
        environment.globals.update(
            {
                "random_secret": random_secret,
                # The longest str (or unique or indexed text) field, for the docs that say so.
                "max_indexed_length": fields.MAX_INDEXED_LENGTH,
            }
        )
