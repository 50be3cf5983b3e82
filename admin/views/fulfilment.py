"""Fulfilment from the admin, through the same services as the API (issue 13, item 1, the
seller's side): a sub-order's page (its lines and totals, where it ships, its shipments with their
labels, its refund requests and timeline) with the steps its seller or an admin takes there, and
the bulk actions of the sub-order, product and review lists.

Every step calls the app/ service the API calls, with the Actor of admin.base.current_actor():
the status moves app.orders.lifecycle.update_order, the label app.shipments.services.create_label
(its PDF label_pdf), the refund decision app.orders.refunds.decide_refund, publishing and
archiving products app.catalog.services, moderating reviews app.reviews.services. What a service
refuses (a DomainError) is a flash message on the page and changes nothing; the bulk actions run
through admin.bulk's one runner (one summary, one message per refusal). Every change is a POST
carrying the CSRF token; the pages and the label PDF are GETs that change nothing.

The mixins go in front of the views' bases (admin/views/orders.py, catalog.py, reviews.py); their
permissions (can_set_status, can_ship, can_decide_refund, ship_selected on SubOrderView, can_label
on ShipmentView, publish and archive on ProductView, approve and reject on ReviewView) are granted
per role in admin/roles.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flask import Response, abort, flash, redirect, request, url_for
from flask_appbuilder import expose, has_access, permission_name
from flask_appbuilder.actions import action
from markupsafe import Markup, escape

from admin import formatting
from admin.base import current_actor, is_seller_user, shop_format
from admin.bulk import BulkActions, refusal
from app.catalog import services as catalog_services
from app.catalog.inputs import ProductChanges
from app.core.errors import DomainError, NotFound
from app.orders import lifecycle, refunds, states, visibility
from app.orders.inputs import OrderChanges
from app.orders.models import RefundRequestStatus
from app.reviews import services as review_services
from app.reviews.inputs import ReviewChanges
from app.shipments import services as shipment_services

# what the buttons of the status moves say (the targets a seller or an admin sets by hand;
# shipped has its own form, with a label)
STEP_LABELS = {
    states.OrderStatus.PROCESSING: "Start processing",
    states.OrderStatus.SHIPPED: "Mark shipped without a label",
    states.OrderStatus.DELIVERED: "Mark delivered",
    states.OrderStatus.COMPLETED: "Mark completed",
}
MAX_WEIGHT_KG = Decimal("1000")
MAX_REASON = 500


# --- the sub-order page ------------------------------------------------------------------------


@dataclass(frozen=True)
class SubOrderPage:
    """What the page of one sub-order shows, as the services answer it for the user."""

    order: visibility.OrderView
    sub: visibility.SubOrderView
    requests: tuple[visibility.RefundRequestView, ...]
    shipments: tuple[shipment_services.ShipmentView, ...]
    timeline: tuple[shipment_services.TimelineEntry, ...]
    steps: tuple[tuple[str, str], ...]  # (status, button label): the moves offered
    can_ship: bool  # a label may be made now
    line_titles: dict[int, str]

    @property
    def address(self) -> list[str]:
        a = self.order.shipping_address or {}
        city = " ".join(str(a[k]) for k in ("postal_code", "city") if a.get(k))
        lines = [a.get("full_name"), a.get("company"), a.get("line1"), a.get("line2"), city]
        lines += [", ".join(str(a[k]) for k in ("region", "country") if a.get(k)), a.get("phone")]
        return [str(line) for line in lines if line]

    @property
    def open_requests(self) -> bool:
        return any(r.status == RefundRequestStatus.REQUESTED for r in self.requests)


def sub_order_page(order_id: int, sub_order_id: int) -> SubOrderPage:
    """The page's content, read through the orders and shipments services with the user's Actor
    (a seller: its own sub-order only, else NotFound)."""
    actor = current_actor()
    order = visibility.get_order(actor, order_id)
    sub = next((s for s in order.sub_orders if s.id == sub_order_id), None)
    if sub is None:
        raise NotFound("no such sub-order", details={"sub_order_id": sub_order_id})
    tracking = shipment_services.order_tracking(actor, order_id)
    shipments = tuple(s for s in tracking.shipments if s.sub_order_id == sub.id)
    steps = tuple(
        (status, STEP_LABELS[status])
        for status in sub.allowed_transitions
        if status in states.MANUAL_TARGETS
    )
    return SubOrderPage(
        order=order,
        sub=sub,
        requests=tuple(r for r in order.refund_requests if r.sub_order_id == sub.id),
        shipments=shipments,
        timeline=tuple(e for e in tracking.timeline if e.sub_order_id in (None, sub.id)),
        steps=tuple(s for s in steps if s[0] != states.OrderStatus.SHIPPED or not shipments),
        can_ship=states.OrderStatus.SHIPPED in sub.allowed_transitions and not shipments,
        line_titles={line.id: f"{line.title} ({line.sku})" for line in sub.lines},
    )


def sub_order_link(sub) -> Markup | str:
    """A list's sub-order cell: its number, linking to its fulfilment page."""
    if sub is None:
        return ""
    href = url_for("SubOrderView.show", pk=sub.id)
    return Markup(f'<a href="{escape(href)}">{escape(sub.number)}</a>')


