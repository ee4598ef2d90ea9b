"""PurchaseOrder editor service: the purchase order's types and business rules."""

from enum import StrEnum

from sqlmodel import col, func, select

from shared.db.models.audit_models.purchase_order_audit import PurchaseOrderAudit
from shared.db.models.base_model import utc_now
from shared.db.models.sales_models.purchase_order import PurchaseOrder, PurchaseOrderStatus
from shared.db.repositories.audit_repository.purchase_order_audit_repository import (
    PurchaseOrderAuditRepository,
)
from shared.db.repositories.sales_repository.purchase_order_repository import (
    PurchaseOrderRepository,
)
from shared.errors import ConflictError
from shared.models.catalog_models.category_dtos import CategoryCreate
from shared.models.minimal_user import MinimalUser
from shared.models.sales_models.purchase_order_dtos import PurchaseOrderCreate, PurchaseOrderUpdate
from shared.services.audited_editor_service import AuditedEditorService
from shared.services.catalog_services.category_editor_service import CategoryEditorService


class PurchaseOrderEditorService(
    AuditedEditorService[
        PurchaseOrder,
        PurchaseOrderAudit,
        PurchaseOrderCreate,
        PurchaseOrderUpdate,
    ],
):
    """Create, read, change, soft-delete and restore purchase orders, each change audited."""

    # The machinery is AuditedEditorService's (template-owned); it learns the feature from the
    # four types above and its two repositories below, which each service makes with its
    # session. Business rules go here, as overrides of its hooks, and the feature's own
    # audited commands as methods over its ``perform`` (see docs/business-rules.md).

    repository_type = PurchaseOrderRepository
    audit_repository_type = PurchaseOrderAuditRepository
    purchase_order_repo: PurchaseOrderRepository

    # The seed's verbs, which the routes call. Each runs the shared verb of its name as this
    # class has it, so a rule written as an override of either name (create_purchase_order or
    # create) applies to both.
    get_purchase_order = AuditedEditorService.seed_get
    list_purchase_orders = AuditedEditorService.seed_list
    create_purchase_order = AuditedEditorService.seed_create
    update_purchase_order = AuditedEditorService.seed_update
    delete_purchase_order = AuditedEditorService.seed_delete
    restore_purchase_order = AuditedEditorService.seed_restore

    # The team's code: a command of its own, recorded as PURCHASE_ORDER_PLACED.
    extra_actions = ("PLACED",)

    def prepare_change(self, entity: PurchaseOrder, action: StrEnum, user: MinimalUser) -> None:
        """Notes are kept without the blanks around them, whoever writes them."""
        if entity.notes is not None:
            entity.notes = entity.notes.strip()

    def after_change(self, entity: PurchaseOrder, action: StrEnum, user: MinimalUser) -> None:
        """A placed order files a category for its shelf, in the same transaction."""
        if action != self.action("PLACED"):
            return
        if entity.notes == "no shelf":
            msg = "this order can't be shelved"
            raise ConflictError(msg)
        shelf = CategoryCreate(title=f"shelf of order {entity.id[:8]}", position=0)
        CategoryEditorService(self.session, self.origin).create_category(shelf, user)

    def place(
        self,
        purchase_order_id: str,
        user: MinimalUser,
        expected_versions: frozenset[int] | None = None,
    ) -> PurchaseOrder:
        """Place a draft order: it is dated today."""

        def place(order: PurchaseOrder) -> None:
            if order.status != PurchaseOrderStatus.DRAFT:
                msg = f"purchase order {order.id} is {order.status}, not a draft"
                raise ConflictError(msg)
            order.status = PurchaseOrderStatus.PLACED
            order.placed_on = utc_now().date()

        return self.perform(purchase_order_id, "PLACED", user, expected_versions, change=place)

    def count_by_status(self) -> dict[str, int]:
        """How many live orders are in each status."""
        live = col(PurchaseOrder.deleted_at).is_(None)
        statement = select(PurchaseOrder.status, func.count()).where(live)
        counts = dict.fromkeys(map(str, PurchaseOrderStatus), 0)
        for status, count in self.session.exec(statement.group_by(PurchaseOrder.status)):
            counts[str(status)] = count
        return counts
