"""/api/v1/shipping (shipments): create-label and tracking/<id>. The pricing domain's "shipping"
blueprint serves /methods/ and /calculate/ on the same prefix.

The seller of a sub-order (or an admin) creates its label: the carrier adapter of the sub-order's
shipping method makes a tracking number and a PDF label (GET /labels/<id>/), and the sub-order
moves to shipped. Tracking is open to the order's customer, the seller and admins.
"""

from __future__ import annotations

from flask import Response
from marshmallow import Schema

from app.core.errors import CoreError
from app.orders.errors import OrderError
from app.security.errors import SecurityError
from app.shipments import services
from app.shipments.errors import ShipmentError
from app.shipping.errors import ShippingError
from storefront_api.common import Blueprint, current_actor, document_errors
from storefront_api.errors import ApiError
from storefront_api.fields import an_id, decimal_in
from storefront_api.orders import OrderShipmentSchema

blp = Blueprint(
    "shipments",
    __name__,
    url_prefix="/api/v1/shipping",
    description="Shipments of sub-orders: labels and tracking",
)


def _errors(*errors):
    return document_errors(blp, *errors)


class CreateLabelSchema(Schema):
    sub_order_id = an_id(required=True)
    weight_kg = decimal_in(
        0,
        100_000,
        places=3,
        metadata={"description": "default: the variants' weights x quantities"},
    )


@blp.route("/create-label/", methods=["POST"])
@blp.arguments(CreateLabelSchema)
@blp.response(201, OrderShipmentSchema)
@_errors(
    ApiError.BAD_REQUEST,
    SecurityError.UNAUTHORIZED,
    CoreError.FORBIDDEN,
    CoreError.NOT_FOUND,
    ShippingError.UNKNOWN_CARRIER,
    OrderError.ILLEGAL_TRANSITION,
    OrderError.ORDER_REFUNDED,
    ShipmentError.SHIPMENT_EXISTS,
    OrderError.STOCK_INCONSISTENT,
    CoreError.VALIDATION_ERROR,
    ApiError.RATE_LIMITED,
)
def create_label(data):
    """Make the sub-order's label (a real PDF with the manual carrier) and mark it shipped."""
    return services.create_label(current_actor(), data["sub_order_id"], data.get("weight_kg"))


@blp.route("/tracking/<int:shipment_id>/", methods=["GET"])
@blp.response(200, OrderShipmentSchema)
@_errors(SecurityError.UNAUTHORIZED, CoreError.FORBIDDEN, CoreError.NOT_FOUND)
def tracking(shipment_id):
    """The shipment and its tracking events, oldest first."""
    return services.tracking(current_actor(), shipment_id)


@blp.route("/labels/<int:shipment_id>/", methods=["GET"])
@blp.response(200, description="The label (application/pdf)")
@_errors(SecurityError.UNAUTHORIZED, CoreError.FORBIDDEN, CoreError.NOT_FOUND)
def label(shipment_id):
    """The shipment's PDF label (the seller and admins)."""
    number, pdf = services.label_pdf(current_actor(), shipment_id)
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="label-{number}.pdf"'},
    )
