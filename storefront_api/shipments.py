"""/api/v1/shipping (shipments): create-label and tracking/<id>. The pricing domain's "shipping"
blueprint serves /methods/ and /calculate/ on the same prefix.

The seller of a sub-order (or an admin) creates its label: the carrier adapter of the sub-order's
shipping method makes a tracking number and a PDF label (GET /labels/<id>/), and the sub-order
moves to shipped. Tracking is open to the order's customer, the seller and admins.
"""

from __future__ import annotations

from flask import Response
from marshmallow import Schema

from app.shipments import services
from storefront_api.common import Blueprint, current_actor, document_errors
from storefront_api.fields import an_id, decimal_in
from storefront_api.orders import OrderShipmentSchema

blp = Blueprint(
    "shipments",
    __name__,
    url_prefix="/api/v1/shipping",
    description="Shipments of sub-orders: labels and tracking",
)


def _errors(*codes: int):
    return document_errors(
        blp,
        *codes,
        descriptions={
            403: "Customers cannot create labels",
            404: "No such sub-order or shipment (or not yours)",
            409: "The sub-order cannot be shipped now (illegal_transition with details.allowed; order_refunded: "
            "what was paid for it has been or is being refunded), or has a shipment already",
        },
    )


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
@_errors(400, 401, 403, 404, 409, 422, 429)
def create_label(data):
    """Make the sub-order's label (a real PDF with the manual carrier) and mark it shipped."""
    return services.create_label(current_actor(), data["sub_order_id"], data.get("weight_kg"))


@blp.route("/tracking/<int:shipment_id>/", methods=["GET"])
@blp.response(200, OrderShipmentSchema)
@_errors(401, 403, 404)
def tracking(shipment_id):
    """The shipment and its tracking events, oldest first."""
    return services.tracking(current_actor(), shipment_id)


@blp.route("/labels/<int:shipment_id>/", methods=["GET"])
@blp.response(200, description="The label (application/pdf)")
@_errors(401, 403, 404)
def label(shipment_id):
    """The shipment's PDF label (the seller and admins)."""
    number, pdf = services.label_pdf(current_actor(), shipment_id)
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="label-{number}.pdf"'},
    )
