"""Payouts: the daily job that turns sellers' available money into payouts, and what staff do
with them (approve, mark paid, pay through an adapter, mark failed).

The job (`run_payout_job`, cron in jobs/schedule.py, `flask payouts run`): for every tenant, seller
and currency, the ledger entries that are available at `now` (app.payouts.statements'
AVAILABLE_AT), earned (not a payout nor a payout reversal) and claimed by no live payout are
summed (one grouped query per tenant). The sum becomes one payout in status `created` when

    the seller is approved (a suspended seller is paid nothing while suspended: its money stays
    in the ledger and the next run after reinstatement pays it),
    the sum is positive and at least the tenant's minimum payout (PayoutSettings.minimum_payout,
    compared with the amount in each currency as it is: 50 means 50 EUR and 50 JPY), and
    the seller has a verified default bank account in that currency
    (app.sellers.banking.services.default_account);

otherwise a PayoutSkip says why (no_bank_account, below_minimum, negative_balance,
seller_suspended) and the seller is mailed when the reason is new since its last payout or skip
of that currency (event payout.skipped), not every day.

Building one payout (its own transaction, under the seller's row lock, the same lock bank account
changes take): INSERT the payout, INSERT ... SELECT its items (one claim per entry), re-sum what
was claimed, write the negative PAYOUT ledger entry, publish payout.created. The UNIQUE key of
payout_items.claimed_entry_id makes a second claim of an entry fail in the database, so two jobs
running at once (or a job and a retry) pay each entry at most once: the loser's transaction is
rolled back and counted as `raced`.

Staff actions are conditional UPDATEs (WHERE status IN (...)): approving twice approves once,
paying twice pays once. `pay_with_adapter` claims the payout (approved -> processing) and commits
before calling the adapter (outside any lock), then records paid or failed.

A failed payout (staff, or the adapter) writes a PAYOUT_REVERSAL entry (+ its amount, available
at once) and gives back its items' claims (claimed_entry_id = NULL, same transaction): the entries
it was paying are payable again and the next run builds a new payout from them. The reversal
entry itself is never paid (it only cancels the failed PAYOUT entry), so the available balance of
app.payouts.statements equals what the next payout would pay. Paid and failed are final.

Amounts are summed in SQL from stored (already rounded) entries and quantized in the currency's
unit (whole yen for JPY)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal

from croniter import croniter
from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import aliased

from app.core.db import is_deadlock
from app.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from app.core.paging import Page, paginate
from app.core.tenancy import tenant_scope
from app.core.types import quantize_money, utcnow
from app.events.bus import publish
from app.extensions import db
from app.payouts import adapters as payout_adapters
from app.payouts.ledger import payout_settings
from app.payouts.models import (
    PAYOUT_KINDS,
    EntryKind,
    Payout,
    PayoutItem,
    PayoutSkip,
    PayoutStatus,
    SellerLedgerEntry,
    SellerLedgerRelease,
    SkipReason,
)
from app.payouts.statements import AVAILABLE_AT, seller_of
from app.security.actor import Actor
from app.security.audit import record_action
from app.sellers.banking.models import VERIFIED, SellerBankAccount, mask_last4
from app.sellers.models import SellerProfile
from app.tenants.services import tenant_ids

log = logging.getLogger(__name__)

E, R, I = SellerLedgerEntry, SellerLedgerRelease, PayoutItem  # noqa: E741
CLAIM = aliased(PayoutItem, name="claim")  # an entry's live claim, if any (_unclaimed_from)
# every day at 02:00 UTC (jobs/schedule.py registers it; the dashboard's next_payout reads it)
PAYOUT_CRON = "0 2 * * *"
LIVE = (PayoutStatus.CREATED, PayoutStatus.APPROVED, PayoutStatus.PROCESSING, PayoutStatus.PAID)
FAILABLE = (PayoutStatus.CREATED, PayoutStatus.APPROVED, PayoutStatus.PROCESSING)
PAYABLE = (PayoutStatus.APPROVED, PayoutStatus.PROCESSING)
ZERO = Decimal(0)


def next_run(now: dt.datetime | None = None) -> dt.datetime:
    """When the payout job runs next (UTC)."""
    now = now or utcnow()
    return croniter(PAYOUT_CRON, now).get_next(dt.datetime).replace(tzinfo=dt.timezone.utc)


# --- what is payable ---------------------------------------------------------------------------


def _payable_conditions(tenant_id: int, now: dt.datetime) -> list:
    """Entries of the tenant available at `now`, earned (no payout kind), claimed by no live
    payout."""
    claimed = select(I.id).where(I.claimed_entry_id == E.id).exists()
    return [
        E.tenant_id == tenant_id,
        E.kind.not_in(PAYOUT_KINDS),
        AVAILABLE_AT <= now,
        ~claimed,
    ]


def _unclaimed_conditions(tenant_id: int, now: dt.datetime) -> list:
    """_payable_conditions for a read through _unclaimed_from: no claim row joined."""
    return [
        E.tenant_id == tenant_id,
        E.kind.not_in(PAYOUT_KINDS),
        AVAILABLE_AT <= now,
        CLAIM.id.is_(None),
    ]


def _release_join():
    return (R.sub_order_id == E.sub_order_id) & (R.tenant_id == E.tenant_id)


def _unclaimed_from(stmt):
    """For the grouped sums (a read): the entries with their release (when their money becomes
    available) and their live claim if any, an outer join on the UNIQUE claimed_entry_id, one
    index probe per entry (at most one row: the sums are not multiplied). The NOT EXISTS of
    _payable_conditions was run here by MariaDB by materialising every claim ever made: the
    daily run's grouped sum took 19 s instead of 4.5 s on 1,000,000 entries with 740,000
    claimed (bench/results/seller_ledger.md), and grew with history. The claiming INSERT ...
    SELECT keeps the NOT EXISTS (per seller MariaDB probes the unique key per entry there)."""
    return (
        stmt.select_from(E)
        .outerjoin(R, _release_join())
        .outerjoin(CLAIM, CLAIM.claimed_entry_id == E.id)
    )


def _by_seller(stmt):
    """MariaDB otherwise intersects the seller_id foreign key's index with the ledger's
    (tenant, seller, currency, id) index, a quarter slower than reading the latter alone."""
    for dialect in ("mysql", "mariadb"):
        stmt = stmt.with_hint(E, "FORCE INDEX (ix_seller_ledger_tenant_seller)", dialect)
    return stmt


def _payable_sums(tenant_id: int, now: dt.datetime, seller_id: int | None = None):
    """[(seller_id, currency, sum, count)] of the payable entries (one grouped query)."""
    stmt = (
        _unclaimed_from(select(E.seller_id, E.currency, func.sum(E.amount), func.count(E.id)))
        .where(*_unclaimed_conditions(tenant_id, now))
        .group_by(E.seller_id, E.currency)
        .order_by(E.seller_id, E.currency)
    )
    if seller_id is not None:
        stmt = _by_seller(stmt.where(E.seller_id == seller_id))
    return db.session.execute(stmt).all()


@dataclass(frozen=True)
class Verdict:
    """What the job would do with a seller's payable money in one currency."""

    seller_id: int
    currency: str
    amount: Decimal
    entries: int
    skip: SkipReason | None
    account: tuple[int, str] | None  # (bank account id, masked number)


