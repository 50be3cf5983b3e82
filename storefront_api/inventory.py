"""/api/v1/inventory: stock levels (list, create, read, reorder point, adjust), bulk updates,
transfers between warehouses, the movement ledger, suppliers and purchase orders.

Staff (Admin, Super Admin) work on every row of the storefront; a seller on the stock of its
variants and its own warehouses, its own suppliers and their purchase orders (another seller's
rows answer 404, as unknown ones do); anyone else gets 403. Every change of units is a movement of
the ledger (app.inventory.services); stock never goes below zero nor below its reserved units, also
under concurrent requests (409 out_of_stock). Rules: app.inventory.stock and
app.purchasing.services.
"""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from app.core.errors import CoreError
from app.events.errors import EventsError
from app.inventory import stock
from app.inventory.models import MOVEMENT_REASONS
from app.purchasing import services as purchasing
from app.purchasing.errors import PurchasingError
from app.purchasing.models import PO_STATUSES
from app.security import roles
from app.security.errors import SecurityError
from storefront_api.common import (
    Blueprint,
    PageArgs,
    ViewSchema,
    current_actor,
    document_errors,
    page_schema,
    require_roles,
)
from storefront_api.errors import ApiError
from storefront_api.fields import an_id, decimal_in, decimal_out, money

blp = Blueprint(
    "inventory",
    __name__,
    url_prefix="/api/v1/inventory",
    description="Stock levels, bulk updates, transfers, the movement ledger, suppliers and "
    "purchase orders (staff: the storefront's; a seller: its own)",
)

CURRENCY = validate.Regexp(r"^[A-Z]{3}$", error="an ISO 4217 code such as EUR")
QUANTITY = validate.Range(min=0, max=1_000_000_000)
DELTA = validate.Range(min=-1_000_000_000, max=1_000_000_000)
NOTE = validate.Length(max=255)
SKU = validate.Length(min=1, max=64)
CODE = validate.Length(min=1, max=32)
REASON = validate.OneOf(stock.MANUAL_REASONS)


# staff and sellers; anyone else (customers) 403 before the body is read
stock_keepers = require_roles(roles.SELLER, roles.ADMIN, roles.SUPER_ADMIN)


def _errors(*errors):
    """Every operation: 401 without a token, 403 for a role that does not keep stock."""
    return document_errors(blp, SecurityError.UNAUTHORIZED, CoreError.FORBIDDEN, *errors)


WRITE = (ApiError.BAD_REQUEST, CoreError.VALIDATION_ERROR, ApiError.RATE_LIMITED)


# --- stock --------------------------------------------------------------------------------------


class StockSchema(ViewSchema):
    id = fields.Integer(required=True)
    variant_id = fields.Integer(required=True)
    sku = fields.String(required=True)
    product_id = fields.Integer(required=True)
    product_title = fields.String(required=True)
    seller_id = fields.Integer(required=True)
    warehouse_id = fields.Integer(required=True)
    warehouse_code = fields.String(required=True)
    quantity_on_hand = fields.Integer(required=True)
    quantity_reserved = fields.Integer(
        required=True, metadata={"description": "promised to open orders"}
    )
    available = fields.Integer(required=True, metadata={"description": "on hand - reserved"})
    reorder_point = fields.Integer(required=True)
    low_stock = fields.Boolean(
        required=True, metadata={"description": "available <= reorder_point"}
    )
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class StockArgs(PageArgs):
    warehouse_id = an_id(strict=False)
    seller_id = an_id(strict=False, metadata={"description": "staff: one seller's stock"})
    product_id = an_id(strict=False)
    variant_id = an_id(strict=False)
    sku = fields.String(validate=SKU)
    low_stock = fields.Boolean(
        metadata={"description": "true: available <= reorder point; false: above it"}
    )

    @post_load
    def _filters(self, data, **kwargs):
        page, size = data.pop("page"), data.pop("page_size")
        return {"page": page, "page_size": size, "filters": stock.StockFilters(**data)}


class NewStockSchema(Schema):
    variant_id = an_id(metadata={"description": "the variant, or its sku"})
    sku = fields.String(validate=SKU)
    warehouse_id = an_id(required=True)
    quantity_on_hand = fields.Integer(
        strict=True,
        load_default=0,
        validate=QUANTITY,
        metadata={"description": "the first count (a ledger row)"},
    )
    reorder_point = fields.Integer(strict=True, validate=QUANTITY)

    @validates_schema
    def _one_variant(self, data, **kwargs):
        if ("variant_id" in data) == ("sku" in data):
            raise ValidationError({"variant_id": ["send variant_id or sku (one of them)"]})

    @post_load
    def _input(self, data, **kwargs):
        return stock.NewStock(**data)


