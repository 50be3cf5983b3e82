"""Builders for sellers' onboarding and KYC tests: the plan limit, KYC requirements, files of
each kind, the mails of the embedded outbox and the stored KYC files."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest
from sqlalchemy import select, update

from app.core.tenancy import tenant_scope, unscoped
from app.extensions import db
from app.security.models import AuditLog
from app.sellers.models import KycDocument, KycRequirement, KycReview, SellerProfile
from app.tenants.models import Tenant

# the first bytes of each kind the KYC upload takes, and of one it refuses
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
EXE = b"MZ\x90\x00" + b"\x00" * 60  # a Windows program, whatever its name says


@pytest.fixture
def outbox(app, monkeypatch, tmp_path):
    """The embedded mail outbox of this test: mails are .eml files in the returned directory."""
    monkeypatch.setitem(app.config, "MAIL_SERVER", None)
    monkeypatch.setitem(app.config, "MAIL_OUTBOX_DIR", str(tmp_path / "mail"))
    return tmp_path / "mail"


@pytest.fixture
def kyc_root(app, monkeypatch, tmp_path):
    """This test's KYC storage root (empty at first)."""
    monkeypatch.setitem(app.config, "KYC_STORAGE_ROOT", str(tmp_path / "kyc"))
    return tmp_path / "kyc"


def max_sellers(app, tenant, value) -> None:
    with app.app_context(), unscoped():
        db.session.execute(update(Tenant).where(Tenant.id == tenant.id).values(max_sellers=value))
        db.session.commit()


def requirement(app, tenant, document_type: str, *, mandatory=True, business_type="individual"):
    with app.app_context(), tenant_scope(tenant.id):
        row = KycRequirement(
            business_type=business_type,
            document_type=document_type,
            is_mandatory=mandatory,
            description=f"A clear copy of your {document_type}",
        )
        db.session.add(row)
        db.session.commit()
        return row.id


def profile(app, tenant, seller_id: int) -> SellerProfile:
    """The seller row, detached (read its columns only)."""
    with app.app_context(), tenant_scope(tenant.id):
        row = db.session.get(SellerProfile, seller_id)
        db.session.expunge(row)
        return row


def documents(app, tenant, seller_id: int | None = None) -> list[KycDocument]:
    with app.app_context(), tenant_scope(tenant.id):
        query = select(KycDocument).order_by(KycDocument.id)
        if seller_id is not None:
            query = query.where(KycDocument.seller_id == seller_id)
        rows = list(db.session.scalars(query))
        for row in rows:
            db.session.expunge(row)
        return rows


def reviews(app, tenant, document_id: int) -> list[tuple[str, str | None]]:
    with app.app_context(), tenant_scope(tenant.id):
        return [
            (r.decision, r.reason)
            for r in db.session.scalars(
                select(KycReview).where(KycReview.document_id == document_id).order_by(KycReview.id)
            )
        ]


def stored_files(root) -> list[Path]:
    """Every file under the KYC storage root."""
    root = Path(root)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def mails(outbox) -> list:
    """The messages written to the embedded mail outbox directory."""
    return [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in sorted(Path(outbox).glob("*.eml"))
    ]


def mails_to(outbox, address: str) -> list:
    return [m for m in mails(outbox) if m["To"] == address]


def audit_rows(app, tenant, seller_id: int) -> list[AuditLog]:
    """The audit rows of a seller row, oldest first."""
    with app.app_context(), unscoped():
        rows = list(
            db.session.scalars(
                select(AuditLog)
                .where(
                    AuditLog.tenant_id == tenant.id,
                    AuditLog.entity == "SellerProfile",
                    AuditLog.entity_id == str(seller_id),
                )
                .order_by(AuditLog.id)
            )
        )
        for row in rows:
            db.session.expunge(row)
        return rows
