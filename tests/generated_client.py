"""A Python client generated from a served service's /openapi.json, as a team would make one.

openapi-python-client is a mainstream generator; what it makes of the document shows whether
the contract types well: one model per schema, one function per operation id, every
documented error status parsed into its problem model.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

from tests.conftest import Completed, run


def generate_client(openapi_url: str, directory: Path, package: str) -> Completed:
    """Generate the client package ``package`` into ``directory`` from the served document.

    The generator formats its output with ruff, found on PATH: this environment's.
    """
    tools = str(Path(sys.executable).parent)
    return run(
        [
            *(str(Path(tools) / "openapi-python-client"), "generate"),
            *("--url", openapi_url, "--meta", "none"),
            *("--output-path", str(directory / package)),
        ],
        cwd=directory,
        env={"PATH": tools + os.pathsep + os.environ.get("PATH", "")},
    )


class GeneratedClient:
    """The generated package, imported: its operations by module and its models by name."""

    def __init__(self, directory: Path, package: str) -> None:
        if str(directory) not in sys.path:
            sys.path.insert(0, str(directory))
        self.package = package
        self.models: ModuleType = importlib.import_module(f"{package}.models")

    def operations(self, tag: str) -> Any:
        """The operations of one tag (``catalog_products``), as modules by operation id."""
        modules = {}
        package = importlib.import_module(f"{self.package}.api.{tag}")
        for module in pkgutil.iter_modules(package.__path__):
            modules[module.name] = importlib.import_module(f"{package.__name__}.{module.name}")
        return SimpleNamespace(**modules)

    def authenticated(self, base_url: str, token: str) -> Any:
        """A client that sends ``token`` and raises on any status the document does not list.

        Use it as a context manager: that closes its connections.
        """
        module = importlib.import_module(f"{self.package}.client")
        return module.AuthenticatedClient(
            base_url=base_url, token=token, raise_on_unexpected_status=True
        )
