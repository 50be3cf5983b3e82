"""FAB's security manager, extended: our User model, staff-only HTML login, tenant-aware user
lookup, Super Admins unscoped, and our blocklist and claims on FAB's own JWT manager."""

from __future__ import annotations

import logging

from flask import abort, current_app, g, request
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.views import AuthDBView, UserDBModelView
from flask_appbuilder.security.views import RoleModelView as FabRoleModelView
from flask_appbuilder.security.views import UserGroupModelView as FabUserGroupModelView
from flask_jwt_extended.config import config as jwt_config
from flask_login import current_user
from jwt import MissingRequiredClaimError
from sqlalchemy import select
from werkzeug.security import check_password_hash

from admin.forms import LosslessFormsMixin
from app.core.tenancy import set_unscoped
from app.core.types import utcnow
from app.security import roles
from app.security.audit import not_audited, record_login
from app.security.models import User
from app.security.tokens import is_revoked

log = logging.getLogger(__name__)


def _auth_rate_limit() -> str:
    return current_app.config["AUTH_RATE_LIMIT"]


def _is_super() -> bool:
    return bool(getattr(current_user, "is_authenticated", False) and current_user.is_super_admin)


class HideGlobalUsers(BaseFilter):
    """Tenant admins never see (or edit) Super Admin accounts."""

    name = "Tenant users"
    arg_name = "tenantusers"

    def apply(self, query, value):
        return query if _is_super() else query.filter(User.tenant_id.isnot(None))


class GrantableRoles(BaseFilter):
    """Only a Super Admin may grant the Super Admin role."""

    name = "Grantable roles"
    arg_name = "grantable"

    def apply(self, query, value):
        model = self.datamodel.obj
        return query if _is_super() else query.filter(model.name != roles.SUPER_ADMIN)


class MarketUserView(LosslessFormsMixin, UserDBModelView):
    route_base = "/admin/users"
    list_columns = [
        "first_name",
        "last_name",
        "username",
        "email",
        "tenant",
        "active",
        "roles",
        "last_login",
    ]
    search_columns = ["first_name", "last_name", "username", "email", "active", "roles"]
    add_columns = [
        "first_name",
        "last_name",
        "username",
        "active",
        "email",
        "phone",
        "roles",
        "password",
        "conf_password",
    ]
    edit_columns = ["first_name", "last_name", "username", "active", "email", "phone", "roles"]
    base_filters = [["id", HideGlobalUsers, None]]
    add_form_query_rel_fields = {"roles": [["name", GrantableRoles, None]]}
    edit_form_query_rel_fields = {"roles": [["name", GrantableRoles, None]]}

    def _check_roles(self, item) -> None:
        if _is_super():
            return
        if any(r.name == roles.SUPER_ADMIN for r in item.roles):
            raise ValueError("Only a Super Admin can grant the Super Admin role.")
        if item.tenant_id is None and item.id is not None:
            abort(404)

    def pre_add(self, item):
        self._check_roles(item)
        super().pre_add(item)

    def pre_update(self, item):
        self._check_roles(item)
        # FAB stamps changed_on and changed_by on every save, also one that changes nothing
        if self.datamodel.session.is_modified(item):
            super().pre_update(item)

    def pre_delete(self, item):
        self._check_roles(item)
        super().pre_delete(item)


class RoleModelView(LosslessFormsMixin, FabRoleModelView):
    """FAB's roles page with the admin's forms (admin.forms); FAB's name, so its permissions and
    endpoints stay the same."""


class UserGroupModelView(LosslessFormsMixin, FabUserGroupModelView):
    """FAB's groups page with the admin's forms (admin.forms); FAB's name, as above."""


CUSTOMER_LOGIN_REFUSED = (
    "This sign-in is for the shop's staff and sellers; customer accounts cannot use the admin. "
    "Sign in on the storefront to shop and see your orders."
)


class MarketAuthDBView(AuthDBView):
    """FAB's login page; a customer who typed its own correct password is told the admin is not
    for customers (MarketSecurityManager.auth_user_db), instead of "Invalid login"."""

    @property
    def invalid_login_message(self):
        return g.get("admin_login_refused") or AuthDBView.invalid_login_message


