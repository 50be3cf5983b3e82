"""The catalog's product pages as a shop's staff read them: the product list with each row's
thumbnail, price range and stock, and a product's page (/admin/products/show/<id>) on one screen:
header (title, status, seller, brand, category, rating), images, variants with their prices and
stock per warehouse, attributes, and the links to edit each of them.

Both read app.inventory.overview: the list's columns for the page's rows only (three queries
keyed by the page's product ids, whatever the page's size), the page in one call that answers
NotFound for a product the seller does not own. Amounts go through admin.formatting in the
tenant's locale."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, current_app, url_for
from flask_appbuilder import expose, has_access
from markupsafe import Markup

from admin import formatting
from admin.base import current_actor, shop_format
from app.core.errors import NotFound
from app.inventory import overview

THUMBNAIL_PX = 48
# inline: the list page is the shared list template, without this page's stylesheet
_THUMB_STYLE = (
    "display:inline-block; width:{size}px; height:{size}px; object-fit:cover; border-radius:3px; "
    "background:#f4f4f4; border:1px solid #e3e3e3; vertical-align:middle; overflow:hidden; "
    # a picture that cannot load is an empty box, not its alt text spilling over the row
    "font-size:0; color:transparent"
)
FEATURED = Markup(
    ' <i class="fa fa-star text-warning" title="Featured" aria-hidden="true"></i>'
    '<span class="sr-only">Featured</span>'
)
_STATUS_CLASS = {"draft": "default", "active": "success", "archived": "warning"}


def status_label(status: str | None) -> Markup:
    return Markup('<span class="label label-{}">{}</span>').format(
        _STATUS_CLASS.get(status or "", "default"), (status or "").capitalize()
    )


def may_load(url: str) -> bool:
    """Whether the admin's pages may load the picture at `url` under their CSP (config's img-src):
    this origin's own (a path), a data: URL, or an origin named in ADMIN_IMAGE_ORIGINS."""
    parts = urlsplit(url)
    if parts.scheme == "data" or (not parts.scheme and not parts.netloc and url.startswith("/")):
        return True
    allowed = (current_app.config.get("ADMIN_IMAGE_ORIGINS") or "").split()
    return f"{parts.scheme}://{parts.netloc}".lower() in {o.rstrip("/").lower() for o in allowed}


