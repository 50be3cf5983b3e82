"""KYC: what a tenant asks its sellers to prove (KycRequirement, per business type), the files
they upload and staff's review of each.

A file is judged by its bytes, never by its name or the type the client claims: PDF, JPEG or PNG
by their magic numbers, at most KYC_MAX_FILE_BYTES. Anything else is refused before anything is
written (no file, no row). An accepted file is stored under KYC_STORAGE_ROOT/<tenant id>/ with a
random name (the name the seller gave is kept only for display), outside every static folder: the
only way to read it back is `read_document`, which lets the owning seller and the tenant's staff
in. Reviews are rows of their own (KycReview), so a document's history survives a second look;
each decision is mailed to the seller (`seller.kyc_reviewed`, `mail_decision`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from app.core.db import transaction
from app.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from app.core.types import utcnow
from app.events.bus import publish
from app.extensions import db
from app.notifications import mail
from app.security.actor import Actor
from app.sellers.errors import SellerError
from app.sellers.inputs import NewDocument
from app.sellers.models import KycDocument, KycRequirement, KycReview, SellerProfile
from app.sellers.services import clean_reason

log = logging.getLogger(__name__)

# the types taken and how their first bytes read
SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
)
DECISIONS = ("accepted", "rejected")


class FileTooLarge(ValidationError):
    code = SellerError.KYC_FILE_TOO_LARGE
    status = 413


class FileTypeRefused(ValidationError):
    code = SellerError.KYC_FILE_TYPE
    status = 415


def sniff(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) of `data` by its magic number; None when it is none we take."""
    for magic, content_type, extension in SIGNATURES:
        if data.startswith(magic):
            return content_type, extension
    return None


def extension_of(document: KycDocument) -> str:
    """The file extension of a stored document's type (".pdf")."""
    return next((ext for _, ct, ext in SIGNATURES if ct == document.content_type), "")


def download_name(document: KycDocument) -> str:
    """The file name a download carries: made of its id and type, never the name uploaded."""
    return f"kyc-{document.id}{extension_of(document)}"


def storage_root() -> Path:
    return Path(current_app.config["KYC_STORAGE_ROOT"])


def max_file_bytes() -> int:
    return int(current_app.config["KYC_MAX_FILE_BYTES"])


def _path_of(document: KycDocument) -> Path:
    return storage_root() / str(document.tenant_id) / document.storage_name


# --- requirements --------------------------------------------------------------------------------


def requirements_for(business_type: str) -> list[KycRequirement]:
    """The tenant's requirements for sellers of `business_type`, mandatory first."""
    return list(
        db.session.scalars(
            select(KycRequirement)
            .where(KycRequirement.business_type == business_type)
            .order_by(KycRequirement.is_mandatory.desc(), KycRequirement.document_type)
        )
    )


@dataclass(frozen=True)
class RequirementState:
    """One requirement as a seller stands against it."""

    document_type: str
    is_mandatory: bool
    description: str | None
    status: str  # missing, pending, accepted, rejected (of its latest document)


def standing(profile: SellerProfile) -> list[RequirementState]:
    """Each requirement of the seller's business type, with the status of its latest document."""
    latest: dict[str, str] = {}
    for doc in db.session.scalars(
        select(KycDocument).where(KycDocument.seller_id == profile.id).order_by(KycDocument.id)
    ):
        latest[doc.document_type] = doc.status
    accepted_any = {
        t
        for t in db.session.scalars(
            select(KycDocument.document_type).where(
                KycDocument.seller_id == profile.id, KycDocument.status == "accepted"
            )
        )
    }
    return [
        RequirementState(
            document_type=r.document_type,
            is_mandatory=r.is_mandatory,
            description=r.description,
            status="accepted"
            if r.document_type in accepted_any
            else latest.get(r.document_type, "missing"),
        )
        for r in requirements_for(profile.business_type)
    ]


