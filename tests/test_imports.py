"""The import order the templates ask for where the answers decide it: ruff's isort order."""

from extensions.imports import from_imports, member_order, section_of


def test_modules_are_sorted_and_names_grouped_by_module() -> None:
    entries = [
        "shared.services.sales_services.order_editor_service.OrderEditorService",
        "shared.db.models.audit_models.order_audit.OrderAudit",
        "shared.db.models.accounting_models.ledger.Ledger",
        "shared.db.models.audit_models.audit_enums.OrderAuditActionCodeEnum",
        "shared.db.models.audit_models.audit_enums.LedgerAuditActionCodeEnum",
    ]
    assert from_imports(entries) == [
        ("shared.db.models.accounting_models.ledger", ["Ledger"]),
        (
            "shared.db.models.audit_models.audit_enums",
            ["LedgerAuditActionCodeEnum", "OrderAuditActionCodeEnum"],
        ),
        ("shared.db.models.audit_models.order_audit", ["OrderAudit"]),
        ("shared.services.sales_services.order_editor_service", ["OrderEditorService"]),
    ]


def test_names_are_constants_then_classes_then_the_rest_in_natural_order() -> None:
    names = ["enum_column", "EntityBase", "JSON_DOCUMENT", "item10", "item2", "BaseDBModelMixin"]
    assert member_order(names) == [
        "JSON_DOCUMENT",
        "BaseDBModelMixin",
        "EntityBase",
        "enum_column",
        "item2",
        "item10",
    ]


def test_sections_split_standard_library_third_party_and_first_party() -> None:
    entries = ["uuid.UUID", "sqlalchemy.Text", "shared.db.models.base_model.EntityBase"]
    assert section_of("datetime") == "standard-library"
    assert section_of("sqlmodel.main") == "third-party"
    assert section_of("factories") == "first-party"
    assert from_imports(entries, "standard-library") == [("uuid", ["UUID"])]
    assert from_imports(entries, "third-party") == [("sqlalchemy", ["Text"])]
    assert from_imports(entries, "first-party") == [("shared.db.models.base_model", ["EntityBase"])]
