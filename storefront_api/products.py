"""/api/v1/products: the public catalog (lists, detail, featured, by category, search, categories
and their filters) and the sellers' and admins' product writes (single and bulk).

Public GETs answered to anonymous callers are cached per tenant (app.core.cache: Redis when
configured, else in-process), keyed by the path and the query's pairs in one order (only
documented keys get that far: an undocumented key is a 422 before the cache is asked; a hit is
answered before the query is parsed), plus the tenant's catalog version, which is bumped after every commit
that touches the catalog, so a change is never served stale once it has committed. They carry an
ETag (hash of the body) and `Cache-Control: public, max-age=CATALOG_CACHE_MAX_AGE`;
`If-None-Match` answers 304. Callers with a token get fresh, private answers (a seller or admin
sees their drafts).

DELETE archives a product (status "archived"): it leaves the storefront but stays for orders and
reports, and can be re-activated with PATCH.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable

from flask import Response, current_app, g, make_response, request
from flask.views import MethodView
from flask_limiter.util import get_remote_address
from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates_schema,
)
from sqlalchemy import select

from app.catalog import queries, services
from app.catalog.errors import CatalogError
from app.catalog.inputs import (
    AttributeInput,
    ImageInput,
    NewCategory,
    NewProduct,
    ProductChanges,
    ProductEdit,
    VariantInput,
)
from app.catalog.models import PRODUCT_STATUSES, PRODUCT_TYPES
from app.core import cache
from app.core.errors import CoreError
from app.core.errors import ValidationError as DomainValidationError
from app.core.tenancy import unscoped
from app.extensions import db, limiter
from app.search import service as search_service
from app.search import types as search_types
from app.search.documents import card_source
from app.security import roles
from app.security.errors import SecurityError
from app.sellers.errors import SellerError
from app.tenants.errors import TenancyError
from app.tenants.models import Tenant
from storefront_api.common import (
    Blueprint,
    PageArgs,
    ViewSchema,
    current_actor,
    document_errors,
    page_schema,
    require_roles,
)
from storefront_api.errors import ApiError
from storefront_api.fields import MAX_MONEY, an_id, decimal_in, decimal_out, money

blp = Blueprint(
    "products", __name__, url_prefix="/api/v1/products", description="Products and categories"
)

_ATTR_CODE = validate.Regexp(
    r"^[A-Za-z0-9_-]{1,64}$", error="attribute codes are letters, digits, _ and -"
)


# --- response schemas ------------------------------------------------------------------------


class RefSchema(ViewSchema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    slug = fields.String(required=True)


class CategoryRefSchema(RefSchema):
    breadcrumb = fields.List(fields.Nested(RefSchema))


class SellerPublicSchema(ViewSchema):
    id = fields.Integer(required=True)
    store_name = fields.String(required=True)
    slug = fields.String(required=True)


class RatingSchema(ViewSchema):
    average = money(required=True)
    count = fields.Integer(required=True)


class ImageRefSchema(ViewSchema):
    url = fields.String(required=True)
    alt_text = fields.String(allow_none=True)


class ProductCardSchema(ViewSchema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    slug = fields.String(required=True)
    status = fields.String(required=True)
    product_type = fields.String(required=True)
    is_featured = fields.Boolean(required=True)
    price = money(allow_none=True, metadata={"description": "lowest price among active variants"})
    compare_at_price = money(allow_none=True)
    currency = fields.String(allow_none=True)
    image = fields.Nested(ImageRefSchema, allow_none=True)
    brand = fields.Nested(RefSchema, allow_none=True)
    category = fields.Nested(RefSchema, allow_none=True)
    seller = fields.Nested(SellerPublicSchema, required=True)
    rating = fields.Nested(RatingSchema, required=True)
    sold_count = fields.Integer(required=True)
    in_stock = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)


ProductPageSchema = page_schema(ProductCardSchema, name="ProductPage")


class VariantSchema(ViewSchema):
    id = fields.Integer(required=True)
    sku = fields.String(required=True)
    title = fields.String(allow_none=True)
    price = money(required=True)
    compare_at_price = money(allow_none=True)
    currency = fields.String(required=True)
    weight_kg = decimal_out(places=3, allow_none=True)
    options = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    is_active = fields.Boolean(required=True)
    position = fields.Integer(required=True)
    available = fields.Integer(
        required=True, metadata={"description": "on hand minus reserved, all warehouses"}
    )
    in_stock = fields.Boolean(required=True)


class ImageSchema(ViewSchema):
    id = fields.Integer(required=True)
    url = fields.String(required=True)
    alt_text = fields.String(allow_none=True)
    position = fields.Integer(required=True)
    variant_id = fields.Integer(allow_none=True)


class AttributeValueSchema(ViewSchema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    value = fields.String(required=True)
    unit = fields.String(allow_none=True)


class ProductDetailSchema(ViewSchema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    slug = fields.String(required=True)
    description = fields.String(allow_none=True)
    status = fields.String(required=True)
    product_type = fields.String(required=True)
    is_featured = fields.Boolean(required=True)
    brand = fields.Nested(RefSchema, allow_none=True)
    category = fields.Nested(CategoryRefSchema, allow_none=True)
    seller = fields.Nested(SellerPublicSchema, required=True)
    variants = fields.List(fields.Nested(VariantSchema), required=True)
    images = fields.List(fields.Nested(ImageSchema), required=True)
    attributes = fields.List(fields.Nested(AttributeValueSchema), required=True)
    rating = fields.Nested(RatingSchema, required=True)
    sold_count = fields.Integer(required=True)
    published_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class ProductListSchema(ViewSchema):
    items = fields.List(fields.Nested(ProductCardSchema), required=True)


class CategorySchema(ViewSchema):
    id = fields.Integer(required=True)
    parent_id = fields.Integer(allow_none=True)
    name = fields.String(required=True)
    slug = fields.String(required=True)
    description = fields.String(allow_none=True)
    position = fields.Integer(required=True)
    seo_title = fields.String(allow_none=True)
    seo_description = fields.String(allow_none=True)
    depth = fields.Integer(metadata={"description": "0 for a root category"})


class CategoryListSchema(ViewSchema):
    items = fields.List(fields.Nested(CategorySchema), required=True)


class CategoryDetailSchema(CategorySchema):
    breadcrumb = fields.List(fields.Nested(RefSchema), required=True)
    children = fields.List(fields.Nested(CategorySchema), required=True)


class FacetBrandSchema(RefSchema):
    count = fields.Integer(required=True)


class PriceRangeSchema(ViewSchema):
    min = money(required=True)
    max = money(allow_none=True, metadata={"description": "exclusive; null for the open top range"})
    count = fields.Integer(required=True)


class PriceFacetSchema(ViewSchema):
    min = money(allow_none=True)
    max = money(allow_none=True)
    ranges = fields.List(fields.Nested(PriceRangeSchema), required=True)


class FacetValueSchema(ViewSchema):
    value = fields.String(required=True)
    count = fields.Integer(required=True)


class AttributeFacetSchema(ViewSchema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    unit = fields.String(allow_none=True)
    param = fields.String(
        required=True, metadata={"description": "the list's query parameter, e.g. attr_colour"}
    )
    values = fields.List(fields.Nested(FacetValueSchema), required=True)


class CategoryFiltersSchema(ViewSchema):
    category = fields.Nested(RefSchema, required=True)
    total = fields.Integer(required=True)
    brands = fields.List(fields.Nested(FacetBrandSchema), required=True)
    price = fields.Nested(PriceFacetSchema, required=True)
    attributes = fields.List(fields.Nested(AttributeFacetSchema), required=True)


# --- query arguments -------------------------------------------------------------------------


class ProductListArgs(PageArgs):
    """Filters of every product list. Attribute filters are `attr_<code>=<value>` parameters
    (e.g. attr_colour=Red), repeatable: any of the values of one attribute, all of the attributes.
    GET /categories/<slug>/filters/ lists them with their values."""

    open_query_prefixes = ("attr_",)  # documented as open-ended (storefront_api.common.Blueprint)

    category = fields.String(
        validate=validate.Length(min=1, max=140),
        metadata={"description": "slug or id; includes its descendants"},
    )
    brand = fields.List(
        fields.String(validate=validate.Length(min=1, max=140)),
        metadata={"description": "slug or id, repeatable (any of)"},
    )
    seller = fields.String(
        validate=validate.Length(min=1, max=200), metadata={"description": "slug or id"}
    )
    min_price = decimal_in(0, MAX_MONEY, places=None)
    max_price = decimal_in(0, MAX_MONEY, places=None)
    in_stock = fields.Boolean(
        metadata={"description": "true: available in some warehouse; false: sold out"}
    )
    min_rating = decimal_in(0, 5, places=None)
    sort = fields.String(load_default="newest", validate=validate.OneOf(queries.SORTS))

    @pre_load
    def set_aside_attribute_filters(self, data, **kwargs):
        """attr_<code> keys are open-ended, so not fields: _attribute_args() validates them."""
        return {key: data[key] for key in data if not key.startswith(self.open_query_prefixes)}

    @validates_schema
    def price_range(self, data, **kwargs):
        low, high = data.get("min_price"), data.get("max_price")
        if low is not None and high is not None and low > high:
            raise ValidationError("must not exceed max_price", field_name="min_price")


class SearchArgs(ProductListArgs):
    q = fields.String(required=True, validate=validate.Length(min=1, max=200))
    sort = fields.String(load_default="relevance", validate=validate.OneOf(search_types.SORTS))


def _attribute_args() -> dict[str, list[str]]:
    """attr_<code>=<value> parameters (not in the schema: their names are open-ended)."""
    attrs: dict[str, list[str]] = {}
    errors: dict[str, list[str]] = {}
    for key in request.args:
        if not key.startswith("attr_"):
            continue
        code, values = key[5:], request.args.getlist(key)
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", code):
            errors[key] = ["attribute codes are letters, digits, _ and -"]
        elif not all(0 < len(v) <= 255 for v in values):
            errors[key] = ["values are 1 to 255 characters"]
        else:
            attrs[code] = values
    if errors:
        raise DomainValidationError("invalid attribute filter", details=errors)
    return attrs


def _filters(args: dict, **extra) -> tuple[queries.ProductFilters, dict]:
    filters = queries.ProductFilters(
        category=args.get("category"),
        brand=args.get("brand") or [],
        seller=args.get("seller"),
        min_price=args.get("min_price"),
        max_price=args.get("max_price"),
        attrs=_attribute_args(),
        in_stock=args.get("in_stock"),
        min_rating=args.get("min_rating"),
        **extra,
    )
    return filters, {"sort": args["sort"], "page": args["page"], "page_size": args["page_size"]}


# --- write schemas ---------------------------------------------------------------------------


class VariantInSchema(Schema):
    id = an_id(
        strict=False, metadata={"description": "on update: the variant to change; omit to add one"}
    )
    sku = fields.String(required=True, validate=validate.Length(min=1, max=64))
    title = fields.String(allow_none=True, validate=validate.Length(max=255))
    price = decimal_in(0, MAX_MONEY, required=True)
    compare_at_price = decimal_in(0, MAX_MONEY, allow_none=True)
    currency = fields.String(
        load_default="USD", validate=validate.Regexp(r"^[A-Z]{3}$", error="an ISO 4217 code")
    )
    weight_kg = decimal_in(0, 9_999_999, places=3, allow_none=True)
    options = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=50)),
        values=fields.String(validate=validate.Length(max=100)),
        load_default=dict,
    )
    is_active = fields.Boolean(load_default=True)
    position = fields.Integer(validate=validate.Range(min=0, max=10_000))

    @post_load
    def _input(self, data, **kwargs) -> VariantInput:
        return VariantInput(**data)


class ImageInSchema(Schema):
    url = fields.Url(required=True, validate=validate.Length(max=500))
    alt_text = fields.String(allow_none=True, validate=validate.Length(max=255))
    position = fields.Integer(validate=validate.Range(min=0, max=10_000))

    @post_load
    def _input(self, data, **kwargs) -> ImageInput:
        return ImageInput(**data)


class AttributeInSchema(Schema):
    code = fields.String(required=True, validate=_ATTR_CODE)
    value = fields.String(required=True, validate=validate.Length(min=1, max=255))

    @post_load
    def _input(self, data, **kwargs) -> AttributeInput:
        return AttributeInput(**data)


class ProductPatchSchema(Schema):
    """Fields of a product; on PATCH any subset. Lists given replace the current ones (variants by
    id: listed ones are changed or added, missing ones deactivated)."""

    input_class: type[ProductChanges] = ProductChanges  # what a load answers (app/catalog/inputs)

    title = fields.String(validate=validate.Length(min=1, max=255))
    slug = fields.String(
        allow_none=True,
        validate=[
            validate.Length(max=200),
            validate.Regexp(
                r"^[a-z0-9]+(?:-[a-z0-9]+)*$|^$", error="lower-case letters, digits, dashes"
            ),
        ],
    )
    description = fields.String(allow_none=True, validate=validate.Length(max=16_000))
    status = fields.String(validate=validate.OneOf(PRODUCT_STATUSES))
    product_type = fields.String(validate=validate.OneOf(PRODUCT_TYPES))
    is_featured = fields.Boolean(metadata={"description": "admins only"})
    category_id = an_id(strict=False, allow_none=True)
    brand_id = an_id(strict=False, allow_none=True)
    seller_id = an_id(
        strict=False, metadata={"description": "admins: required on create; sellers: ignored"}
    )
    variants = fields.List(fields.Nested(VariantInSchema), validate=validate.Length(min=1, max=100))
    images = fields.List(fields.Nested(ImageInSchema), validate=validate.Length(max=50))
    attributes = fields.List(fields.Nested(AttributeInSchema), validate=validate.Length(max=100))

    @validates_schema
    def title_not_blank(self, data, **kwargs):
        if "title" in data and not data["title"].strip():
            raise ValidationError("must not be blank", field_name="title")

    @post_load
    def _input(self, data, **kwargs) -> ProductChanges:
        lists = {
            name: tuple(data[name]) for name in ("variants", "images", "attributes") if name in data
        }
        return self.input_class(**{**data, **lists})


class ProductInSchema(ProductPatchSchema):
    """A whole product (POST, PUT): title and at least one variant are required."""

    input_class = NewProduct

    @validates_schema
    def required_fields(self, data, **kwargs):
        errors = {
            name: ["Missing data for required field."]
            for name in ("title", "variants")
            if name not in data
        }
        if errors:
            raise ValidationError(errors)


class BulkUpdateItemSchema(ProductPatchSchema):
    input_class = ProductEdit

    id = an_id(strict=False, required=True)


class BulkCreateSchema(Schema):
    items = fields.List(
        fields.Nested(ProductInSchema),
        required=True,
        validate=validate.Length(min=1, max=services.MAX_BULK_ITEMS),
    )


class BulkUpdateSchema(Schema):
    items = fields.List(
        fields.Nested(BulkUpdateItemSchema),
        required=True,
        validate=validate.Length(min=1, max=services.MAX_BULK_ITEMS),
    )


class CategoryInSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    slug = fields.String(
        validate=[
            validate.Length(max=120),
            validate.Regexp(
                r"^[a-z0-9]+(?:-[a-z0-9]+)*$", error="lower-case letters, digits, dashes"
            ),
        ]
    )
    parent_id = an_id(strict=False, allow_none=True)
    description = fields.String(allow_none=True, validate=validate.Length(max=10_000))
    position = fields.Integer(validate=validate.Range(min=0, max=1_000_000))
    is_active = fields.Boolean()
    seo_title = fields.String(allow_none=True, validate=validate.Length(max=200))
    seo_description = fields.String(allow_none=True, validate=validate.Length(max=500))
    attribute_codes = fields.List(
        fields.String(validate=_ATTR_CODE),
        validate=validate.Length(max=100),
        metadata={"description": "attributes storefronts filter this category by"},
    )

    @post_load
    def _input(self, data, **kwargs) -> NewCategory:
        if "attribute_codes" in data:
            data["attribute_codes"] = tuple(data["attribute_codes"])
        return NewCategory(**data)


# --- public cache ----------------------------------------------------------------------------


def _tenant_epoch(tenant_id: int | None) -> str:
    """Identifies this tenant row for good (ids are reused when a database is recreated)."""
    epochs = current_app.extensions.setdefault("catalog_tenant_epochs", {})
    if tenant_id not in epochs:
        with unscoped():
            created = db.session.scalar(select(Tenant.created_at).where(Tenant.id == tenant_id))
        epochs[tenant_id] = created.strftime("%Y%m%d%H%M%S%f") if created else "none"
    return epochs[tenant_id]


def _etag_matches(etag: str) -> bool:
    header = request.headers.get("If-None-Match", "")
    tags = {t.strip().removeprefix("W/") for t in header.split(",") if t.strip()}
    return "*" in tags or etag in tags


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _with_validators(response: Response, etag: str, public: bool) -> Response:
    response.headers["ETag"] = etag
    if public:
        max_age = int(current_app.config.get("CATALOG_CACHE_MAX_AGE", 30))
        response.headers["Cache-Control"] = f"public, max-age={max_age}"
    else:
        response.headers["Cache-Control"] = "private, no-cache"
    response.vary.update(("X-Tenant", "Authorization"))
    if _etag_matches(etag):
        not_modified = Response(status=304)
        for name in ("ETag", "Cache-Control", "Vary"):
            not_modified.headers[name] = response.headers[name]
        return not_modified
    return response


def _cache_key_material() -> str:
    """What a cached answer depends on: the path and the query's (key, value) pairs in one order.
    Only documented keys get this far (an undocumented one is a 422 before any view:
    common.Blueprint), so no key of a client's invention makes an entry. Read before the
    arguments are parsed: a hit costs no schema load (about 0.2 ms of CPU per list request)."""
    return (
        request.path + "?" + "&".join(f"{k}={v}" for k, v in sorted(request.args.items(multi=True)))
    )


def public_cache(fn: Callable | None = None, *, namespaces: tuple[str, ...] = ()) -> Callable:
    """Cache a public GET's 200 body for anonymous callers; ETag and 304 for everyone. Put it
    above `@blp.arguments(...)`: a hit is answered before the query is parsed. The body is tied
    to the catalog's cache version, and to each of `namespaces`' (a product page: the units in
    stock it shows, which move with every order where the catalog does not)."""
    if fn is None:
        return functools.partial(public_cache, namespaces=namespaces)
    versioned_by = (queries.CACHE_NAMESPACE, *namespaces) if namespaces else queries.CACHE_NAMESPACE

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        cookie = current_app.config.get("JWT_ACCESS_COOKIE_NAME", "access_token_cookie")
        anonymous = "Authorization" not in request.headers and cookie not in request.cookies
        tenant_id = g.get("tenant_id")
        key = None
        if anonymous:
            digest = hashlib.sha256(_cache_key_material().encode()).hexdigest()
            key = f"catalog:{tenant_id}:{_tenant_epoch(tenant_id)}:{digest}"
            # the namespace version and the entry in one round trip; stored as b"<etag>\n<body>"
            version, entry = cache.get_versioned(versioned_by, tenant_id, key)
            if entry is not None:
                etag, _, body = entry.partition(b"\n")
                response = Response(body, status=200, mimetype="application/json")
                response.headers["X-Cache"] = "hit"
                return _with_validators(response, etag.decode(), public=True)
        response = make_response(fn(*args, **kwargs))
        if response.status_code != 200:
            return response
        body = response.get_data()
        etag = _etag(body)
        if (
            g.get("api_user") is not None
        ):  # answered for a signed-in user (who may see drafts): never shared
            key, anonymous = None, False
        if key is not None:
            cache.put_versioned(
                version,
                key,
                etag.encode() + b"\n" + body,
                int(current_app.config.get("CATALOG_CACHE_SECONDS", 300)),
            )
            response.headers["X-Cache"] = "miss"
        return _with_validators(response, etag, public=anonymous)

    return wrapper


def _documented_304(fn: Callable) -> Callable:
    return blp.alt_response(304, description="Not modified (If-None-Match matched the ETag)")(fn)


# a product write: a seller (approved) or an admin; a unique value taken meanwhile, or the plan's
# product limit, refuses it
_PRODUCT_WRITE_ERRORS = (
    ApiError.BAD_REQUEST,
    SecurityError.UNAUTHORIZED,
    CoreError.FORBIDDEN,
    SellerError.SELLER_NOT_APPROVED,
    CatalogError.UNIQUE_CONFLICT,
    CatalogError.PRODUCT_LIMIT_REACHED,
    CoreError.VALIDATION_ERROR,
    ApiError.RATE_LIMITED,
)


def card_page(page) -> Response:
    """A page of product cards as ProductPageSchema documents and would dump it, built straight
    from the cards' plain JSON form (app.search.documents.card_source, the one the search index
    stores): marshmallow's nested dump of 20 cards was a quarter of a list's CPU (issue 19).
    tests/storefront_api/test_card_page.py holds it equal to the schema's dump."""
    return current_app.json.response(
        {
            "items": [card_source(card) for card in page.items],
            "page": page.page,
            "page_size": page.page_size,
            "total": page.total,
        }
    )