class StockChangesSchema(Schema):
    reorder_point = fields.Integer(strict=True, required=True, validate=QUANTITY)


class AdjustSchema(Schema):
    delta = fields.Integer(
        strict=True,
        required=True,
        validate=[DELTA, validate.NoneOf([0], error="must not be zero")],
        metadata={"description": "units to add (> 0) or remove (< 0)"},
    )
    reason = fields.String(
        required=True,
        validate=REASON,
        metadata={"description": "why: " + ", ".join(stock.MANUAL_REASONS)},
    )
    note = fields.String(validate=NOTE)


@blp.route("/", methods=["GET"])
@stock_keepers
@blp.arguments(StockArgs, location="query")
@blp.response(200, page_schema(StockSchema, "StockPage"))
@_errors(CoreError.VALIDATION_ERROR)
def list_stock(args):
    """Stock levels the caller may see, by id; filters combine."""
    return stock.list_stock(current_actor(), args["filters"], args["page"], args["page_size"])


@blp.route("/", methods=["POST"])
@stock_keepers
@blp.arguments(NewStockSchema)
@blp.response(201, StockSchema)
@_errors(*WRITE, CoreError.NOT_FOUND, CoreError.CONFLICT)
def create_stock(new):
    """Keep a variant in a warehouse (a seller: its variant, its own or a platform warehouse). 409
    when that warehouse keeps it already."""
    return stock.create_stock(current_actor(), new)


@blp.route("/<int:stock_id>/", methods=["GET"])
@stock_keepers
@blp.response(200, StockSchema)
@_errors(CoreError.NOT_FOUND)
def get_stock(stock_id):
    """One stock level."""
    return stock.get_stock(current_actor(), stock_id)


@blp.route("/<int:stock_id>/", methods=["PATCH"])
@stock_keepers
@blp.arguments(StockChangesSchema)
@blp.response(200, StockSchema)
@_errors(*WRITE, CoreError.NOT_FOUND)
def update_stock(changes, stock_id):
    """Its reorder point (units change only through adjust, bulk-update and transfers)."""
    return stock.set_reorder_point(current_actor(), stock_id, changes["reorder_point"])


@blp.route("/<int:stock_id>/adjust/", methods=["POST"])
@stock_keepers
@blp.arguments(AdjustSchema)
@blp.response(200, StockSchema)
@_errors(*WRITE, CoreError.NOT_FOUND, CoreError.OUT_OF_STOCK)
def adjust_stock(body, stock_id):
    """Add or remove units on hand, with a reason: one movement of the ledger. 409 out_of_stock
    when fewer units than zero or than are reserved would be left."""
    return stock.adjust(current_actor(), stock_id, body["delta"], body["reason"], body.get("note"))


# --- bulk ---------------------------------------------------------------------------------------


class BulkRowSchema(Schema):
    stock_level_id = an_id(metadata={"description": "the stock row, or sku + warehouse_code"})
    sku = fields.String(validate=SKU)
    warehouse_code = fields.String(validate=CODE)
    quantity = fields.Integer(
        strict=True, validate=QUANTITY, metadata={"description": "the new count on hand"}
    )
    delta = fields.Integer(
        strict=True, validate=DELTA, metadata={"description": "or: units to add or remove"}
    )
    reason = fields.String(
        validate=REASON,
        metadata={"description": "default: count (quantity) or adjustment (delta)"},
    )
    note = fields.String(validate=NOTE)

    @validates_schema
    def _one_target_one_change(self, data, **kwargs):
        by_sku = "sku" in data or "warehouse_code" in data
        if ("stock_level_id" in data) == by_sku:
            raise ValidationError(
                {"stock_level_id": ["send stock_level_id, or sku and warehouse_code"]}
            )
        if by_sku and not ("sku" in data and "warehouse_code" in data):
            raise ValidationError({"warehouse_code": ["sku and warehouse_code go together"]})
        if ("quantity" in data) == ("delta" in data):
            raise ValidationError({"quantity": ["send quantity or delta (one of them)"]})

    @post_load
    def _input(self, data, **kwargs):
        return stock.BulkRow(**data)