def _weight(raw: str | None) -> Decimal | None:
    """The parcel's weight from the form: empty is None (the services weigh the lines)."""
    raw = (raw or "").strip().replace(",", ".")
    if not raw:
        return None
    try:
        weight = Decimal(raw)
    except InvalidOperation:
        weight = None
    if weight is None or not weight.is_finite() or not 0 < weight <= MAX_WEIGHT_KG:
        raise ValueError(
            f"The weight must be a number of kilograms above 0, at most {MAX_WEIGHT_KG}."
        )
    return weight.quantize(Decimal("0.001"))


class SubOrderFulfilment(BulkActions):
    """For SubOrderView: its show page is the fulfilment page; POST routes for its steps."""

    show_template = "admin/fulfilment/sub_order.html"

    def _sub_order(self, pk: int):
        """The sub-order as the user's list has it (a seller: its own), else 404."""
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            abort(404)
        return item

    def _back(self, pk: int):
        return redirect(url_for(f"{self.endpoint}.show", pk=pk))

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        try:
            pk = int(pk)
        except ValueError:
            abort(404)
        item = self._sub_order(pk)
        try:
            page = sub_order_page(item.order_id, item.id)
        except NotFound:
            abort(404)
        except DomainError:  # a role that has no orders (app.orders.visibility.Viewer)
            abort(403)
        sm = self.appbuilder.sm
        fmt, currency = (
            shop_format(item.tenant_id),
            page.order.currency,
        )  # as the admin's lists write
        return self.render_template(
            self.show_template,
            pk=pk,
            title=f"Sub-order {page.sub.number}",
            tenant_id=item.tenant_id,  # its times in its tenant's zone (the `when` filter)
            page=page,
            # staff read many sellers' sub-orders: whose it is, and the whole order's page
            seller_name=None if is_seller_user() else getattr(item.seller, "store_name", None),
            order_url=url_for("OrderView.show", pk=item.order_id)
            if sm.has_access("can_show", "OrderView")
            else None,
            money=lambda value: formatting.money(value, currency, fmt),
            percent=lambda rate: formatting.percent(rate, fmt),
        )

    @expose("/set-status/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("set_status")
    def set_status(self, pk):
        item = self._sub_order(pk)
        status = request.form.get("status", "")
        if status not in states.MANUAL_TARGETS:
            flash("Choose one of the steps offered on the page.", "danger")
            return self._back(pk)
        note = (request.form.get("note") or "").strip()[:MAX_REASON] or None
        try:
            lifecycle.update_order(
                current_actor(),
                item.order_id,
                OrderChanges(status=status, sub_order_id=item.id, note=note),
            )
        except DomainError as exc:
            flash(refusal(exc), "danger")
        else:
            flash(f"Sub-order {item.number} is now {status.replace('_', ' ')}.", "success")
        return self._back(pk)

    @expose("/ship/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("ship")
    def ship(self, pk):
        item = self._sub_order(pk)
        try:
            weight = _weight(request.form.get("weight_kg"))
        except ValueError as exc:
            flash(str(exc), "danger")
            return self._back(pk)
        try:
            shipment = shipment_services.create_label(current_actor(), item.id, weight)
        except DomainError as exc:
            flash(refusal(exc), "danger")
        else:
            flash(
                f"Sub-order {item.number} shipped: {shipment.carrier} label "
                f"{shipment.tracking_number}.",
                "success",
            )
        return self._back(pk)

    @expose("/decide-refund/<int:pk>/<int:request_id>", methods=["POST"])
    @has_access
    @permission_name("decide_refund")
    def decide_refund(self, pk, request_id):
        item = self._sub_order(pk)
        decision = request.form.get("decision")
        reason = (request.form.get("reason") or "").strip()
        if decision not in ("approve", "reject"):
            flash("Approve or reject the request.", "danger")
            return self._back(pk)
        if decision == "reject" and not reason:
            flash("Say why the refund request is rejected: the customer reads it.", "danger")
            return self._back(pk)
        if len(reason) > MAX_REASON:
            flash(f"The reason is at most {MAX_REASON} characters.", "danger")
            return self._back(pk)
        try:
            refunds.decide_refund(
                current_actor(),
                item.order_id,
                request_id,
                approve=decision == "approve",
                note=reason or None,
                restock=decision == "approve" and request.form.get("restock") == "y",
            )
        except DomainError as exc:
            flash(refusal(exc), "danger")
        else:
            flash(
                "Refund request approved: the refund is paid out."
                if decision == "approve"
                else "Refund request rejected.",
                "success",
            )
        return self._back(pk)

    @action(
        "ship_selected",
        "Ship selected",
        "Create a shipping label for each selected sub-order and mark it shipped?",
        "fa-truck",
        single=False,
    )
    def ship_selected(self, items):
        actor = current_actor()
        return self._bulk(
            items,
            lambda sub_order_id: shipment_services.create_label(actor, sub_order_id),
            lambda row: row.number,
            "sub-order",
            "shipped with a label",
        )


class ShipmentLabels:
    """For ShipmentView: a shipment's label as a PDF (a seller only its own shipments')."""

    @expose("/label/<int:pk>", methods=["GET"])
    @has_access
    @permission_name("label")
    def label(self, pk):
        try:
            tracking_number, pdf = shipment_services.label_pdf(current_actor(), pk)
        except NotFound:
            abort(404)
        except DomainError:
            abort(403)
        if not pdf:
            abort(404)
        return Response(
            pdf,
            mimetype="application/pdf",
            headers={
                "Content-Disposition": f'inline; filename="label-{tracking_number}.pdf"',
                "Cache-Control": "private, no-store",
            },
        )


class ProductBulkActions(BulkActions):
    """For ProductView: publish or archive the selected products through the catalog services (the
    plan's product quota and the seller's approval hold; a seller only its own)."""

    @action(
        "publish",
        "Publish selected",
        "Publish the selected products on the storefront?",
        "fa-eye",
        single=False,
    )
    def publish(self, items):
        actor = current_actor()
        return self._bulk(
            items,
            lambda product_id: catalog_services.update_product(
                actor, product_id, ProductChanges(status="active")
            ),
            lambda row: row.title,
            "product",
            "published",
        )

    @action(
        "archive",
        "Archive selected",
        "Archive the selected products (hidden from the storefront, kept for orders)?",
        "fa-archive",
        single=False,
    )
    def archive(self, items):
        actor = current_actor()
        return self._bulk(
            items,
            lambda product_id: catalog_services.archive_product(actor, product_id),
            lambda row: row.title,
            "product",
            "archived",
        )


class ReviewModeration(BulkActions):
    """For ReviewView: approve or reject (hide) the selected reviews through the reviews service,
    which keeps each product's rating in step (Admins only: admin/roles.py)."""

    def _moderate(self, items, status: str, verb: str):
        actor = current_actor()
        return self._bulk(
            items,
            lambda review_id: review_services.update_review(
                actor, review_id, ReviewChanges(status=status)
            ),
            lambda row: f"Review “{row.title}”",
            "review",
            verb,
        )

    @action(
        "approve", "Approve selected", "Approve the selected reviews?", "fa-check", single=False
    )
    def approve(self, items):
        return self._moderate(items, "approved", "approved")

    @action(
        "reject",
        "Reject selected",
        "Reject the selected reviews (hidden from the storefront and its ratings)?",
        "fa-ban",
        single=False,
    )
    def reject(self, items):
        return self._moderate(items, "hidden", "rejected")
