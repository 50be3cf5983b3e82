"""Carrier adapters: make a shipping label and read a tracking timeline, behind one interface.

    adapter = carriers.get("manual")
    label = adapter.create_label(LabelRequest(...))   # Label(tracking_number, pdf_bytes, ...)
    events = adapter.track(label.tracking_number)     # [TrackingEvent, ...], oldest first

Adapters register by code (`register`); a ShippingMethod's `carrier_code` names one. The built-in
"manual" carrier (the seller hands the parcel over and updates its status by hand) draws a real
PDF label with fpdf2 and numbers parcels in the UPU S10 format: 2 letters, an 8-digit serial, a
mod-11 check digit and 2 letters ("MN12345678" + check + "XX"). fpdf2 draws Code 39 and
Interleaved 2 of 5 barcodes, not Code 128, so the label carries a Code 39 barcode of the
tracking number. Adapters of real carriers (remote APIs) may be added later; they register the
same way and their remote calls are the only thing a test may fake.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from fpdf import FPDF

from app.core.errors import NotFound, ValidationError
from app.core.types import utcnow
from app.shipping.errors import ShippingError


@dataclass(frozen=True)
class Party:
    name: str
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str | None = None
    region: str | None = None
    phone: str | None = None

    def lines(self) -> list[str]:
        place = " ".join(p for p in (self.postal_code, self.city) if p)
        rows = [
            self.name,
            self.line1,
            self.line2,
            place,
            " ".join(p for p in (self.region, self.country) if p),
            self.phone,
        ]
        return [r for r in rows if r]


@dataclass(frozen=True)
class LabelRequest:
    reference: str  # the shipment's reference (e.g. "SHP-42"), printed on the label
    sender: Party
    recipient: Party
    weight_kg: Decimal
    service: str | None = None  # the shipping method's name
    parcels: int = 1


@dataclass(frozen=True)
class Label:
    carrier: str
    tracking_number: str
    pdf_bytes: bytes
    content_type: str = "application/pdf"
    created_at: dt.datetime | None = None


@dataclass(frozen=True)
class TrackingEvent:
    occurred_at: dt.datetime
    status: str  # label_created, in_transit, out_for_delivery, delivered, exception
    description: str
    location: str | None = None


class CarrierAdapter(Protocol):
    code: str
    name: str

    def create_label(self, request: LabelRequest) -> Label: ...

    def track(self, tracking_number: str) -> list[TrackingEvent]: ...


_registry: dict[str, CarrierAdapter] = {}


def register(adapter: CarrierAdapter) -> None:
    _registry[adapter.code] = adapter


def get(code: str) -> CarrierAdapter:
    try:
        return _registry[code]
    except KeyError:
        raise NotFound(f"no carrier adapter {code!r}", code=ShippingError.UNKNOWN_CARRIER) from None


def codes() -> list[str]:
    return sorted(_registry)


# --- UPU S10 tracking numbers -------------------------------------------------------------------

_S10 = re.compile(r"^([A-Z]{2})(\d{8})(\d)([A-Z]{2})$")
_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def s10_check_digit(serial: str) -> int:
    """The S10 check digit of an 8-digit serial (weights 8 6 4 2 3 5 9 7, mod 11)."""
    check = 11 - sum(int(d) * w for d, w in zip(serial, _WEIGHTS, strict=True)) % 11
    return {10: 0, 11: 5}.get(check, check)


def make_tracking_number(prefix: str, suffix: str, serial: int | None = None) -> str:
    serial_text = f"{serial if serial is not None else secrets.randbelow(10**8):08d}"
    return f"{prefix}{serial_text}{s10_check_digit(serial_text)}{suffix}"


def is_valid_tracking_number(number: str) -> bool:
    match = _S10.match(number or "")
    return bool(match) and s10_check_digit(match.group(2)) == int(match.group(3))


# --- the built-in manual carrier ----------------------------------------------------------------


def _latin1(text: str) -> str:
    """The PDF core fonts are Latin-1: other characters print as '?' instead of failing."""
    return text.encode("latin-1", "replace").decode("latin-1")


class ManualCarrier:
    """Labels printed by the seller; tracking is what the seller records on the shipment."""

    code = "manual"
    name = "Manual (seller ships)"
    prefix, suffix = "MN", "XX"

    def create_label(self, request: LabelRequest) -> Label:
        if request.weight_kg is None or request.weight_kg < 0:
            raise ValidationError(
                "invalid parcel weight", details={"weight_kg": ["must be zero or more"]}
            )
        tracking = make_tracking_number(self.prefix, self.suffix)
        created = utcnow()
        return Label(
            carrier=self.code,
            tracking_number=tracking,
            pdf_bytes=self._pdf(request, tracking, created),
            created_at=created,
        )

    def track(self, tracking_number: str) -> list[TrackingEvent]:
        if not is_valid_tracking_number(tracking_number) or not tracking_number.startswith(
            self.prefix
        ):
            raise ValidationError(
                "not a tracking number of this carrier",
                details={"tracking_number": ["invalid check digit or format"]},
            )
        return []  # no remote timeline: the shipment's own events are the timeline

    def _pdf(self, request: LabelRequest, tracking: str, created: dt.datetime) -> bytes:
        pdf = FPDF(unit="mm", format=(100, 150))  # the common 4 x 6 in label
        pdf.set_title(_latin1(f"Shipping label {tracking}"))
        pdf.set_creator("marketplace")
        pdf.set_auto_page_break(False)
        pdf.add_page()
        pdf.set_margins(6, 6, 6)
        pdf.set_font("Helvetica", "B", 12)
        pdf.set_xy(6, 6)
        pdf.cell(
            88,
            6,
            _latin1(f"{self.name} - {request.service or 'Standard'}"),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.set_font("Helvetica", "", 8)
        pdf.cell(
            88,
            4,
            _latin1(f"Ref {request.reference}   {created:%Y-%m-%d %H:%M} UTC"),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.line(6, 18, 94, 18)
        pdf.set_xy(6, 20)
        pdf.set_font("Helvetica", "B", 8)
        pdf.cell(88, 4, "FROM", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 9)
        for row in request.sender.lines():
            pdf.cell(88, 4, _latin1(row), new_x="LMARGIN", new_y="NEXT")
        pdf.line(6, 50, 94, 50)
        pdf.set_xy(6, 53)
        pdf.set_font("Helvetica", "B", 9)
        pdf.cell(88, 5, "TO", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "B", 12)
        for row in request.recipient.lines():
            pdf.cell(88, 6, _latin1(row), new_x="LMARGIN", new_y="NEXT")
        pdf.line(6, 98, 94, 98)
        pdf.set_xy(6, 100)
        pdf.set_font("Helvetica", "", 10)
        pdf.cell(
            88,
            5,
            _latin1(f"Weight: {Decimal(request.weight_kg):.3f} kg   Parcels: {request.parcels}"),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.code39(f"*{tracking}*", x=8, y=110, w=0.45, h=20)
        pdf.set_xy(6, 133)
        pdf.set_font("Courier", "B", 14)
        pdf.cell(88, 7, tracking, align="C")
        return bytes(pdf.output())


register(ManualCarrier())
