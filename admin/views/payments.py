"""Payments admin: /admin/payments (read-only, with a "Mark received" action for bank transfer and
cash on delivery), /admin/payment-transactions (read-only), /admin/refunds (no add or edit:
refunds are made through the API, or by the refunds of approved requests and cancelled orders; a
"Retry refund" action pays out again a failed refund that no refund request answers, e.g. a
cancelled order's, through app.orders.refunds.retry_failed_refund (then payments' retry_refund) so
the amount checks always apply; a failed
refund of a request is paid out by a new request), /admin/payment-methods (the tenant's methods;
Stripe secrets are never shown).

A Seller (admin/roles.py: list and show of payments, transactions and refunds; never the actions or
the methods) sees only the rows of orders that hold one of its sub-orders, and of their money only
its share (app.orders.shares: one payment covers a whole multi-seller order): the amounts of
payments, transactions and refunds are its share, the rows of refunds answering another seller's
refund request (and their transactions) are not shown, raw gateway responses are for staff, and
its lists do not sort on money (a sort on the whole amounts would order them). Staff see whole
figures. It asks for a refund of its sub-order with POST /api/v1/orders/<id>/refund/ and an admin
decides."""

from __future__ import annotations

from flask_appbuilder import AppBuilder
from flask_appbuilder.actions import action
from flask_login import current_user
from wtforms import PasswordField, validators

from admin.base import MarketModelView, current_seller_id, datamodel, is_seller_user
from admin.bulk import BulkActions
from admin.formatting import Reference
from admin.references import ORDER, USER
from app.core.errors import ValidationError
from app.orders import refunds as order_refunds
from app.orders import shares
from app.payments import charges
from app.payments.gateways import METHODS
from app.payments.models import (
    Payment,
    PaymentMethodSetting,
    PaymentTransaction,
    Refund,
    RefundStatus,
)

READ_ONLY = ["can_list", "can_show"]

# the rows money records point at by id (payments sit below orders: no relationship to follow)
PAYMENT = Reference(Payment, lambda payment: f"Payment #{payment.id}", "PaymentView")
REFUND = Reference(Refund, lambda refund: f"Refund #{refund.id}", "RefundView")


class _SellerReadOnly(MarketModelView):
    """A money view: a seller reads its share of the figures (app.orders.shares), staff all."""

    def owned_by_seller(self, item, seller_id):
        return False  # sellers only ever read money records

    @property
    def _money_columns(self) -> tuple[str, ...]:
        return shares.MONEY_COLUMNS[self.datamodel.obj]

    def _seller_labels(self) -> dict[str, str]:
        """The column labels a seller reads: its figures are said to be its share."""
        return {
            **self.label_columns,
            **{
                column: f"{self.label_columns.get(column) or self._prettify_column(column)}"
                " (your share)"
                for column in self._money_columns
            },
        }

    def _seller_values(self, items: list, values: list[dict]) -> None:
        """Put the seller's share in `values` (one dict of column values per item)."""
        figures = shares.SellerShares.for_orders(
            current_seller_id(), {item.order_id for item in items}
        )
        for item, row in zip(items, values, strict=True):
            row.update(
                {column: value for column, value in figures.values(item).items() if column in row}
            )

    def _get_list_widget(
        self,
        filters,
        actions=None,
        order_column="",
        order_direction="",
        page=None,
        page_size=None,
        widgets=None,
        **kwargs,
    ):
        """FAB's, with the seller's figures, and sorting only on the columns offered (FAB sorts on
        any column named in the URL): never on money for a seller."""
        seller = is_seller_user()
        order_columns = [c for c in self.order_columns if not (seller and c in self._money_columns)]
        if order_column not in order_columns:
            order_column, order_direction = "", ""
        if not order_column and self.base_order:
            order_column, order_direction = self.base_order
        count, items = self.datamodel.query(
            self.tenant_filtered(filters.get_joined_filters(self._base_filters)),
            order_column,
            order_direction,
            page=page,
            page_size=page_size or self.page_size,
        )
        columns = self.shown_list_columns()
        values = self._values(items, columns)
        if seller:
            self._seller_values(items, values)
        widgets = widgets or {}
        widgets["list"] = self.list_widget(
            label_columns=self.shown_labels(self._seller_labels() if seller else None),
            include_columns=columns,
            value_columns=self.display_rows(items, values),
            order_columns=order_columns,
            formatters_columns=self.formatters_columns,
            page=page,
            page_size=page_size or self.page_size,
            count=count,
            pks=[self._serialize_pk_if_composite(pk) for pk in self.datamodel.get_keys(items)],
            actions=actions or self.actions,
            filters=filters,
            modelview_name=self.__class__.__name__,
            tenant_choices=self.tenant_choices(),
            **kwargs,
        )
        return widgets

    def _get_show_widget(self, pk, item, widgets=None, actions=None, show_fieldsets=None):
        """FAB's, with the seller's figures and without the columns for staff only."""
        if not is_seller_user():
            return super()._get_show_widget(pk, item, widgets, actions, show_fieldsets)
        hidden = shares.STAFF_ONLY_COLUMNS.get(self.datamodel.obj, ())
        columns = [c for c in self.show_columns if c not in hidden]
        values = dict(zip(columns, self.datamodel.get_values_item(item, columns), strict=True))
        self._seller_values([item], [values])
        (values,) = self.display_rows([item], [values])
        return self.show_widgets(pk, columns, values, self._seller_labels(), widgets, actions)