def _verdicts(tenant_id: int, now: dt.datetime, seller_id: int | None = None) -> list[Verdict]:
    sums = _payable_sums(tenant_id, now, seller_id)
    if not sums:
        return []
    minimum = payout_settings().minimum_payout
    seller_ids = sorted({row[0] for row in sums})
    statuses = dict(
        db.session.execute(
            select(SellerProfile.id, SellerProfile.status).where(SellerProfile.id.in_(seller_ids))
        ).all()
    )
    accounts = {
        (sid, cur): (aid, mask_last4(last4))
        for sid, cur, aid, last4 in db.session.execute(
            select(
                SellerBankAccount.seller_id,
                SellerBankAccount.currency,
                SellerBankAccount.id,
                SellerBankAccount.number_last4,
            ).where(
                SellerBankAccount.seller_id.in_(seller_ids),
                SellerBankAccount.is_default.is_(True),
                SellerBankAccount.verification_status == VERIFIED,
            )
        )
    }
    found = []
    for sid, currency, total, count in sums:
        amount = quantize_money(total or 0, currency)
        account = accounts.get((sid, currency))
        if amount == 0:
            continue  # nothing to pay and nothing owed: no notice
        if statuses.get(sid) != "approved":
            skip = SkipReason.SELLER_SUSPENDED
        elif amount < 0:
            skip = SkipReason.NEGATIVE_BALANCE
        elif amount < minimum:
            skip = SkipReason.BELOW_MINIMUM
        elif account is None:
            skip = SkipReason.NO_BANK_ACCOUNT
        else:
            skip = None
        found.append(Verdict(sid, currency, amount, count, skip, account))
    return found