class MarketSecurityManager(SecurityManager):
    user_model = User
    authdbview = MarketAuthDBView
    userdbmodelview = MarketUserView
    rolemodelview = RoleModelView
    groupmodelview = UserGroupModelView
    # FAB's "User's Statistics" page draws its chart with Google Charts loaded from the internet
    # (a blank page offline, and a third-party script in the admin): not registered, no route,
    # no menu entry; `flask init` drops its permissions (admin/cli.py)
    userstatschartview = None

    def find_user(self, username=None, email=None):
        """Per-tenant lookup (the ORM hook limits it to this tenant and Super Admins); a tenant's
        own account wins over a global one with the same e-mail."""
        if username:
            cond = User.username == username
        elif email:
            cond = User.email == email
        else:
            return None
        rows = self.session.scalars(
            select(User).where(cond).order_by(User.tenant_id.is_(None))
        ).all()
        return rows[0] if rows else None

    def reset_password(self, userid, password):
        """FAB's reset form takes any user id from the URL: a tenant Admin may reset only the
        users of its own tenant (the ORM hook hides other tenants), never a Super Admin's."""
        target = self.get_user_by_id(userid) if str(userid or "").isdigit() else None
        if target is None or (target.tenant_id is None and not _is_super()):
            abort(404)
        return super().reset_password(userid, password)

    def auth_user_db(self, username, password):
        """The HTML login is for staff: customers, and accounts locked by the API's lockout (too
        many failed logins), are refused as if the password were wrong (a customer who typed its
        right password is told the admin is not for customers: MarketAuthDBView). The refusal comes before
        FAB checks the password, since FAB then counts the sign-in (login_count, last_login) on the
        user: a refused sign-in changes nothing (the password is still hashed, so it takes as long)."""
        candidate = self.find_user(username=username) or self.find_user(email=username)
        if candidate is not None and candidate.is_active:
            locked = candidate.locked_until is not None and candidate.locked_until > utcnow()
            if locked or not candidate.is_staff:
                right = check_password_hash(candidate.password or "", password or "")
                if right and not locked:
                    # only someone who knows the password learns it is a customer's account
                    g.admin_login_refused = CUSTOMER_LOGIN_REFUSED
                log.info(
                    "login to the admin refused for %s user %s",
                    "locked" if locked else "non-staff",
                    candidate.id,
                )
                return None
        return super().auth_user_db(username, password)

    def update_user_auth_stat(self, user, success=True):
        """FAB's sign-in bookkeeping (login_count, last_login, fail_login_count) is no audited
        change of the user; a successful sign-in is an audit row of its own ("login"), written
        in the same commit."""
        with not_audited():
            if success:
                record_login(self.session, user)
            super().update_user_auth_stat(user, success)

    def exist_permission_on_roles(self, view_name: str, permission_name: str, role_ids) -> bool:
        """FAB asks once per menu item and button (~35 queries a page); load the roles' whole
        permission set once per request instead and answer from memory."""
        key = ("_permission_set", tuple(sorted(role_ids)))
        cache = g.get("_permission_cache")
        if cache is None:
            cache = g._permission_cache = {}
        if key not in cache:
            from flask_appbuilder.security.sqla.models import assoc_permissionview_role

            rows = self.session.execute(
                select(self.viewmenu_model.name, self.permission_model.name)
                .select_from(self.permissionview_model)
                .join(
                    assoc_permissionview_role,
                    assoc_permissionview_role.c.permission_view_id == self.permissionview_model.id,
                )
                .join(
                    self.viewmenu_model,
                    self.viewmenu_model.id == self.permissionview_model.view_menu_id,
                )
                .join(
                    self.permission_model,
                    self.permission_model.id == self.permissionview_model.permission_id,
                )
                .where(assoc_permissionview_role.c.role_id.in_(role_ids))
            ).all()
            cache[key] = {(view, perm) for view, perm in rows}
        return (view_name, permission_name) in cache[key]

    @staticmethod
    def before_request():
        """FAB's: the admin session's user as g.user (its pages and menus read it), and a Super
        Admin's admin pages unscoped. Not on the JSON API, which authenticates by its JWT only
        (storefront_api.common: FAB's JWT user lookup sets g.user): no session user is loaded
        there (about 0.1 ms a request), and a Super Admin's admin session does not open every
        tenant's rows to an API request (nor to the public catalog cache it fills)."""
        if request.path.startswith("/api/"):
            return
        g.user = current_user
        if getattr(current_user, "is_authenticated", False) and current_user.is_super_admin:
            g._unscoped_token = set_unscoped(True)

    def create_limiter(self, app):
        """One rate limiter for the whole app: FAB puts its login-view limits (AUTH_RATE_LIMIT) on
        the app's own limiter (app.extensions.limiter, already initialised by create_app) instead
        of a second Limiter whose before/after-request hooks ran on every request."""
        from app.extensions import limiter

        return limiter

    @property
    def auth_rate_limit(self):
        """The login-view limit read from the config of the app serving the request: the limiter
        is shared by every app made in this process (tests make many), so a limit fixed at
        registration would leak one app's AUTH_RATE_LIMIT into the others. One function object,
        so re-registering it per app adds nothing."""
        return _auth_rate_limit

    def create_jwt_manager(self, app):
        """Our callbacks on FAB's own JWTManager, so one blocklist guards FAB's and our routes."""
        jwt_manager = super().create_jwt_manager(app)

        @jwt_manager.decode_key_loader
        def _key(_header, unverified_claims):
            # every decode passes here (bearer and cookie tokens, FAB's routes, decode_token() of
            # refresh and Socket.IO): a token without `exp` would never expire, so none is
            # accepted, even one signed with our key. PyJWT only checks exp when it is present.
            if "exp" not in unverified_claims:
                raise MissingRequiredClaimError("exp")
            return jwt_config.decode_key

        @jwt_manager.token_in_blocklist_loader
        def _revoked(_header, payload):
            # a revoked access token, or any token of a revoked session (logout, password change,
            # refresh-token reuse, admin action): the session check is one primary-key lookup
            from app.security.auth import session_revoked

            if is_revoked(payload["jti"]):
                return True
            return "sid" in payload and session_revoked(payload["sid"])

        @jwt_manager.additional_claims_loader
        def _claims(identity):
            user = self.get_user_by_id(int(identity)) if str(identity).isdigit() else None
            if user is None:
                return {}
            return {"tenant_id": user.tenant_id, "roles": sorted(user.role_names)}

        return jwt_manager