def missing_mandatory(profile: SellerProfile) -> list[str]:
    """The mandatory document types of the seller's business type with no accepted document."""
    return [s.document_type for s in standing(profile) if s.is_mandatory and s.status != "accepted"]


def require_complete(profile: SellerProfile) -> None:
    """Conflict (kyc_incomplete) unless every mandatory document is accepted."""
    missing = missing_mandatory(profile)
    if missing:
        raise Conflict(
            "mandatory KYC documents are not accepted yet: " + ", ".join(missing),
            code=SellerError.KYC_INCOMPLETE,
            details={"missing": missing},
        )


# --- documents -----------------------------------------------------------------------------------


def _seller_of(actor: Actor, seller_id: int | None) -> SellerProfile:
    """The seller whose documents the actor works on: a seller its own (seller_id ignored when
    it names itself, NotFound when it names another), staff the one named."""
    if actor.is_admin:
        profile = db.session.get(SellerProfile, seller_id) if seller_id else None
    elif actor.is_seller and actor.seller_id is not None:
        if seller_id not in (None, actor.seller_id):
            raise NotFound("no such seller")
        profile = db.session.get(SellerProfile, actor.seller_id)
    else:
        raise PermissionDenied("only a seller and the shop's staff handle KYC documents")
    if profile is None:
        raise NotFound("no such seller")
    return profile


def upload(actor: Actor, new: NewDocument, seller_id: int | None = None) -> KycDocument:
    """Store a KYC document of a seller (the caller's own; staff: seller `seller_id`). A file of
    another type or too large is refused before anything is written."""
    limit = max_file_bytes()
    if len(new.data) > limit:
        raise FileTooLarge(
            f"the file is larger than {limit} bytes",
            details={"file": f"at most {limit} bytes", "limit": limit},
        )
    if not new.data:
        raise ValidationError("the file is empty", details={"file": "empty"})
    sniffed = sniff(new.data)
    if sniffed is None:
        raise FileTypeRefused(
            "the file is not a PDF, JPEG or PNG",
            details={"file": "a PDF, JPEG or PNG"},
        )
    content_type, extension = sniffed
    filename = os.path.basename((new.filename or "").replace("\\", "/")).strip()[:255]
    path: Path | None = None
    try:
        with transaction():
            profile = _seller_of(actor, seller_id)
            types = {r.document_type for r in requirements_for(profile.business_type)}
            if new.document_type not in types:
                raise ValidationError(
                    "this shop does not ask for that document",
                    details={"document_type": f"one of {', '.join(sorted(types)) or '(none)'}"},
                )
            document = KycDocument(
                seller_id=profile.id,
                document_type=new.document_type,
                filename=filename or f"document{extension}",
                content_type=content_type,
                size=len(new.data),
                sha256=hashlib.sha256(new.data).hexdigest(),
                storage_name=secrets.token_hex(20) + extension,
                status="pending",
            )
            db.session.add(document)
            db.session.flush()
            path = _path_of(document)
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            with open(path, "xb") as out:  # a new name: never overwrites
                out.write(new.data)
            os.chmod(path, 0o600)
    except BaseException:
        if path is not None:
            path.unlink(missing_ok=True)  # the row is gone with the rollback: so is the file
        raise
    return document


def documents_of(actor: Actor, seller_id: int | None = None) -> list[KycDocument]:
    """A seller's documents, newest first (a seller: its own)."""
    profile = _seller_of(actor, seller_id)
    return list(
        db.session.scalars(
            select(KycDocument)
            .where(KycDocument.seller_id == profile.id)
            .order_by(KycDocument.id.desc())
        )
    )


def get_document(actor: Actor, document_id: int) -> KycDocument:
    """One document the actor may read: a seller its own, staff any of the tenant (NotFound
    otherwise, as for one that does not exist)."""
    document = db.session.get(KycDocument, document_id) if 0 < document_id < 2**31 else None
    if document is None:
        raise NotFound("no such document")
    if actor.is_admin:
        return document
    if actor.is_seller and actor.seller_id is not None and document.seller_id == actor.seller_id:
        return document
    raise NotFound("no such document")


