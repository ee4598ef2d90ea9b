"""Unit tests of ``extensions.formatting``, checked against ruff itself.

Every layout the module produces is placed in a small Python file and handed to ``ruff
format --check`` and ruff's isort (``ruff check --select I``): generated code must need no
formatter run. Calls and import lines are also compared with what ruff makes of the same
code written on one line, so that the module lays code out exactly as ruff would, not only
in some other layout that ruff happens to keep.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from extensions.features import Feature, load_features, registry_imports, table_imports
from extensions.fields import parse_field
from extensions.formatting import (
    INDENT,
    LINE_LENGTH,
    braced,
    field_line,
    import_block,
    import_line,
    quoted_items,
    wrap_call,
    wrap_collection,
)

# First-party packages of a generated service (see copier_extension.FIRST_PARTY), with its
# app package.
FIRST_PARTY = ("shared", "factories", "conftest", "shop_service")


# -- Running ruff -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ruff:
    """The project's ruff, run with a configuration of its own in a scratch directory."""

    executable: str
    config: Path

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.executable, *args, "--config", str(self.config), "--no-cache"],
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            cwd=self.config.parent,
        )

    def assert_formatted(self, path: Path) -> None:
        """``ruff format`` would change nothing in ``path``."""
        result = self.run("format", "--check", "--diff", "--line-length", "100", str(path))
        assert result.returncode == 0, (
            f"ruff format would change:\n{path.read_text()}\n{result.stdout}{result.stderr}"
        )

    def assert_imports_sorted(self, path: Path) -> None:
        """Ruff's isort would change nothing in ``path``."""
        result = self.run("check", "--select", "I", "--diff", str(path))
        assert result.returncode == 0, (
            f"ruff's isort would change:\n{path.read_text()}\n{result.stdout}{result.stderr}"
        )

    def format(self, source: str) -> str:
        """What ``ruff format`` makes of ``source``."""
        result = self.run("format", "--stdin-filename", "flat.py", "-", stdin=source)
        assert result.returncode == 0, result.stderr
        return result.stdout


@pytest.fixture(scope="module")
def ruff(tmp_path_factory: pytest.TempPathFactory) -> Ruff:
    """The ruff installed next to this interpreter, configured as a generated service is."""
    executable = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if executable is None:
        pytest.fail("ruff is needed to check layouts; install the dev dependencies (uv sync)")
    config = tmp_path_factory.mktemp("ruff") / "ruff.toml"
    first_party = ", ".join(f'"{name}"' for name in FIRST_PARTY)
    config.write_text(
        f'line-length = {LINE_LENGTH}\ntarget-version = "py311"\n\n'
        f'[lint]\nselect = ["I"]\n\n[lint.isort]\nknown-first-party = [{first_party}]\n'
    )
    return Ruff(executable, config)


def write(tmp_path: Path, source: str) -> Path:
    path = tmp_path / "generated.py"
    path.write_text(source)
    return path


def nest(statement: str, indent: int, *, body: bool = False) -> str:
    """Place ``statement`` (first line unindented) ``indent`` blocks deep in a module.

    With ``body``, the statement opens a block (``def ...:``, ``if ...:``) and gets one.
    """
    # Function bodies: ruff wants no blank line between ``def`` and a nested ``def``.
    lines = [f"{INDENT * level}def scope_{level}():" for level in range(indent)]
    lines.append(INDENT * indent + statement)
    if body:
        lines.append(INDENT * (indent + 1) + "pass")
    return "\n".join(lines) + "\n"


def in_audit_chain(line: str) -> str:
    """Place a ``.method(...)`` line in a call chain, as the audit repository does."""
    audit = "WarehouseTransferOrderAudit"
    return (
        "def scope_0():\n"
        "    def scope_1():\n"
        "        statement = (\n"
        f"            select({audit})\n"
        "            .where(entity_id_column == warehouse_transfer_order_id)\n"
        f"            {line}\n"
        "        )\n"
    )


def in_page_chain(line: str) -> str:
    """Place a call at the head of a call chain, as the feature repository does."""
    return (
        "def scope_0():\n"
        "    def scope_1():\n"
        "        page = (\n"
        f"            {line}\n"
        "            .offset(query.offset)\n"
        "            .limit(query.limit)\n"
        "        )\n"
    )