class BulkSchema(Schema):
    rows = fields.List(
        fields.Nested(BulkRowSchema),
        required=True,
        validate=validate.Length(min=1, max=stock.BULK_MAX_ROWS),
        metadata={"description": f"1 to {stock.BULK_MAX_ROWS} rows, applied all or none"},
    )


class IdempotencyHeaders(Schema):
    idempotency_key = fields.String(
        data_key="Idempotency-Key",
        validate=validate.Length(min=1, max=255),
        metadata={"description": "Same key and body: the first result; another body: 409"},
    )


class BulkResultRowSchema(ViewSchema):
    row = fields.Integer(required=True, metadata={"description": "its index in the request"})
    stock_level_id = fields.Integer(required=True)
    sku = fields.String(required=True)
    warehouse_code = fields.String(required=True)
    delta = fields.Integer(required=True, metadata={"description": "0: unchanged"})
    quantity_on_hand = fields.Integer(required=True)
    quantity_reserved = fields.Integer(required=True)
    created = fields.Boolean(required=True, metadata={"description": "a new stock row"})


class BulkResultSchema(ViewSchema):
    items = fields.List(fields.Nested(BulkResultRowSchema), required=True)
    updated = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)
    created = fields.Integer(required=True)
    replayed = fields.Boolean(
        required=True, metadata={"description": "true: the answer of an earlier request"}
    )
    reference = fields.String(
        required=True, metadata={"description": "the movements' reference (filter /movements/)"}
    )


@blp.route("/bulk-update/", methods=["POST"])
@stock_keepers
@blp.arguments(IdempotencyHeaders, location="headers")
@blp.arguments(BulkSchema)
@blp.response(200, BulkResultSchema)
@_errors(*WRITE, CoreError.OUT_OF_STOCK, EventsError.IDEMPOTENCY_KEY_REUSED, CoreError.CONFLICT)
def bulk_update(headers, body):
    """Set counts or change units of up to 1,000 stock rows, by id or by SKU and warehouse code
    (a SKU the warehouse does not keep yet gets a stock row): all rows or none. 422 names every
    row that names no stock the caller may change, 409 out_of_stock every row that would leave
    fewer units than zero or than are reserved. Idempotency-Key honoured."""
    return stock.bulk_update(current_actor(), body["rows"], headers.get("idempotency_key"))


# --- transfers and movements --------------------------------------------------------------------


class TransferSchema(Schema):
    stock_level_id = an_id(required=True, metadata={"description": "the source stock row"})
    to_warehouse_id = an_id(required=True)
    quantity = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=1_000_000_000)
    )
    note = fields.String(validate=NOTE)


class TransferResultSchema(ViewSchema):
    reference = fields.String(required=True, metadata={"description": "both movements'"})
    quantity = fields.Integer(required=True)
    source = fields.Nested(StockSchema, required=True)
    destination = fields.Nested(StockSchema, required=True)


@blp.route("/transfers/", methods=["POST"])
@stock_keepers
@blp.arguments(TransferSchema)
@blp.response(201, TransferResultSchema)
@_errors(*WRITE, CoreError.NOT_FOUND, CoreError.OUT_OF_STOCK, CoreError.CONFLICT)
def transfer(body):
    """Move available units of a stock row to the same variant in another warehouse: two
    "transfer" movements in one transaction. 409 out_of_stock when fewer units are available."""
    return stock.transfer(
        current_actor(),
        body["stock_level_id"],
        body["to_warehouse_id"],
        body["quantity"],
        body.get("note"),
    )


class MovementSchema(ViewSchema):
    id = fields.Integer(required=True)
    stock_level_id = fields.Integer(required=True)
    variant_id = fields.Integer(required=True)
    sku = fields.String(required=True)
    warehouse_id = fields.Integer(required=True)
    warehouse_code = fields.String(required=True)
    reason = fields.String(required=True, metadata={"enum": list(MOVEMENT_REASONS)})
    delta_on_hand = fields.Integer(required=True)
    delta_reserved = fields.Integer(required=True)
    on_hand_after = fields.Integer(required=True)
    reserved_after = fields.Integer(required=True)
    reference = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    actor_id = fields.Integer(allow_none=True, metadata={"description": "the user who made it"})
    created_at = fields.DateTime(required=True)


