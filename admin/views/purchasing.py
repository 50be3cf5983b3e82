"""Purchasing admin: /admin/suppliers and /admin/purchase-orders.

A seller lists, adds and edits its own suppliers and the purchase orders at them (never another
seller's: lists, pages, selects, saves); staff see the whole storefront's. A purchase order's page
shows its lines with their units ordered, received and open, and the steps its status allows: add
or remove lines (a draft), Send, Cancel, and a Receive form (units per line; a hidden receipt key
so a form sent twice receives once). Rules are app.purchasing.services', as for the API."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation

from flask import flash, redirect, request, url_for
from flask_appbuilder import AppBuilder, expose, has_access, permission_name
from flask_login import current_user

from admin import formatting
from admin.base import MarketModelView, current_actor, datamodel, is_seller_user, shop_format
from admin.references import USER
from app.core.errors import DomainError, ValidationError
from app.core.types import quantize_money
from app.extensions import db
from app.inventory import scopes as inventory_scopes
from app.purchasing import services
from app.purchasing.models import DRAFT, PO_STATUSES, PurchaseOrder, Supplier
from app.security import roles
from app.sellers.models import SellerProfile
from app.sellers.services import seller_id_of


class SupplierView(MarketModelView):
    datamodel = datamodel(Supplier)
    route_base = "/admin/suppliers"
    list_title = "Suppliers"
    item_title = "Supplier"
    list_columns = ["name", "seller", "contact_name", "email", "currency", "is_active"]
    search_columns = ["name", "seller", "email", "currency", "is_active"]
    add_columns = edit_columns = [
        "name",
        "seller",
        "contact_name",
        "email",
        "phone",
        "currency",
        "lead_time_days",
        "notes",
        "is_active",
    ]
    show_columns = add_columns + ["created_at", "updated_at"]
    label_columns = {
        "contact_name": "Contact",
        "lead_time_days": "Lead time (days)",
        "is_active": "Active",
    }
    description_columns = {
        "seller": "The seller that buys from it; empty for the platform's own supplier.",
        "currency": "ISO 4217, e.g. EUR: its purchase orders' default currency.",
    }
    readonly_columns = {roles.SELLER: ("seller",)}  # a seller's supplier stays its own
    base_order = ("name", "asc")

    seller_scope = staticmethod(services.suppliers_of_seller)
    related_scopes = {"seller": lambda sid: SellerProfile.id == sid}

    def claim_for_seller(self, item, seller_id, is_new):
        if is_new:
            item.seller = db.session.get(SellerProfile, seller_id)
            item.seller_id = seller_id

    def owned_by_seller(self, item, seller_id):
        return seller_id_of(item) == seller_id

    def before_save(self, item, is_new):
        code = (item.currency or "").strip().upper()
        if len(code) != 3 or not code.isalpha():
            raise ValidationError("the currency is an ISO 4217 code such as EUR")
        item.currency = code

    def pre_delete(self, item):
        super().pre_delete(item)
        services.check_supplier_unused(item.id)


class PurchaseOrderView(MarketModelView):
    datamodel = datamodel(PurchaseOrder)
    route_base = "/admin/purchase-orders"
    list_title = "Purchase orders"
    item_title = "Purchase order"
    show_template = "admin/purchasing/order.html"
    base_permissions = [
        "can_list",
        "can_show",
        "can_add",
        "can_edit",
        "can_delete",
        "can_send",
        "can_cancel",
        "can_receive",
        "can_edit_lines",
    ]
    list_columns = [
        "number",
        "supplier",
        "warehouse",
        "status",
        "currency",
        "expected_on",
        "created_at",
    ]
    search_columns = ["number", "supplier", "warehouse", "status", "expected_on", "created_at"]
    add_columns = ["supplier", "warehouse", "currency", "expected_on", "notes"]
    edit_columns = ["warehouse", "expected_on", "notes"]
    show_columns = list_columns
    label_columns = {"expected_on": "Expected on", "created_at": "Created"}
    description_columns = {
        "currency": "Empty: the supplier's. Every line's unit cost is in it.",
        "warehouse": "Where the units arrive: the supplier's seller's warehouse or a platform one.",
    }
    choices_columns = {"status": PO_STATUSES}
    references = {"created_by_user_id": USER}
    optional_columns = ("currency",)
    base_order = ("id", "desc")

    seller_scope = staticmethod(services.orders_of_seller)
    related_scopes = {
        "supplier": services.suppliers_of_seller,
        "warehouse": inventory_scopes.warehouses_usable_by_seller,
    }

    def owned_by_seller(self, item, seller_id):
        supplier = item.supplier
        warehouse = item.warehouse
        return (
            supplier is not None
            and supplier.seller_id == seller_id
            and warehouse is not None
            and warehouse.seller_id in (None, seller_id)
        )

    def before_save(self, item, is_new):
        if item.supplier is None or item.warehouse is None:
            raise ValidationError("choose the supplier and the warehouse")
        if is_new:
            item.number = services.new_number()
            item.status = DRAFT
            item.created_by_user_id = getattr(current_user, "id", None)
            item.currency = (item.currency or "").strip().upper() or None
        elif item.status != DRAFT:
            raise ValidationError("only a draft purchase order can be changed")
        services.check_order_parts(item, item.supplier, item.warehouse)

    def pre_delete(self, item):
        super().pre_delete(item)
        if item.status != DRAFT:
            raise ValidationError("only a draft can be deleted; cancel a sent purchase order")

    # --- the purchase order's page -------------------------------------------------------------

    def _order(self, pk):
        return self.visible_row(pk)

    def _back(self, pk):
        return redirect(url_for(f"{self.endpoint}.show", pk=pk))

    def _run(self, pk, step, done: str):
        try:
            step()
        except DomainError as exc:
            db.session.rollback()
            details = "; ".join(
                f"{k}: {v}" for k, v in (exc.details or {}).items() if k not in ("allowed",)
            )
            flash(f"{exc.message}{' (' + details + ')' if details else ''}", "danger")
        else:
            flash(done, "success")
        return self._back(pk)

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        item = self._order(pk)
        order = services.order_view(item)
        fmt = shop_format(item.tenant_id)
        sm = self.appbuilder.sm
        name = self.class_permission_name
        return self.render_template(
            self.show_template,
            pk=item.id,
            title=f"Purchase order {order.number}",
            order=order,
            tenant_id=item.tenant_id,
            seller_name=None
            if is_seller_user()
            else getattr(item.seller, "store_name", None) or "Platform",
            money=lambda value: formatting.money(value, order.currency, fmt),
            # a unit cost at its currency's places reads as money; finer ones keep their digits
            unit_cost=lambda value, currency: (
                formatting.money(value, currency, fmt)
                if value == quantize_money(value, currency)
                else f"{value.normalize()} {currency}"
            ),
            may={
                "edit": sm.has_access("can_edit", name) and order.status == DRAFT,
                "lines": sm.has_access("can_edit_lines", name) and order.status == DRAFT,
                "send": sm.has_access("can_send", name) and "sent" in order.allowed_transitions,
                "cancel": sm.has_access("can_cancel", name)
                and "cancelled" in order.allowed_transitions,
                "receive": sm.has_access("can_receive", name)
                and order.status in ("sent", "partly_received"),
            },
            receipt_key=uuid.uuid4().hex,
            receipts=services.receipts_of(item.id),
            skus={line.id: line.sku for line in order.lines},
        )

    @expose("/send/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("send")
    def send(self, pk):
        self._order(pk)
        return self._run(
            pk, lambda: services.send_order(current_actor(), pk), "Purchase order sent."
        )

    @expose("/cancel/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("cancel")
    def cancel(self, pk):
        self._order(pk)
        return self._run(
            pk, lambda: services.cancel_order(current_actor(), pk), "Purchase order cancelled."
        )

    @expose("/add-line/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("edit_lines")
    def add_line(self, pk):
        self._order(pk)
        form = request.form
        try:
            line = services.NewLine(
                sku=(form.get("sku") or "").strip(),
                quantity_ordered=int(form.get("quantity") or ""),
                unit_cost=Decimal((form.get("unit_cost") or "").strip().replace(",", ".")),
            )
            if not line.sku or line.quantity_ordered <= 0 or not line.unit_cost.is_finite():
                raise ValueError
            if line.unit_cost < 0 or line.quantity_ordered > 1_000_000_000:
                raise ValueError
        except (ValueError, InvalidOperation):
            flash(
                "A line needs a SKU, a number of units above 0 and a unit cost of 0 or more.",
                "danger",
            )
            return self._back(pk)
        return self._run(
            pk, lambda: services.add_line(current_actor(), pk, line), f"Line {line.sku} added."
        )

    @expose("/remove-line/<int:pk>/<int:line_id>", methods=["POST"])
    @has_access
    @permission_name("edit_lines")
    def remove_line(self, pk, line_id):
        self._order(pk)
        return self._run(
            pk, lambda: services.remove_line(current_actor(), pk, line_id), "Line removed."
        )

    @expose("/receive/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("receive")
    def receive(self, pk):
        item = self._order(pk)
        lines = []
        for line in item.lines:
            raw = (request.form.get(f"line-{line.id}") or "").strip()
            if not raw or raw == "0":
                continue
            if not raw.isdigit() or int(raw) > 1_000_000_000:
                flash(
                    f"{line.variant.sku}: units received are a whole number of 0 or more.", "danger"
                )
                return self._back(pk)
            lines.append(services.ReceiptLine(line_id=line.id, quantity=int(raw)))
        if not lines:
            flash("Enter the units received on at least one line.", "warning")
            return self._back(pk)
        receipt = services.NewReceipt(
            lines=lines,
            receipt_key=(request.form.get("receipt_key") or "")[:100] or None,
            allow_over_receipt=request.form.get("allow_over_receipt") == "y",
            note=(request.form.get("note") or "").strip()[:255] or None,
        )

        def run():
            result = services.receive(current_actor(), pk, receipt)
            if result.replayed:
                raise _AlreadyReceived()

        try:
            return self._run(
                pk, run, f"{sum(r.quantity for r in lines)} unit(s) received into stock."
            )
        except _AlreadyReceived:
            flash("This receipt was recorded already; nothing was received twice.", "info")
            return self._back(pk)


class _AlreadyReceived(Exception):
    pass


def register(appbuilder: AppBuilder) -> None:
    appbuilder.add_view(SupplierView, "Suppliers", icon="fa-truck", category="Inventory")
    appbuilder.add_view(
        PurchaseOrderView, "Purchase orders", icon="fa-file-text-o", category="Inventory"
    )
