"""Answer sets the template tests generate services from.

Each one exercises a different part of the questions: the defaults, every field type and
modifier with multi-word names, several features in several domains given as a ``features``
list, and names at their maximum length (which stretches every generated line).
"""

from typing import Any

DEFAULT: dict[str, Any] = {"project_name": "Inventory Service"}

EVERY_FIELD_TYPE: dict[str, Any] = {
    "project_name": "Fleet Ops",
    "domain": "fleet_management",
    "feature": "service_record",
    "fields": (
        "title:str(80):unique, notes:text?, mileage:int:index, fuel_level:float?, "
        "cost:decimal(12,3)=0.000, active:bool=false, serviced_on:date?, "
        "logged_at:datetime, external_ref:uuid:unique, "
        "status:enum(scheduled|in_progress|done)=scheduled, details:json?, "
        "code:str(4)?:index, label:str='n/a'"
    ),
}

SEVERAL_FEATURES: dict[str, Any] = {
    "project_name": "Shop Service",
    "features": [
        {
            "domain": "catalog",
            "name": "product",
            "fields": "name:str(120), sku:str(32):unique, price:decimal(10,2)",
        },
        {"domain": "catalog", "name": "category", "fields": "title:str(80), position:int=0"},
        {
            "domain": "sales",
            "name": "purchase_order",
            "fields": "status:enum(draft|placed|shipped)=draft, placed_on:date?, notes:text?",
        },
    ],
}

LONG_NAMES: dict[str, Any] = {
    "project_name": "Regional Warehouse Logistics Coordination Platform",
    # The slug and the package at their maximum length (32): the slug derived from the project
    # name would be longer, and is refused.
    "project_slug": "regional-warehouse-logistics-hub",
    "package_name": "regional_warehouse_logistics_hub",
    "domain": "inventory_management_ops",
    "feature": "warehouse_transfer_order",
    "fields": (
        "destination_warehouse_code:str(64):unique, requested_delivery_date:date?, "
        "transfer_priority_category:enum(routine|expedited|emergency_override)=routine, "
        "declared_customs_value_eur:decimal(18,4)?, handling_instructions_text:text?"
    ),
}

ANSWER_SETS = {
    "default": DEFAULT,
    "every-field-type": EVERY_FIELD_TYPE,
    "several-features": SEVERAL_FEATURES,
    "long-names": LONG_NAMES,
}
