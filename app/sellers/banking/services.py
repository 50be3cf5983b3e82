"""A seller's bank accounts: create, read, rename, make default, delete (the seller), verify or
reject (staff), and the verified default a payout goes to (`default_account`).

Exactly one default per seller and currency while the seller has an account in it: the first
account of a currency is the default, making another one the default takes it from the former,
and deleting the default hands it to the oldest account left. Every change of a seller's accounts
first locks the seller's row (SELECT ... FOR UPDATE), so concurrent requests apply one after the
other and never leave two defaults or none.

A new number or holder name makes a verified or rejected account unverified again: staff verified
that holder and that number. Reads return `BankAccountView` (the number masked: its last 4 only).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, func, select, update

from app.core.db import transactional
from app.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from app.core.paging import Page, paginate
from app.core.types import utcnow
from app.extensions import db
from app.security.actor import Actor
from app.sellers.banking import numbers
from app.sellers.banking.inputs import BankAccountChanges, NewBankAccount
from app.sellers.banking.models import (
    REJECTED,
    UNVERIFIED,
    VERIFIED,
    SellerBankAccount,
    mask_last4,
)
from app.sellers.banking.scopes import accounts_of_seller
from app.sellers.models import SellerProfile


@dataclass(frozen=True)
class BankAccountView:
    id: int
    seller_id: int
    holder_name: str
    kind: str
    masked_number: str
    number_last4: str
    routing_number: str | None
    currency: str
    country: str
    verification_status: str
    rejection_reason: str | None
    verified_at: dt.datetime | None
    is_default: bool
    created_at: dt.datetime
    updated_at: dt.datetime


def _view(row: SellerBankAccount) -> BankAccountView:
    return BankAccountView(
        id=row.id,
        seller_id=row.seller_id,
        holder_name=row.holder_name,
        kind=row.kind,
        masked_number=mask_last4(row.number_last4),
        number_last4=row.number_last4,
        routing_number=row.routing_number,
        currency=row.currency,
        country=row.country,
        verification_status=row.verification_status,
        rejection_reason=row.rejection_reason,
        verified_at=row.verified_at,
        is_default=row.is_default,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


# --- rules shared by the API and the admin's forms ---------------------------------------------


def lock_seller(seller_id: int) -> None:
    """The seller's row lock: every change of its accounts' defaults runs under it."""
    found = db.session.scalar(
        select(SellerProfile.id).where(SellerProfile.id == seller_id).with_for_update()
    )
    if found is None:
        raise NotFound("no such seller", details={"seller_id": seller_id})


def _duplicate() -> Conflict:
    return Conflict(
        "this bank account is already registered for this seller",
        details={"account_number": ["already one of this seller's accounts"]},
    )


def set_number(row: SellerBankAccount, number: numbers.AccountNumber) -> None:
    """Give `row` a checked number: encrypted, its last 4 and keyed hash; refused when the seller
    already has it. A number or holder change makes the account unverified (`reset_if_changed`)."""
    fingerprint = number.fingerprint()
    taken = db.session.scalar(
        select(SellerBankAccount.id).where(
            SellerBankAccount.seller_id == row.seller_id,
            SellerBankAccount.account_number_hash == fingerprint,
            *([SellerBankAccount.id != row.id] if row.id is not None else []),
        )
    )
    if taken is not None:
        raise _duplicate()
    row.kind = number.kind
    row.account_number = number.number
    row.account_number_hash = fingerprint
    row.number_last4 = number.last4
    row.routing_number = number.routing_number


def reset_if_changed(row: SellerBankAccount) -> None:
    """A verified or rejected account whose holder or number changed is unverified again."""
    state = db.inspect(row)
    changed = any(
        state.attrs[name].history.has_changes() for name in ("holder_name", "account_number_hash")
    )
    if changed and row.id is not None and row.verification_status != UNVERIFIED:
        row.verification_status = UNVERIFIED
        row.verified_at = row.verified_by_user_id = row.rejection_reason = None


def _default_in(seller_id: int, currency: str, exclude_id: int | None = None) -> int | None:
    stmt = select(SellerBankAccount.id).where(
        SellerBankAccount.seller_id == seller_id,
        SellerBankAccount.currency == currency,
        SellerBankAccount.is_default.is_(True),
    )
    if exclude_id is not None:
        stmt = stmt.where(SellerBankAccount.id != exclude_id)
    return db.session.scalar(stmt)


def settle_default(row: SellerBankAccount, wanted: bool) -> None:
    """Before `row` is saved (the seller's row locked): it becomes the default of its currency when
    `wanted` or when its currency has no other default; then no other account is (one UPDATE)."""
    if not wanted and _default_in(row.seller_id, row.currency, row.id) is not None:
        row.is_default = False
        return
    row.is_default = True
    stmt = update(SellerBankAccount).where(
        SellerBankAccount.seller_id == row.seller_id,
        SellerBankAccount.currency == row.currency,
        SellerBankAccount.is_default.is_(True),
    )
    if row.id is not None:
        stmt = stmt.where(SellerBankAccount.id != row.id)
    db.session.execute(stmt.values(is_default=False).execution_options(synchronize_session=False))


def promote_default(seller_id: int, currency: str) -> None:
    """After the default of a currency went away: the oldest account left in it becomes it."""
    if _default_in(seller_id, currency) is not None:
        return
    first = db.session.scalar(
        select(func.min(SellerBankAccount.id)).where(
            SellerBankAccount.seller_id == seller_id, SellerBankAccount.currency == currency
        )
    )
    if first is not None:
        db.session.execute(
            update(SellerBankAccount)
            .where(SellerBankAccount.seller_id == seller_id, SellerBankAccount.currency == currency)
            .values(is_default=case((SellerBankAccount.id == first, True), else_=False))
            .execution_options(synchronize_session=False)
        )


def check_account(row: SellerBankAccount) -> None:
    errors = {}
    if not (row.holder_name or "").strip():
        errors["holder_name"] = ["required"]
    if not (row.currency and len(row.currency) == 3 and row.currency.isalpha()):
        errors["currency"] = ["an ISO 4217 code such as EUR"]
    if not (row.country and len(row.country) == 2 and row.country.isalpha()):
        errors["country"] = ["an ISO 3166-1 alpha-2 code such as DE"]
    if errors:
        raise numbers.invalid(errors)
    row.currency, row.country = row.currency.upper(), row.country.upper()


# --- the seller's own accounts (the API) -----------------------------------------------------


def _seller_of(actor: Actor) -> int:
    if not actor.is_seller or actor.seller_id is None:
        raise PermissionDenied("only a seller has bank accounts here")
    return actor.seller_id


def _own(seller_id: int, account_id: int) -> SellerBankAccount:
    row = db.session.scalar(
        select(SellerBankAccount)
        .where(SellerBankAccount.id == account_id, accounts_of_seller(seller_id))
        .execution_options(populate_existing=True)
    )
    if row is None:
        raise NotFound("no such bank account", details={"account_id": account_id})
    return row


@transactional
def list_accounts(actor: Actor, page: int, page_size: int) -> Page[BankAccountView]:
    seller_id = _seller_of(actor)
    stmt = (
        select(SellerBankAccount)
        .where(accounts_of_seller(seller_id))
        .order_by(
            SellerBankAccount.currency, SellerBankAccount.is_default.desc(), SellerBankAccount.id
        )
    )
    found = paginate(stmt, page, page_size)
    return Page([_view(r) for r in found.items], found.total, found.page, found.page_size)


@transactional
def get_account(actor: Actor, account_id: int) -> BankAccountView:
    return _view(_own(_seller_of(actor), account_id))


@transactional
def create_account(actor: Actor, new: NewBankAccount) -> BankAccountView:
    seller_id = _seller_of(actor)
    number = numbers.parse(
        iban=new.iban,
        account_number=new.account_number,
        routing_number=new.routing_number,
        country=new.country,
    )
    lock_seller(seller_id)
    row = SellerBankAccount(
        seller_id=seller_id,
        holder_name=new.holder_name.strip(),
        currency=new.currency,
        country=new.country or number.country,
        verification_status=UNVERIFIED,
    )
    check_account(row)
    set_number(row, number)
    settle_default(row, new.is_default)
    db.session.add(row)
    db.session.flush()
    return _view(row)


@transactional
def update_account(actor: Actor, account_id: int, changes: BankAccountChanges) -> BankAccountView:
    seller_id = _seller_of(actor)
    lock_seller(seller_id)
    row = _own(seller_id, account_id)
    data = changes.given()
    if "holder_name" in data:
        row.holder_name = data["holder_name"].strip()
        check_account(row)
    reset_if_changed(row)
    if data.get("is_default"):
        settle_default(row, True)
    db.session.flush()
    return _view(row)


@transactional
def delete_account(actor: Actor, account_id: int) -> None:
    seller_id = _seller_of(actor)
    lock_seller(seller_id)
    row = _own(seller_id, account_id)
    currency = row.currency
    db.session.delete(row)
    db.session.flush()
    promote_default(seller_id, currency)


# --- staff ----------------------------------------------------------------------------------


def _decide(actor: Actor, account_id: int, status: str, reason: str | None) -> BankAccountView:
    if not actor.is_admin:
        raise PermissionDenied("only staff verify bank accounts")
    row = db.session.scalar(
        select(SellerBankAccount)
        .where(SellerBankAccount.id == account_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is None:
        raise NotFound("no such bank account", details={"account_id": account_id})
    row.verification_status = status
    row.verified_at = utcnow()
    row.verified_by_user_id = actor.user_id
    row.rejection_reason = reason if status == REJECTED else None
    db.session.flush()
    return _view(row)


@transactional
def verify_account(actor: Actor, account_id: int) -> BankAccountView:
    return _decide(actor, account_id, VERIFIED, None)


MAX_REJECTION_REASON = 500  # the column's size


def clean_rejection_reason(reason: str | None) -> str:
    """The reason staff give for rejecting an account, which the seller reads (API and admin):
    required, stripped, at most MAX_REJECTION_REASON characters (ValidationError naming
    `reason` otherwise)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            "Give the reason for the rejection: the seller reads it.",
            details={"reason": ["required to reject"]},
        )
    if len(reason) > MAX_REJECTION_REASON:
        raise ValidationError(
            f"The reason is too long: at most {MAX_REJECTION_REASON} characters.",
            details={"reason": [f"at most {MAX_REJECTION_REASON} characters"]},
        )
    return reason


