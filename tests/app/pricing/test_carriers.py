"""Carrier adapters: the registry and the built-in manual carrier's PDF label and S10 numbers."""

from __future__ import annotations

import re
import zlib
from decimal import Decimal

import pytest

from app.core.errors import NotFound, ValidationError
from app.shipping import carriers
from app.shipping.carriers import LabelRequest, Party


def _pdf_text(pdf: bytes) -> str:
    """The text drawn by the label: its content streams, inflated."""
    out = []
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        data = match.group(1)
        try:
            data = zlib.decompress(data)
        except zlib.error:
            pass
        out.append(data.decode("latin-1"))
    return "\n".join(out)


@pytest.mark.smoke
def test_s10_check_digit_and_numbers():
    # the UPU's own example: RR 47312482 9 GB
    assert carriers.s10_check_digit("47312482") == 9
    assert carriers.is_valid_tracking_number("RR473124829GB")
    assert not carriers.is_valid_tracking_number("RR473124828GB")
    assert not carriers.is_valid_tracking_number("RR47312482GB")
    number = carriers.make_tracking_number("MN", "XX", serial=12345678)
    assert number == f"MN12345678{carriers.s10_check_digit('12345678')}XX"
    assert carriers.is_valid_tracking_number(number)


@pytest.mark.smoke
def test_manual_carrier_makes_a_real_pdf_label():
    adapter = carriers.get("manual")
    label = adapter.create_label(
        LabelRequest(
            reference="SHP-42",
            service="Standard",
            weight_kg=Decimal("1.25"),
            sender=Party(
                name="Zoë's Store",
                line1="1 rue de Rivoli",
                city="Paris",
                postal_code="75001",
                country="FR",
            ),
            recipient=Party(
                name="Ada Lovelace",
                line1="12 St James Sq",
                city="London",
                postal_code="SW1Y 4JH",
                country="GB",
                phone="+44 20 7946 0000",
            ),
        )
    )
    assert label.carrier == "manual" and label.content_type == "application/pdf"
    assert carriers.is_valid_tracking_number(
        label.tracking_number
    ) and label.tracking_number.startswith("MN")
    assert label.pdf_bytes.startswith(b"%PDF-") and label.pdf_bytes.rstrip().endswith(b"%%EOF")
    text = _pdf_text(label.pdf_bytes)
    for expected in (
        "Zo\xeb's Store",
        "Ada Lovelace",
        "SW1Y 4JH London",
        "Weight: 1.250 kg",
        label.tracking_number,
        "SHP-42",
    ):
        assert expected in text, expected
    # the Code 39 barcode of "*<number>*": 5 bars per character, each a filled rectangle
    assert len(re.findall(r" re f", text)) == 5 * (len(label.tracking_number) + 2)
    assert adapter.track(label.tracking_number) == []


def test_manual_carrier_refusals():
    adapter = carriers.get("manual")
    with pytest.raises(ValidationError):
        adapter.track("RR473124829GB")  # valid S10, but not this carrier's
    with pytest.raises(ValidationError):
        adapter.track("MN000000000XX0")
    party = Party(name="A", line1="B", city="C", postal_code="D", country="FR")
    with pytest.raises(ValidationError):
        adapter.create_label(
            LabelRequest(reference="x", sender=party, recipient=party, weight_kg=Decimal("-1"))
        )
    with pytest.raises(NotFound) as err:
        carriers.get("pigeon")
    assert err.value.code == "unknown_carrier" and "manual" in carriers.codes()
