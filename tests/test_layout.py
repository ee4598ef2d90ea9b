"""Statements laid out as ``ruff format`` leaves them: one line when it fits, else one a line."""

import shutil
import subprocess

import pytest

from extensions.layout import LINE_LENGTH, call_statement, import_statement, tuple_statement


def ruff_formatted(source: str) -> str:
    """``source`` as ``ruff format`` writes it, with the generated service's line length."""
    ruff = shutil.which("ruff")
    assert ruff is not None, "ruff is a development dependency of the template"
    command = [ruff, "format", f"--line-length={LINE_LENGTH}", "--stdin-filename=x.py", "-"]
    result = subprocess.run(command, input=source, capture_output=True, text=True, check=True)
    return result.stdout


def test_an_import_that_fits_takes_one_line() -> None:
    statement = import_statement(
        "shared.models.sales_models.order_dtos", ["OrderCreate", "OrderRead"]
    )
    assert statement == "from shared.models.sales_models.order_dtos import OrderCreate, OrderRead"


def test_an_import_that_does_not_fit_takes_one_name_a_line() -> None:
    module = "shared.models.inventory_management_ops_models.warehouse_transfer_order_dtos"
    names = ["WarehouseTransferOrderCreate", "WarehouseTransferOrderUpdate"]
    assert import_statement(module, names).splitlines() == [
        f"from {module} import (",
        "    WarehouseTransferOrderCreate,",
        "    WarehouseTransferOrderUpdate,",
        ")",
    ]


def test_a_call_that_fits_takes_one_line_at_its_indent() -> None:
    statement = call_statement("number: str = Field", ["max_length=255"], "    ")
    assert statement == "    number: str = Field(max_length=255)"


@pytest.mark.parametrize("width", [LINE_LENGTH - 1, LINE_LENGTH, LINE_LENGTH + 1])
def test_ruff_format_leaves_every_layout_as_it_is(width: int) -> None:
    # A call and an import just under, at and just over the line length: what ruff would
    # change, a generated service's `ruff format --check` would refuse.
    one_line_call = '    value: str = Field(default="", description="")'
    description = "x" * (width - len(one_line_call))
    call = call_statement(
        "value: str = Field", ['default=""', f'description="{description}"'], "    "
    )
    module = "shared." + "m" * (width - len("from shared. import Name, Other"))
    statement = import_statement(module, ["Name", "Other"])
    assert max(len(line) for line in (call + "\n" + statement).splitlines()) <= LINE_LENGTH
    source = f"{statement}\n\n\nclass Model:\n{call}\n"
    assert ruff_formatted(source) == source


@pytest.mark.parametrize("count", [1, 2, 5])
def test_ruff_format_leaves_a_tuple_as_it_is_with_one_item_or_several(count: int) -> None:
    # A one-item tuple's comma is no magic trailing comma: ruff keeps ("a",) on one line.
    items = [f'"/inventory-management-ops/warehouse-transfer-orders-{n}"' for n in range(count)]
    statement = tuple_statement("earlier_routes=", items, "    ")
    assert statement.count("\n") == (0 if count == 1 else count + 1)
    source = f"api = Api(\n{statement},\n)\n"
    assert ruff_formatted(source) == source
