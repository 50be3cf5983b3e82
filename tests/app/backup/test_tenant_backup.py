"""Tenant backup and restore (app.backup): backup -> restore into a new tenant -> backup gives the
same rows in every table once ids are replaced by their rank; passwords and encrypted secrets
still work in the copy; a tenant holding data and a backup of another schema version are refused;
the `flask tenant` commands."""

from __future__ import annotations

import json
import zipfile

import pytest
from sqlalchemy import select

from app.backup import services
from app.catalog.models import Category, Product
from app.core.errors import Conflict, ValidationError
from app.core.tenancy import tenant_scope, unscoped
from app.extensions import db
from app.security import roles
from app.security.actor import Actor
from app.security.models import User
from app.sellers import kyc
from app.sellers.banking.models import SellerBankAccount
from app.sellers.inputs import NewDocument
from app.sellers.models import KycDocument
from app.tenants.models import Tenant
from tests.builders.back_office import customer_order
from tests.builders.banking import IBAN_DE, bank_account
from tests.builders.chat import converse
from tests.builders.factories import PASSWORD
from tests.builders.sellers import PDF, kyc_root, requirement

FIXTURES = (kyc_root,)  # the builders' fixtures this module's tests take by name


@pytest.fixture
def shop(app, factory):
    tenant = factory.tenant()
    seller, other = factory.seller(tenant), factory.seller(tenant)
    admin = factory.user(tenant, roles.ADMIN)
    customer = factory.customer(tenant)
    lamp = factory.product(seller, title="Lamp")
    factory.product(other, title="Chair")
    bank_account(app, seller)
    converse(app, tenant.id, customer.user_id, lamp.id, "Is it blue?", "And big?")
    customer_order(app, tenant.id, customer.user_id, "25.00")
    with app.app_context(), tenant_scope(tenant.id):
        parent = db.session.scalar(select(Category).limit(1))
        child = Category(name="Child", slug="child", parent_id=parent.id)
        db.session.add(child)
        db.session.commit()
    # another tenant's rows never enter the backup
    elsewhere = factory.tenant()
    factory.product(factory.seller(elsewhere), title="Foreign")
    return {"tenant": tenant, "seller": seller, "admin": admin, "customer": customer}


def _sorted(rows: list[dict]) -> list[str]:
    return sorted(json.dumps(row, sort_keys=True) for row in rows)


def test_backup_restore_backup_gives_the_same_rows(app, shop, tmp_path, factory):
    first, second = tmp_path / "first", tmp_path / "second"
    slug = f"{shop['tenant'].slug}-copy"
    with app.app_context(), unscoped():
        backed = services.backup_tenant(shop["tenant"].slug, first)
        manifest = services.read_manifest(first)
        assert manifest["schema_version"] == services.schema_version()
        assert manifest["tables"]["products"]["rows"] == 2
        assert manifest["tables"]["ab_user"]["rows"] == 4  # 2 sellers, an admin, a customer
        assert manifest["tables"]["ab_user_role"]["rows"] >= 4  # a child table, through users
        assert "outbox_events" not in manifest["tables"]
        titles = [r["title"] for r in services.rows_of(first, "products")]
        assert titles == ["Lamp", "Chair"]

        restored = services.restore_tenant(first, slug)
        assert restored.created and restored.counts == backed.counts
        services.backup_tenant(slug, second)

    a, b = services_normalised(app, first), services_normalised(app, second)
    assert sorted(a) == sorted(b)
    for table in a:
        assert _sorted(a[table]) == _sorted(b[table]), table
    assert sum(len(rows) for rows in a.values()) > 30


def services_normalised(app, directory):
    with app.app_context():
        return services.normalised(directory)


