"""Payout adapters: what actually moves a payout's money to the seller's bank.

An adapter is any object with a `name` and `pay(request) -> AdapterResult` (PayoutAdapter). The
ones a platform offers are named in config, PAYOUT_ADAPTERS = {name: "module:Class"} (config.py;
the built-in `manual` adapter by default), and staff pick one on a payout's admin page ("Pay via
adapter"). The service (app.payouts.batches.pay_with_adapter) claims the payout first (approved ->
processing, one conditional UPDATE committed before the call: a second click or a second staff
member gets nothing to pay), calls the adapter outside any transaction or row lock, then records
the result: paid with the adapter's reference, or failed with its reason (which reverses the
payout). An adapter that raises is a failure with the exception's message; an adapter that never
answers leaves the payout "processing", which staff settle by hand (Mark paid / Mark failed) once
they know what the provider did.

Adding Stripe Connect (the documented place): write `StripeConnectAdapter` here (or in a module
of its own) with `name = "stripe_connect"`; in `pay()` look up the seller's connected account id
(a column or setting the Stripe onboarding adds to the seller), call
`stripe.Transfer.create(amount=<minor units: app.core.types.money_places>, currency=...,
destination=<acct_...>, transfer_group=f"payout-{request.payout_id}",
idempotency_key=f"payout-{request.payout_id}")` and answer AdapterResult.paid(transfer.id), or
AdapterResult.failed(str(error)) on a stripe.error.StripeError. The idempotency key makes a retry
after a timeout safe. Then register it: PAYOUT_ADAPTERS = {"manual": ..., "stripe_connect":
"app.payouts.adapters:StripeConnectAdapter"}. Its tests fake only Stripe's remote API.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, runtime_checkable

from flask import current_app

from app.core.errors import ValidationError
from app.core.types import utcnow

DEFAULT_ADAPTERS = {"manual": "app.payouts.adapters:ManualAdapter"}


@dataclass(frozen=True)
class PayoutRequest:
    """What an adapter is asked to pay (the bank account by id and masked reference: an adapter
    that needs the full number reads it through app.sellers.banking, never from here)."""

    payout_id: int
    tenant_id: int
    seller_id: int
    amount: Decimal
    currency: str
    bank_account_id: int | None
    bank_account_masked: str


@dataclass(frozen=True)
class AdapterResult:
    ok: bool
    reference: str | None = None
    failure: str | None = None

    @classmethod
    def paid(cls, reference: str) -> AdapterResult:
        return cls(ok=True, reference=reference)

    @classmethod
    def failed(cls, reason: str) -> AdapterResult:
        return cls(ok=False, failure=reason or "the payout adapter refused the payout")


@runtime_checkable
class PayoutAdapter(Protocol):
    name: str

    def pay(self, request: PayoutRequest) -> AdapterResult: ...


class ManualAdapter:
    """Staff made (or will make) the transfer themselves, from the platform's bank: the adapter
    records it as paid with a reference of its own (MANUAL-<payout>-<UTC time>)."""

    name = "manual"

    def pay(self, request: PayoutRequest) -> AdapterResult:
        return AdapterResult.paid(f"MANUAL-{request.payout_id}-{utcnow():%Y%m%d%H%M%S}")


def adapter_names() -> list[str]:
    return sorted(current_app.config.get("PAYOUT_ADAPTERS") or DEFAULT_ADAPTERS)


def get_adapter(name: str) -> PayoutAdapter:
    """The adapter registered under `name` (422 when none is)."""
    registry = current_app.config.get("PAYOUT_ADAPTERS") or DEFAULT_ADAPTERS
    path = registry.get(name or "")
    if path is None:
        raise ValidationError(
            "no such payout adapter",
            details={"adapter": [f"one of: {', '.join(sorted(registry))}"]},
        )
    module, _, attr = path.partition(":")
    adapter = getattr(importlib.import_module(module), attr)()
    if not isinstance(adapter, PayoutAdapter):
        raise TypeError(f"{path} is not a payout adapter (name and pay())")
    return adapter