# --- the job -----------------------------------------------------------------------------------


@dataclass
class JobSummary:
    """What one run of the payout job did."""

    started_at: dt.datetime
    tenants: int = 0
    payouts: int = 0
    entries: int = 0
    # {currency: amount} of the payouts built
    amounts: dict[str, Decimal] = field(default_factory=dict)
    # {reason: count} of the skip notices written
    skipped: dict[str, int] = field(default_factory=dict)
    # sellers and currencies another run (or a concurrent change) claimed first
    raced: int = 0
    payout_ids: list[int] = field(default_factory=list)


def run_payout_job(now: dt.datetime | None = None) -> JobSummary:
    """Build the payouts of every tenant (see the module's docstring). Safe to run twice at once."""
    now = now or utcnow()
    summary = JobSummary(started_at=now)
    for tenant_id in tenant_ids():
        with tenant_scope(tenant_id):
            _run_tenant(tenant_id, now, summary)
        summary.tenants += 1
    log.info(
        "payout job: %s payouts, %s entries, skipped %s, raced %s",
        summary.payouts,
        summary.entries,
        summary.skipped,
        summary.raced,
    )
    return summary


def _run_tenant(tenant_id: int, now: dt.datetime, summary: JobSummary) -> None:
    try:
        verdicts = _verdicts(tenant_id, now)
    finally:
        db.session.rollback()  # end the read; each payout is its own transaction
    minimum = None
    for verdict in verdicts:
        if verdict.skip is not None:
            if minimum is None:
                minimum = payout_settings().minimum_payout
            _record_skip(verdict, minimum, now)
            db.session.commit()
            summary.skipped[verdict.skip] = summary.skipped.get(verdict.skip, 0) + 1
            continue
        try:
            payout = _build_payout(tenant_id, verdict, now)
        except IntegrityError:
            db.session.rollback()  # another run claimed one of these entries first
            summary.raced += 1
            continue
        except OperationalError as exc:
            db.session.rollback()
            if not is_deadlock(exc):
                raise
            summary.raced += 1
            continue
        if payout is None:
            summary.raced += 1
            continue
        summary.payouts += 1
        summary.entries += payout.entry_count
        summary.payout_ids.append(payout.id)
        summary.amounts[payout.currency] = (
            summary.amounts.get(payout.currency, ZERO) + payout.amount
        )