# -- wrap_call ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One ``wrap_call`` input and the layout it must get."""

    head: str
    args: tuple[str, ...]
    indent: int = 0
    tail: str = ""
    # Places the rendered call in a module; by default, ``indent`` function bodies deep.
    context: Callable[[str], str] | None = None

    def render(self) -> str:
        return wrap_call(self.head, list(self.args), self.indent, self.tail)

    def flat(self) -> str:
        return f"{self.head}({', '.join(self.args)}){self.tail}"

    def module(self, statement: str) -> str:
        if self.context is not None:
            return self.context(statement)
        return nest(statement, self.indent, body=self.tail.endswith(":"))


def args_of_length(total: int, count: int) -> tuple[str, ...]:
    """``count`` keyword arguments that are ``total`` characters long once joined by ", "."""
    room = total - 2 * (count - 1)
    lengths = [room // count + (1 if i < room % count else 0) for i in range(count)]
    args = tuple(f"a{i}=" + "x" * (length - len(f"a{i}=")) for i, length in enumerate(lengths))
    assert len(", ".join(args)) == total
    return args


# (head, tail): an assignment, an annotated one, a def, an if, a bare call.
HEADS = [
    ("value = build", ""),
    ("name: str = Field", ""),
    ("def create_purchase_order", " -> PurchaseOrder:"),
    ("if self.purchase_order_repo.exists_with", ":"),
    ("self.logger.info", ""),
]
# Boundaries: (name, expected number of lines, joined-arguments length for a call).
BOUNDARIES = ["one line, full", "one line, one over", "hugged, full", "hugged, one over"]


def boundary_call(head: str, tail: str, indent: int, boundary: str) -> tuple[Call, int]:
    """A call right at one of wrap_call's boundaries, and how many lines it must take."""
    outer = len(INDENT * indent)
    inner = len(INDENT * (indent + 1))
    one_line_room = LINE_LENGTH - outer - len(head) - len("()") - len(tail)
    total, lines = {
        "one line, full": (one_line_room, 1),
        "one line, one over": (one_line_room + 1, 3),
        "hugged, full": (LINE_LENGTH - inner, 3),
        "hugged, one over": (LINE_LENGTH - inner + 1, 3 + 2),
    }[boundary]
    return Call(head, args_of_length(total, 3), indent, tail), lines


BOUNDARY_CASES = [
    pytest.param(head, tail, indent, boundary, id=f"{head.split()[0]}-indent{indent}-{boundary}")
    for head, tail in HEADS
    for indent in range(4)
    for boundary in BOUNDARIES
]

# Shapes the templates produce, with names from the long-names answer set.
TEMPLATE_CALLS = {
    "router": Call(
        "router = APIRouter",
        (
            'prefix="/inventory-management-ops/warehouse-transfer-orders"',
            'tags=["Inventory Management Ops: Warehouse Transfer Orders"]',
            "dependencies=[Depends(get_current_user)]",
        ),
    ),
    "router, short": Call(
        "router = APIRouter",
        ('prefix="/shop/items"', 'tags=["Shop: Items"]', "dependencies=[Depends(get_user)]"),
    ),
    "service method": Call(
        "def list_warehouse_transfer_orders",
        ("self", "query: WarehouseTransferOrderListQuery"),
        1,
        " -> tuple[list[WarehouseTransferOrder], int]:",
    ),
    "service method, short": Call("def get_item", ("self", "item_id: str"), 1, " -> Item:"),
    "repository method": Call(
        "def get_by_warehouse_transfer_order_id",
        ("self", "warehouse_transfer_order_id: str"),
        1,
        " -> list[WarehouseTransferOrderAudit]:",
    ),
    "router function": Call(
        "def update_warehouse_transfer_order",
        (
            "warehouse_transfer_order_id: str",
            "data: WarehouseTransferOrderUpdate",
            "current_user: CurrentUser",
            "session: SessionDep",
        ),
        0,
        " -> WarehouseTransferOrderRead:",
    ),
    "audit record": Call(
        "self._record",
        (
            "warehouse_transfer_order",
            "Action.WAREHOUSE_TRANSFER_ORDER_CREATED",
            "created_by_user",
        ),
        3,
    ),
    "log line": Call(
        "self.logger.info",
        (
            '"warehouse_transfer_order.updated"',
            "warehouse_transfer_order_id=warehouse_transfer_order_id",
            "user_id=updated_by_user.id",
            "fields=list(updates)",
        ),
        3,
    ),
    "if with a colon": Call(
        "if self.warehouse_transfer_order_repo.exists_with",
        ("field", "values[field]", "exclude_id=exclude_id"),
        3,
        ":",
    ),
    "assignment from a call": Call(
        "created = service.create_warehouse_transfer_order",
        ("data=data", "created_by_user=current_user.to_minimal_user()"),
        1,
    ),
    "test request": Call(
        "response = client.patch",
        (
            'f"{URL}/no-such-id"',
            'json={"destination_warehouse_code": "changed"}',
            "headers=auth_headers",
        ),
        1,
    ),
    "call chain": Call(
        ".order_by",
        (
            "col(WarehouseTransferOrderAudit.created_at).desc()",
            "col(WarehouseTransferOrderAudit.id).desc()",
        ),
        3,
        context=in_audit_chain,
    ),
    "call chain, short": Call(
        ".order_by",
        ("col(ItemAudit.created_at).desc()", "col(ItemAudit.id).desc()"),
        3,
        context=in_audit_chain,
    ),
    "head of a call chain": Call(
        "statement.order_by",
        ("col(WarehouseTransferOrder.created_at)", "col(WarehouseTransferOrder.id)"),
        3,
        context=in_page_chain,
    ),
    "head of a call chain, short": Call(
        "statement.order_by",
        ("col(Item.created_at)", "col(Item.id)"),
        3,
        context=in_page_chain,
    ),
    "repository list method": Call(
        "def list_page",
        ("self", "query: WarehouseTransferOrderListQuery"),
        1,
        " -> tuple[list[WarehouseTransferOrder], int]:",
    ),
    "not-nullable set, short": Call(
        "NOT_NULLABLE: ClassVar[frozenset[str]] = frozenset", ('{"sku", "name"}',), 1
    ),
    "not-nullable set, hugged": Call(
        "NOT_NULLABLE: ClassVar[frozenset[str]] = frozenset",
        ('{"destination_warehouse_code", "requested_delivery_date", "transfer_priority"}',),
        1,
    ),
    "no arguments": Call("value = build", ()),
    "one short argument": Call("value = build", ("a",), 2),
    "one long argument": Call("value = build", ("a0=" + "x" * 100,), 1),
}


@pytest.mark.parametrize(("head", "tail", "indent", "boundary"), BOUNDARY_CASES)
def test_wrap_call_boundaries(
    ruff: Ruff, tmp_path: Path, head: str, tail: str, indent: int, boundary: str
) -> None:
    call, lines = boundary_call(head, tail, indent, boundary)
    rendered = call.render()
    # The case is where it claims to be: right at a boundary of the layout.
    assert len(rendered.splitlines()) == lines
    module = call.module(rendered)
    ruff.assert_formatted(write(tmp_path, module))
    assert ruff.format(call.module(call.flat())) == module


@pytest.mark.parametrize("call", TEMPLATE_CALLS.values(), ids=TEMPLATE_CALLS.keys())
def test_wrap_call_needs_no_formatting(ruff: Ruff, tmp_path: Path, call: Call) -> None:
    ruff.assert_formatted(write(tmp_path, call.module(call.render())))


@pytest.mark.parametrize("call", TEMPLATE_CALLS.values(), ids=TEMPLATE_CALLS.keys())
def test_wrap_call_lays_out_as_ruff_does(ruff: Ruff, call: Call) -> None:
    assert call.module(call.render()) == ruff.format(call.module(call.flat()))


def test_wrap_call_layouts() -> None:
    assert wrap_call("x = f", ["a", "b"]) == "x = f(a, b)"
    assert wrap_call("def f", ["self"], 1, " -> None:") == "def f(self) -> None:"
    assert wrap_call("x = f", []) == "x = f()"
    hugged = wrap_call("x = f", ["a" * 60, "b" * 30], 1)
    assert hugged == f"x = f(\n        {'a' * 60}, {'b' * 30}\n    )"
    exploded = wrap_call("x = f", ["a" * 60, "b" * 60], 2, ":")
    assert exploded == f"x = f(\n            {'a' * 60},\n            {'b' * 60},\n        ):"


# -- field_line ---------------------------------------------------------------------------------

OWNER = "warehouse_transfer_order"
FIELD_SPECS = [
    "destination_warehouse_code:str(64):unique",
    "requested_delivery_date:date?",
    "transfer_priority_category:enum(routine|expedited|emergency_override)=routine",
    "declared_customs_value_eur:decimal(18,4)?=0",
    "handling_instructions_text:text?:index",
    "long_field_name_of_thirty_char:datetime?:index=2024-01-01T00:00:00Z",
    "tracking_reference:uuid:unique",
    "extra_payload_for_integrations:json?",
    "name:str",
    "quantity:int",
]


def field_lines(spec_text: str) -> list[tuple[str, str, list[str]]]:
    """The (name, annotation, args) of the table, create and update lines of a field."""
    spec = parse_field(spec_text, OWNER)
    return [
        (spec.name, spec.annotation, spec.table_field_args()),
        (spec.name, spec.annotation, spec.create_field_args()),
        (spec.name, f"{spec.python_type} | None", spec.update_field_args()),
    ]


FIELD_LINES = [
    pytest.param(name, annotation, args, id=f"{name}-{kind}")
    for spec_text in FIELD_SPECS
    for kind, (name, annotation, args) in zip(
        ("table", "create", "update"), field_lines(spec_text), strict=True
    )
] + [
    pytest.param(
        "warehouse_transfer_order_id",
        "str",
        ['foreign_key="warehouse_transfer_order.id"', "index=True", "max_length=ID_LENGTH"],
        id="audit foreign key",
    ),
    pytest.param(
        "action_code",
        "WarehouseTransferOrderAuditActionCodeEnum",
        ["sa_type=enum_column(WarehouseTransferOrderAuditActionCodeEnum)"],
        id="audit action code",
    ),
]


@pytest.mark.parametrize(("name", "annotation", "args"), FIELD_LINES)
def test_field_line_needs_no_formatting(
    ruff: Ruff, tmp_path: Path, name: str, annotation: str, args: list[str]
) -> None:
    line = field_line(name, annotation, args)
    module = f"class Model:\n{INDENT}{line}\n"
    ruff.assert_formatted(write(tmp_path, module))
    flat = f"{name}: {annotation} = Field({', '.join(args)})" if args else f"{name}: {annotation}"
    assert ruff.format(f"class Model:\n{INDENT}{flat}\n") == module


def test_field_line_without_arguments_is_a_plain_annotation() -> None:
    assert field_line("name", "str", []) == "name: str"
    assert (
        field_line("note", "str | None", ["default=None"])
        == "note: str | None = Field(default=None)"
    )


# -- import_line --------------------------------------------------------------------------------


def names_for_length(module: str, length: int) -> list[str]:
    """Names, in isort order, that make ``from module import ...`` exactly ``length`` long."""
    head = f"from {module} import "
    room = length - len(head)
    count = max(1, room // 12)
    sizes = [(room - 2 * (count - 1)) // count] * count
    sizes[0] += (room - 2 * (count - 1)) - sum(sizes)
    names = [f"name_{i:02d}_" + "x" * (size - 8) for i, size in enumerate(sizes)]
    assert len(head + ", ".join(names)) == length
    return names


SERVICES = "shared.services.sales_services"
IMPORT_LINES = {
    "short": ("sqlmodel", ["Field", "SQLModel"]),
    "one name": ("typing", ["Any"]),
    "constants, classes, functions": (
        "shared.db.models.base_model",
        ["ID_LENGTH", "BaseDBModelMixin", "UTCDateTime", "enum_column", "new_id", "utc_now"],
    ),
    "exactly 100": (SERVICES, names_for_length(SERVICES, 100)),
    "exactly 101": (SERVICES, names_for_length(SERVICES, 101)),
    "long module": (
        "shared.services.inventory_management_ops_services.warehouse_transfer_order_editor_service",
        ["WarehouseTransferOrderEditorService"],
    ),
    "dto names": (
        "shared.models.inventory_management_ops_models.warehouse_transfer_order_dtos",
        [
            "WarehouseTransferOrderAuditRead",
            "WarehouseTransferOrderCreate",
            "WarehouseTransferOrderListQuery",
            "WarehouseTransferOrderRead",
            "WarehouseTransferOrderUpdate",
        ],
    ),
    "one name too long for a line": (
        "shared.db.repositories.inventory_management_ops_repository",
        ["warehouse_transfer_order_repository_with_a_name_long_enough_to_need_a_line"],
    ),
}


@pytest.mark.parametrize(("module", "names"), IMPORT_LINES.values(), ids=IMPORT_LINES.keys())
def test_import_line_needs_no_formatting(
    ruff: Ruff, tmp_path: Path, module: str, names: list[str]
) -> None:
    line = import_line(module, names)
    path = write(tmp_path, line + "\n")
    ruff.assert_formatted(path)
    ruff.assert_imports_sorted(path)
    assert ruff.format(f"from {module} import {', '.join(names)}\n") == line + "\n"


def test_import_line_layouts() -> None:
    assert import_line("typing", ["Any", "ClassVar"]) == "from typing import Any, ClassVar"
    names = names_for_length("m", 101)
    assert (
        import_line("m", names)
        == "from m import (\n" + "".join(f"    {name},\n" for name in names) + ")"
    )
    assert import_line("m", names[:-1]) == f"from m import {', '.join(names[:-1])}"


# -- import_block -------------------------------------------------------------------------------

LONG_FEATURE = Feature(
    domain="inventory_management_ops",
    name="warehouse_transfer_order",
    fields_spec="transfer_priority_category:enum(routine|expedited), requested_on:date, "
    "payment_method:enum(cash|card), external_ref:uuid, value:decimal(18,4)",
)
SEVERAL = load_features(
    [
        {"domain": "catalog", "name": "product", "fields": "name:str"},
        {"domain": "catalog", "name": "category", "fields": "title:str"},
        {"domain": "sales", "name": "purchase_order", "fields": "status:enum(a|b)"},
        {"domain": "sales", "name": "order_line", "fields": "quantity:int"},
        {"domain": "people_ops", "name": "sales_person", "fields": "full_name:str"},
    ]
)
NUMBERED = load_features(
    [
        {"domain": "sales", "name": "line2", "fields": "a:int"},
        {"domain": "sales", "name": "line10", "fields": "a:int"},
        {"domain": "sales", "name": "line1", "fields": "a:int"},
    ]
)
PAYMENT = Feature(
    domain="sales",
    name="order",
    fields_spec="pay_method:enum(cash|card), payment:enum(full|partial), status:enum(a|b)",
)


def service_imports(feature: Feature) -> list[str]:
    """The imports of an editor service module, as its template lists them."""
    entity, name, domain = feature.class_name, feature.name, feature.domain
    return [
        "typing.Any",
        "pydantic_core.to_jsonable_python",
        "sqlmodel.Session",
        f"{feature.module}.{entity}",
        f"shared.db.models.audit_models.audit_enums.{feature.audit_enum}",
        f"shared.db.models.audit_models.{name}_audit.{entity}Audit",
        "shared.db.models.base_model.utc_now",
        f"shared.db.repositories.audit_repository.{name}_audit_repository.{entity}AuditRepository",
        f"shared.db.repositories.{domain}_repository.{name}_repository.{entity}Repository",
        "shared.db.transaction.transaction",
        "shared.errors.ConflictError",
        "shared.errors.NotFoundError",
        "shared.logging.logger.get_logger",
        "shared.models.minimal_user.MinimalUser",
        f"shared.models.{domain}_models.{name}_dtos.{entity}Create",
        f"shared.models.{domain}_models.{name}_dtos.{entity}ListQuery",
        f"shared.models.{domain}_models.{name}_dtos.{entity}Update",
    ]


def dto_imports(feature: Feature) -> list[str]:
    """The imports of a DTO module, as its template lists them."""
    return [
        *feature.type_imports,
        "datetime.datetime",
        "typing.Any",
        "typing.ClassVar",
        "pydantic.BaseModel",
        "pydantic.Field",
        f"shared.db.models.audit_models.audit_enums.{feature.audit_enum}",
        *feature.enum_imports,
        "shared.models.dto_base.InputDTO",
        "shared.models.dto_base.ListQuery",
        "shared.models.dto_base.UpdateDTO",
    ]


def table_module_imports(feature: Feature) -> list[str]:
    """The imports of a table module, as its template lists them."""
    return [
        *feature.type_imports,
        *feature.column_imports,
        "sqlmodel.Field",
        "shared.db.models.base_model.BaseDBModelMixin",
        "shared.db.models.base_model.EntityBase",
    ]


AUTH_IMPORTS = [
    "datetime.UTC",
    "datetime.datetime",
    "datetime.timedelta",
    "typing.Annotated",
    "typing.Any",
    "jwt",
    "fastapi.Depends",
    "fastapi.security.HTTPAuthorizationCredentials",
    "fastapi.security.HTTPBearer",
    "pydantic.BaseModel",
    "pydantic.Field",
    "shop_service.settings.Settings",
    "shop_service.settings.SettingsDep",
    "shared.errors.AuthenticationError",
    "shared.models.minimal_user.MinimalUser",
]

IMPORT_BLOCKS: dict[str, list[str]] = {
    "auth module": AUTH_IMPORTS,
    "auth module, shuffled with repeats": [*reversed(AUTH_IMPORTS), *AUTH_IMPORTS[::3]],
    "cli module": [
        "datetime.timedelta",
        "typing.Annotated",
        "typer",
        "uvicorn",
        "pydantic.ValidationError",
        "sqlmodel.Session",
        "shop_service.app.create_app",
        "shop_service.auth.create_access_token",
        "shop_service.db.create_db_engine",
        "shop_service.db.create_schema",
        "shop_service.features.AUDIT_TRAILS",
        "shop_service.settings.Settings",
        "shared.errors.NotFoundError",
    ],
    "test module": [
        "collections.abc.Iterator",
        "pytest",
        "fastapi.FastAPI",
        "fastapi.testclient.TestClient",
        "pydantic.SecretStr",
        "sqlalchemy.Engine",
        "sqlmodel.Session",
        "shop_service.app.create_app",
        "shop_service.auth.create_access_token",
        "shop_service.db.create_schema",
        "shop_service.settings.Settings",
        "factories.TEST_SECRET",
        "factories.TEST_USER",
    ],
    "plain imports in every section": ["os", "sys", "json", "typer", "jwt", "shared", "factories"],
    "plain and from imports of one module": ["os", "os.path.join", "pytest", "pytest.mark"],
    "only the standard library": ["collections.abc.Callable", "collections.abc.Sequence", "re"],
    "only first party": ["shared.errors.NotFoundError", "shop_service.db.SessionDep"],
    "long editor service": service_imports(LONG_FEATURE),
    "long dto module": dto_imports(LONG_FEATURE),
    "long table module": table_module_imports(LONG_FEATURE),
    "tables of several features": table_imports(SEVERAL),
    "registry of several features": [
        "collections.abc.Callable",
        "collections.abc.Sequence",
        "datetime.datetime",
        "typing.Protocol",
        "fastapi.APIRouter",
        "sqlmodel.Session",
        *registry_imports(SEVERAL, "shop_service"),
    ],
    # Names that only sort right case-insensitively, or in natural (numeric) order.
    "enum classes differing in case": dto_imports(PAYMENT),
    "numbered feature tables": table_imports(NUMBERED),
    "numbered feature routers": registry_imports(NUMBERED, "shop_service"),
    "constants with underscores": ["factories.TEST_USER", "factories.TESTS", "factories.TEST"],
}


@pytest.mark.parametrize("dotted", IMPORT_BLOCKS.values(), ids=IMPORT_BLOCKS.keys())
def test_import_block_needs_no_sorting_or_formatting(
    ruff: Ruff, tmp_path: Path, dotted: Sequence[str]
) -> None:
    path = write(tmp_path, import_block(dotted, first_party=FIRST_PARTY) + "\n")
    ruff.assert_imports_sorted(path)
    ruff.assert_formatted(path)


def test_import_block_layout() -> None:
    assert import_block(AUTH_IMPORTS, first_party=FIRST_PARTY) == (
        "from datetime import UTC, datetime, timedelta\n"
        "from typing import Annotated, Any\n"
        "\n"
        "import jwt\n"
        "from fastapi import Depends\n"
        "from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer\n"
        "from pydantic import BaseModel, Field\n"
        "\n"
        "from shared.errors import AuthenticationError\n"
        "from shared.models.minimal_user import MinimalUser\n"
        "from shop_service.settings import Settings, SettingsDep"
    )


def test_import_block_first_party_defaults_to_shared() -> None:
    assert import_block(["shop_service.db.SessionDep", "shared.errors.DomainError", "re"]) == (
        "import re\n\n"
        "from shop_service.db import SessionDep\n\n"
        "from shared.errors import DomainError"
    )


def test_import_block_of_nothing_is_empty() -> None:
    assert import_block([]) == ""


# -- wrap_collection and quoted_items ----------------------------------------------------------


def test_quoted_items() -> None:
    assert quoted_items([]) == []
    assert quoted_items(iter(["sku", "name"])) == ['"sku"', '"name"']


@pytest.mark.parametrize(
    ("items", "brackets", "expected"),
    [
        ([], "()", "X = ()"),
        (['"a"'], "()", 'X = ("a",)'),
        (['"a"', '"b"'], "()", 'X = ("a", "b")'),
        (['"a"'], "[]", 'X = ["a"]'),
        (['"a"', '"b"'], "{}", 'X = {"a", "b"}'),
    ],
)
def test_wrap_collection_keeps_short_literals_on_one_line(
    items: list[str], brackets: str, expected: str
) -> None:
    assert wrap_collection("X = ", items, brackets) == expected


MANY_FIELDS = [
    "sku",
    "name",
    "description",
    "price",
    "quantity",
    "weight",
    "released_on",
    "category",
    "supplier_code",
    "barcode",
]
UNIQUE_NAMES = [
    "destination_warehouse_code",
    "external_tracking_reference",
    "customs_declaration_id",
]


@pytest.mark.parametrize(
    "names",
    [[], ["sku"], ["sku", "barcode"], MANY_FIELDS[:5], UNIQUE_NAMES, MANY_FIELDS],
    ids=["none", "one", "two", "five", "three long", "ten"],
)
def test_unique_fields_tuple_needs_no_formatting(
    ruff: Ruff, tmp_path: Path, names: list[str]
) -> None:
    # As the editor service template writes it.
    line = wrap_collection("UNIQUE_FIELDS: tuple[str, ...] = ", quoted_items(names), "()")
    ruff.assert_formatted(write(tmp_path, line + "\n"))


@pytest.mark.parametrize(
    "names",
    [["sku"], MANY_FIELDS[:6], MANY_FIELDS, UNIQUE_NAMES],
    ids=["one", "six", "ten", "three long"],
)
def test_not_nullable_class_attribute_needs_no_formatting(
    ruff: Ruff, tmp_path: Path, names: list[str]
) -> None:
    # As the DTO template writes it, one level into a class body.
    line = wrap_collection(
        "NOT_NULLABLE: ClassVar[tuple[str, ...]] = ", quoted_items(names), "()", 1
    )
    module = f"from typing import ClassVar\n\n\nclass Update:\n    {line}\n"
    ruff.assert_formatted(write(tmp_path, module))


@pytest.mark.parametrize(
    "names",
    [["sku"], ["sku", "name"], MANY_FIELDS[:6], MANY_FIELDS, UNIQUE_NAMES],
    ids=["one", "two", "six", "ten", "three long"],
)
def test_field_list_constant_needs_no_formatting(
    ruff: Ruff, tmp_path: Path, names: list[str]
) -> None:
    # As the API test template writes REQUIRED_FIELDS and UNIQUE_FIELDS.
    line = wrap_collection("REQUIRED_FIELDS = ", quoted_items(names), "[]")
    ruff.assert_formatted(write(tmp_path, line + "\n"))


def test_braced() -> None:
    assert braced("purchase_order_id") == "{purchase_order_id}"
    # As the templates use it: a path parameter and an f-string field.
    route = f'@router.get("/{braced("item_id")}")'
    assert route == '@router.get("/{item_id}")'
    message = f'msg = f"{{NOUN}} {braced("item_id")} not found"'
    names = [node.id for node in ast.walk(ast.parse(message)) if isinstance(node, ast.Name)]
    assert names == ["msg", "NOUN", "item_id"]


@pytest.mark.parametrize("length", [60, 84, 85, 86, 120])
def test_a_collection_inside_another_counts_its_trailing_comma(
    ruff: Ruff, tmp_path: Path, length: int
) -> None:
    # As the property-test template lists (method, path) pairs, one level into a list.
    path = "/" + "p" * length
    item = wrap_collection("", ['"POST"', f'"{path}"'], "()", 1, ",")
    module = f"OPERATIONS = [\n    {item}\n]\n"
    ruff.assert_formatted(write(tmp_path, module))