@transactional
def reject_account(actor: Actor, account_id: int, reason: str | None) -> BankAccountView:
    """Staff reject an account with the reason the seller reads (required: ValidationError
    before anything is read or changed). The row's change is audited like every write."""
    if not actor.is_admin:
        raise PermissionDenied("only staff verify bank accounts")
    return _decide(actor, account_id, REJECTED, clean_rejection_reason(reason))


# --- payouts --------------------------------------------------------------------------------


def default_account(seller_id: int, currency: str) -> BankAccountView | None:
    """The account a payout of `currency` to seller `seller_id` goes to: its default in that
    currency when staff verified it, else None (no payout until one is)."""
    row = db.session.scalar(
        select(SellerBankAccount).where(
            SellerBankAccount.seller_id == seller_id,
            SellerBankAccount.currency == currency.upper(),
            SellerBankAccount.is_default.is_(True),
            SellerBankAccount.verification_status == VERIFIED,
        )
    )
    return _view(row) if row is not None else None


# --- the admin's add and edit forms -------------------------------------------------------------


def prepare_account(
    row: SellerBankAccount, new_number: str | None, wanted_default: bool, is_new: bool
) -> None:
    """Check a bank account the admin's form is about to save: `new_number` (an IBAN, or an
    account number when the form has a routing number) replaces the number when given (required
    for a new account); a changed routing number alone re-checks the stored number with it. Then
    the holder or number change resets verification and the default is settled, under the
    seller's row lock."""
    check_account(row)
    state = db.inspect(row)
    routing_changed = state.attrs["routing_number"].history.has_changes()
    text = (new_number or "").strip()
    if not text and is_new:
        raise numbers.invalid({"new_number": ["an IBAN or account number is required"]})
    if text or routing_changed:
        if not text:
            text = row.account_number
        routing = numbers.normalise(row.routing_number) or None
        number = numbers.parse(
            iban=None if routing else text,
            account_number=text if routing else None,
            routing_number=routing,
            country=row.country,
        )
        lock_seller(row.seller_id)
        set_number(row, number)
    else:
        lock_seller(row.seller_id)
    reset_if_changed(row)
    settle_default(row, wanted_default)