def test_the_copy_works_passwords_secrets_and_ids(app, shop, tmp_path):
    from tests.builders.admin import login

    slug = f"{shop['tenant'].slug}-moved"
    with app.app_context(), unscoped():
        services.backup_tenant(shop["tenant"].slug, tmp_path)
        restored = services.restore_tenant(tmp_path, slug, name="Moved shop")
    with app.app_context(), tenant_scope(restored.tenant_id):
        products = db.session.scalars(select(Product).order_by(Product.id)).all()
        assert [p.title for p in products] == ["Lamp", "Chair"]
        assert all(p.tenant_id == restored.tenant_id for p in products)
        assert {v.sku for p in products for v in p.variants}  # children followed
        assert products[0].seller.tenant_id == restored.tenant_id
        account = db.session.scalar(select(SellerBankAccount))
        assert account.account_number == IBAN_DE  # still decrypts: the same key
    # and the backup holds it encrypted, as the database does
    backed = (tmp_path / "seller_bank_accounts.jsonl").read_text()
    assert IBAN_DE not in backed and json.loads(backed)["account_number"]
    with app.app_context(), tenant_scope(restored.tenant_id):
        child = db.session.scalar(select(Category).where(Category.slug == "child"))
        assert child.parent is not None and child.parent.tenant_id == restored.tenant_id
    # the admin signs in to the copy with the same password
    login(app, slug, shop["admin"].username, PASSWORD)


def test_restore_refuses_a_tenant_with_data_and_another_schema(app, shop, tmp_path, factory):
    with app.app_context(), unscoped():
        services.backup_tenant(shop["tenant"].slug, tmp_path)
        with pytest.raises(Conflict, match="holds data"):
            services.restore_tenant(tmp_path, shop["tenant"].slug)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["schema_version"] = "0001"
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    empty = factory.tenant()
    with app.app_context(), unscoped():
        with pytest.raises(Conflict, match="schema"):
            services.restore_tenant(tmp_path, empty.slug)
        # nothing was written into the empty tenant
        assert services.tenant_row_count(empty.id) == 0
        assert db.session.scalar(select(User.id).where(User.tenant_id == empty.id)) is None


def test_restore_into_an_existing_empty_tenant(app, shop, tmp_path, factory):
    empty = factory.tenant()
    with app.app_context(), unscoped():
        services.backup_tenant(shop["tenant"].slug, tmp_path)
        restored = services.restore_tenant(tmp_path, empty.slug)
        assert not restored.created and restored.tenant_id == empty.id
        assert services.tenant_row_count(empty.id) == services.tenant_row_count(shop["tenant"].id)


def test_the_flask_tenant_commands(app, shop, tmp_path):
    runner = app.test_cli_runner()
    out = runner.invoke(args=["tenant", "backup", shop["tenant"].slug, str(tmp_path / "b")])
    assert out.exit_code == 0, out.output
    assert "backed up tenant" in out.output
    copy = f"{shop['tenant'].slug}-cli"
    out = runner.invoke(args=["tenant", "restore", str(tmp_path / "b"), "--into", copy])
    assert out.exit_code == 0, out.output
    assert "into a new tenant" in out.output
    out = runner.invoke(args=["tenant", "restore", str(tmp_path / "b"), "--into", copy])
    assert out.exit_code != 0 and "holds data" in out.output
    out = runner.invoke(args=["tenant", "backup", "no-such-shop", str(tmp_path / "c")])
    assert out.exit_code != 0 and "no tenant" in out.output