class MovementArgs(PageArgs):
    stock_level_id = an_id(strict=False)
    warehouse_id = an_id(strict=False)
    variant_id = an_id(strict=False)
    sku = fields.String(validate=SKU)
    reason = fields.String(validate=validate.OneOf(MOVEMENT_REASONS))
    reference = fields.String(validate=validate.Length(min=1, max=100))
    since = fields.AwareDateTime(
        default_timezone=None, metadata={"description": "from (ISO 8601 with offset), included"}
    )
    until = fields.AwareDateTime(metadata={"description": "until (ISO 8601), excluded"})

    @post_load
    def _filters(self, data, **kwargs):
        page, size = data.pop("page"), data.pop("page_size")
        return {"page": page, "page_size": size, "filters": stock.MovementFilters(**data)}


@blp.route("/movements/", methods=["GET"])
@stock_keepers
@blp.arguments(MovementArgs, location="query")
@blp.response(200, page_schema(MovementSchema, "StockMovementPage"))
@_errors(CoreError.VALIDATION_ERROR)
def list_movements(args):
    """The movement ledger of the stock the caller may see, newest first."""
    return stock.list_movements(current_actor(), args["filters"], args["page"], args["page_size"])


# --- suppliers ----------------------------------------------------------------------------------


class SupplierSchema(ViewSchema):
    id = fields.Integer(required=True)
    seller_id = fields.Integer(
        allow_none=True, metadata={"description": "null: the platform's supplier"}
    )
    name = fields.String(required=True)
    contact_name = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    currency = fields.String(required=True)
    lead_time_days = fields.Integer(allow_none=True)
    notes = fields.String(allow_none=True)
    is_active = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class SupplierChangesSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=160))
    contact_name = fields.String(allow_none=True, validate=validate.Length(max=120))
    email = fields.Email(allow_none=True, validate=validate.Length(max=255))
    phone = fields.String(allow_none=True, validate=validate.Length(max=40))
    currency = fields.String(validate=CURRENCY)
    lead_time_days = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=0, max=3650)
    )
    notes = fields.String(allow_none=True, validate=validate.Length(max=5000))
    is_active = fields.Boolean()


class NewSupplierSchema(SupplierChangesSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=160))
    currency = fields.String(required=True, validate=CURRENCY)
    seller_id = an_id(
        allow_none=True,
        metadata={
            "description": "staff: the seller it supplies (none: the platform's); a "
            "seller's supplier is always its own"
        },
    )


class SupplierArgs(PageArgs):
    is_active = fields.Boolean()
    q = fields.String(validate=validate.Length(min=1, max=100), metadata={"description": "name"})


@blp.route("/suppliers/", methods=["GET"])
@stock_keepers
@blp.arguments(SupplierArgs, location="query")
@blp.response(200, page_schema(SupplierSchema, "SupplierPage"))
@_errors(CoreError.VALIDATION_ERROR)
def list_suppliers(args):
    """Suppliers the caller may see, by name."""
    return purchasing.list_suppliers(
        current_actor(),
        args["page"],
        args["page_size"],
        is_active=args.get("is_active"),
        q=args.get("q"),
    )


@blp.route("/suppliers/", methods=["POST"])
@stock_keepers
@blp.arguments(NewSupplierSchema)
@blp.response(201, SupplierSchema)
@_errors(*WRITE)
def create_supplier(body):
    """A supplier: a seller's own, or (staff) the platform's or a named seller's."""
    seller_id = body.pop("seller_id", None)
    return purchasing.create_supplier(current_actor(), body, seller_id)


@blp.route("/suppliers/<int:supplier_id>/", methods=["GET"])
@stock_keepers
@blp.response(200, SupplierSchema)
@_errors(CoreError.NOT_FOUND)
def get_supplier(supplier_id):
    """One supplier."""
    return purchasing.get_supplier(current_actor(), supplier_id)


@blp.route("/suppliers/<int:supplier_id>/", methods=["PATCH"])
@stock_keepers
@blp.arguments(SupplierChangesSchema)
@blp.response(200, SupplierSchema)
@_errors(*WRITE, CoreError.NOT_FOUND)
def update_supplier(changes, supplier_id):
    """Change a supplier's details, or deactivate it (is_active false)."""
    return purchasing.update_supplier(current_actor(), supplier_id, changes)


