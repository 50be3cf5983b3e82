"""What every /api/v1 resource shares: the signed-in user, role checks, pagination, errors.

A handler stays a few lines: parse (marshmallow via flask-smorest), `current_actor()` or
`require_roles(...)`, call one app service, return what the response schema serializes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

from flask import current_app, g, request
from flask_jwt_extended import get_jwt, verify_jwt_in_request
from flask_jwt_extended.exceptions import JWTExtendedException
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest import abort
from jwt import PyJWTError
from marshmallow import RAISE, Schema, fields, validate
from webargs.core import missing
from webargs.flaskparser import FlaskParser, is_json_request
from webargs.flaskparser import abort as webargs_abort

from app.core.errors import DomainError, ErrorCode, PermissionDenied
from app.core.tenancy import current_tenant_id
from app.security.actor import Actor
from app.security.errors import SecurityError
from app.sellers.actors import actor_for
from storefront_api.errors import CODES
from storefront_api.request_guard import JSONTooDeep, refuse_bad_text

MAX_PAGE_SIZE = 100


class StrictParser(FlaskParser):
    """A body or query key the operation's schema does not document is a 422 naming it, never
    silently ignored (a mistyped filter would otherwise return the unfiltered list; Blueprint
    covers the operations that have no query schema). Headers and cookies stay open: proxies and
    browsers add their own.

    Bodies are read through Flask's JSON provider (request_guard: nesting limit, a 400), and
    every string of a body, names included, must be encodable text without NUL (a 422 naming
    the field)."""

    DEFAULT_UNKNOWN_BY_LOCATION = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": RAISE,
        "querystring": RAISE,
        "json": RAISE,
        "form": RAISE,
        "json_or_form": RAISE,
    }

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return missing
        return current_app.json.loads(req.get_data(cache=True))

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        if isinstance(error, JSONTooDeep):
            webargs_abort(400, exc=error, messages={"json": [error.msg]}, message=error.msg)
        return super()._handle_invalid_json_error(error, req, *args, **kwargs)

    def _load_location_data(self, *, schema, req, location):
        data = super()._load_location_data(schema=schema, req=req, location=location)
        if location in ("json", "json_or_form"):
            refuse_bad_text(data, "body")
        elif location == "form":
            refuse_bad_text(req.form, "body")
        return data


class QueryRule(NamedTuple):
    """What an operation documents of the query string (from its flask-smorest doc)."""

    schemas: tuple[Schema, ...]  # its query schemas (none: it takes no query parameter)
    names: frozenset[str]  # their fields' names in the query (data_key)
    prefixes: tuple[str, ...]  # open-ended names a schema declares (`open_query_prefixes`)


def query_rule(doc: dict) -> QueryRule:
    schemas = tuple(
        p["schema"]() if isinstance(p["schema"], type) else p["schema"]
        for p in doc.get("arguments", {}).get("parameters", [])
        if p.get("in") in ("query", "querystring")
    )
    names = frozenset(
        field.data_key or name for schema in schemas for name, field in schema.load_fields.items()
    )
    prefixes = tuple(
        prefix for schema in schemas for prefix in getattr(schema, "open_query_prefixes", ())
    )
    return QueryRule(schemas, names, prefixes)


class Blueprint(SmorestBlueprint):
    """flask-smorest's Blueprint with the strict argument parser; every API module uses this one.

    One rule for every operation, path-only ones and those without any query parameter included:
    a query key the operation does not document (in its OpenAPI parameters) is a 422 naming it,
    decided before the view runs, so before authentication, the public cache or the database.
    An operation with a query schema answers it through the parser (the unknown key with the
    query's other field errors, as the view's own parse would); one without answers with the
    parser's words. Without the second half, operations that take no query parameter ignored the
    query string, and every random key made a new public cache entry. OPTIONS (CORS preflights
    carry the query) is exempt."""

    ARGUMENTS_PARSER = StrictParser()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._query_rules: dict[tuple[str, str], QueryRule] = {}
        self.before_request(self._refuse_undocumented_query_keys)

    def _refuse_undocumented_query_keys(self) -> None:
        if not request.args or request.method == "OPTIONS" or request.endpoint is None:
            return
        endpoint = request.endpoint.rpartition(".")[2]
        method = "get" if request.method == "HEAD" else request.method.lower()
        rule = self._query_rules.get((endpoint, method))
        if rule is None:
            rule = self._query_rules[(endpoint, method)] = query_rule(
                self._docs.get(endpoint, {}).get(method, {})
            )
        unknown = [
            key
            for key in request.args
            if key not in rule.names and not key.startswith(rule.prefixes)
        ]
        if not unknown:
            return
        if (
            len(rule.schemas) == 1
        ):  # raises the parser's 422 (unknown=RAISE), all field errors in it
            self.ARGUMENTS_PARSER.parse(rule.schemas[0], request, location="query")
        abort(422, messages={"query": {key: ["Unknown field."] for key in unknown}})


class Unauthorized(DomainError):
    code = SecurityError.UNAUTHORIZED
    status = 401


def _load_user(optional: bool):
    try:
        verify_jwt_in_request(optional=optional)
    except (JWTExtendedException, PyJWTError) as exc:
        raise Unauthorized("a valid access token is required") from exc
    claims = get_jwt()
    if not claims:
        return None
    if claims.get("type") != "access":
        raise Unauthorized("an access token is required")
    if claims.get("tenant_id") not in (current_tenant_id(), None):
        # a token is only good at its own storefront (Super Admin tokens carry no tenant)
        raise Unauthorized("this token belongs to another storefront")
    user = g.get("user")
    if user is None or not getattr(user, "is_active", False):
        raise Unauthorized("the account is disabled or gone")
    return user


def current_api_user(optional: bool = False):
    """The user of the request's bearer token; None for an anonymous caller when optional."""
    if "api_user" not in g:
        g.api_user = _load_user(optional)
    return g.api_user