def test_a_tenant_with_a_row_of_every_model_round_trips(app, factory, tmp_path):
    """The tenancy test's tenant A (a row of every tenant-owned model: orders, payments, the
    seller ledger, chat, notifications, purchasing...) through backup -> restore -> backup."""
    from tests.app.tenants.test_tenancy import _build_two_tenants

    with app.app_context():
        a_id, _ = _build_two_tenants(factory)
        db.session.remove()
    with app.app_context(), unscoped():
        slug = db.session.scalar(select(Tenant.slug).where(Tenant.id == a_id))
        first = services.backup_tenant(slug, tmp_path / "first")
        empty = [name for name, rows in first.counts.items() if rows == 0]
        # every table of the backup holds rows here but those this tenant has none of
        assert len(empty) < len(first.counts) // 3, empty
        services.restore_tenant(tmp_path / "first", f"{slug}-copy")
        services.backup_tenant(f"{slug}-copy", tmp_path / "second")
    a, b = (
        services_normalised(app, tmp_path / "first"),
        services_normalised(app, tmp_path / "second"),
    )
    for table in a:
        assert _sorted(a[table]) == _sorted(b[table]), table


# --- KYC files travel with the backup ---------------------------------------------------------


@pytest.fixture
def kyc_shop(app, factory, kyc_root):
    tenant = factory.tenant()
    seller = factory.seller(tenant)
    requirement(app, tenant, "passport")
    requirement(app, tenant, "utility_bill", mandatory=False)
    as_seller = Actor(
        user_id=seller.user.id,
        tenant_id=tenant.id,
        role_names=frozenset({roles.SELLER}),
        find_seller_id=lambda _user_id: seller.id,
    )
    scans = {"passport": PDF + b"passport", "utility_bill": PDF + b"bill"}
    with app.app_context(), tenant_scope(tenant.id):
        for document_type, data in scans.items():
            kyc.upload(as_seller, NewDocument(document_type, f"{document_type}.pdf", data))
    return {"tenant": tenant, "scans": scans, "root": kyc_root}


def _restored_files(app, tenant_id: int) -> dict[str, bytes]:
    with app.app_context(), tenant_scope(tenant_id):
        staff = Actor(user_id=0, tenant_id=tenant_id, role_names=frozenset({roles.ADMIN}))
        out = {}
        for document in db.session.scalars(select(KycDocument)):
            _, data = kyc.read_document(staff, document.id)
            out[document.document_type] = data
        return out


def test_kyc_files_are_in_the_backup_and_restored_under_new_names(app, kyc_shop, tmp_path):
    tenant = kyc_shop["tenant"]
    with app.app_context(), unscoped():
        backed = services.backup_tenant(tenant.slug, tmp_path / "b")
    assert backed.files["kyc_documents"]["copied"] == 2
    assert backed.files["kyc_documents"]["missing"] == []
    held = sorted(p.read_bytes() for p in (tmp_path / "b" / "files" / "kyc_documents").iterdir())
    assert held == sorted(kyc_shop["scans"].values())
    originals = sorted((kyc_shop["root"] / str(tenant.id)).iterdir())

    with app.app_context(), unscoped():
        restored = services.restore_tenant(tmp_path / "b", f"{tenant.slug}-kyc")
    assert restored.files_missing == 0
    # staff of the copy read each document's own bytes, stored under the copy's own names
    assert _restored_files(app, restored.tenant_id) == kyc_shop["scans"]
    copies = sorted((kyc_shop["root"] / str(restored.tenant_id)).iterdir())
    assert len(copies) == 2 and all(p.stat().st_mode & 0o777 == 0o600 for p in copies)
    assert {p.name for p in copies}.isdisjoint({p.name for p in originals})
    # the original's files are untouched
    assert sorted((kyc_shop["root"] / str(tenant.id)).iterdir()) == originals

    # the zip the admin's Back up action makes holds them too
    with app.app_context(), unscoped():
        services.backup_zip(tenant.slug, tmp_path / "b.zip")
    with zipfile.ZipFile(tmp_path / "b.zip") as archive:
        kyc_names = [n for n in archive.namelist() if n.startswith("files/kyc_documents/")]
    assert len(kyc_names) == 2