def _build_payout(tenant_id: int, verdict: Verdict, now: dt.datetime) -> Payout | None:
    """One payout of a seller's payable entries in one currency, committed; None when another run
    took them meanwhile (or what is left no longer qualifies): nothing is written then."""
    locked = db.session.scalar(
        select(SellerProfile.status).where(SellerProfile.id == verdict.seller_id).with_for_update()
    )
    account_id, masked = verdict.account
    if locked != "approved":
        db.session.rollback()
        return None
    payout = Payout(
        seller_id=verdict.seller_id,
        currency=verdict.currency,
        amount=verdict.amount,
        entry_count=0,
        status=PayoutStatus.CREATED,
        bank_account_id=account_id,
        bank_account_masked=masked,
        created_at=now,
    )
    db.session.add(payout)
    db.session.flush()
    db.session.execute(
        insert(I.__table__).from_select(
            ["tenant_id", "payout_id", "ledger_entry_id", "claimed_entry_id"],
            _by_seller(
                select(literal(tenant_id), literal(payout.id), E.id, E.id)
                .select_from(E)
                .outerjoin(R, _release_join())
                .where(
                    *_payable_conditions(tenant_id, now),
                    E.seller_id == verdict.seller_id,
                    E.currency == verdict.currency,
                )
            ),
        )
    )
    total, count = db.session.execute(
        select(func.coalesce(func.sum(E.amount), 0), func.count(E.id))
        .select_from(I)
        .join(E, E.id == I.ledger_entry_id)
        .where(I.payout_id == payout.id)
    ).one()
    total = quantize_money(total, verdict.currency)
    if count == 0 or total <= 0 or total < payout_settings().minimum_payout:
        db.session.rollback()
        return None
    entry = SellerLedgerEntry(
        seller_id=verdict.seller_id,
        currency=verdict.currency,
        amount=-total,
        kind=EntryKind.PAYOUT,
        note=f"payout #{payout.id}",
        created_at=now,
        available_at=now,
    )
    db.session.add(entry)
    db.session.flush()
    payout.amount, payout.entry_count, payout.payout_entry_id = total, count, entry.id
    _publish("payout.created", payout)
    db.session.commit()
    return payout


def _record_skip(verdict: Verdict, minimum: Decimal, now: dt.datetime) -> None:
    """The skip notice; the seller is mailed (payout.skipped) unless its last notice of this
    currency, with no payout since, said the same."""
    last = db.session.execute(
        select(PayoutSkip.id, PayoutSkip.reason)
        .where(PayoutSkip.seller_id == verdict.seller_id, PayoutSkip.currency == verdict.currency)
        .order_by(PayoutSkip.id.desc())
        .limit(1)
    ).first()
    told = False
    if last is not None and last.reason == verdict.skip:
        since = db.session.scalar(
            select(func.max(Payout.created_at)).where(
                Payout.seller_id == verdict.seller_id, Payout.currency == verdict.currency
            )
        )
        last_at = db.session.scalar(select(PayoutSkip.created_at).where(PayoutSkip.id == last.id))
        told = since is None or since < last_at
    skip = PayoutSkip(
        seller_id=verdict.seller_id,
        currency=verdict.currency,
        reason=verdict.skip,
        amount=verdict.amount,
        minimum=minimum if verdict.skip == SkipReason.BELOW_MINIMUM else None,
        created_at=now,
    )
    db.session.add(skip)
    db.session.flush()
    if not told:
        publish(
            "payout.skipped",
            {
                "skip_id": skip.id,
                "seller_id": verdict.seller_id,
                "currency": verdict.currency,
                "amount": str(verdict.amount),
                "reason": str(verdict.skip),
                "minimum": None if skip.minimum is None else str(skip.minimum),
            },
            aggregate="seller",
            aggregate_id=verdict.seller_id,
        )


def _publish(name: str, payout: Payout) -> None:
    publish(
        name,
        {
            "payout_id": payout.id,
            "seller_id": payout.seller_id,
            "currency": payout.currency,
            "amount": str(payout.amount),
            "status": str(payout.status),
            "reference": payout.external_reference,
            "reason": payout.failure_reason,
        },
        aggregate="payout",
        aggregate_id=payout.id,
    )


# --- staff actions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionResult:
    """A staff action on a payout: the payout as it is now, and whether this call changed it
    (False: it was already done, e.g. by a concurrent click)."""

    payout: Payout
    changed: bool