def read_document(actor: Actor, document_id: int) -> tuple[KycDocument, bytes]:
    """The document and its bytes, for the owning seller and staff only."""
    document = get_document(actor, document_id)
    try:
        return document, _path_of(document).read_bytes()
    except FileNotFoundError as exc:
        log.error("KYC document %s has no file under the storage root", document.id)
        raise NotFound("the document's file is missing") from exc


REVIEWED = "seller.kyc_reviewed"


def review(
    actor: Actor,
    document_id: int,
    decision: str,
    reason: str | None = None,
    *,
    seller_id: int | None = None,
) -> KycDocument:
    """Staff accept or reject (with the reason the seller reads) a document; each decision is a
    KycReview row and one `seller.kyc_reviewed` event, whose consumer (`mail_decision`,
    jobs/subscribers.py) mails the seller after the commit. Returns the document.

    Who may: the tenant's staff only (PermissionDenied for a seller, its own documents included).
    Which document: one of the caller's tenant (the tenancy scope, and the actor's own tenant
    again: staff of another storefront find nothing), and of seller `seller_id` when the caller
    names one (the admin's seller page: a document id of another seller is not found there).
    Not found is NotFound, as for a document that does not exist, and changes nothing."""
    if not actor.is_admin:
        raise PermissionDenied("only staff review KYC documents")
    if decision not in DECISIONS:
        raise ValidationError("unknown decision", details={"decision": "accepted or rejected"})
    reason = clean_reason(reason, required=decision == "rejected", what="to reject")
    with transaction():
        document = (
            db.session.scalar(
                select(KycDocument).where(KycDocument.id == document_id).with_for_update()
            )
            if 0 < document_id < 2**31
            else None
        )
        if (
            document is None
            or (seller_id is not None and document.seller_id != seller_id)
            or (not actor.is_super_admin and document.tenant_id != actor.tenant_id)
        ):
            raise NotFound("no such document", details={"document_id": document_id})
        document.status = decision
        document.review_reason = reason if decision == "rejected" else None
        document.reviewed_at = utcnow()
        row = KycReview(
            document_id=document.id,
            reviewer_id=actor.user_id,
            decision=decision,
            reason=reason,
        )
        db.session.add(row)
        db.session.flush()
        publish(
            REVIEWED,
            {
                "seller_id": document.seller_id,
                "document_id": document.id,
                "review_id": row.id,
                "document_type": document.document_type,
                "decision": decision,
                "reason": reason,
                "by": actor.user_id,
            },
            aggregate="seller",
            aggregate_id=document.seller_id,
        )
    return document


def mail_decision(event) -> None:
    """seller.kyc_reviewed: tell the seller (its store's contact address) what staff decided on
    one of its documents and, for a rejection, why and what to do. Once per decision: the bus
    applies a consumer once per event, and each decision is its own event."""
    payload = event.payload
    profile = db.session.get(SellerProfile, int(payload["seller_id"]))
    to = recipient(profile) if profile is not None else None
    if to is None:
        log.warning("seller %s had a KYC decision and has no address", payload["seller_id"])
        return
    mail.send_mail(
        "seller_kyc_reviewed",
        to,
        {
            "store_name": profile.store_name,
            "document_type": payload["document_type"],
            "document_label": payload["document_type"].replace("_", " "),
            "decision": payload["decision"],
            "reason": payload.get("reason"),
            "missing": missing_mandatory(profile) if profile.status == "pending" else [],
        },
    )


def recipient(profile: SellerProfile) -> str | None:
    """Where a seller's mails go: its store's contact address, else its user's."""
    return profile.contact_email or (profile.user.email if profile.user else None)