# --- routes: products ------------------------------------------------------------------------


@blp.route("/")
class Products(MethodView):
    @public_cache
    @blp.arguments(ProductListArgs, location="query")
    @blp.response(200, ProductPageSchema)
    @_documented_304
    @document_errors(blp, CoreError.VALIDATION_ERROR)
    def get(self, args):
        """List active products: filters, sorts (newest, price, -price, rating, popularity), pages"""
        filters, paging = _filters(args)
        return card_page(queries.list_products(filters, **paging))

    @require_roles(roles.SELLER, roles.ADMIN, roles.SUPER_ADMIN)
    @blp.arguments(ProductInSchema)
    @blp.response(201, ProductDetailSchema)
    @document_errors(blp, *_PRODUCT_WRITE_ERRORS)
    def post(self, data):
        """Create a product (a seller: for its own store; an admin: names seller_id)"""
        return services.create_product(current_actor(), data)


@blp.route("/<int:product_id>/")
class ProductDetail(MethodView):
    @public_cache(namespaces=(queries.STOCK_CACHE_NAMESPACE,))
    @blp.response(200, ProductDetailSchema)
    @_documented_304
    @document_errors(blp, SecurityError.UNAUTHORIZED, CoreError.NOT_FOUND, optional_auth=True)
    def get(self, product_id):
        """A product with variants, availability, images, brand, category breadcrumb, seller, rating"""
        return queries.get_product(product_id, queries.viewer_of(current_actor(optional=True)))

    @require_roles(roles.SELLER, roles.ADMIN, roles.SUPER_ADMIN)
    @blp.arguments(ProductInSchema)
    @blp.response(200, ProductDetailSchema)
    @document_errors(blp, *_PRODUCT_WRITE_ERRORS, CoreError.NOT_FOUND)
    def put(self, data, product_id):
        """Replace a product's fields (title and variants required)"""
        return services.update_product(current_actor(), product_id, data)

    @require_roles(roles.SELLER, roles.ADMIN, roles.SUPER_ADMIN)
    @blp.arguments(ProductPatchSchema, required=False)
    @blp.response(200, ProductDetailSchema)
    @document_errors(blp, *_PRODUCT_WRITE_ERRORS, CoreError.NOT_FOUND)
    def patch(self, data, product_id):
        """Change some fields of a product"""
        return services.update_product(current_actor(), product_id, data)

    @require_roles(roles.SELLER, roles.ADMIN, roles.SUPER_ADMIN)
    @blp.response(204)
    @document_errors(
        blp,
        TenancyError.TENANT_REQUIRED,
        SecurityError.UNAUTHORIZED,
        CoreError.FORBIDDEN,
        CoreError.NOT_FOUND,
        ApiError.RATE_LIMITED,
    )
    def delete(self, product_id):
        """Archive a product (hidden from the storefront, kept for orders; PATCH status to restore)"""
        services.archive_product(current_actor(), product_id)


