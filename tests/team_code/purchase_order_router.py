"""REST endpoints of the purchase order feature under ``/sales/purchase-orders``."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Response

from shared.models.sales_models.purchase_order_dtos import PurchaseOrderListQuery, PurchaseOrderRead
from shared.services.sales_services.purchase_order_editor_service import PurchaseOrderEditorService

from inventory_service.auth import EnrichedUser
from inventory_service.db import in_worker_thread
from inventory_service.errors import problem_responses
from inventory_service.preconditions import IfMatch, set_etag
from inventory_service.routers.feature_router import CHANGE_ERRORS, FeatureApi, feature_router

api = FeatureApi(
    service=PurchaseOrderEditorService,
    route="/sales/purchase-orders",
    tag="Sales: Purchase Orders",
    plural="purchase_orders",
    read_model=PurchaseOrderRead,
    list_query=PurchaseOrderListQuery,
)
# Readers need "purchase_order:read", writers "purchase_order:write". The shared routes come from
# feature_router (template-owned); the purchase order's own routes go on this router.
router = feature_router(api)

# The team's routes: the feature's editor service and writer, as the shared routes get them.
Editor = Annotated[PurchaseOrderEditorService, Depends(api.editor)]
Writer = Annotated[EnrichedUser, Depends(api.writer)]


@router.get(
    "/summary",
    operation_id="summarizePurchaseOrders",
    dependencies=[Depends(api.reader)],
    description="How many live purchase orders are in each status.",
)
async def summarize_purchase_orders(service: Editor) -> dict[str, int]:
    return await in_worker_thread(service.session, service.count_by_status)


@router.post(
    "/{purchase_order_id}/place",
    operation_id="placePurchaseOrder",
    response_model=PurchaseOrderRead,
    responses=problem_responses(*CHANGE_ERRORS),
    description="Place a draft purchase order; 409 if it is not a draft.",
)
async def place_purchase_order(
    purchase_order_id: UUID,
    expected_versions: IfMatch,
    user: Writer,
    service: Editor,
    response: Response,
) -> Any:
    placed = await in_worker_thread(
        service.session,
        service.place,
        str(purchase_order_id),
        user.to_minimal_user(),
        expected_versions,
    )
    set_etag(response, placed.version)
    return api.read(placed)
