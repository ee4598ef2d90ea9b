"""Clients generated from a served service's /openapi.json, as a team would make them.

openapi-python-client is a mainstream generator; what it makes of the document shows whether
the contract types well: one model per schema, one function per operation id, every
documented error status parsed into its problem model. On the TypeScript side,
openapi-typescript types the document and openapi-fetch calls it, compiled by ``tsc
--strict``: the usual pair for a typed client there.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import shutil
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


# The TypeScript packages, at versions that run on the machine's Node.js (20).
TYPESCRIPT_PACKAGES = (
    "openapi-typescript@7.13.0",
    "openapi-fetch@0.17.0",
    "typescript@5.9.3",
    "@types/node@20",
)
TSCONFIG = {
    "compilerOptions": {
        "strict": True,
        "target": "es2022",
        "module": "nodenext",
        "moduleResolution": "nodenext",
        "types": ["node"],
        "outDir": "dist",
    },
}


def generate_typescript_client(openapi_url: str, directory: Path, *sources: Path) -> Completed:
    """Install the TypeScript tools into ``directory``, type the document into ``api.d.ts``
    and compile ``sources`` (copied there) with ``tsc --strict``: the last step's result.

    openapi-typescript makes a property with a default required unless told otherwise
    (``--default-non-nullable``), which is right for responses but not for request bodies,
    where the service fills the default in.
    """
    npm = shutil.which("npm")
    if npm is None:
        msg = "npm is needed to build the TypeScript client (Node.js 20 and its npm)"
        raise RuntimeError(msg)
    package = {"private": True, "type": "module"}
    (directory / "package.json").write_text(json.dumps(package))
    names = [source.name for source in sources]
    (directory / "tsconfig.json").write_text(json.dumps({**TSCONFIG, "files": names}))
    for source in sources:
        shutil.copy(source, directory / source.name)
    install = [npm, "install", "--no-audit", "--no-fund", *TYPESCRIPT_PACKAGES]
    installed = run(install, cwd=directory)
    if installed.returncode != 0:
        return installed
    tools = directory / "node_modules" / ".bin"
    typed = run(
        [
            str(tools / "openapi-typescript"),
            openapi_url,
            *("--output", "api.d.ts", "--default-non-nullable", "false"),
        ],
        cwd=directory,
    )
    if typed.returncode != 0 or "warn" in (typed.stdout + typed.stderr).lower():
        return typed
    return run([str(tools / "tsc"), "-p", "."], cwd=directory)