@blp.route("/bulk/")
class ProductsBulk(MethodView):
    @require_roles(roles.SELLER, roles.ADMIN, roles.SUPER_ADMIN)
    @blp.arguments(BulkCreateSchema)
    @blp.response(201, ProductListSchema)
    @document_errors(blp, *_PRODUCT_WRITE_ERRORS)
    def post(self, data):
        """Create up to 100 products, all or nothing"""
        return {"items": services.bulk_create_products(current_actor(), data["items"])}

    @require_roles(roles.SELLER, roles.ADMIN, roles.SUPER_ADMIN)
    @blp.arguments(BulkUpdateSchema)
    @blp.response(200, ProductListSchema)
    @document_errors(
        blp,
        ApiError.BAD_REQUEST,
        SecurityError.UNAUTHORIZED,
        CoreError.FORBIDDEN,
        SellerError.SELLER_NOT_APPROVED,
        CatalogError.UNIQUE_CONFLICT,
        CoreError.VALIDATION_ERROR,
        ApiError.RATE_LIMITED,
    )
    def patch(self, data):
        """Change up to 100 products (each item names its id), all or nothing"""
        return {"items": services.bulk_update_products(current_actor(), data["items"])}


@blp.route("/featured/")
@public_cache
@blp.arguments(ProductListArgs, location="query")
@blp.response(200, ProductPageSchema)
@_documented_304
@document_errors(blp, CoreError.VALIDATION_ERROR)
def featured(args):
    """Featured active products (same filters as the list)"""
    filters, paging = _filters(args, featured=True)
    return card_page(queries.list_products(filters, **paging))


