"""Every table model of the service, registered on the one metadata migrations are checked against.

Every module under ``shared.db.models`` is imported, so a table a team adds there is registered
without a list to keep in step.
"""

import importlib
import pkgutil

from sqlmodel import SQLModel

import shared.db.models


def _import_every_model_module() -> None:
    prefix = f"{shared.db.models.__name__}."
    for module in pkgutil.walk_packages(shared.db.models.__path__, prefix):
        importlib.import_module(module.name)


_import_every_model_module()

# The schema of every table of the service.
metadata = SQLModel.metadata