def test_a_damaged_kyc_file_stops_the_restore_and_writes_nothing(app, kyc_shop, tmp_path, factory):
    tenant = kyc_shop["tenant"]
    with app.app_context(), unscoped():
        services.backup_tenant(tenant.slug, tmp_path / "b")
    damaged = sorted((tmp_path / "b" / "files" / "kyc_documents").iterdir())[-1]
    damaged.write_bytes(damaged.read_bytes() + b"tampered")
    empty = factory.tenant()
    with app.app_context(), unscoped():
        with pytest.raises(ValidationError, match="does not match"):
            services.restore_tenant(tmp_path / "b", empty.slug)
        assert services.tenant_row_count(empty.id) == 0
    assert not (kyc_shop["root"] / str(empty.id)).exists() or not any(
        (kyc_shop["root"] / str(empty.id)).iterdir()
    )


def test_a_file_missing_from_the_storage_is_reported_not_fatal(app, kyc_shop, tmp_path):
    tenant = kyc_shop["tenant"]
    lost = sorted((kyc_shop["root"] / str(tenant.id)).iterdir())[0]
    lost.unlink()
    runner = app.test_cli_runner()
    out = runner.invoke(args=["tenant", "backup", tenant.slug, str(tmp_path / "b")])
    assert out.exit_code == 0, out.output
    assert "and 1 KYC files" in out.output and "missing in the storage" in out.output
    assert lost.name in out.output
    out = runner.invoke(args=["tenant", "restore", str(tmp_path / "b"), "--into", "kyc-lost"])
    assert out.exit_code == 0, out.output
    assert "1 KYC document(s) restored without their file" in out.output


def test_the_copy_s_audit_trail_names_the_copy_s_rows(app, shop, tmp_path, factory):
    """An audit row names its entity by class and id (as text): in the copy, the id of the copied
    row; an id the backup does not hold (a product deleted since) stays as it was."""
    from sqlalchemy import insert

    from app.core.types import utcnow
    from app.security.models import AuditLog

    tenant = shop["tenant"]
    with app.app_context(), tenant_scope(tenant.id):
        lamp = db.session.scalar(select(Product).where(Product.title == "Lamp"))
        lamp_id, admin_id = lamp.id, shop["admin"].id
        gone = str(10_000_000 + lamp_id)
        db.session.execute(
            insert(AuditLog.__table__),
            [
                {
                    "tenant_id": tenant.id,
                    "actor_id": admin_id,
                    "actor": "a",
                    "action": action,
                    "entity": entity,
                    "entity_id": entity_id,
                    "created_at": utcnow(),
                }
                for action, entity, entity_id in (
                    ("update", "Product", str(lamp_id)),
                    ("login", "User", str(admin_id)),
                    ("delete", "Product", gone),
                )
            ],
        )
        db.session.commit()
    slug = f"{tenant.slug}-audited"
    with app.app_context(), unscoped():
        services.backup_tenant(tenant.slug, tmp_path / "a")
        restored = services.restore_tenant(tmp_path / "a", slug)
        services.backup_tenant(slug, tmp_path / "b")
    with app.app_context(), tenant_scope(restored.tenant_id):
        copy_lamp = db.session.scalar(select(Product.id).where(Product.title == "Lamp"))
        copy_admin = db.session.scalar(
            select(User.id).where(
                User.tenant_id == restored.tenant_id, User.roles.any(name=roles.ADMIN)
            )
        )
        trail = db.session.execute(
            select(AuditLog.action, AuditLog.entity_id, AuditLog.actor_id).where(
                AuditLog.tenant_id == restored.tenant_id
            )
        ).all()
    assert copy_lamp != lamp_id and copy_admin != admin_id
    named = {action: (entity_id, actor) for action, entity_id, actor in trail}
    assert named["update"] == (str(copy_lamp), copy_admin)
    assert named["login"] == (str(copy_admin), copy_admin)
    assert named["delete"][0] == gone
    a, b = services_normalised(app, tmp_path / "a"), services_normalised(app, tmp_path / "b")
    assert _sorted(a["audit_log"]) == _sorted(b["audit_log"])