class PaymentView(BulkActions, _SellerReadOnly):
    datamodel = datamodel(Payment)
    seller_scope = staticmethod(shares.seller_payments)
    route_base = "/admin/payments"
    list_title = "Payments"
    item_title = "Payment"
    word_columns = ("method", "gateway")
    base_permissions = READ_ONLY
    base_order = ("id", "desc")
    list_columns = [
        "id",
        "order_id",
        "method",
        "status",
        "amount",
        "amount_captured",
        "amount_refunded",
        "currency",
        "card_last4",
        "created_at",
    ]
    search_columns = [
        "order_id",
        "method",
        "gateway",
        "status",
        "currency",
        "gateway_reference",
        "created_at",
    ]
    references = {"order_id": ORDER, "customer_user_id": USER}
    label_columns = {
        "order_id": "Order",
        "customer_user_id": "Customer",
        "card_last4": "Card ending",
    }
    show_columns = [
        "id",
        "order_id",
        "customer_user_id",
        "method",
        "gateway",
        "status",
        "currency",
        "amount",
        "amount_authorized",
        "amount_captured",
        "amount_refunded",
        "gateway_reference",
        "card_brand",
        "card_last4",
        "failure_code",
        "failure_message",
        "created_at",
        "updated_at",
    ]

    @action(
        "mark_received",
        "Mark received",
        "Mark the money of the selected bank transfer / cash on delivery payments received?",
        "fa-check",
    )
    def mark_received(self, items):
        def mark(payment_id: int) -> None:
            charges.mark_received(payment_id)

        return self._bulk(
            items, mark, lambda row: f"Payment #{row.id}", "payment", "marked received"
        )


class PaymentTransactionView(_SellerReadOnly):
    datamodel = datamodel(PaymentTransaction)
    seller_scope = staticmethod(shares.seller_transactions)
    route_base = "/admin/payment-transactions"
    list_title = "Payment transactions"
    item_title = "Payment transaction"
    word_columns = ("kind", "gateway")
    base_permissions = READ_ONLY
    base_order = ("id", "desc")
    list_columns = [
        "id",
        "payment_id",
        "order_id",
        "kind",
        "status",
        "amount",
        "currency",
        "gateway",
        "gateway_reference",
        "error_code",
        "created_at",
    ]
    search_columns = [
        "payment_id",
        "order_id",
        "kind",
        "status",
        "gateway",
        "gateway_reference",
        "created_at",
    ]
    show_columns = list_columns + ["raw_response"]
    references = {"payment_id": PAYMENT, "order_id": ORDER}
    label_columns = {"payment_id": "Payment", "order_id": "Order"}


