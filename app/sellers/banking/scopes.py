"""What a seller sees of bank accounts: its own, one condition for the services and the admin."""

from __future__ import annotations

from app.sellers.banking.models import SellerBankAccount


def accounts_of_seller(seller_id: int):
    return SellerBankAccount.seller_id == seller_id


def owns_account(seller_id: int, row: SellerBankAccount) -> bool:
    """Whether `row`, as it would be saved, is seller `seller_id`'s (its relation when a form set it)."""
    owner = row.seller.id if row.seller is not None else row.seller_id
    return owner == seller_id