@blp.route("/suppliers/<int:supplier_id>/", methods=["DELETE"])
@stock_keepers
@blp.response(204)
@_errors(CoreError.NOT_FOUND, PurchasingError.SUPPLIER_IN_USE, ApiError.RATE_LIMITED)
def delete_supplier(supplier_id):
    """Delete a supplier without purchase orders (409 supplier_in_use otherwise)."""
    purchasing.delete_supplier(current_actor(), supplier_id)


# --- purchase orders ----------------------------------------------------------------------------


class LineSchema(ViewSchema):
    id = fields.Integer(required=True)
    variant_id = fields.Integer(required=True)
    sku = fields.String(required=True)
    quantity_ordered = fields.Integer(required=True)
    quantity_received = fields.Integer(required=True)
    quantity_open = fields.Integer(required=True)
    unit_cost = decimal_out(required=True, metadata={"example": "4.2500"})
    currency = fields.String(required=True)
    total = money(required=True, metadata={"description": "unit cost x units ordered"})


class PurchaseOrderSchema(ViewSchema):
    id = fields.Integer(required=True)
    number = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": list(PO_STATUSES)})
    allowed_transitions = fields.List(fields.String(), required=True)
    supplier_id = fields.Integer(required=True)
    supplier_name = fields.String(required=True)
    seller_id = fields.Integer(allow_none=True)
    warehouse_id = fields.Integer(required=True)
    warehouse_code = fields.String(required=True)
    currency = fields.String(required=True)
    expected_on = fields.Date(allow_none=True)
    notes = fields.String(allow_none=True)
    total = money(required=True)
    lines = fields.List(fields.Nested(LineSchema), required=True)
    sent_at = fields.DateTime(allow_none=True)
    received_at = fields.DateTime(allow_none=True)
    cancelled_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class NewLineSchema(Schema):
    variant_id = an_id(metadata={"description": "the variant, or its sku"})
    sku = fields.String(validate=SKU)
    quantity_ordered = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=1_000_000_000)
    )
    unit_cost = decimal_in(0, 9_999_999_999, places=4, required=True)
    currency = fields.String(
        validate=CURRENCY, metadata={"description": "default (and must be): the order's"}
    )

    @validates_schema
    def _one_variant(self, data, **kwargs):
        if ("variant_id" in data) == ("sku" in data):
            raise ValidationError({"variant_id": ["send variant_id or sku (one of them)"]})

    @post_load
    def _input(self, data, **kwargs):
        return purchasing.NewLine(**data)


class NewPurchaseOrderSchema(Schema):
    supplier_id = an_id(required=True)
    warehouse_id = an_id(required=True, metadata={"description": "where the units arrive"})
    currency = fields.String(validate=CURRENCY, metadata={"description": "default: supplier's"})
    expected_on = fields.Date(allow_none=True)
    notes = fields.String(allow_none=True, validate=validate.Length(max=5000))
    lines = fields.List(
        fields.Nested(NewLineSchema),
        load_default=list,
        validate=validate.Length(max=stock.BULK_MAX_ROWS),
    )

    @post_load
    def _input(self, data, **kwargs):
        return purchasing.NewPurchaseOrder(**data)


class PurchaseOrderChangesSchema(Schema):
    warehouse_id = an_id()
    expected_on = fields.Date(allow_none=True)
    notes = fields.String(allow_none=True, validate=validate.Length(max=5000))
    lines = fields.List(
        fields.Nested(NewLineSchema),
        validate=validate.Length(max=stock.BULK_MAX_ROWS),
        metadata={"description": "replaces every line"},
    )


class PurchaseOrderArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(PO_STATUSES))
    supplier_id = an_id(strict=False)
    warehouse_id = an_id(strict=False)


class ReceiptLineSchema(Schema):
    line_id = an_id(required=True)
    quantity = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=1_000_000_000)
    )

    @post_load
    def _input(self, data, **kwargs):
        return purchasing.ReceiptLine(**data)


class ReceiveSchema(Schema):
    lines = fields.List(
        fields.Nested(ReceiptLineSchema),
        required=True,
        validate=validate.Length(min=1, max=stock.BULK_MAX_ROWS),
    )
    receipt_key = fields.String(
        validate=validate.Length(min=1, max=100),
        metadata={
            "description": "the delivery's key: the same key receives once (same lines: "
            "the first answer; other lines: 409 receipt_key_reused)"
        },
    )
    allow_over_receipt = fields.Boolean(
        load_default=False, metadata={"description": "accept more units than ordered"}
    )
    note = fields.String(validate=NOTE)

    @post_load
    def _input(self, data, **kwargs):
        return purchasing.NewReceipt(**data)


