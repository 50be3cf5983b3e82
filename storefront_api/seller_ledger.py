"""/api/v1/sellers/me: a seller's balances, its ledger entries with their running balance, and
its statement over a date range as CSV (streamed) or XLSX (openpyxl's write-only mode).

Only a seller with a profile has a ledger here (403 no_seller_profile for anyone else); every
answer is about the caller's own entries, never another seller's. Amounts are strings in the
entry's currency's unit ("1000" yen, "19.90" euros), balances are sums over entries
(app.payouts.statements)."""

from __future__ import annotations

from flask import Response, send_file, stream_with_context
from marshmallow import Schema, fields, post_load, validate

from app.core.errors import CoreError
from app.core.types import quantize_money
from app.payouts import statements
from app.payouts.errors import LedgerError
from app.payouts.models import ENTRY_KINDS
from app.security.errors import SecurityError
from storefront_api.common import (
    Blueprint,
    PageArgs,
    ViewSchema,
    current_actor,
    document_errors,
    page_schema,
)

blp = Blueprint(
    "seller_ledger",
    __name__,
    url_prefix="/api/v1/sellers/me",
    description="A seller's ledger: balances, entries with running balance, statements",
)

CURRENCY = validate.Regexp(r"^[A-Za-z]{3}$", error="a three-letter ISO 4217 code such as EUR")


def _errors(*errors):
    return document_errors(blp, SecurityError.UNAUTHORIZED, LedgerError.NO_SELLER_PROFILE, *errors)


def in_currency(attribute: str, **kwargs) -> fields.Function:
    """Money out in its row's currency unit, as a string ("1000" JPY, "19.90" EUR)."""
    metadata = {"type": "string", "format": "decimal", "example": "19.90"}
    return fields.Function(
        lambda row: str(quantize_money(getattr(row, attribute), row.currency)),
        metadata={**metadata, **kwargs.pop("metadata", {})},
        **kwargs,
    )


class BalanceSchema(ViewSchema):
    currency = fields.String(required=True)
    pending = in_currency(
        "pending", metadata={"description": "earned, not yet available (not delivered, or held)"}
    )
    available = in_currency("available", metadata={"description": "may be paid out"})
    paid = in_currency("paid", metadata={"description": "paid out so far"})
    total = in_currency("total", metadata={"description": "pending + available"})


class BalancesSchema(Schema):
    balances = fields.List(fields.Nested(BalanceSchema), required=True)


class EntrySchema(ViewSchema):
    id = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    kind = fields.String(required=True, metadata={"enum": list(ENTRY_KINDS)})
    currency = fields.String(required=True)
    amount = in_currency("amount", metadata={"description": "signed: + owed to the seller"})
    balance = in_currency(
        "balance", metadata={"description": "the running balance of its currency after it"}
    )
    available_at = fields.DateTime(
        allow_none=True, metadata={"description": "when it becomes available (None: on delivery)"}
    )
    sub_order_id = fields.Integer(allow_none=True)
    sub_order_number = fields.String(allow_none=True)
    order_line_id = fields.Integer(allow_none=True)
    sku = fields.String(allow_none=True)
    note = fields.String(allow_none=True)


class PeriodArgs(Schema):
    since = fields.Date(metadata={"description": "first day (UTC), included"})
    until = fields.Date(metadata={"description": "last day (UTC), included"})

    @post_load
    def period(self, data, **kwargs):
        extra = {k: v for k, v in data.items() if k not in ("since", "until")}
        return {**extra, "period": statements.Period(data.get("since"), data.get("until"))}


class LedgerArgs(PageArgs, PeriodArgs):
    currency = fields.String(validate=CURRENCY)


@blp.route("/balance/", methods=["GET"])
@blp.response(200, BalancesSchema)
@_errors()
def balance():
    """The caller's balances per currency: pending, available, paid."""
    return {"balances": statements.my_balances(current_actor())}


@blp.route("/ledger/", methods=["GET"])
@blp.arguments(LedgerArgs, location="query")
@blp.response(200, page_schema(EntrySchema, "SellerLedgerPage"))
@_errors(CoreError.VALIDATION_ERROR)
def ledger(args):
    """The caller's entries, oldest first, each with its running balance (per currency)."""
    return statements.my_entries(
        current_actor(), args["page"], args["page_size"], args["period"], args.get("currency")
    )


def _filename(period: statements.Period, ext: str) -> str:
    since = period.since.isoformat() if period.since else "start"
    until = period.until.isoformat() if period.until else "now"
    return f"statement-{since}-{until}.{ext}"


@blp.route("/statement.csv", methods=["GET"])
@blp.arguments(PeriodArgs, location="query")
@blp.response(200, description="The statement as CSV (text/csv), streamed")
@_errors(CoreError.VALIDATION_ERROR)
def statement_csv(args):
    """The caller's entries of the period with running balances, as CSV (streamed)."""
    lines = statements.my_statement(current_actor(), args["period"])
    return Response(
        stream_with_context(statements.csv_chunks(lines)),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{_filename(args["period"], "csv")}"'
        },
    )


@blp.route("/statement.xlsx", methods=["GET"])
@blp.arguments(PeriodArgs, location="query")
@blp.response(200, description="The statement as an XLSX workbook")
@_errors(CoreError.VALIDATION_ERROR)
def statement_xlsx(args):
    """The caller's entries of the period with running balances, as an XLSX workbook."""
    lines = statements.my_statement(current_actor(), args["period"])
    return send_file(
        statements.xlsx_file(lines),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=_filename(args["period"], "xlsx"),
    )