class RefundView(BulkActions, _SellerReadOnly):
    datamodel = datamodel(Refund)
    seller_scope = staticmethod(shares.seller_refunds)
    route_base = "/admin/refunds"
    list_title = "Refunds"
    item_title = "Refund"
    word_columns = ("gateway",)
    base_permissions = READ_ONLY
    base_order = ("id", "desc")
    # a failed refund is money still owed (its admins are mailed): why it failed shows in the list
    list_columns = [
        "id",
        "payment_id",
        "order_id",
        "amount",
        "currency",
        "status",
        "failure_code",
        "reason",
        "retry_of_refund_id",
        "created_at",
    ]
    search_columns = [
        "payment_id",
        "order_id",
        "status",
        "failure_code",
        "retry_of_refund_id",
        "created_at",
    ]
    show_columns = list_columns + ["gateway_reference", "created_by_user_id", "updated_at"]
    references = {
        "payment_id": PAYMENT,
        "order_id": ORDER,
        "retry_of_refund_id": REFUND,
        "created_by_user_id": USER,
    }
    label_columns = {
        "payment_id": "Payment",
        "order_id": "Order",
        "retry_of_refund_id": "Retry of",
        "created_by_user_id": "Made by",
    }

    @action(
        "retry_refund",
        "Retry refund",
        "Refund the selected failed refunds again (same amount, same payment)?",
        "fa-repeat",
    )
    def retry_refund(self, items):
        def retry(refund_id: int) -> str | None:
            made = order_refunds.retry_failed_refund(refund_id, user_id=current_user.id)
            return (
                f"its retry #{made.id} was refused too ({made.failure_code})"
                if made.status == RefundStatus.FAILED
                else None
            )

        return self._bulk(items, retry, lambda row: f"Refund #{row.id}", "refund", "retried")


class PaymentMethodSettingView(MarketModelView):
    """Stripe secrets are write-only here: typed into password fields (never shown back, an empty
    field keeps the stored value), stored encrypted, shown only as "set" or "not set"."""

    datamodel = datamodel(PaymentMethodSetting)
    route_base = "/admin/payment-methods"
    list_title = "Payment methods"
    item_title = "Payment method"
    list_columns = ["method", "enabled", "display_name", "stripe_keys"]
    add_columns = edit_columns = [
        "method",
        "enabled",
        "display_name",
        "instructions",
        "new_stripe_secret_key",
        "new_stripe_webhook_secret",
    ]
    show_columns = [
        "method",
        "enabled",
        "display_name",
        "instructions",
        "stripe_keys",
        "created_at",
        "updated_at",
    ]
    add_form_extra_fields = edit_form_extra_fields = {
        "new_stripe_secret_key": PasswordField(
            "Stripe secret key",
            [validators.Optional(), validators.Length(max=200)],
            description="stripe_card only; leave empty to keep the stored key",
        ),
        "new_stripe_webhook_secret": PasswordField(
            "Stripe webhook secret",
            [validators.Optional(), validators.Length(max=200)],
            description="stripe_card only; leave empty to keep it",
        ),
    }
    description_columns = {
        "method": f"One of {', '.join(METHODS)}. A shop with no rows here offers the "
        "PAYMENT_METHODS of the configuration."
    }
    label_columns = {"stripe_keys": "Stripe keys"}
    choices_columns = {"method": tuple(METHODS)}

    def before_save(self, item, is_new):
        if item.method not in METHODS:
            raise ValidationError(f"method must be one of {', '.join(METHODS)}")
        for field in ("stripe_secret_key", "stripe_webhook_secret"):
            value = getattr(item, f"new_{field}", None)
            if value:
                setattr(item, field, value.strip())


def register(appbuilder: AppBuilder) -> None:
    # under the orders' menu (one top-level menu less: the navbar fits one row at 1280 px)
    add = appbuilder.add_view
    appbuilder.add_separator("Orders")
    add(PaymentView, "Payments", icon="fa-credit-card", category="Orders")
    add(PaymentTransactionView, "Payment transactions", icon="fa-exchange", category="Orders")
    add(RefundView, "Refunds", icon="fa-undo", category="Orders")
    add(PaymentMethodSettingView, "Payment methods", icon="fa-cog", category="Orders")
