"""The order desk: an order's admin page (/admin/orders/show/<id>) as one screen staff run the order
from, for Admins and Super Admins (admin/roles.py: OrderView is theirs alone; a Seller works on its
sub-orders in their own pages).

The page reads app.orders.desk.order_desk (the order, its lines, sub-orders per seller, payments,
refunds, refund requests, timeline, customer) and app.shipments.services.order_tracking (its
shipments). Each action is a small POST form (Flask-WTF's token, checked app-wide) calling the
service the API calls, with the admin's Actor:

    cancel          app.orders.lifecycle.cancel_order (with a reason)
    move status     app.orders.lifecycle.update_order (OrderChanges: status, sub_order_id, note)
    create label    app.shipments.services.create_label (ships the sub-order)
    decide refund   app.orders.refunds.decide_refund (approve, with or without restock; reject
                    with a reason)
    add note        app.orders.lifecycle.add_note
    mark received   the payments page's own "Mark received" action (admin/views/payments.py),
                    posted to /admin/payments/action/mark_received/<payment id>

Each has its own FAB permission on OrderView (can_cancel, can_move_status, can_create_label,
can_decide_refund, can_add_note). The outcome, or why the service refused (a DomainError: nothing
changed), is a flash message on the order page, which is shown again. A Super Admin's action runs
in the order's tenant."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from decimal import Decimal

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import expose, has_access, permission_name
from wtforms import DecimalField, Form, IntegerField, SelectField, StringField, validators

from admin import formatting
from admin.base import current_actor, shop_format
from app.core.errors import DomainError, NotFound, PermissionDenied
from app.core.tenancy import is_unscoped, tenant_scope
from app.orders import desk, lifecycle, refunds
from app.orders.inputs import OrderChanges
from app.orders.states import STATUSES
from app.shipments import services as shipments

ACTIONS = ("can_cancel", "can_move_status", "can_create_label", "can_decide_refund", "can_add_note")
TEXT_MAX = 500  # a reason or note is an order event's note

_text = [validators.Length(max=TEXT_MAX, message=f"at most {TEXT_MAX} characters")]


class CancelForm(Form):
    reason = StringField("Reason", [validators.InputRequired("give a reason"), *_text])


class MoveForm(Form):
    sub_order_id = IntegerField("Sub-order", [validators.InputRequired()])
    status = SelectField("New status", choices=list(STATUSES))
    note = StringField("Note", [validators.Optional(), *_text])


class LabelForm(Form):
    sub_order_id = IntegerField("Sub-order", [validators.InputRequired()])
    weight_kg = DecimalField(
        "Weight (kg)",
        [
            validators.Optional(),
            validators.NumberRange(
                min=Decimal("0.001"), max=Decimal("1000"), message="0.001 to 1000"
            ),
        ],
    )


class DecisionForm(Form):
    request_id = IntegerField("Refund request", [validators.InputRequired()])
    decision = SelectField("Decision", choices=["approve", "approve_restock", "reject"])
    note = StringField("Reason", _text)  # no Optional(): it would skip validate_note

    def validate_note(self, field):
        if self.decision.data == "reject" and not (field.data or "").strip():
            raise validators.ValidationError("say why the refund is rejected")


class NoteForm(Form):
    note = StringField("Note", [validators.InputRequired("write the note"), *_text])


# how the page writes values: as the admin's lists do (admin/formatting.py), in the order's
# tenant's locale and time zone; dates and states through the templates' `when` and `badge` filters
human = formatting.words  # a stored code as words: refund_requested -> Refund requested


def _refusal(exc: DomainError) -> str:
    """Why a service refused, said on the page: its message, and for an illegal status move the
    statuses that are allowed."""
    message = f"Nothing was changed: {exc.message}."
    allowed = exc.details.get("allowed") if isinstance(exc.details, dict) else None
    if isinstance(allowed, list):
        message += f" From here: {', '.join(human(s) for s in allowed) or 'no further step'}."
    return message


def _moved(order, sub_order_id: int, status: str) -> str:
    number = next((s.number for s in order.sub_orders if s.id == sub_order_id), "")
    return f"Sub-order {number} moved to {human(status).lower()}."


def _form_errors(form: Form) -> str:
    return "; ".join(
        f"{form[name].label.text}: {', '.join(errors)}" for name, errors in form.errors.items()
    )


class OrderDeskMixin:
    """OrderView's show page and actions (see the module's docstring)."""

    show_template = "admin/order/show.html"

    def _order_id(self, pk) -> int:
        try:
            return int(pk)
        except (TypeError, ValueError):
            abort(404)

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        order_id = self._order_id(pk)
        actor = current_actor()
        try:
            page = desk.order_desk(actor, order_id)
            tracking = shipments.order_tracking(actor, order_id)
        except NotFound:
            abort(404)
        except PermissionDenied:
            abort(403)
        sm = self.appbuilder.sm
        may = {name: sm.has_access(name, self.class_permission_name) for name in ACTIONS}
        payments = next(v for v in self.appbuilder.baseviews if type(v).__name__ == "PaymentView")
        may["can_mark_received"] = sm.has_access(
            payments.get_action_permission_name("mark_received"), payments.class_permission_name
        )
        self.update_redirect()
        return self.render_template(
            self.show_template,
            title=f"Order {page.order.number}",
            desk=page,
            shipments=tracking.shipments,
            may=may,
            money=lambda amount, currency: formatting.money(
                amount, currency, shop_format(page.tenant_id)
            ),
        )

    # --- actions ------------------------------------------------------------------------------
    def _act(self, pk, form: Form, call: Callable[[], object], done: str | Callable[[object], str]):
        """Validate the posted form, run `call` (a service) in the order's tenant, flash what
        happened (`done`, or `done(what the service answered)`) or why nothing did, and show the
        order again."""
        order_id = self._order_id(pk)
        if not form.validate():
            flash(f"Nothing was changed. {_form_errors(form)}", "danger")
        else:
            try:
                with self._order_tenant(order_id):
                    answer = call()
            except DomainError as exc:
                flash(_refusal(exc), "danger")
            else:
                flash(done(answer) if callable(done) else done, "success")
        return redirect(url_for(f"{self.endpoint}.show", pk=order_id))

    @staticmethod
    def _order_tenant(order_id: int):
        """A Super Admin reads across tenants; its changes are made in the order's tenant."""
        if not is_unscoped():
            return nullcontext()
        tenant_id = desk.order_tenant(order_id)
        if tenant_id is None:
            abort(404)
        return tenant_scope(tenant_id)

    @expose("/<pk>/cancel", methods=["POST"])
    @has_access
    @permission_name("cancel")
    def cancel(self, pk):
        form = CancelForm(request.form)
        return self._act(
            pk,
            form,
            lambda: lifecycle.cancel_order(
                current_actor(), self._order_id(pk), form.reason.data.strip()
            ),
            "Order cancelled: its stock is released and its payment voided or refunded.",
        )

    @expose("/<pk>/move", methods=["POST"])
    @has_access
    @permission_name("move_status")
    def move_status(self, pk):
        form = MoveForm(request.form)
        return self._act(
            pk,
            form,
            lambda: lifecycle.update_order(
                current_actor(),
                self._order_id(pk),
                OrderChanges(
                    status=form.status.data,
                    sub_order_id=form.sub_order_id.data,
                    note=(form.note.data or "").strip() or None,
                ),
            ),
            lambda order: _moved(order, form.sub_order_id.data, form.status.data),
        )

    @expose("/<pk>/label", methods=["POST"])
    @has_access
    @permission_name("create_label")
    def create_label(self, pk):
        form = LabelForm(request.form)
        made = {}

        def call():
            made["shipment"] = shipments.create_label(
                current_actor(), self._sub_order_of(pk, form.sub_order_id.data), form.weight_kg.data
            )

        response = self._act(pk, form, call, "Label created; the sub-order is shipped.")
        if "shipment" in made:
            shipment = made["shipment"]
            flash(f"Tracking number: {shipment.carrier} {shipment.tracking_number}.", "info")
        return response

    def _sub_order_of(self, pk, sub_order_id: int) -> int:
        """The sub-order posted, if it belongs to the order of the page (else NotFound, flashed)."""
        if not desk.sub_order_in(self._order_id(pk), sub_order_id):
            raise NotFound("no such sub-order in this order")
        return sub_order_id

    @expose("/<pk>/refund-decision", methods=["POST"])
    @has_access
    @permission_name("decide_refund")
    def decide_refund(self, pk):
        form = DecisionForm(request.form)
        decision = form.decision.data
        return self._act(
            pk,
            form,
            lambda: refunds.decide_refund(
                current_actor(),
                self._order_id(pk),
                form.request_id.data,
                approve=decision != "reject",
                note=(form.note.data or "").strip() or None,
                restock=decision == "approve_restock",
            ),
            {
                "approve": "Refund approved: the money goes back to the customer.",
                "approve_restock": "Refund approved and the returned units restocked.",
                "reject": "Refund request rejected.",
            }.get(decision, ""),
        )

    @expose("/<pk>/note", methods=["POST"])
    @has_access
    @permission_name("add_note")
    def add_note(self, pk):
        form = NoteForm(request.form)
        return self._act(
            pk,
            form,
            lambda: lifecycle.add_note(current_actor(), self._order_id(pk), form.note.data),
            "Note added to the timeline.",
        )