def thumbnail(url: str | None, alt: str | None, size: int = THUMBNAIL_PX) -> Markup:
    """A small picture, loaded when it scrolls into view; a placeholder when there is none, and a
    link to it when it lives on an origin the admin does not load pictures from (its CSP)."""
    box = _THUMB_STYLE.format(size=size)
    placeholder = (
        '<span class="pp-thumb pp-thumb-none" style="{}; display:inline-block; color:#bbb; '
        'text-align:center; line-height:{}px; font-size:{}px" title="{}">'
        '<i class="fa fa-image" aria-hidden="true"></i><span class="sr-only">{}</span>'
        "</span>"
    )
    if not url:
        return Markup(placeholder).format(box, size - 2, max(size // 3, 14), "No image", "No image")
    if not may_load(url):
        host = urlsplit(url).netloc or url
        note = f"Image on {host} (open it: the admin shows pictures of ADMIN_IMAGE_ORIGINS only)"
        return Markup('<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>').format(
            url, Markup(placeholder).format(box, size - 2, max(size // 3, 14), note, note)
        )
    return Markup(
        '<img class="pp-thumb" src="{}" alt="{}" width="{}" height="{}" style="{}" '
        'loading="lazy" decoding="async" referrerpolicy="no-referrer">'
    ).format(url, alt or "", size, size, box)


def price_range(prices: tuple[overview.PriceRange, ...], fmt: formatting.Shop) -> Markup:
    """$12.00 – $30.00 (one line per currency); blank without an active variant."""
    lines = []
    for price in prices:
        low = formatting.money(price.low, price.currency, fmt)
        if price.high == price.low:
            lines.append(low)
        else:
            high = formatting.money(price.high, price.currency, fmt)
            # one piece: a line may otherwise break after the dash
            lines.append(
                Markup('<span style="white-space: nowrap">{} – {}</span>').format(low, high)
            )
    return Markup("<br>").join(lines)


def stock_badge(available: int | None, level: str | None) -> Markup:
    """Units available: red at 0 (or fewer), amber at or below the reorder points, plain above;
    "Not stocked" without any stock row."""
    if available is None:
        return Markup(
            '<span class="text-muted pp-stock" title="No stock row in any warehouse">'
            "Not stocked</span>"
        )
    if level == overview.OUT:
        return Markup(
            '<span class="label label-danger pp-stock" title="Out of stock">{}</span>'
        ).format(available)
    if level == overview.LOW:
        return Markup(
            '<span class="label label-warning pp-stock" title="Low: at or below the reorder '
            'point">{}</span>'
        ).format(available)
    return Markup('<span class="pp-stock">{}</span>').format(available)


class ProductPageMixin:
    """ProductView's list columns `thumbnail`, `price_range` and `stock`, and its show page."""

    show_template = "admin/product/show.html"
    page_columns = ("thumbnail", "price_range", "stock")

    def _values(self, items: list, columns: list[str]) -> list[dict]:
        rows = super()._values(items, columns)
        if not any(c in columns for c in self.page_columns):
            return rows
        facts = overview.list_facts([item.id for item in items])
        for item, row in zip(items, rows, strict=True):
            fact = facts.get(item.id, overview.ListFacts())
            fmt = shop_format(item.tenant_id)
            row["thumbnail"] = thumbnail(fact.thumbnail_url, fact.thumbnail_alt or item.title)
            row["price_range"] = price_range(fact.prices, fmt)
            row["stock"] = stock_badge(fact.available, fact.stock_level)
            row["status"] = status_label(item.status)
            if "title" in row:  # to the product's page, wide enough to read in one or two lines
                row["title"] = Markup(
                    '<a href="{}" style="display:inline-block; min-width:160px">{}</a>{}'
                ).format(
                    url_for(f"{self.endpoint}.show", pk=item.id),
                    item.title,
                    FEATURED if item.is_featured else "",
                )
            if not item.rating_count:
                row["rating_avg"] = None  # no review yet: blank, not a rating of 0.00
        return rows

    def _export_values(self, items: list, columns: list[str]) -> list[dict]:
        """The list's values for a file (admin.exports): the same facts as text and numbers, with
        no picture, link or badge to render and then strip (a third of a 100,000-row export)."""
        rows = super()._values(items, columns)
        wanted = any(c in columns for c in ("price_range", "stock"))
        facts = overview.list_facts([item.id for item in items]) if wanted else {}
        for item, row in zip(items, rows, strict=True):
            fact = facts.get(item.id, overview.ListFacts())
            if "price_range" in columns:
                fmt = shop_format(item.tenant_id)
                row["price_range"] = "; ".join(
                    formatting.money(p.low, p.currency, fmt).striptags()
                    if p.high == p.low
                    else f"{formatting.money(p.low, p.currency, fmt).striptags()} – "
                    f"{formatting.money(p.high, p.currency, fmt).striptags()}"
                    for p in fact.prices
                )
            if "stock" in columns:
                row["stock"] = fact.available
            if "status" in row:
                row["status"] = status_label(item.status)
            if "rating_avg" in row and not item.rating_count:
                row["rating_avg"] = None
        return rows

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        try:
            page = overview.product_page(current_actor(), int(pk))
        except (NotFound, ValueError):
            abort(404)
        fmt = shop_format(page.product.tenant_id)
        sm = self.appbuilder.sm
        may = {
            view: {perm: sm.has_access(perm, view) for perm in ("can_add", "can_edit", "can_list")}
            for view in (
                "ProductView",
                "VariantView",
                "ProductImageView",
                "ProductAttributeValueView",
                "StockView",
                "SellerView",
            )
        }
        self.update_redirect()
        return self.render_template(
            self.show_template,
            title=self.show_title,
            page=page,
            may=may,
            money=lambda amount, currency: formatting.money(amount, currency, fmt),
            when=lambda value: formatting.when(value, fmt),
            status_label=status_label,
            thumbnail=thumbnail,
            stock_badge=stock_badge,
            for_product={"_flt_0_product": page.product.id},
            url_for=url_for,
        )