class ReceiptLineOutSchema(Schema):
    line_id = fields.Integer(required=True)
    quantity = fields.Integer(required=True)


class ReceiptSchema(ViewSchema):
    id = fields.Integer(required=True)
    receipt_key = fields.String(required=True)
    lines = fields.List(fields.Nested(ReceiptLineOutSchema), required=True)
    over_receipt = fields.Boolean(required=True)
    note = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    replayed = fields.Boolean(required=True)
    purchase_order = fields.Nested(PurchaseOrderSchema, required=True)


@blp.route("/purchase-orders/", methods=["GET"])
@stock_keepers
@blp.arguments(PurchaseOrderArgs, location="query")
@blp.response(200, page_schema(PurchaseOrderSchema, "PurchaseOrderPage"))
@_errors(CoreError.VALIDATION_ERROR)
def list_purchase_orders(args):
    """Purchase orders the caller may see, newest first."""
    page, size = args.pop("page"), args.pop("page_size")
    return purchasing.list_orders(current_actor(), purchasing.OrderFilters(**args), page, size)


@blp.route("/purchase-orders/", methods=["POST"])
@stock_keepers
@blp.arguments(NewPurchaseOrderSchema)
@blp.response(201, PurchaseOrderSchema)
@_errors(*WRITE)
def create_purchase_order(new):
    """A draft purchase order at a supplier, into a warehouse, with its lines (the supplier's
    seller's variants, in the order's currency)."""
    return purchasing.create_order(current_actor(), new)


@blp.route("/purchase-orders/<int:order_id>/", methods=["GET"])
@stock_keepers
@blp.response(200, PurchaseOrderSchema)
@_errors(CoreError.NOT_FOUND)
def get_purchase_order(order_id):
    """One purchase order with its lines."""
    return purchasing.get_order(current_actor(), order_id)


@blp.route("/purchase-orders/<int:order_id>/", methods=["PATCH"])
@stock_keepers
@blp.arguments(PurchaseOrderChangesSchema)
@blp.response(200, PurchaseOrderSchema)
@_errors(*WRITE, CoreError.NOT_FOUND, PurchasingError.PURCHASE_ORDER_STATUS)
def update_purchase_order(changes, order_id):
    """Change a draft (409 purchase_order_status once sent)."""
    lines = changes.pop("lines", None)
    return purchasing.update_order(current_actor(), order_id, changes, lines)


@blp.route("/purchase-orders/<int:order_id>/send/", methods=["POST"])
@stock_keepers
@blp.response(200, PurchaseOrderSchema)
@_errors(
    CoreError.NOT_FOUND,
    PurchasingError.PURCHASE_ORDER_STATUS,
    CoreError.VALIDATION_ERROR,
    ApiError.RATE_LIMITED,
)
def send_purchase_order(order_id):
    """Draft -> sent (it needs a line)."""
    return purchasing.send_order(current_actor(), order_id)


@blp.route("/purchase-orders/<int:order_id>/cancel/", methods=["POST"])
@stock_keepers
@blp.response(200, PurchaseOrderSchema)
@_errors(CoreError.NOT_FOUND, PurchasingError.PURCHASE_ORDER_STATUS, ApiError.RATE_LIMITED)
def cancel_purchase_order(order_id):
    """Cancel a draft, sent or partly received order (received units stay in stock)."""
    return purchasing.cancel_order(current_actor(), order_id)


@blp.route("/purchase-orders/<int:order_id>/receive/", methods=["POST"])
@stock_keepers
@blp.arguments(ReceiveSchema)
@blp.response(201, ReceiptSchema)
@_errors(
    *WRITE,
    CoreError.NOT_FOUND,
    PurchasingError.PURCHASE_ORDER_STATUS,
    PurchasingError.OVER_RECEIPT,
    PurchasingError.RECEIPT_KEY_REUSED,
    CoreError.CONFLICT,
)
def receive_purchase_order(receipt, order_id):
    """Receive a delivery: each line's units join the order's warehouse's stock (a "receipt"
    movement); the order becomes partly_received or received. 409 over_receipt beyond a line's
    open units unless allow_over_receipt."""
    return purchasing.receive(current_actor(), order_id, receipt)