def current_actor(optional: bool = False) -> Actor | None:
    """The request's Actor (app.security.actor), built once per request from `current_api_user`;
    None for an anonymous caller when optional. Services take it instead of the user."""
    user = current_api_user(optional)
    if user is None:
        return None
    actor = g.get("api_actor")
    if actor is None or actor.user_id != user.id:
        actor = g.api_actor = actor_for(user)
    return actor


def require_roles(*role_names: str):
    """Decorator: a signed-in user holding one of `role_names` (403 otherwise, 401 without a token)."""

    def decorator(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any):
            user = current_api_user()
            if not (user.role_names & set(role_names)):
                raise PermissionDenied("your role may not do this")
            return fn(*args, **kwargs)

        return wrapper

    return decorator


def login_required(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any):
        current_api_user()
        return fn(*args, **kwargs)

    return wrapper


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    page_size = fields.Integer(load_default=24, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))


class ViewSchema(Schema):
    """A response schema over the core's frozen views (dataclasses): a field is read as an
    attribute (a dict, as some answers still wrap their lists, by key). marshmallow's own accessor
    first asks an object for item access, which costs a raised and caught AttributeError per field
    on a dataclass: a third of a list page's dump."""

    def get_attribute(self, obj, attr, default):
        if type(obj) is dict:
            return obj.get(attr, default)
        return getattr(obj, attr, default)


def page_schema(item_schema: type[Schema], name: str | None = None) -> type[Schema]:
    """{"items": [...], "page": 1, "page_size": 24, "total": N} around `item_schema`."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema), required=True),
            "page": fields.Integer(required=True),
            "page_size": fields.Integer(required=True),
            "total": fields.Integer(required=True),
        },
        name=name or f"{item_schema.__name__.removesuffix('Schema')}Page",
    )


class ApiErrorBodySchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    details = fields.Dict(required=True)


class ApiErrorSchema(Schema):
    """Named apart from flask-smorest's own "Error" schema, which it registers in the spec."""

    error = fields.Nested(ApiErrorBodySchema, required=True)


ErrorSchema = ApiErrorSchema


BEARER = [{"bearerAuth": []}]
OPTIONAL_BEARER = [{"bearerAuth": []}, {}]


def describe_errors(members, *, with_statuses: bool = False) -> str:
    """The description of one documented status: each catalogue member's code and meaning (and
    its statuses, `with_statuses`, where they are not the response's own)."""
    return "; ".join(
        f"`{member}`"
        + (f" ({', '.join(map(str, member.statuses)) or 'any other'})" if with_statuses else "")
        + f": {member.meaning}"
        for member in members
    )


def document_errors(
    blp, *errors: int | ErrorCode | tuple[ErrorCode, int], optional_auth: bool = False
):
    """Decorator: document each error answer of an endpoint with the envelope schema; an endpoint
    that can answer 401 is marked as taking a bearer token (optional when `optional_auth`).

    One way to document errors: an error is a catalogue member (an `ErrorCode` of
    `app/<domain>/errors.py` or `storefront_api/errors.py`), which documents each of its statuses;
    a `(member, status)` pair, for one status of a member answered with several (an e-mail
    token's invalid_token is a 404, a refresh token's a 401); or an HTTP status alone, which
    stands for the generic code the envelope gives that status (`storefront_api.errors.CODES`).
    Each status is described by its members' codes and meanings, from the catalogues, never by
    hand-written text. Codes any operation may answer (an unknown storefront, an undocumented
    query key, ...) are not listed here: the `default` response of every operation names them
    (`errors.ANY_OPERATION`)."""
    members: dict[int, list[ErrorCode]] = {}
    for error in errors:
        if isinstance(error, tuple):  # (member, status): one of a member's statuses
            error, statuses = error[0], error[1:]
            if not set(statuses) <= set(error.statuses):
                raise ValueError(f"{error!r} is not answered with {statuses}")
        elif isinstance(error, ErrorCode):
            statuses = error.statuses
        elif error in CODES:
            error, statuses = CODES[error], (error,)
        else:
            raise ValueError(f"no catalogue code for HTTP {error}: document a member")
        for status in statuses:
            found = members.setdefault(status, [])
            if error not in found:
                found.append(error)

    def decorator(fn):
        for status, found in members.items():
            fn = blp.alt_response(
                status, schema=ApiErrorSchema, description=describe_errors(found)
            )(fn)
        if 401 in members:
            fn = blp.doc(security=OPTIONAL_BEARER if optional_auth else BEARER)(fn)
        return fn

    return decorator