@blp.route("/category/<string:slug>/")
@public_cache
@blp.arguments(ProductListArgs, location="query")
@blp.response(200, ProductPageSchema)
@_documented_304
@document_errors(blp, CoreError.NOT_FOUND, CoreError.VALIDATION_ERROR)
def by_category(args, slug):
    """Active products of a category and its descendants (same filters as the list)"""
    filters, paging = _filters(args)
    return card_page(queries.products_in_category(slug, filters, **paging))


@blp.route("/search/")
@limiter.limit(lambda: current_app.config["API_SEARCH_RATE_LIMIT"], key_func=get_remote_address)
@blp.arguments(SearchArgs, location="query")
@blp.response(200, ProductPageSchema)
@document_errors(blp, CoreError.VALIDATION_ERROR, ApiError.RATE_LIMITED)
def search(args):
    """Search active products with the search engine (app/search): every word of q in the title,
    brand, category, attributes or description, typos tolerated; sort=relevance by default.
    Not cached: the index follows the catalog's commits (see storefront_api/search.py)."""
    filters, paging = _filters(args)
    return search_service.search_products(args["q"], filters, log_as="products.search", **paging)


# --- routes: categories ----------------------------------------------------------------------


@blp.route("/categories/")
class Categories(MethodView):
    @public_cache
    @blp.response(200, CategoryListSchema)
    @_documented_304
    def get(self):
        """Active categories, flat, parents first, with parent ids and depth"""
        return {"items": queries.list_categories()}

    @require_roles(roles.ADMIN, roles.SUPER_ADMIN)
    @blp.arguments(CategoryInSchema)
    @blp.response(201, CategoryDetailSchema)
    @document_errors(
        blp,
        ApiError.BAD_REQUEST,
        SecurityError.UNAUTHORIZED,
        CoreError.FORBIDDEN,
        CatalogError.UNIQUE_CONFLICT,
        CoreError.VALIDATION_ERROR,
        ApiError.RATE_LIMITED,
    )
    def post(self, data):
        """Create a category (admins)"""
        return services.create_category(current_actor(), data)


@blp.route("/categories/<string:slug>/")
@public_cache
@blp.response(200, CategoryDetailSchema)
@_documented_304
@document_errors(blp, CoreError.NOT_FOUND)
def category_detail(slug):
    """A category with its breadcrumb and active children"""
    return queries.get_category(slug)


@blp.route("/categories/<string:slug>/filters/")
@public_cache
@blp.response(200, CategoryFiltersSchema)
@_documented_304
@document_errors(blp, CoreError.NOT_FOUND)
def category_filters(slug):
    """Facets of a category and its descendants: brands, price ranges, attribute values, with counts"""
    return queries.category_filters(slug)
