"""Answer sets the template tests generate services from.

Each one exercises a different part of the questions: the defaults; every field type and
modifier, with names at their maximum length (which stretches every generated line); and
several features in several domains given as a ``features`` list, which refer to each other.
"""

from typing import Any

from extensions.fields import MAX_INDEXED_LENGTH

DEFAULT: dict[str, Any] = {"project_name": "Inventory Service"}

EVERY_FIELD_TYPE: dict[str, Any] = {
    "project_name": "Regional Warehouse Logistics Coordination Platform",
    # Names at their maximum length stretch every generated line: the slug and the package at
    # 32 characters (the slug derived from the project name would be longer, and is refused),
    # the domain and the feature at 24, and fields with long names beside short ones.
    "project_slug": "regional-warehouse-logistics-hub",
    "package_name": "regional_warehouse_logistics_hub",
    "domain": "inventory_management_ops",
    "feature": "warehouse_transfer_order",
    # The title and the handling instructions are as long as an index lets them be: the
    # service's tests store their longest values, in 4-byte characters, on every database.
    "fields": (
        f"title:str({MAX_INDEXED_LENGTH}):unique, notes:text?, mileage:int:index, "
        "fuel_level:float?, "
        "cost:decimal(12,3)=0.000, active:bool=false, serviced_on:date?, "
        "logged_at:datetime, external_ref:uuid:unique, "
        "status:enum(scheduled|in_progress|done)=scheduled, details:json?, "
        "code:str(4)?:index, label:str='n/a', "
        "destination_warehouse_code:str(64):unique, requested_delivery_date:date?, "
        "transfer_priority_category:enum(routine|expedited|emergency_override)=routine, "
        "declared_customs_value_eur:decimal(18,4)?, "
        f"handling_instructions_text:text({MAX_INDEXED_LENGTH})?:index"
    ),
}

# References of each kind: optional to a feature declared after it (product's category),
# to its own feature with cascade (a category's parent), required across domains (an order's
# product).
SEVERAL_FEATURES: dict[str, Any] = {
    "project_name": "Shop Service",
    "features": [
        {
            "domain": "catalog",
            "name": "product",
            "fields": (
                "name:str(120), sku:str(32):unique, price:decimal(10,2), "
                "category:ref(catalog.category)?"
            ),
        },
        {
            "domain": "catalog",
            "name": "category",
            "fields": (
                "title:str(80), position:int=0, parent:ref(catalog.category, on_delete=cascade)?"
            ),
        },
        {
            "domain": "sales",
            "name": "purchase_order",
            "fields": (
                "status:enum(draft|placed|shipped)=draft, placed_on:date?, notes:text?, "
                "product:ref(catalog.product)"
            ),
        },
    ],
}

ANSWER_SETS = {
    "default": DEFAULT,
    "every-field-type": EVERY_FIELD_TYPE,
    "several-features": SEVERAL_FEATURES,
}