def _staff(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied("only staff manage payouts")


def _get(payout_id: int) -> Payout:
    payout = db.session.get(Payout, payout_id)
    if payout is None:
        raise NotFound("no such payout", details={"payout_id": payout_id})
    return payout


def _refused(payout: Payout, action: str, allowed) -> Conflict:
    return Conflict(
        f"a {payout.status} payout cannot be {action}",
        details={"status": str(payout.status), "allowed_from": [str(s) for s in allowed]},
    )


def _transition(payout_id: int, allowed, **values) -> bool:
    """One conditional UPDATE: True when this call moved the payout (tenancy applies: an ORM
    UPDATE)."""
    result = db.session.execute(
        update(Payout)
        .where(Payout.id == payout_id, Payout.status.in_(allowed))
        .values(updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _done(payout_id: int, changed: bool, action: str, after: dict) -> ActionResult:
    payout = _get(payout_id)
    db.session.refresh(payout)
    if changed:
        record_action(db.session(), payout, action, after=after)
    return ActionResult(payout, changed)


def approve(actor: Actor, payout_id: int) -> ActionResult:
    """created -> approved. Approving an approved (or later) payout changes nothing."""
    _staff(actor)
    payout = _get(payout_id)
    changed = _transition(
        payout_id,
        (PayoutStatus.CREATED,),
        status=PayoutStatus.APPROVED,
        approved_by_user_id=actor.user_id,
        approved_at=utcnow(),
    )
    if not changed and payout.status == PayoutStatus.FAILED:
        db.session.rollback()
        raise _refused(payout, "approved", (PayoutStatus.CREATED,))
    result = _done(payout_id, changed, "approve", {"status": "approved"})
    db.session.commit()
    return result


def _clean_reference(reference: str | None) -> str:
    text = (reference or "").strip()
    if not text:
        raise ValidationError(
            "say which transfer paid it", details={"reference": ["the bank's reference"]}
        )
    if len(text) > 200:
        raise ValidationError("reference too long", details={"reference": ["at most 200"]})
    return text


def mark_paid(actor: Actor, payout_id: int, reference: str) -> ActionResult:
    """approved (or processing) -> paid, with the transfer's reference. Once."""
    _staff(actor)
    reference = _clean_reference(reference)
    payout = _get(payout_id)
    changed = _transition(
        payout_id,
        PAYABLE,
        status=PayoutStatus.PAID,
        external_reference=reference,
        paid_by_user_id=actor.user_id,
        paid_at=utcnow(),
    )
    if not changed and payout.status != PayoutStatus.PAID:
        db.session.rollback()
        raise _refused(_get(payout_id), "marked paid", PAYABLE)
    result = _done(payout_id, changed, "mark_paid", {"status": "paid", "reference": reference})
    if changed:
        _publish("payout.paid", result.payout)
    db.session.commit()
    return result


def _clean_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationError("say why it failed", details={"reason": ["required"]})
    if len(text) > 500:
        raise ValidationError("reason too long", details={"reason": ["at most 500 characters"]})
    return text


def _fail(payout_id: int, reason: str, user_id: int | None) -> bool:
    """created/approved/processing -> failed in the caller's transaction: the reversal entry, and
    the entries' claims given back. False when it was not failable (already paid or failed)."""
    now = utcnow()
    if not _transition(
        payout_id,
        FAILABLE,
        status=PayoutStatus.FAILED,
        failure_reason=reason,
        failed_by_user_id=user_id,
        failed_at=now,
    ):
        return False
    payout = _get(payout_id)
    db.session.refresh(payout)
    db.session.execute(
        update(I.__table__)
        .where(I.__table__.c.payout_id == payout_id)
        .values(claimed_entry_id=None)
    )
    reversal = SellerLedgerEntry(
        seller_id=payout.seller_id,
        currency=payout.currency,
        amount=payout.amount,
        kind=EntryKind.PAYOUT_REVERSAL,
        note=f"payout #{payout.id} failed: {reason}"[:500],
        created_by_user_id=user_id,
        created_at=now,
        available_at=now,
    )
    db.session.add(reversal)
    db.session.flush()
    db.session.execute(
        update(Payout)
        .where(Payout.id == payout_id)
        .values(reversal_entry_id=reversal.id)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(payout)
    _publish("payout.failed", payout)
    return True


def mark_failed(actor: Actor, payout_id: int, reason: str) -> ActionResult:
    """created/approved/processing -> failed (the bank refused it...): reverses it. Once."""
    _staff(actor)
    reason = _clean_reason(reason)
    payout = _get(payout_id)
    changed = _fail(payout_id, reason, actor.user_id)
    if not changed and payout.status != PayoutStatus.FAILED:
        db.session.rollback()
        raise _refused(_get(payout_id), "marked failed", FAILABLE)
    result = _done(payout_id, changed, "mark_failed", {"status": "failed", "reason": reason})
    db.session.commit()
    return result


def pay_with_adapter(actor: Actor, payout_id: int, adapter_name: str) -> ActionResult:
    """approved -> processing (committed), the adapter's call outside any transaction, then
    processing -> paid with its reference, or failed with its reason. A payout someone else is
    already paying (or paid) is not paid again: the claim finds nothing to move."""
    _staff(actor)
    adapter = payout_adapters.get_adapter(adapter_name)
    payout = _get(payout_id)
    claimed = _transition(
        payout_id, (PayoutStatus.APPROVED,), status=PayoutStatus.PROCESSING, adapter=adapter.name
    )
    if not claimed:
        db.session.rollback()
        current = _get(payout_id)
        if current.status in (PayoutStatus.PROCESSING, PayoutStatus.PAID):
            return ActionResult(current, False)
        raise _refused(payout, "paid", (PayoutStatus.APPROVED,))
    db.session.refresh(payout)
    record_action(db.session(), payout, "pay_via", after={"adapter": adapter.name})
    request = payout_adapters.PayoutRequest(
        payout_id=payout.id,
        tenant_id=payout.tenant_id,
        seller_id=payout.seller_id,
        amount=payout.amount,
        currency=payout.currency,
        bank_account_id=payout.bank_account_id,
        bank_account_masked=payout.bank_account_masked,
    )
    db.session.commit()
    try:
        answer = adapter.pay(request)
    except Exception as exc:  # a provider's error is the payout's failure, never a 500
        log.exception("payout adapter %s failed on payout %s", adapter.name, payout_id)
        answer = payout_adapters.AdapterResult.failed(f"{type(exc).__name__}: {exc}"[:500])
    if answer.ok:
        changed = _transition(
            payout_id,
            (PayoutStatus.PROCESSING,),
            status=PayoutStatus.PAID,
            external_reference=(answer.reference or "")[:200] or None,
            paid_by_user_id=actor.user_id,
            paid_at=utcnow(),
        )
        result = _done(
            payout_id, changed, "mark_paid", {"status": "paid", "reference": answer.reference}
        )
        if changed:
            _publish("payout.paid", result.payout)
    else:
        changed = _fail(payout_id, _clean_reason(answer.failure), actor.user_id)
        result = _done(
            payout_id, changed, "mark_failed", {"status": "failed", "reason": answer.failure}
        )
    db.session.commit()
    return result


def run_now(actor: Actor) -> JobSummary:
    """Staff's "Run payout job now" (the admin's button): the job, for the actor's tenant only
    (a Super Admin: every tenant)."""
    _staff(actor)
    if actor.is_super_admin or actor.tenant_id is None:
        return run_payout_job()
    now = utcnow()
    summary = JobSummary(started_at=now)
    db.session.rollback()
    with tenant_scope(actor.tenant_id):
        _run_tenant(actor.tenant_id, now, summary)
    summary.tenants = 1
    return summary


# --- reads -------------------------------------------------------------------------------------


def _filters(status: str | None, currency: str | None) -> list:
    found = []
    if status:
        if status not in {s.value for s in PayoutStatus}:
            raise ValidationError(
                "unknown status",
                details={"status": [f"one of: {', '.join(s.value for s in PayoutStatus)}"]},
            )
        found.append(Payout.status == status)
    if currency:
        found.append(Payout.currency == currency.strip().upper())
    return found


def payouts_page(
    actor: Actor,
    page: int,
    page_size: int,
    *,
    status: str | None = None,
    currency: str | None = None,
    seller_id: int | None = None,
) -> Page[Payout]:
    """Payouts, newest first: a seller's own; staff's all (or one seller's)."""
    stmt = select(Payout).where(*_filters(status, currency)).order_by(Payout.id.desc())
    if actor.is_admin:
        if seller_id is not None:
            stmt = stmt.where(Payout.seller_id == seller_id)
    else:
        stmt = stmt.where(Payout.seller_id == seller_of(actor))
    return paginate(stmt, page, page_size)


@dataclass(frozen=True)
class PaidEntry:
    id: int
    created_at: dt.datetime
    kind: str
    currency: str
    amount: Decimal
    sub_order_id: int | None
    note: str | None


def payout_of(actor: Actor, payout_id: int) -> Payout:
    """One payout the actor may see (404 otherwise: another seller's is not revealed)."""
    stmt = select(Payout).where(Payout.id == payout_id)
    if not actor.is_admin:
        stmt = stmt.where(Payout.seller_id == seller_of(actor))
    payout = db.session.scalar(stmt)
    if payout is None:
        raise NotFound("no such payout", details={"payout_id": payout_id})
    return payout


def payout_entries(payout: Payout, page: int, page_size: int) -> Page[PaidEntry]:
    """The ledger entries a payout pays (or paid, or was paying when it failed), oldest first."""
    base = select(I.ledger_entry_id).where(I.payout_id == payout.id)
    total = db.session.scalar(select(func.count()).select_from(base.subquery()))
    rows = db.session.execute(
        select(E.id, E.created_at, E.kind, E.currency, E.amount, E.sub_order_id, E.note)
        .join(I, I.ledger_entry_id == E.id)
        .where(I.payout_id == payout.id)
        .order_by(E.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    return Page(
        items=[PaidEntry(*row) for row in rows], total=total or 0, page=page, page_size=page_size
    )


def skips_page(
    actor: Actor, page: int, page_size: int, seller_id: int | None = None
) -> Page[PayoutSkip]:
    """The job's skip notices, newest first: a seller's own; staff's all (or one seller's)."""
    stmt = select(PayoutSkip).order_by(PayoutSkip.id.desc())
    if actor.is_admin:
        if seller_id is not None:
            stmt = stmt.where(PayoutSkip.seller_id == seller_id)
    else:
        stmt = stmt.where(PayoutSkip.seller_id == seller_of(actor))
    return paginate(stmt, page, page_size)


@dataclass(frozen=True)
class PayableNow:
    currency: str
    amount: Decimal
    would_pay: bool
    reason: str | None  # a SkipReason when it would not


@dataclass(frozen=True)
class NextPayout:
    """The seller dashboard's "next payout": when the job runs next, and what it would pay now."""

    run_at: dt.datetime
    currencies: tuple[PayableNow, ...]


def next_payout(seller_id: int, tenant_id: int, now: dt.datetime | None = None) -> NextPayout:
    now = now or utcnow()
    verdicts = _verdicts(tenant_id, now, seller_id)
    return NextPayout(
        run_at=next_run(now),
        currencies=tuple(
            PayableNow(
                currency=v.currency,
                amount=v.amount,
                would_pay=v.skip is None,
                reason=None if v.skip is None else str(v.skip),
            )
            for v in verdicts
        ),
    )


# --- what a seller asks about its own payouts (the API's /sellers/me/payouts/) ----------------
# Always the caller's own rows, whatever its role (an Admin without a seller profile gets 403).


def my_payouts(
    actor: Actor, page: int, page_size: int, status: str | None = None, currency: str | None = None
) -> Page[Payout]:
    stmt = (
        select(Payout)
        .where(Payout.seller_id == seller_of(actor), *_filters(status, currency))
        .order_by(Payout.id.desc())
    )
    return paginate(stmt, page, page_size)


@dataclass(frozen=True)
class PayoutDetail:
    payout: Payout
    entries: Page[PaidEntry]


def my_payout(actor: Actor, payout_id: int, page: int, page_size: int) -> PayoutDetail:
    payout = db.session.scalar(
        select(Payout).where(Payout.id == payout_id, Payout.seller_id == seller_of(actor))
    )
    if payout is None:
        raise NotFound("no such payout", details={"payout_id": payout_id})
    return PayoutDetail(payout, payout_entries(payout, page, page_size))


def my_skips(actor: Actor, page: int, page_size: int) -> Page[PayoutSkip]:
    stmt = (
        select(PayoutSkip)
        .where(PayoutSkip.seller_id == seller_of(actor))
        .order_by(PayoutSkip.id.desc())
    )
    return paginate(stmt, page, page_size)
