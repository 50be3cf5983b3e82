"""Demo data: a realistic marketplace catalogue, fast enough for 100,000+ products.

    from admin.demo.seed import seed
    report = seed(products=10_000)            # the default tenant, plus a small "outlet" tenant
    report = seed(10_000, orders=250)         # ... and six months of orders (`flask seed`'s default)

What it makes, per tenant: a 2-3 level category tree with SEO fields and filterable attributes,
brands, sellers (users with the Seller role and a SellerProfile, each with a warehouse),
platform warehouses, products with 1-4 variants, 1-3 placeholder images, attribute values,
stock levels for every variant (with a "receipt" ledger row for the initial stock and a
low-stock alert where the stock is at or below its reorder point), customers (some Premium)
with 1-2 addresses, one tenant admin, and the customers' reviews of the catalogue (products'
rating_avg and rating_count are what their approved reviews say, as the reviews service keeps
them). Every demo user has the password DEMO_PASSWORD. With `orders`, the tenant's history
follows: orders in every state with their payments, shipments, refunds, verified reviews,
promotions and open carts, made through the domain services (admin/demo/history.py).

How it is fast: users go through `create_user()` (validation, roles, tenant rules) with one
password hash shared by all of them; everything else is written with Core `INSERT`s in
executemany batches, with ids allocated here (max(id) + 1, ...) so no RETURNING is needed and
the same code runs on SQLite and MariaDB. Each chunk of products is one transaction. Core
inserts bypass the tenancy hooks, so every row gets its tenant_id explicitly here. Seeding runs
outside a request and outside `audit_as()`, so it writes no audit rows; the catalogue publishes
no events (the history's services do, and their consumers run as it goes).

It is deterministic for a given `seed`: a fresh tenant gets the same titles, prices, options,
statuses, sellers and customers every time (ids, and so slugs and SKUs, follow what the
database already holds; timestamps are relative to now). It is additive: run again, it reuses
the tenant, categories, brands, attributes, warehouses and demo users it finds (by slug, code
or e-mail) and adds new products (a tenant that has orders gets no second history).
`if_empty=True` leaves a tenant that already has products alone. Seeding is a set-up command:
run it when nothing else writes to the tenant.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import Table, func, insert, select
from werkzeug.security import generate_password_hash

from admin.demo.history import REVIEW_TEXT, seed_history, top_up_waiting
from app.catalog.models import (
    Attribute,
    Brand,
    Category,
    Product,
    ProductAttributeValue,
    ProductImage,
    ProductVariant,
    category_attributes,
)
from app.core.slugs import slugify
from app.core.tenancy import tenant_scope, unscoped
from app.core.types import utcnow
from app.customers.models import Address, CustomerProfile
from app.extensions import db
from app.inventory.models import LowStockAlert, StockLevel, StockMovement, Warehouse
from app.reviews.models import Review
from app.security import roles
from app.security.models import User
from app.security.services import create_user, validate_password
from app.sellers.models import SellerProfile
from app.shipping.models import ShippingMethod, ShippingZone
from app.tax.models import TaxRule
from app.tenants.models import Tenant
from app.tenants.services import get_or_create_tenant

DEMO_PASSWORD = "demo-password-1"
SECOND_TENANT = "outlet"
DEFAULT_CHUNK = 2000  # products per transaction
DEFAULT_ORDERS = 250  # orders of the main tenant's history (admin.demo.history)
# shares of the physical stock rows seeded out of stock, and at or under their reorder point
OUT_OF_STOCK, AT_REORDER_POINT = 0.0008, 0.0012
MAX_ROWS_PER_EXECUTE = 5000  # rows per executemany
MAX_REVIEWS = 12  # catalogue reviews of one product (the history's orders add verified ones)

# --------------------------------------------------------------------------------------------
# Word lists
# --------------------------------------------------------------------------------------------

APPAREL_SIZES = ("XS", "S", "M", "L", "XL", "XXL")
KIDS_SIZES = ("2-3Y", "4-5Y", "6-7Y", "8-9Y", "10-11Y", "12-13Y")
BABY_SIZES = ("0-3M", "3-6M", "6-12M", "12-18M", "18-24M")
JEANS_SIZES = ("W28 L30", "W30 L32", "W32 L32", "W34 L32", "W36 L34", "W38 L34")
SHOE_SIZES = ("36", "37", "38", "39", "40", "41", "42", "43", "44", "45", "46")
RING_SIZES = ("J", "L", "N", "P", "R", "T")
BED_SIZES = ("Single", "Double", "King", "Super King")
COLOURS = (
    "Black",
    "White",
    "Navy",
    "Grey",
    "Red",
    "Forest Green",
    "Sky Blue",
    "Beige",
    "Olive",
    "Burgundy",
    "Blush Pink",
    "Mustard",
    "Charcoal",
    "Cream",
)
TECH_COLOURS = ("Black", "White", "Silver", "Graphite", "Midnight Blue", "Rose Gold")
STORAGE = ("64 GB", "128 GB", "256 GB", "512 GB", "1 TB")
VOLUMES = ("30 ml", "50 ml", "100 ml", "150 ml")
CAPACITIES = ("20 L", "30 L", "40 L", "55 L", "65 L")
WEIGHTS = ("2 kg", "4 kg", "6 kg", "8 kg", "10 kg", "12 kg")
LICENCES = ("1 user", "3 users", "5 users", "10 users")
EBOOK_FORMATS = ("EPUB", "PDF", "Kindle")
FRAME_SIZES = ("S", "M", "L", "XL")
# options whose later values cost more (a bigger phone, a bigger bottle...)
PRICED_AXES = {"storage", "volume", "capacity", "weight", "licence"}

ADJECTIVES = (
    "Classic",
    "Essential",
    "Premium",
    "Everyday",
    "Modern",
    "Signature",
    "Original",
    "Deluxe",
    "Heritage",
    "Urban",
    "Nordic",
    "Coastal",
    "Eco",
    "Pro",
    "Studio",
    "Select",
)

# code: (name, type, unit, possible values)
ATTRIBUTES: dict[str, tuple[str, str, str | None, tuple[str, ...]]] = {
    "size": ("Size", "choice", None, APPAREL_SIZES),
    "colour": ("Colour", "choice", None, COLOURS),
    "material": (
        "Material",
        "choice",
        None,
        (
            "Cotton",
            "Organic cotton",
            "Linen",
            "Wool",
            "Polyester",
            "Denim",
            "Leather",
            "Recycled polyester",
        ),
    ),
    "fit": ("Fit", "choice", None, ("Regular", "Slim", "Relaxed", "Oversized")),
    "gender": ("Department", "choice", None, ("Men", "Women", "Unisex")),
    "storage": ("Storage", "choice", None, STORAGE),
    "screen_size": (
        "Screen size",
        "number",
        "in",
        ("6.1", "6.7", "10.9", "13.3", "14", "15.6", "27", "32"),
    ),
    "connectivity": (
        "Connectivity",
        "choice",
        None,
        ("Bluetooth 5.3", "Wi-Fi 6", "USB-C", "Wired (3.5 mm)", "Wi-Fi + Bluetooth"),
    ),
    "battery_life": ("Battery life", "number", "h", ("8", "12", "20", "24", "30", "40", "60")),
    "power": ("Power", "number", "W", ("600", "800", "1000", "1200", "1500", "1800", "2000")),
    "capacity": ("Capacity", "number", "L", ("1", "1.5", "1.7", "2", "4", "5.5")),
    "waterproof": ("Waterproof", "boolean", None, ("Yes", "No")),
    "age_range": (
        "Age range",
        "choice",
        None,
        ("0-2 years", "3-5 years", "6-8 years", "9-12 years", "13+ years"),
    ),
    "format": ("Format", "choice", None, ("EPUB", "PDF", "MP3", "Download")),
    "language": ("Language", "choice", None, ("English", "French", "German", "Spanish", "Italian")),
    "pages": ("Pages", "number", None, ("96", "180", "256", "320", "412", "560")),
    "warranty": ("Warranty", "number", "years", ("1", "2", "3", "5")),
    "skin_type": (
        "Skin type",
        "choice",
        None,
        ("All skin types", "Dry", "Oily", "Combination", "Sensitive"),
    ),
    "volume": ("Volume", "number", "ml", ("30", "50", "100", "150", "250", "500")),
}


def _leaf(
    name,
    nouns,
    features,
    price,
    weight=None,
    axes=(),
    attrs=(),
    values=None,
    digital=False,
    share=1.0,
):
    """A leaf category: what its products are called, cost, weigh, vary by and are filtered on."""
    return {
        "name": name,
        "nouns": nouns,
        "features": features,
        "price": price,
        "weight": weight,
        "axes": tuple(axes),
        "attrs": tuple(attrs),
        "values": values or {},
        "digital": digital,
        "share": share,
    }


def _clothing(dept: str, sizes=APPAREL_SIZES):
    g = {"gender": (dept,)} if dept in ("Men", "Women") else {"gender": ("Unisex",)}
    axes = (("size", sizes), ("colour", COLOURS))
    attrs = ("size", "colour", "material", "fit", "gender")
    return g, axes, attrs


_m, _ma, _mt = _clothing("Men")
_w, _wa, _wt = _clothing("Women")
_k, _ka, _kt = _clothing("Kids", KIDS_SIZES)
_SHOE_AXES = (("size", SHOE_SIZES), ("colour", COLOURS))
_SHOE_ATTRS = ("size", "colour", "material", "gender", "waterproof")
_LEATHER = {"material": ("Leather", "Suede", "Canvas", "Recycled mesh", "Synthetic")}

# (top category, description, [leaf | (sub-category, description, [leaf, ...])])
CATALOG = [
    (
        "Clothing",
        "Clothes for every day and every season, from basics to statement pieces.",
        [
            (
                "Men's Clothing",
                "Shirts, jeans, jackets and everyday essentials for men.",
                [
                    _leaf(
                        "T-Shirts",
                        ("T-Shirt", "Crew Neck Tee", "V-Neck Tee", "Pocket Tee"),
                        (
                            "Organic Cotton",
                            "Heavyweight",
                            "Slub Jersey",
                            "Striped",
                            "Graphic",
                            "Merino",
                        ),
                        (12, 45),
                        (0.15, 0.3),
                        _ma,
                        _mt,
                        {**_m, "material": ("Cotton", "Organic cotton", "Linen")},
                        share=3,
                    ),
                    _leaf(
                        "Shirts",
                        ("Oxford Shirt", "Flannel Shirt", "Linen Shirt", "Denim Shirt"),
                        ("Button-Down", "Brushed", "Slim-Fit", "Checked", "Washed"),
                        (29, 89),
                        (0.25, 0.45),
                        _ma,
                        _mt,
                        _m,
                        share=2,
                    ),
                    _leaf(
                        "Jeans",
                        ("Jeans", "Selvedge Jeans", "Chinos"),
                        ("Slim", "Straight", "Tapered", "Stretch", "Raw"),
                        (39, 149),
                        (0.5, 0.9),
                        (
                            ("size", JEANS_SIZES),
                            ("colour", ("Indigo", "Black", "Stone", "Mid Blue")),
                        ),
                        ("size", "colour", "fit", "gender"),
                        _m,
                        share=2,
                    ),
                    _leaf(
                        "Jackets & Coats",
                        ("Parka", "Bomber Jacket", "Overcoat", "Puffer Jacket", "Field Jacket"),
                        ("Waxed", "Quilted", "Wool-Blend", "Waterproof", "Insulated"),
                        (79, 349),
                        (0.8, 2.0),
                        _ma,
                        _mt + ("waterproof",),
                        _m,
                    ),
                    _leaf(
                        "Hoodies & Sweatshirts",
                        ("Hoodie", "Zip Hoodie", "Sweatshirt", "Half-Zip Fleece"),
                        ("Loopback", "Brushed Fleece", "Oversized", "Garment-Dyed"),
                        (35, 95),
                        (0.4, 0.8),
                        _ma,
                        _mt,
                        _m,
                        share=2,
                    ),
                ],
            ),
            (
                "Women's Clothing",
                "Dresses, knitwear, tops and coats for women.",
                [
                    _leaf(
                        "Dresses",
                        ("Midi Dress", "Wrap Dress", "Shirt Dress", "Maxi Dress", "Slip Dress"),
                        ("Floral", "Linen", "Satin", "Pleated", "Jersey", "Tiered"),
                        (39, 179),
                        (0.25, 0.6),
                        _wa,
                        _wt,
                        _w,
                        share=3,
                    ),
                    _leaf(
                        "Tops & Blouses",
                        ("Blouse", "Camisole", "Tunic", "Bodysuit", "Cropped Top"),
                        ("Silk", "Broderie", "Ribbed", "Puff-Sleeve", "Sheer"),
                        (19, 89),
                        (0.15, 0.35),
                        _wa,
                        _wt,
                        _w,
                        share=3,
                    ),
                    _leaf(
                        "Jeans",
                        ("Mom Jeans", "Skinny Jeans", "Wide-Leg Jeans", "Flared Jeans"),
                        ("High-Rise", "Stretch", "Vintage Wash", "Organic"),
                        (45, 139),
                        (0.5, 0.8),
                        (
                            ("size", JEANS_SIZES),
                            ("colour", ("Indigo", "Black", "Light Wash", "Ecru")),
                        ),
                        ("size", "colour", "fit", "gender"),
                        _w,
                        share=2,
                    ),
                    _leaf(
                        "Knitwear",
                        ("Cardigan", "Jumper", "Roll Neck", "Knitted Vest"),
                        ("Cashmere", "Merino", "Cable-Knit", "Chunky", "Alpaca-Blend"),
                        (49, 229),
                        (0.3, 0.7),
                        _wa,
                        _wt,
                        {**_w, "material": ("Wool", "Cashmere", "Cotton", "Alpaca")},
                    ),
                    _leaf(
                        "Jackets & Coats",
                        ("Trench Coat", "Wool Coat", "Puffer Coat", "Teddy Coat"),
                        ("Belted", "Double-Breasted", "Longline", "Recycled"),
                        (89, 399),
                        (0.8, 2.0),
                        _wa,
                        _wt + ("waterproof",),
                        _w,
                    ),
                ],
            ),
            (
                "Kids' Clothing",
                "Hard-wearing clothes for babies and children.",
                [
                    _leaf(
                        "Baby Clothing",
                        ("Bodysuit Set", "Sleepsuit", "Romper", "Dungarees"),
                        ("Organic Cotton", "Bamboo", "Striped", "Printed"),
                        (9, 39),
                        (0.1, 0.3),
                        (("size", BABY_SIZES), ("colour", COLOURS)),
                        ("size", "colour", "material"),
                        _k,
                    ),
                    _leaf(
                        "Boys' Clothing",
                        ("T-Shirt", "Joggers", "Shorts", "Hoodie", "Rain Jacket"),
                        ("Dinosaur", "Camo", "Sporty", "Reversible"),
                        (9, 59),
                        (0.1, 0.5),
                        _ka,
                        _kt,
                        _k,
                    ),
                    _leaf(
                        "Girls' Clothing",
                        ("Dress", "Leggings", "Cardigan", "Skirt", "Pyjamas"),
                        ("Rainbow", "Glitter", "Floral", "Unicorn"),
                        (9, 59),
                        (0.1, 0.5),
                        _ka,
                        _kt,
                        _k,
                    ),
                ],
            ),
        ],
    ),
    (
        "Shoes",
        "Trainers, boots and shoes for work, sport and weekends.",
        [
            (
                "Men's Shoes",
                "Trainers, boots and smart shoes for men.",
                [
                    _leaf(
                        "Sneakers",
                        ("Sneakers", "Trainers", "High-Tops", "Slip-Ons"),
                        ("Leather", "Retro", "Minimal", "Knit", "Court"),
                        (49, 179),
                        (0.7, 1.2),
                        _SHOE_AXES,
                        _SHOE_ATTRS,
                        {**_LEATHER, "gender": ("Men",)},
                        share=2,
                    ),
                    _leaf(
                        "Boots",
                        ("Chelsea Boots", "Work Boots", "Desert Boots", "Hiking Boots"),
                        ("Suede", "Waterproof", "Goodyear-Welted", "Lined"),
                        (79, 249),
                        (1.0, 1.8),
                        _SHOE_AXES,
                        _SHOE_ATTRS,
                        {**_LEATHER, "gender": ("Men",)},
                    ),
                    _leaf(
                        "Formal Shoes",
                        ("Oxfords", "Derbies", "Loafers", "Brogues"),
                        ("Patent", "Calf Leather", "Hand-Finished", "Suede"),
                        (69, 259),
                        (0.8, 1.3),
                        _SHOE_AXES,
                        _SHOE_ATTRS,
                        {**_LEATHER, "gender": ("Men",)},
                    ),
                ],
            ),
            (
                "Women's Shoes",
                "Trainers, heels, sandals and boots for women.",
                [
                    _leaf(
                        "Sneakers",
                        ("Sneakers", "Trainers", "Platform Sneakers"),
                        ("Leather", "Canvas", "Chunky", "Retro"),
                        (45, 169),
                        (0.6, 1.1),
                        _SHOE_AXES,
                        _SHOE_ATTRS,
                        {**_LEATHER, "gender": ("Women",)},
                        share=2,
                    ),
                    _leaf(
                        "Heels",
                        ("Pumps", "Block Heels", "Mules", "Slingbacks"),
                        ("Pointed", "Velvet", "Strappy", "Kitten"),
                        (49, 229),
                        (0.5, 0.9),
                        _SHOE_AXES,
                        _SHOE_ATTRS,
                        {**_LEATHER, "gender": ("Women",)},
                    ),
                    _leaf(
                        "Sandals",
                        ("Sandals", "Sliders", "Espadrilles", "Flip-Flops"),
                        ("Braided", "Cork", "Flatform", "Beach"),
                        (19, 119),
                        (0.3, 0.7),
                        _SHOE_AXES,
                        _SHOE_ATTRS,
                        {**_LEATHER, "gender": ("Women",)},
                    ),
                ],
            ),
            (
                "Sports Shoes",
                "Running and trail shoes.",
                [
                    _leaf(
                        "Running Shoes",
                        ("Running Shoes", "Trail Runners", "Racing Flats"),
                        ("Cushioned", "Lightweight", "Carbon-Plate", "Stability"),
                        (69, 249),
                        (0.5, 0.9),
                        _SHOE_AXES,
                        _SHOE_ATTRS,
                        {
                            "material": ("Recycled mesh", "Knit", "Synthetic"),
                            "gender": ("Men", "Women", "Unisex"),
                        },
                        share=2,
                    ),
                ],
            ),
        ],
    ),
    (
        "Electronics",
        "Phones, computers, audio and cameras from leading brands.",
        [
            (
                "Phones & Tablets",
                "Smartphones, tablets and what goes with them.",
                [
                    _leaf(
                        "Smartphones",
                        ("Smartphone", "5G Phone", "Phone"),
                        ("Pro Max", "Lite", "Ultra", "Plus", "Mini"),
                        (199, 1299),
                        (0.15, 0.25),
                        (("storage", STORAGE[:4]), ("colour", TECH_COLOURS)),
                        ("storage", "colour", "screen_size", "battery_life", "warranty"),
                        {"screen_size": ("6.1", "6.4", "6.7")},
                    ),
                    _leaf(
                        "Tablets",
                        ("Tablet", "Drawing Tablet", "E-Reader"),
                        ("Air", "Pro", "Kids", "Paperwhite", "Mini"),
                        (99, 999),
                        (0.3, 0.7),
                        (("storage", STORAGE[:4]), ("colour", TECH_COLOURS)),
                        ("storage", "colour", "screen_size", "connectivity", "warranty"),
                        {"screen_size": ("8.3", "10.2", "10.9", "12.9")},
                    ),
                    _leaf(
                        "Phone Cases",
                        ("Phone Case", "Wallet Case", "Rugged Case", "Clear Case"),
                        ("MagSafe", "Silicone", "Leather", "Shockproof", "Slim"),
                        (9, 59),
                        (0.03, 0.1),
                        (("colour", TECH_COLOURS + ("Red", "Sky Blue")),),
                        ("colour", "material"),
                        {"material": ("Silicone", "Leather", "TPU", "Polycarbonate")},
                        share=2,
                    ),
                    _leaf(
                        "Chargers & Cables",
                        ("USB-C Charger", "Charging Cable", "Wireless Charger", "Power Bank"),
                        ("65 W GaN", "Braided", "Fast-Charge", "3-in-1", "20,000 mAh"),
                        (9, 89),
                        (0.05, 0.45),
                        (("colour", ("Black", "White")),),
                        ("colour", "power", "connectivity", "warranty"),
                        {"power": ("20", "30", "45", "65", "100")},
                        share=2,
                    ),
                ],
            ),
            (
                "Computers",
                "Laptops, monitors, peripherals and storage.",
                [
                    _leaf(
                        "Laptops",
                        ("Laptop", "Ultrabook", "Gaming Laptop", "Chromebook", "2-in-1 Laptop"),
                        ("14-inch", "16-inch", "OLED", "Creator", "Business"),
                        (349, 2499),
                        (1.1, 2.6),
                        (("storage", STORAGE[1:]), ("colour", ("Silver", "Space Grey", "Black"))),
                        ("storage", "colour", "screen_size", "battery_life", "warranty"),
                        {"screen_size": ("13.3", "14", "15.6", "16")},
                    ),
                    _leaf(
                        "Monitors",
                        ("Monitor", "Gaming Monitor", "Ultrawide Monitor", "Portable Monitor"),
                        ("4K", "QHD 165 Hz", "Curved", "USB-C", "IPS"),
                        (129, 1199),
                        (2.5, 9.0),
                        (),
                        ("screen_size", "connectivity", "warranty"),
                        {"screen_size": ("24", "27", "32", "34")},
                    ),
                    _leaf(
                        "Keyboards & Mice",
                        (
                            "Mechanical Keyboard",
                            "Wireless Mouse",
                            "Keyboard and Mouse Set",
                            "Trackpad",
                        ),
                        ("Low-Profile", "Ergonomic", "RGB", "Silent", "Compact"),
                        (19, 199),
                        (0.1, 1.2),
                        (("colour", ("Black", "White", "Graphite")),),
                        ("colour", "connectivity"),
                    ),
                    _leaf(
                        "Storage",
                        ("Portable SSD", "External Hard Drive", "USB Flash Drive", "microSD Card"),
                        ("Rugged", "NVMe", "High-Speed", "Encrypted"),
                        (12, 299),
                        (0.02, 0.3),
                        (("storage", STORAGE),),
                        ("storage", "connectivity", "warranty"),
                    ),
                ],
            ),
            (
                "Audio",
                "Headphones, earbuds and speakers.",
                [
                    _leaf(
                        "Headphones",
                        ("Over-Ear Headphones", "On-Ear Headphones", "Studio Headphones"),
                        ("Noise-Cancelling", "Wireless", "Hi-Res", "Foldable"),
                        (39, 449),
                        (0.2, 0.4),
                        (("colour", TECH_COLOURS),),
                        ("colour", "connectivity", "battery_life", "warranty"),
                        share=2,
                    ),
                    _leaf(
                        "Earbuds",
                        ("True Wireless Earbuds", "Sport Earbuds", "Earphones"),
                        ("Noise-Cancelling", "Open-Ear", "Waterproof", "Compact"),
                        (19, 279),
                        (0.04, 0.08),
                        (("colour", TECH_COLOURS),),
                        ("colour", "connectivity", "battery_life", "waterproof"),
                    ),
                    _leaf(
                        "Speakers",
                        ("Bluetooth Speaker", "Smart Speaker", "Soundbar", "Bookshelf Speakers"),
                        ("Portable", "Waterproof", "360°", "Dolby Atmos"),
                        (29, 799),
                        (0.4, 6.0),
                        (("colour", ("Black", "White", "Sky Blue", "Red")),),
                        ("colour", "connectivity", "power", "waterproof", "warranty"),
                        {"power": ("10", "20", "40", "120")},
                    ),
                ],
            ),
            (
                "Cameras",
                "Cameras, action cameras and lenses.",
                [
                    _leaf(
                        "Digital Cameras",
                        ("Mirrorless Camera", "Compact Camera", "DSLR Camera", "Instant Camera"),
                        ("Full-Frame", "APS-C", "Vlogging", "Retro"),
                        (149, 2899),
                        (0.3, 1.2),
                        (),
                        ("connectivity", "warranty"),
                    ),
                    _leaf(
                        "Action Cameras",
                        ("Action Camera", "360 Camera", "Dash Cam"),
                        ("5K", "Waterproof", "Stabilised"),
                        (89, 549),
                        (0.1, 0.3),
                        (),
                        ("waterproof", "battery_life", "warranty"),
                    ),
                    _leaf(
                        "Lenses",
                        ("Prime Lens", "Zoom Lens", "Macro Lens", "Wide-Angle Lens"),
                        ("50 mm f/1.8", "24-70 mm f/2.8", "85 mm f/1.4", "16-35 mm f/4"),
                        (149, 1999),
                        (0.2, 1.1),
                        (),
                        ("warranty",),
                    ),
                ],
            ),
        ],
    ),
    (
        "Home & Kitchen",
        "Cookware, furniture, bedding and decor for every room.",
        [
            (
                "Kitchen",
                "Cookware, knives, appliances and coffee gear.",
                [
                    _leaf(
                        "Cookware",
                        ("Frying Pan", "Saucepan Set", "Casserole Dish", "Wok", "Stockpot"),
                        ("Cast Iron", "Non-Stick", "Stainless Steel", "Enamelled", "Copper"),
                        (19, 249),
                        (0.8, 5.0),
                        (("size", ("20 cm", "24 cm", "28 cm", "32 cm")),),
                        ("size", "material"),
                        {"material": ("Cast iron", "Stainless steel", "Aluminium", "Carbon steel")},
                        share=2,
                    ),
                    _leaf(
                        "Knives",
                        ("Chef's Knife", "Knife Block Set", "Santoku Knife", "Bread Knife"),
                        ("Damascus", "Japanese Steel", "Forged", "Ceramic"),
                        (19, 299),
                        (0.2, 2.5),
                        (),
                        ("material", "warranty"),
                        {"material": ("Stainless steel", "Damascus steel", "Ceramic")},
                    ),
                    _leaf(
                        "Small Appliances",
                        ("Kettle", "Toaster", "Blender", "Air Fryer", "Stand Mixer"),
                        ("Smart", "Compact", "High-Speed", "Digital", "Retro"),
                        (25, 499),
                        (1.0, 7.0),
                        (("colour", ("Black", "White", "Cream", "Red", "Stainless")),),
                        ("colour", "power", "capacity", "warranty"),
                        share=2,
                    ),
                    _leaf(
                        "Coffee & Tea",
                        (
                            "Espresso Machine",
                            "Cafetière",
                            "Pour-Over Set",
                            "Coffee Grinder",
                            "Teapot",
                        ),
                        ("Manual", "Burr", "Glass", "Barista", "Insulated"),
                        (15, 699),
                        (0.4, 9.0),
                        (),
                        ("material", "capacity", "power"),
                        {"material": ("Glass", "Stainless steel", "Ceramic")},
                    ),
                ],
            ),
            (
                "Furniture",
                "Chairs, tables and storage.",
                [
                    _leaf(
                        "Chairs",
                        ("Dining Chair", "Office Chair", "Armchair", "Bar Stool"),
                        ("Ergonomic", "Velvet", "Oak", "Rattan", "Mid-Century"),
                        (59, 699),
                        (4.0, 25.0),
                        (("colour", ("Black", "Grey", "Oak", "Walnut", "Green", "Beige")),),
                        ("colour", "material"),
                        {"material": ("Oak", "Walnut", "Steel", "Velvet", "Rattan")},
                    ),
                    _leaf(
                        "Tables",
                        ("Dining Table", "Coffee Table", "Side Table", "Desk", "Standing Desk"),
                        ("Solid Oak", "Marble-Top", "Extendable", "Industrial", "Round"),
                        (79, 1299),
                        (8.0, 60.0),
                        (),
                        ("material", "warranty"),
                        {"material": ("Oak", "Walnut", "Steel", "Marble", "Pine")},
                    ),
                    _leaf(
                        "Storage & Shelving",
                        ("Bookcase", "Shelving Unit", "Chest of Drawers", "Storage Basket"),
                        ("Modular", "Wall-Mounted", "Woven", "Scandi"),
                        (19, 599),
                        (1.0, 45.0),
                        (),
                        ("material",),
                        {"material": ("Pine", "Oak", "Metal", "Seagrass")},
                    ),
                ],
            ),
            (
                "Bedding & Bath",
                "Bed linen, towels and pillows.",
                [
                    _leaf(
                        "Bed Linen",
                        ("Duvet Cover Set", "Fitted Sheet", "Pillowcase Pair"),
                        ("Egyptian Cotton", "Linen", "Percale", "Brushed Cotton", "Sateen"),
                        (19, 189),
                        (0.5, 2.0),
                        (
                            ("size", BED_SIZES),
                            ("colour", ("White", "Grey", "Sage", "Navy", "Blush Pink")),
                        ),
                        ("size", "colour", "material"),
                        {"material": ("Cotton", "Linen", "Egyptian cotton")},
                        share=2,
                    ),
                    _leaf(
                        "Towels",
                        ("Bath Towel", "Towel Bale", "Hand Towel Set", "Bath Sheet"),
                        ("Zero-Twist", "Turkish Cotton", "Quick-Dry", "Waffle"),
                        (9, 89),
                        (0.3, 2.5),
                        (("colour", ("White", "Charcoal", "Teal", "Sand", "Blush Pink")),),
                        ("colour", "material"),
                        {"material": ("Cotton", "Organic cotton", "Bamboo")},
                    ),
                    _leaf(
                        "Pillows",
                        ("Pillow", "Memory Foam Pillow", "Duvet"),
                        ("Hotel", "Hypoallergenic", "Down", "Cooling"),
                        (15, 179),
                        (0.6, 3.0),
                        (("size", BED_SIZES),),
                        ("size", "material"),
                    ),
                ],
            ),
            (
                "Home Decor",
                "Lighting, rugs and home fragrance.",
                [
                    _leaf(
                        "Lighting",
                        ("Table Lamp", "Floor Lamp", "Pendant Light", "LED Strip"),
                        ("Arc", "Rattan", "Smart", "Brass", "Dimmable"),
                        (19, 349),
                        (0.3, 8.0),
                        (),
                        ("material", "power"),
                        {"power": ("5", "9", "12", "40", "60")},
                    ),
                    _leaf(
                        "Rugs",
                        ("Rug", "Runner", "Doormat"),
                        ("Berber", "Jute", "Washable", "Shaggy", "Vintage"),
                        (19, 499),
                        (1.0, 12.0),
                        (("size", ("60x90 cm", "120x170 cm", "160x230 cm", "200x290 cm")),),
                        ("size", "material"),
                        {"material": ("Wool", "Jute", "Cotton", "Polypropylene")},
                    ),
                    _leaf(
                        "Candles & Home Fragrance",
                        ("Scented Candle", "Reed Diffuser", "Wax Melts"),
                        ("Fig & Cedar", "Sea Salt", "Amber", "Lavender", "Fresh Linen"),
                        (9, 69),
                        (0.2, 1.0),
                        (),
                        ("volume",),
                    ),
                ],
            ),
        ],
    ),
    (
        "Sports & Outdoors",
        "Gear for the gym, the trail and the road.",
        [
            (
                "Fitness",
                "Mats, weights and trackers.",
                [
                    _leaf(
                        "Yoga Mats",
                        ("Yoga Mat", "Exercise Mat", "Yoga Block Set"),
                        ("Non-Slip", "Cork", "Travel", "Extra-Thick"),
                        (15, 119),
                        (0.5, 2.5),
                        (("colour", ("Black", "Sage", "Lilac", "Ocean Blue", "Terracotta")),),
                        ("colour", "material"),
                        {"material": ("TPE", "Natural rubber", "Cork", "PVC")},
                    ),
                    _leaf(
                        "Dumbbells & Weights",
                        ("Dumbbell Pair", "Kettlebell", "Weight Plate"),
                        ("Hex", "Neoprene", "Cast Iron", "Adjustable"),
                        (19, 399),
                        (2.0, 24.0),
                        (("weight", WEIGHTS),),
                        ("material",),
                        {"material": ("Cast iron", "Neoprene", "Rubber")},
                    ),
                    _leaf(
                        "Fitness Trackers",
                        ("Fitness Tracker", "Smartwatch", "Heart Rate Monitor"),
                        ("GPS", "Slim", "Solar", "Sport"),
                        (29, 499),
                        (0.03, 0.08),
                        (("colour", TECH_COLOURS),),
                        ("colour", "battery_life", "waterproof", "connectivity"),
                    ),
                ],
            ),
            (
                "Camping & Hiking",
                "Tents, packs and sleeping bags.",
                [
                    _leaf(
                        "Tents",
                        ("Tent", "Backpacking Tent", "Family Tent", "Pop-Up Tent"),
                        ("2-Person", "4-Person", "Ultralight", "Four-Season"),
                        (49, 699),
                        (1.0, 12.0),
                        (),
                        ("waterproof", "material"),
                        {"material": ("Ripstop nylon", "Polyester", "Canvas")},
                    ),
                    _leaf(
                        "Backpacks",
                        ("Hiking Backpack", "Daypack", "Travel Backpack", "Rolltop Backpack"),
                        ("Waterproof", "Ventilated", "Recycled", "Lightweight"),
                        (29, 249),
                        (0.5, 2.0),
                        (("capacity", CAPACITIES),),
                        ("waterproof", "material"),
                    ),
                    _leaf(
                        "Sleeping Bags",
                        ("Sleeping Bag", "Sleeping Mat", "Camping Pillow"),
                        ("Down", "Three-Season", "Mummy", "Self-Inflating"),
                        (29, 399),
                        (0.4, 2.2),
                        (),
                        ("material",),
                        {"material": ("Down", "Synthetic", "Polyester")},
                    ),
                ],
            ),
            (
                "Cycling",
                "Bikes, helmets and accessories.",
                [
                    _leaf(
                        "Bikes",
                        ("Road Bike", "Gravel Bike", "E-Bike", "Hybrid Bike", "Kids' Bike"),
                        ("Aluminium", "Carbon", "Commuter", "Folding"),
                        (299, 3499),
                        (9.0, 24.0),
                        (("size", FRAME_SIZES),),
                        ("size", "material", "warranty"),
                        {"material": ("Aluminium", "Carbon", "Steel")},
                    ),
                    _leaf(
                        "Helmets",
                        ("Cycling Helmet", "Commuter Helmet", "MTB Helmet"),
                        ("MIPS", "Aero", "LED", "Vented"),
                        (29, 249),
                        (0.25, 0.45),
                        (
                            ("size", ("S", "M", "L")),
                            ("colour", ("Black", "White", "Red", "Matte Grey")),
                        ),
                        ("size", "colour"),
                    ),
                    _leaf(
                        "Bike Accessories",
                        ("Bike Light Set", "Bike Lock", "Bottle Cage", "Saddle Bag", "Mini Pump"),
                        ("USB-Rechargeable", "Heavy-Duty", "Carbon", "Compact"),
                        (9, 129),
                        (0.05, 1.5),
                        (),
                        ("waterproof",),
                    ),
                ],
            ),
        ],
    ),
    (
        "Beauty & Personal Care",
        "Skincare, hair care and fragrance.",
        [
            (
                "Skincare",
                "Moisturisers, cleansers and sun care.",
                [
                    _leaf(
                        "Moisturisers",
                        ("Moisturiser", "Night Cream", "Face Oil", "Serum"),
                        ("Hyaluronic", "Vitamin C", "Retinol", "Niacinamide", "Fragrance-Free"),
                        (9, 89),
                        (0.08, 0.3),
                        (("volume", VOLUMES),),
                        ("skin_type", "volume"),
                        share=2,
                    ),
                    _leaf(
                        "Cleansers",
                        ("Cleanser", "Micellar Water", "Cleansing Balm", "Exfoliator"),
                        ("Gentle", "Foaming", "Salicylic", "Oat"),
                        (7, 45),
                        (0.1, 0.4),
                        (("volume", VOLUMES),),
                        ("skin_type",),
                    ),
                    _leaf(
                        "Sun Care",
                        ("Sunscreen SPF 50", "Sun Cream SPF 30", "After-Sun Lotion"),
                        ("Mineral", "Invisible", "Sport", "Kids"),
                        (8, 39),
                        (0.1, 0.35),
                        (("volume", VOLUMES),),
                        ("skin_type", "waterproof"),
                    ),
                ],
            ),
            (
                "Hair Care",
                "Shampoo, conditioner and styling tools.",
                [
                    _leaf(
                        "Shampoo & Conditioner",
                        ("Shampoo", "Conditioner", "Hair Mask", "Dry Shampoo"),
                        ("Argan Oil", "Sulphate-Free", "Volumising", "Repairing", "Solid"),
                        (5, 39),
                        (0.1, 0.6),
                        (("volume", ("250 ml", "500 ml", "1000 ml")),),
                        ("volume",),
                    ),
                    _leaf(
                        "Hair Dryers & Stylers",
                        ("Hair Dryer", "Straightener", "Curling Wand", "Hot Brush"),
                        ("Ionic", "Ceramic", "Cordless", "Travel"),
                        (19, 449),
                        (0.3, 1.0),
                        (),
                        ("power", "warranty"),
                        {"power": ("1200", "1800", "2000", "2400")},
                    ),
                ],
            ),
            (
                "Fragrance",
                "Perfume and aftershave.",
                [
                    _leaf(
                        "Perfume",
                        ("Eau de Parfum", "Eau de Toilette", "Perfume Oil"),
                        ("Oud & Rose", "Citrus Bloom", "Vanilla Musk", "Neroli", "Jasmine"),
                        (25, 189),
                        (0.2, 0.5),
                        (("volume", VOLUMES),),
                        ("volume", "gender"),
                        {"gender": ("Women", "Unisex")},
                        share=2,
                    ),
                    _leaf(
                        "Aftershave",
                        ("Aftershave", "Cologne", "Beard Oil"),
                        ("Cedarwood", "Vetiver", "Sea Breeze", "Leather"),
                        (15, 129),
                        (0.15, 0.45),
                        (("volume", VOLUMES),),
                        ("volume", "gender"),
                        {"gender": ("Men", "Unisex")},
                    ),
                ],
            ),
        ],
    ),
    (
        "Toys & Games",
        "Games, building sets and outdoor play for all ages.",
        [
            _leaf(
                "Board Games & Puzzles",
                ("Board Game", "Jigsaw Puzzle", "Card Game", "Strategy Game"),
                ("Family", "1000-Piece", "Co-operative", "Party", "Classic"),
                (9, 89),
                (0.3, 2.0),
                (),
                ("age_range", "language"),
                share=2,
            ),
            _leaf(
                "Building Toys",
                ("Building Set", "Construction Kit", "Marble Run", "Magnetic Tiles"),
                ("Space", "Castle", "City", "Robotics", "Dinosaur"),
                (12, 249),
                (0.2, 3.0),
                (),
                ("age_range",),
                share=2,
            ),
            _leaf(
                "Outdoor Play",
                ("Trampoline", "Scooter", "Paddling Pool", "Swing Set", "Kite"),
                ("Folding", "Light-Up", "Inflatable", "Wooden"),
                (15, 399),
                (0.3, 40.0),
                (),
                ("age_range", "waterproof"),
            ),
        ],
    ),
    (
        "Books & Media",
        "E-books, audiobooks and software, delivered instantly.",
        [
            (
                "E-books",
                "Fiction, non-fiction and children's e-books.",
                [
                    _leaf(
                        "Fiction",
                        ("Novel", "Thriller", "Fantasy Saga", "Short Stories", "Mystery"),
                        ("Award-Winning", "Bestselling", "Illustrated", "Collected"),
                        (3, 15),
                        None,
                        (("format", EBOOK_FORMATS),),
                        ("format", "language", "pages"),
                        digital=True,
                        share=2,
                    ),
                    _leaf(
                        "Non-Fiction",
                        ("Cookbook", "Biography", "History", "Travel Guide", "Self-Help Guide"),
                        ("Complete", "Pocket", "Definitive", "Beginner's"),
                        (4, 25),
                        None,
                        (("format", EBOOK_FORMATS),),
                        ("format", "language", "pages"),
                        digital=True,
                        share=2,
                    ),
                    _leaf(
                        "Children's Books",
                        ("Picture Book", "Bedtime Stories", "Activity Book", "Early Reader"),
                        ("Illustrated", "Rhyming", "Interactive"),
                        (2, 12),
                        None,
                        (("format", EBOOK_FORMATS),),
                        ("format", "language", "age_range"),
                        digital=True,
                    ),
                ],
            ),
            _leaf(
                "Audiobooks",
                ("Audiobook", "Audio Drama", "Podcast Series"),
                ("Unabridged", "Full-Cast", "Narrated"),
                (5, 35),
                None,
                (),
                ("format", "language"),
                {"format": ("MP3", "Download")},
                digital=True,
            ),
            (
                "Software",
                "Productivity tools and games.",
                [
                    _leaf(
                        "Productivity Software",
                        ("Office Suite", "Photo Editor", "Password Manager", "VPN", "Antivirus"),
                        ("Annual", "Lifetime", "Family", "Business"),
                        (19, 199),
                        None,
                        (("licence", LICENCES),),
                        ("format", "language"),
                        {"format": ("Download",)},
                        digital=True,
                    ),
                    _leaf(
                        "PC Games",
                        ("Strategy Game", "Adventure Game", "Racing Game", "Puzzle Game"),
                        ("Deluxe Edition", "Game of the Year Edition", "Standard Edition"),
                        (9, 69),
                        None,
                        (),
                        ("age_range", "language"),
                        digital=True,
                    ),
                ],
            ),
        ],
    ),
    (
        "Jewellery & Watches",
        "Watches, necklaces, rings and earrings.",
        [
            _leaf(
                "Watches",
                ("Watch", "Chronograph", "Dive Watch", "Dress Watch"),
                ("Automatic", "Solar", "Minimalist", "Vintage"),
                (49, 1499),
                (0.05, 0.2),
                (("colour", ("Silver", "Gold", "Black", "Rose Gold")),),
                ("colour", "material", "waterproof", "warranty"),
                {"material": ("Stainless steel", "Titanium", "Leather strap")},
            ),
            _leaf(
                "Necklaces",
                ("Pendant Necklace", "Chain Necklace", "Choker"),
                ("Sterling Silver", "Gold-Plated", "Pearl"),
                (19, 399),
                (0.01, 0.05),
                (("colour", ("Silver", "Gold", "Rose Gold")),),
                ("colour", "material"),
                {"material": ("Sterling silver", "Gold vermeil", "Pearl")},
            ),
            _leaf(
                "Rings",
                ("Ring", "Signet Ring", "Stacking Rings"),
                ("Sterling Silver", "Engraved", "Gemstone"),
                (19, 499),
                (0.005, 0.02),
                (("size", RING_SIZES),),
                ("size", "material"),
                {"material": ("Sterling silver", "Gold vermeil", "Platinum")},
            ),
            _leaf(
                "Earrings",
                ("Hoop Earrings", "Stud Earrings", "Drop Earrings"),
                ("Huggie", "Crystal", "Pearl", "Gold-Plated"),
                (15, 299),
                (0.005, 0.02),
                (("colour", ("Silver", "Gold", "Rose Gold")),),
                ("colour", "material"),
                {"material": ("Sterling silver", "Gold vermeil", "Pearl")},
            ),
        ],
    ),
    (
        "Garden",
        "Tools, plants and outdoor furniture.",
        [
            _leaf(
                "Garden Tools",
                ("Pruning Shears", "Garden Spade", "Hose Reel", "Leaf Blower", "Lawn Mower"),
                ("Cordless", "Stainless Steel", "Telescopic", "Heavy-Duty"),
                (12, 499),
                (0.3, 30.0),
                (),
                ("power", "warranty"),
            ),
            _leaf(
                "Plants & Seeds",
                ("Seed Kit", "Herb Garden", "Bulb Collection", "Potted Olive Tree"),
                ("Organic", "Heirloom", "Pollinator", "Indoor"),
                (5, 89),
                (0.05, 8.0),
                (),
                (),
            ),
            _leaf(
                "Outdoor Furniture",
                ("Garden Bench", "Bistro Set", "Sun Lounger", "Hammock", "Parasol"),
                ("Teak", "Rattan-Effect", "Folding", "Weatherproof"),
                (49, 1299),
                (3.0, 45.0),
                (),
                ("material", "waterproof"),
                {"material": ("Teak", "Aluminium", "Rattan", "Acacia")},
            ),
        ],
    ),
]

BRANDS = (
    "Northwind",
    "Alder & Co",
    "Bluepeak",
    "Harbor Lane",
    "Kestrel",
    "Lumen",
    "Maple Row",
    "Nordvik",
    "Oakhurst",
    "Pinecrest",
    "Quill & Ink",
    "Riverstone",
    "Saltmarsh",
    "Tidewater",
    "Umbra",
    "Vanta",
    "Wildhaven",
    "Yarrow",
    "Zephyr",
    "Brightfield",
    "Copperline",
    "Driftwood",
    "Emberly",
    "Foxglove",
    "Granite Peak",
    "Hollowell",
    "Ironbark",
    "Juniper",
    "Kinfolk Supply",
    "Larkspur",
    "Moonstone",
    "Novatek",
    "Orbis",
    "Pulse Audio",
    "Quantix",
    "Redwood Outfitters",
    "Solace",
    "Terra Nova",
    "Voltaic",
    "Westbrook",
)
BRAND_BLURBS = (
    "Independent design studio making things to last.",
    "Thoughtfully made, fairly priced.",
    "Engineered for everyday performance.",
    "Family-run since 1987.",
    "Sustainable materials, honest prices.",
    "Award-winning design from Scandinavia.",
)

STORE_A = (
    "Blue Harbor",
    "Maple Lane",
    "Copper Fox",
    "Silver Birch",
    "Golden Oak",
    "Red Kite",
    "Urban Nest",
    "Little Wren",
    "Stone & Thread",
    "Bright Spark",
    "Wild Fern",
    "Cedar Ridge",
    "Harbour Light",
    "Iron Pine",
    "Velvet Moon",
    "Green Valley",
    "Old Mill",
    "North Star",
    "Salt & Cedar",
    "Paper Crane",
    "Tin Roof",
    "Meadow Sweet",
    "High Street",
    "Sunday Best",
)
STORE_B = (
    "Outfitters",
    "Supply Co.",
    "Trading",
    "Goods",
    "Store",
    "Emporium",
    "Market",
    "Studio",
    "Collective",
    "Workshop",
    "Home",
    "Gear",
    "Electronics",
    "Boutique",
    "Depot",
    "House",
)

FIRST_NAMES = (
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Ava",
    "Oliver",
    "Sophia",
    "Elijah",
    "Isabella",
    "James",
    "Mia",
    "William",
    "Amelia",
    "Benjamin",
    "Harper",
    "Lucas",
    "Evelyn",
    "Henry",
    "Abigail",
    "Alexander",
    "Emily",
    "Daniel",
    "Ella",
    "Matteo",
    "Chloe",
    "Samuel",
    "Grace",
    "Leo",
    "Zoe",
    "Jack",
    "Nora",
    "Omar",
    "Aisha",
    "Hiroshi",
    "Mei",
    "Carlos",
    "Lucia",
    "Tomasz",
    "Anja",
    "Pierre",
    "Chiara",
    "Sven",
    "Ingrid",
    "Priya",
    "Arjun",
    "Fatima",
    "Kwame",
    "Ngozi",
    "Diego",
    "Sofia",
)
LAST_NAMES = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Martinez",
    "Lopez",
    "Wilson",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Walker",
    "Hall",
    "Young",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Adams",
    "Nelson",
    "Müller",
    "Schmidt",
    "Dubois",
    "Rossi",
    "Novak",
    "Kowalski",
    "Jansen",
    "Nakamura",
    "Chen",
    "Patel",
    "Okafor",
    "Silva",
    "Hansen",
    "O'Brien",
    "Murphy",
    "Kim",
    "Nguyen",
)
STREETS = (
    "Main Street",
    "Oak Avenue",
    "Maple Drive",
    "Cedar Lane",
    "Park Road",
    "High Street",
    "Elm Street",
    "Church Road",
    "Mill Lane",
    "Station Road",
    "Lakeview Drive",
    "Washington Avenue",
    "River Road",
    "Sunset Boulevard",
    "Hillcrest Road",
    "Victoria Road",
    "Queen Street",
    "King Street",
    "Chestnut Close",
    "Willow Way",
)
COMPANIES = (
    "Acme Corp",
    "Globex Ltd",
    "Initech",
    "Umbrella Studio",
    "Hooli",
    "Vandelay Industries",
    "Stark Logistics",
    "Wayne Design",
    "Soylent Foods",
    "Tyrell Systems",
)
# city, region, postal code pattern (# digit, @ letter), country, phone prefix
LOCATIONS = {
    "US": (
        ("New York", "NY", "100##", "US"),
        ("Brooklyn", "NY", "112##", "US"),
        ("Boston", "MA", "021##", "US"),
        ("Chicago", "IL", "606##", "US"),
        ("Austin", "TX", "787##", "US"),
        ("Denver", "CO", "802##", "US"),
        ("Seattle", "WA", "981##", "US"),
        ("Portland", "OR", "972##", "US"),
        ("San Francisco", "CA", "941##", "US"),
        ("Los Angeles", "CA", "900##", "US"),
        ("Atlanta", "GA", "303##", "US"),
        ("Miami", "FL", "331##", "US"),
        ("Minneapolis", "MN", "554##", "US"),
        ("Philadelphia", "PA", "191##", "US"),
        ("Nashville", "TN", "372##", "US"),
    ),
    "GB": (
        ("London", "Greater London", "N# #@@", "GB"),
        ("Manchester", "Greater Manchester", "M# #@@", "GB"),
        ("Bristol", "Bristol", "BS# #@@", "GB"),
        ("Edinburgh", "Scotland", "EH# #@@", "GB"),
        ("Leeds", "West Yorkshire", "LS# #@@", "GB"),
    ),
    "EU": (
        ("Amsterdam", "Noord-Holland", "10## @@", "NL"),
        ("Rotterdam", "Zuid-Holland", "30## @@", "NL"),
        ("Berlin", "Berlin", "10###", "DE"),
        ("Munich", "Bavaria", "80###", "DE"),
        ("Hamburg", "Hamburg", "20###", "DE"),
        ("Paris", "Île-de-France", "750##", "FR"),
        ("Lyon", "Auvergne-Rhône-Alpes", "6900#", "FR"),
        ("Brussels", "Brussels", "10#0", "BE"),
        ("Vienna", "Vienna", "1###", "AT"),
        ("Milan", "Lombardy", "201##", "IT"),
    ),
}
PHONE_PREFIX = {
    "US": "+1 555",
    "GB": "+44 7700",
    "NL": "+31 6",
    "DE": "+49 151",
    "FR": "+33 6",
    "BE": "+32 470",
    "AT": "+43 660",
    "IT": "+39 320",
}
PLATFORM_WAREHOUSES = {
    "US": (
        ("FC-EAST", "Fulfilment centre East", "Newark", "US"),
        ("FC-WEST", "Fulfilment centre West", "Reno", "US"),
        ("FC-CENTRAL", "Fulfilment centre Central", "Dallas", "US"),
    ),
    "GB": (
        ("FC-UK1", "Fulfilment centre Midlands", "Coventry", "GB"),
        ("FC-UK2", "Fulfilment centre North", "Leeds", "GB"),
    ),
    "EU": (
        ("FC-NL", "Fulfilment centre Benelux", "Rotterdam", "NL"),
        ("FC-DE", "Fulfilment centre Germany", "Leipzig", "DE"),
    ),
}
DIGITAL_WAREHOUSE = ("DIGITAL", "Digital delivery (licence keys and downloads)")

BENEFITS = (
    "Designed to be used every day and built to last for years.",
    "Made with carefully sourced materials and finished by hand.",
    "A customer favourite, now updated with a better fit and finish.",
    "Lightweight and easy to care for, it fits right into a busy life.",
    "Tested by our team and backed by a hassle-free returns policy.",
    "A thoughtful gift that works for almost anyone.",
    "Compact enough for small spaces without compromising on performance.",
    "Part of our lower-impact range: recycled packaging and carbon-neutral delivery.",
)
DETAILS = (
    "See the size guide for measurements.",
    "Ships in 1-2 working days.",
    "Free returns within 30 days.",
    "Care: follow the instructions on the label.",
    "Includes a printed quick-start guide.",
    "Instant delivery by e-mail after payment.",
    "Covered by the manufacturer's warranty.",
)


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass
class Login:
    role: str
    tenant: str
    login: str
    password: str
    note: str = ""


@dataclass
class TenantResult:
    slug: str
    tenant_id: int
    name: str
    currency: str
    skipped: bool = False
    created: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)  # history steps a service refused
    logins: list[Login] = field(default_factory=list)


@dataclass
class SeedReport:
    tenants: list[TenantResult] = field(default_factory=list)
    seconds: float = 0.0
    password: str = DEMO_PASSWORD

    @property
    def created(self) -> Counter:
        total: Counter = Counter()
        for t in self.tenants:
            total.update(t.created)
        return total

    @property
    def logins(self) -> list[Login]:
        return [login for t in self.tenants for login in t.logins]


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def _insert(table: Table, rows: list[dict], created: Counter) -> None:
    """executemany in slices; the caller owns the transaction. Every row has the same keys."""
    for start in range(0, len(rows), MAX_ROWS_PER_EXECUTE):
        db.session.execute(insert(table), rows[start : start + MAX_ROWS_PER_EXECUTE])
    created[table.name] += len(rows)


class _Ids:
    """Ids handed out here (max + 1, ...), so batches need no RETURNING on any backend."""

    def __init__(self):
        self._next: dict[str, int] = {}

    def take(self, table: Table) -> int:
        name = table.name
        if name not in self._next:
            with unscoped():
                self._next[name] = (db.session.scalar(select(func.max(table.c.id))) or 0) + 1
        value = self._next[name]
        self._next[name] = value + 1
        return value

    def forget(self) -> None:
        """Read max(id) again: rows were inserted by others (the services of the history)."""
        self._next.clear()


def _money(value: float) -> Decimal:
    """A shelf price: x.99 under 100, x9.00 / x9.99 above."""
    if value < 100:
        return Decimal(f"{max(int(value), 1)}.99")
    whole = int(value) // 10 * 10 + 9
    return Decimal(f"{whole}.00")


def _pattern(rng: random.Random, pattern: str) -> str:
    return "".join(
        str(rng.randint(0, 9))
        if c == "#"
        else rng.choice("ABDEFGHJLNPQRSTUWXYZ")
        if c == "@"
        else c
        for c in pattern
    )


def _region_of(currency: str) -> str:
    return {"USD": "US", "GBP": "GB"}.get(currency, "EU")


def _phone(rng: random.Random, country: str) -> str:
    return (
        f"{PHONE_PREFIX.get(country, '+1 555')} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
    )


def _slug(name: str) -> str:
    return slugify(name.replace("'", ""))


def _code(name: str) -> str:
    letters = "".join(ch for ch in name.upper() if ch.isalpha())
    return (letters[:3] or "PRD").ljust(3, "X")


# --------------------------------------------------------------------------------------------
# The service
# --------------------------------------------------------------------------------------------


def seed(
    products: int = 10_000,
    *,
    sellers: int | None = None,
    customers: int | None = None,
    tenant: str | None = None,
    second_tenant: str | None = SECOND_TENANT,
    second_tenant_products: int = 25,
    seed: int = 42,
    if_empty: bool = False,
    chunk_size: int = DEFAULT_CHUNK,
    password: str = DEMO_PASSWORD,
    orders: int = 0,
    second_tenant_orders: int | None = None,
    log: Callable[[str], None] | None = None,
) -> SeedReport:
    """Seed `products` products into `tenant` (default: DEFAULT_TENANT) and a few into
    `second_tenant` (None or 0 products to skip it), then a history of about `orders` orders
    (admin.demo.history; `flask seed` asks for DEFAULT_ORDERS) into each tenant that has none yet,
    `second_tenant_orders` (default: an eighth, at least 20) into the second. Needs
    `flask db upgrade` and `flask init`."""
    started = time.perf_counter()
    log = log or (lambda message: None)
    validate_password(password)
    if products < 0 or chunk_size < 1:
        raise ValueError("products must be >= 0 and chunk_size >= 1")
    sm = current_app.appbuilder.sm
    missing = [
        name
        for name in (roles.SELLER, roles.CUSTOMER, roles.PREMIUM_CUSTOMER, roles.ADMIN)
        if sm.find_role(name) is None
    ]
    if missing:
        raise RuntimeError(
            f"roles {', '.join(missing)} are missing: run `flask init` before seeding"
        )
    password_hash = generate_password_hash(password)  # once, shared by every demo user
    default_slug = current_app.config["DEFAULT_TENANT"]
    main_slug = tenant or default_slug

    plan = [("main", main_slug, products, sellers, customers, orders)]
    if second_tenant and second_tenant != main_slug and second_tenant_products > 0:
        plan.append(
            (
                "second",
                second_tenant,
                second_tenant_products,
                max(2, second_tenant_products // 20),
                max(3, second_tenant_products // 5),
                (max(20, orders // 8) if orders else 0)
                if second_tenant_orders is None
                else second_tenant_orders,
            )
        )

    report = SeedReport(password=password)
    ids = _Ids()
    for role, slug, n_products, n_sellers, n_customers, n_orders in plan:
        if n_sellers is None:
            n_sellers = max(3, min(200, n_products // 500))
        if n_customers is None:
            n_customers = max(5, min(2000, n_products // 50))
        result = _seed_tenant(
            slug,
            default_slug,
            n_products,
            max(1, n_sellers),
            max(0, n_customers),
            random.Random(f"{seed}:{role}"),
            ids,
            if_empty,
            chunk_size,
            password,
            password_hash,
            log,
        )
        if n_orders and not result.skipped:
            t0 = time.perf_counter()
            history = seed_history(
                result.tenant_id,
                _region_of(result.currency),
                orders=n_orders,
                rng=random.Random(f"{seed}:{role}:history"),
                log=lambda line, slug=slug: log(f"[{slug}] {line}"),
            )
            ids.forget()
            result.created.update(history.created)
            result.failures = history.failures
            if history.created:
                log(
                    f"[{slug}] {history.created['orders']} orders with their payments, shipments, "
                    f"refunds and reviews ({time.perf_counter() - t0:.1f}s)"
                )
        elif n_orders and result.skipped:  # seeded before: orders waiting for money again
            waiting = top_up_waiting(
                result.tenant_id,
                _region_of(result.currency),
                rng=random.Random(f"{seed}:{role}:waiting:{utcnow():%Y%m%d%H%M}"),
            )
            ids.forget()
            result.created.update(waiting.created)
            result.failures = waiting.failures
            if waiting.created:
                log(f"[{slug}] {waiting.created['orders']} bank transfers waiting for the money")
        report.tenants.append(result)
    report.seconds = time.perf_counter() - started
    return report


def _get_tenant(slug: str, default_slug: str) -> Tenant:
    if slug == default_slug:
        with unscoped():
            tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
        if tenant is None:
            raise RuntimeError(
                f"the default tenant {slug!r} does not exist: run `flask init` before seeding"
            )
        return tenant
    if slug == SECOND_TENANT:
        return get_or_create_tenant(
            slug, "Outlet", domain=f"{slug}.localhost", default_currency="EUR"
        )
    return get_or_create_tenant(slug, slug.replace("-", " ").title(), domain=f"{slug}.localhost")


def _seed_tenant(
    slug,
    default_slug,
    n_products,
    n_sellers,
    n_customers,
    rng,
    ids,
    if_empty,
    chunk_size,
    password,
    password_hash,
    log,
) -> TenantResult:
    tenant = _get_tenant(slug, default_slug)
    tid = tenant.id
    result = TenantResult(
        slug=slug, tenant_id=tid, name=tenant.name, currency=tenant.default_currency
    )
    with unscoped():
        existing = (
            db.session.scalar(
                select(func.count())
                .select_from(Product.__table__)
                .where(Product.__table__.c.tenant_id == tid)
            )
            or 0
        )
    if if_empty and existing:
        log(f"[{slug}] already has {existing} products: nothing to do (--if-empty)")
        result.skipped = True
        return result
    region = _region_of(tenant.default_currency)
    domain = "example.com" if slug == default_slug else f"{slug}.example.com"
    now = _now()
    # plain values: the ORM object expires at every commit
    info = SimpleNamespace(
        id=tid,
        slug=slug,
        name=tenant.name,
        domain=tenant.domain,
        default_currency=tenant.default_currency,
        default_language=tenant.default_language,
    )
    ctx = _TenantCtx(
        tenant=info,
        region=region,
        domain=domain,
        now=now,
        rng=rng,
        ids=ids,
        created=result.created,
        review_rng=random.Random(f"{rng.random()}:reviews"),
    )

    t0 = time.perf_counter()
    _seed_reference(ctx)
    db.session.commit()
    log(f"[{slug}] categories, attributes and brands ready ({time.perf_counter() - t0:.1f}s)")

    with tenant_scope(tid):
        _seed_shipping_and_tax(ctx)
    db.session.commit()

    t0 = time.perf_counter()
    with tenant_scope(tid):
        manager = _ensure_users(
            ctx, [(f"manager@{domain}", "Morgan", "Reyes", [roles.ADMIN])], password, password_hash
        )
        seller_rows = _seed_sellers(ctx, n_sellers, password, password_hash)
        customer_logins = _seed_customers(ctx, n_customers, password, password_hash)
        with unscoped():
            ctx.customer_profile_ids = db.session.scalars(
                select(CustomerProfile.__table__.c.id)
                .where(CustomerProfile.__table__.c.tenant_id == tid)
                .order_by(CustomerProfile.__table__.c.id)
            ).all()
    db.session.commit()
    log(
        f"[{slug}] {n_sellers} sellers, {n_customers} customers ready ({time.perf_counter() - t0:.1f}s)"
    )

    t0 = time.perf_counter()
    made = 0
    for start in range(0, n_products, chunk_size):
        count = min(chunk_size, n_products - start)
        _seed_products(ctx, seller_rows, count)
        db.session.commit()
        made += count
        if made < n_products and n_products >= 5 * chunk_size and (made // chunk_size) % 5 == 0:
            log(f"[{slug}] {made}/{n_products} products ({time.perf_counter() - t0:.1f}s)")
    log(f"[{slug}] {n_products} products written ({time.perf_counter() - t0:.1f}s)")

    login_url = (
        "http://localhost:5000/login/"
        if slug == default_slug
        else f"http://{info.domain or 'localhost'}:5000/login/ (or header X-Tenant: {slug})"
    )
    result.logins.append(
        Login("Admin (tenant)", slug, manager[0], password, f"admin UI {login_url}")
    )
    if seller_rows:
        top = seller_rows[0]
        result.logins.append(
            Login(
                "Seller",
                slug,
                top["email"],
                password,
                f"{top['store_name']} — its own products only; admin UI {login_url}",
            )
        )
    result.logins.extend(customer_logins)
    return result


@dataclass
class _TenantCtx:
    tenant: SimpleNamespace  # id, slug, name, domain, default_currency, default_language
    region: str
    domain: str
    now: dt.datetime
    rng: random.Random
    ids: _Ids
    created: Counter
    leaves: list = field(default_factory=list)  # (category_id, leaf spec, leaf code)
    leaf_weights: list = field(default_factory=list)
    brands: list = field(default_factory=list)  # (id, name)
    attribute_ids: dict = field(default_factory=dict)  # code -> id
    platform_warehouses: list = field(default_factory=list)
    digital_warehouse: int | None = None
    customer_profile_ids: list = field(default_factory=list)
    review_rng: random.Random = field(default_factory=random.Random)


# ---- shipping and tax: so a storefront can check out the demo catalog at once ---------------

# the countries a demo tenant ships to, by its region, with their standard VAT (US: no national
# sales tax; a state rule shows region overrides)
_DEMO_DESTINATIONS = {
    "US": {"areas": "US", "tax": [("US-CA sales tax (demo)", "US", "CA", "0.0725")]},
    "GB": {"areas": "GB", "tax": [("VAT GB (demo)", "GB", None, "0.2000")]},
    "EU": {
        "areas": "DE, FR, NL, ES, IT",
        "tax": [
            ("VAT DE (demo)", "DE", None, "0.1900"),
            ("VAT FR (demo)", "FR", None, "0.2000"),
            ("VAT NL (demo)", "NL", None, "0.2100"),
            ("VAT ES (demo)", "ES", None, "0.2100"),
            ("VAT IT (demo)", "IT", None, "0.2200"),
        ],
    },
}


def _seed_shipping_and_tax(ctx: _TenantCtx) -> None:
    """A domestic zone (Standard, free over 50; Express) and the region's tax rules, once per
    tenant: without them no address is served and a demo checkout answers no_shipping_method."""
    if db.session.scalar(select(func.count()).select_from(ShippingZone)):
        return
    spec = _DEMO_DESTINATIONS[ctx.region]
    zone = ShippingZone(name="Domestic (demo)", areas=spec["areas"])
    db.session.add_all(
        [
            zone,
            ShippingMethod(
                zone=zone,
                name="Standard",
                carrier_code="manual",
                rate_type="flat",
                flat_rate=Decimal("4.99"),
                free_over=Decimal("50.00"),
                min_days=2,
                max_days=5,
                position=0,
            ),
            ShippingMethod(
                zone=zone,
                name="Express",
                carrier_code="manual",
                rate_type="flat",
                flat_rate=Decimal("12.99"),
                min_days=1,
                max_days=2,
                position=1,
            ),
        ]
    )
    ctx.created["shipping_zones"] += 1
    ctx.created["shipping_methods"] += 2
    if not db.session.scalar(select(func.count()).select_from(TaxRule)):
        for name, country, region, rate in spec["tax"]:
            db.session.add(TaxRule(name=name, country=country, region=region, rate=Decimal(rate)))
            ctx.created["tax_rules"] += 1
    db.session.flush()


# ---- reference data: attributes, categories, brands, platform warehouses --------------------


def _seed_reference(ctx: _TenantCtx) -> None:
    tid, now, rng = ctx.tenant.id, ctx.now, ctx.rng
    a, c, ca, b, w = (
        Attribute.__table__,
        Category.__table__,
        category_attributes,
        Brand.__table__,
        Warehouse.__table__,
    )
    with unscoped():
        have_attrs = dict(
            db.session.execute(select(a.c.code, a.c.id).where(a.c.tenant_id == tid)).all()
        )
        have_cats = dict(
            db.session.execute(select(c.c.slug, c.c.id).where(c.c.tenant_id == tid)).all()
        )
        have_brands = dict(
            db.session.execute(select(b.c.slug, b.c.id).where(b.c.tenant_id == tid)).all()
        )
        have_wh = dict(
            db.session.execute(select(w.c.code, w.c.id).where(w.c.tenant_id == tid)).all()
        )
        have_links = set(
            db.session.execute(
                select(ca.c.category_id, ca.c.attribute_id)
                .join(c, c.c.id == ca.c.category_id)
                .where(c.c.tenant_id == tid)
            ).all()
        )

    rows = []
    for code, (name, type_, unit, _values) in ATTRIBUTES.items():
        if code not in have_attrs:
            have_attrs[code] = ids = ctx.ids.take(a)
            rows.append(
                {
                    "id": ids,
                    "tenant_id": tid,
                    "code": code,
                    "name": name,
                    "type": type_,
                    "unit": unit,
                }
            )
    _insert(a, rows, ctx.created)
    ctx.attribute_ids = have_attrs

    cat_rows, link_rows = [], []

    def category(name, slug, parent_id, position, description, attrs=()):
        cid = have_cats.get(slug)
        if cid is None:
            cid = have_cats[slug] = ctx.ids.take(c)
            seo = f"{description} Free delivery over {ctx.tenant.default_currency} 50 and 30-day returns."
            cat_rows.append(
                {
                    "id": cid,
                    "tenant_id": tid,
                    "parent_id": parent_id,
                    "name": name,
                    "slug": slug,
                    "description": description,
                    "position": position,
                    "is_active": True,
                    "seo_title": f"{name} | {ctx.tenant.name}"[:200],
                    "seo_description": seo[:500],
                    "created_at": now,
                    "updated_at": now,
                }
            )
        for code in attrs:
            pair = (cid, have_attrs[code])
            if pair not in have_links:
                have_links.add(pair)
                link_rows.append({"category_id": pair[0], "attribute_id": pair[1]})
        return cid

    def leaf(spec, parent_id, parent_slug, position):
        slug = f"{parent_slug}-{_slug(spec['name'])}"
        attrs = tuple(code for code in spec["attrs"] if code in ATTRIBUTES)
        description = f"Shop {spec['name'].lower()}: {', '.join(n.lower() for n in spec['nouns'][:3])} and more."
        cid = category(spec["name"], slug, parent_id, position, description, attrs)
        ctx.leaves.append((cid, spec, _code(spec["name"])))
        ctx.leaf_weights.append(spec["share"])
        return attrs

    for top_pos, (top_name, top_desc, children) in enumerate(CATALOG):
        top_slug = _slug(top_name)
        top_id = category(top_name, top_slug, None, top_pos, top_desc)
        top_attrs: list[str] = []
        for pos, child in enumerate(children):
            if isinstance(child, dict):
                top_attrs += leaf(child, top_id, top_slug, pos)
                continue
            sub_name, sub_desc, leaves = child
            sub_slug = _slug(sub_name)
            sub_id = category(sub_name, sub_slug, top_id, pos, sub_desc)
            sub_attrs: list[str] = []
            for leaf_pos, spec in enumerate(leaves):
                sub_attrs += leaf(spec, sub_id, sub_slug, leaf_pos)
            category(sub_name, sub_slug, top_id, pos, sub_desc, tuple(dict.fromkeys(sub_attrs)))
            top_attrs += sub_attrs
        # a parent offers the filters its children share most
        common = [code for code, n in Counter(top_attrs).most_common(4)]
        category(top_name, top_slug, None, top_pos, top_desc, tuple(common))
    _insert(c, cat_rows, ctx.created)
    _insert(ca, link_rows, ctx.created)

    rows = []
    for name in BRANDS:
        slug = slugify(name)
        if slug not in have_brands:
            have_brands[slug] = bid = ctx.ids.take(b)
            rows.append(
                {
                    "id": bid,
                    "tenant_id": tid,
                    "name": name,
                    "slug": slug,
                    "description": rng.choice(BRAND_BLURBS),
                    "logo_url": f"https://picsum.photos/seed/brand-{slug}/200/200",
                    "is_active": True,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        ctx.brands.append((have_brands[slug], name))
    _insert(b, rows, ctx.created)

    rows = []
    for code, name, city, country in PLATFORM_WAREHOUSES[ctx.region]:
        if code not in have_wh:
            have_wh[code] = ids = ctx.ids.take(w)
            rows.append(_warehouse_row(ids, tid, None, code, name, city, country, now))
        ctx.platform_warehouses.append(have_wh[code])
    code, name = DIGITAL_WAREHOUSE
    if code not in have_wh:
        have_wh[code] = ids = ctx.ids.take(w)
        rows.append(
            _warehouse_row(
                ids, tid, None, code, name, None, PLATFORM_WAREHOUSES[ctx.region][0][3], now
            )
        )
    ctx.digital_warehouse = have_wh[code]
    _insert(w, rows, ctx.created)


def _warehouse_row(wid, tid, seller_id, code, name, city, country, now) -> dict:
    return {
        "id": wid,
        "tenant_id": tid,
        "seller_id": seller_id,
        "code": code,
        "name": name[:120],
        "city": city,
        "country": country,
        "is_active": True,
        "created_at": now,
        "updated_at": now,
    }


# ---- people ----------------------------------------------------------------------------------


def _existing_users(tid: int) -> dict[str, int]:
    u = User.__table__
    with unscoped():
        return {
            email.lower(): uid
            for email, uid in db.session.execute(
                select(u.c.email, u.c.id).where(u.c.tenant_id == tid)
            ).all()
        }


def _ensure_users(
    ctx: _TenantCtx,
    people: list[tuple[str, str, str, list[str]]],
    password: str,
    password_hash: str,
) -> list[str]:
    """Create the users that do not exist yet (through create_user, one shared hash); returns the
    e-mails in order. Runs inside tenant_scope(tenant)."""
    existing = _existing_users(ctx.tenant.id)
    created = 0
    with db.session.no_autoflush:
        for email, first, last, role_names in people:
            if email.lower() in existing:
                continue
            create_user(
                tenant_id=ctx.tenant.id,
                email=email,
                password=password,
                first_name=first,
                last_name=last,
                role_names=role_names,
                password_hash=password_hash,
                check_password=False,
            )
            created += 1
    db.session.flush()
    ctx.created["ab_user"] += created
    return [p[0] for p in people]


def _seed_sellers(ctx: _TenantCtx, n: int, password: str, password_hash: str) -> list[dict]:
    """Seller users, their profiles and warehouses; returns the approved sellers that get products,
    each {id, email, store_name, warehouse_id, weight}, the biggest first."""
    rng, tid, now = ctx.rng, ctx.tenant.id, ctx.now
    people = []
    for i in range(1, n + 1):
        people.append(
            (
                f"seller{i}@{ctx.domain}",
                rng.choice(FIRST_NAMES),
                rng.choice(LAST_NAMES),
                [roles.SELLER],
            )
        )
    emails = _ensure_users(ctx, people, password, password_hash)
    users = _existing_users(tid)
    s, w = SellerProfile.__table__, Warehouse.__table__
    with unscoped():
        profiles = {
            row.user_id: row
            for row in db.session.execute(
                select(s.c.id, s.c.user_id, s.c.store_name, s.c.slug, s.c.status).where(
                    s.c.tenant_id == tid
                )
            ).all()
        }
        warehouses = dict(
            db.session.execute(
                select(w.c.seller_id, w.c.id).where(w.c.tenant_id == tid, w.c.seller_id.isnot(None))
            ).all()
        )
        used_slugs = {row.slug for row in profiles.values()}
    names = [f"{x} {y}" for x in STORE_A for y in STORE_B]
    rng.shuffle(names)
    seller_rows, wh_rows, result = [], [], []
    locations = LOCATIONS[ctx.region]
    for i, email in enumerate(emails, start=1):
        user_id = users[email.lower()]
        store_name = names[(i - 1) % len(names)] + (
            "" if i <= len(names) else f" {i // len(names) + 1}"
        )
        status = (
            "approved"
            if i <= 3
            else rng.choices(("approved", "pending", "suspended"), (85, 10, 5))[0]
        )
        commission = (Decimal(rng.randint(10, 40)) * Decimal("0.0050")).quantize(
            Decimal("0.0001")
        )  # 5 %-20 %
        city, region_name, _postal, country = rng.choice(locations)
        profile = profiles.get(user_id)
        if profile is None:
            sid = ctx.ids.take(s)
            slug = slugify(store_name)
            if slug in used_slugs:
                slug = f"{slug}-{i}"
            used_slugs.add(slug)
            created_at = now - dt.timedelta(days=rng.randint(400, 900))
            seller_rows.append(
                {
                    "id": sid,
                    "tenant_id": tid,
                    "user_id": user_id,
                    "store_name": store_name,
                    "slug": slug,
                    "description": f"{store_name} is an independent shop based in {city}. {rng.choice(BENEFITS)}",
                    "contact_email": email,
                    "status": status,
                    "commission_rate": commission,
                    "created_at": created_at,
                    "updated_at": created_at,
                }
            )
        else:
            sid, store_name, status = profile.id, profile.store_name, profile.status
        wid = warehouses.get(sid)
        if wid is None:
            wid = warehouses[sid] = ctx.ids.take(w)
            wh_rows.append(
                _warehouse_row(
                    wid, tid, sid, f"S{sid:06d}", f"{store_name} warehouse", city, country, now
                )
            )
        if status == "approved":
            result.append(
                {
                    "id": sid,
                    "email": email,
                    "store_name": store_name,
                    "warehouse_id": wid,
                    "weight": 1.0 / (len(result) + 1) ** 0.8,
                }
            )  # a few big sellers, a long tail
    _insert(s, seller_rows, ctx.created)
    _insert(w, wh_rows, ctx.created)
    return result


def _seed_customers(ctx: _TenantCtx, n: int, password: str, password_hash: str) -> list[Login]:
    rng, tid, now = ctx.rng, ctx.tenant.id, ctx.now
    people, premium = [], set()
    for i in range(1, n + 1):
        is_premium = i == 2 or (i > 2 and rng.random() < 0.15)
        role_names = [roles.CUSTOMER, roles.PREMIUM_CUSTOMER] if is_premium else [roles.CUSTOMER]
        email = f"customer{i}@{ctx.domain}"
        if is_premium:
            premium.add(email)
        people.append((email, rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES), role_names))
    for start in range(0, len(people), 500):
        _ensure_users(ctx, people[start : start + 500], password, password_hash)
    users = _existing_users(tid)
    cp, ad = CustomerProfile.__table__, Address.__table__
    with unscoped():
        have = set(db.session.scalars(select(cp.c.user_id).where(cp.c.tenant_id == tid)).all())
    profile_rows, address_rows = [], []
    locations = LOCATIONS[ctx.region]
    for email, first, last, _roles in people:
        user_id = users[email.lower()]
        if user_id in have:
            continue
        pid = ctx.ids.take(cp)
        home = rng.choice(locations)
        created_at = now - dt.timedelta(days=rng.randint(1, 700), minutes=rng.randint(0, 1440))
        profile_rows.append(
            {
                "id": pid,
                "tenant_id": tid,
                "user_id": user_id,
                "phone": _phone(rng, home[3]),
                "date_of_birth": dt.date(
                    rng.randint(1950, 2005), rng.randint(1, 12), rng.randint(1, 28)
                ),
                "preferred_language": ctx.tenant.default_language,
                "preferred_currency": ctx.tenant.default_currency,
                "marketing_opt_in": rng.random() < 0.4,
                "loyalty_points": rng.randint(500, 5000)
                if email in premium
                else rng.randint(0, 800),
                "created_at": created_at,
                "updated_at": created_at,
            }
        )
        places = [("Home", home, None)]
        if rng.random() < 0.4:
            places.append(("Work", rng.choice(locations), rng.choice(COMPANIES)))
        for k, (label, (city, region_name, postal, country), company) in enumerate(places):
            address_rows.append(
                {
                    "id": ctx.ids.take(ad),
                    "tenant_id": tid,
                    "customer_id": pid,
                    "label": label,
                    "full_name": f"{first} {last}",
                    "company": company,
                    "line1": f"{rng.randint(1, 999)} {rng.choice(STREETS)}",
                    "line2": f"Apt {rng.randint(1, 40)}{rng.choice('ABCD')}"
                    if rng.random() < 0.2
                    else None,
                    "city": city,
                    "region": region_name,
                    "postal_code": _pattern(rng, postal),
                    "country": country,
                    "phone": _phone(rng, country),
                    "is_default": k == 0,
                    "created_at": created_at,
                    "updated_at": created_at,
                }
            )
    _insert(cp, profile_rows, ctx.created)
    _insert(ad, address_rows, ctx.created)
    logins = []
    if people:
        logins.append(
            Login(
                "Customer",
                ctx.tenant.slug,
                people[0][0],
                password,
                "storefront API only (no admin UI)",
            )
        )
    if len(people) > 1:
        logins.append(
            Login(
                "Premium Customer",
                ctx.tenant.slug,
                people[1][0],
                password,
                "storefront API only (no admin UI)",
            )
        )
    return logins


# ---- products --------------------------------------------------------------------------------


def _pick_combos(rng: random.Random, axes, n: int) -> list[dict]:
    if not axes:
        return [{}]
    first_name, first_values = axes[0]
    others = list(axes[1:])
    spread_second = others and n >= 2 and rng.random() < 0.3
    k_first = min(len(first_values), -(-n // 2) if spread_second else n)
    start = rng.randint(0, len(first_values) - k_first)
    chosen = [(first_name, first_values[start : start + k_first])]
    for j, (name, values) in enumerate(others):
        chosen.append(
            (name, rng.sample(values, 2 if (spread_second and j == 0 and len(values) > 1) else 1))
        )
    names = [name for name, _ in chosen]
    combos = [
        dict(zip(names, values, strict=True))
        for values in itertools.product(*[v for _, v in chosen])
    ]
    return combos[:n]


def _seed_products(ctx: _TenantCtx, sellers: list[dict], count: int) -> None:
    if not sellers:
        raise RuntimeError("no approved seller to own the products")
    rng, tid, now, ids = ctx.rng, ctx.tenant.id, ctx.now, ctx.ids
    currency = ctx.tenant.default_currency
    p_t, v_t, i_t, pav_t = (
        Product.__table__,
        ProductVariant.__table__,
        ProductImage.__table__,
        ProductAttributeValue.__table__,
    )
    sl_t, sm_t, la_t = StockLevel.__table__, StockMovement.__table__, LowStockAlert.__table__
    products, variants, images, values, stocks, moves, alerts = [], [], [], [], [], [], []
    reviews: list[dict] = []
    seller_weights = [s["weight"] for s in sellers]
    leaf_cum = list(itertools.accumulate(ctx.leaf_weights))
    seller_cum = list(itertools.accumulate(seller_weights))
    two_years = 730 * 86400

    for _ in range(count):
        category_id, leaf, leaf_code = rng.choices(ctx.leaves, cum_weights=leaf_cum)[0]
        seller = rng.choices(sellers, cum_weights=seller_cum)[0]
        pid = ids.take(p_t)
        brand = rng.choice(ctx.brands) if rng.random() < 0.9 else None
        title = (
            f"{rng.choice(ADJECTIVES)} {rng.choice(leaf['features'])} {rng.choice(leaf['nouns'])}"
        )
        if brand and rng.random() < 0.5:
            title = f"{brand[1]} {title}"
        status = rng.choices(("active", "draft", "archived"), (85, 10, 5))[0]
        digital = leaf["digital"]
        created = now - dt.timedelta(seconds=rng.randint(3600, two_years))
        updated = min(now, created + dt.timedelta(seconds=rng.randint(0, 90 * 86400)))
        published = (
            min(now, created + dt.timedelta(hours=rng.randint(1, 72)))
            if status != "draft"
            else None
        )
        rated = status != "draft" and rng.random() < 0.7
        popularity = min(5000, int(rng.paretovariate(1.2) * 2)) if rated else 0
        quality = min(5.0, max(1.0, rng.gauss(4.3, 0.45))) if rated else 0.0
        sold = popularity * rng.randint(4, 20) + rng.randint(0, 25) if status != "draft" else 0
        # its reviews, and the rating they give (approved ones count, as the reviews service's)
        stars = (
            _catalogue_reviews(ctx, reviews, pid, popularity, quality, published) if rated else []
        )
        rating_count = len(stars)
        rating_avg = (
            (Decimal(sum(stars)) / rating_count).quantize(Decimal("0.01"), ROUND_HALF_UP)
            if stars
            else Decimal("0.00")
        )
        brand_name = brand[1] if brand else "our independent makers"
        description = (
            f"{title} by {brand_name}. {rng.choice(BENEFITS)} "
            f"{rng.choice(BENEFITS)} {rng.choice(DETAILS)}"
        )
        products.append(
            {
                "id": pid,
                "tenant_id": tid,
                "seller_id": seller["id"],
                "category_id": category_id,
                "brand_id": brand[0] if brand else None,
                "title": title[:255],
                "slug": f"{slugify(title)}-{pid}",
                "description": description,
                "status": status,
                "product_type": "digital" if digital else "physical",
                "is_featured": status == "active" and rng.random() < 0.03,
                "rating_avg": rating_avg,
                "rating_count": rating_count,
                "sold_count": sold,
                "published_at": published,
                "created_at": created,
                "updated_at": updated,
            }
        )

        n_variants = rng.choices((1, 2, 3, 4), (30, 25, 25, 20))[0] if leaf["axes"] else 1
        combos = _pick_combos(rng, leaf["axes"], n_variants)
        lo, hi = leaf["price"]
        base = rng.uniform(lo, hi)
        markdown = rng.uniform(1.1, 1.5) if rng.random() < 0.25 else None
        priced_axis = (
            leaf["axes"][0][0] if leaf["axes"] and leaf["axes"][0][0] in PRICED_AXES else None
        )
        fulfilment = (
            "digital" if digital else rng.choices(("seller", "platform", "both"), (65, 25, 10))[0]
        )
        platform_wh = rng.choice(ctx.platform_warehouses)
        base_weight = 0.0 if digital else rng.uniform(*leaf["weight"])
        first_sku = None
        first_variant = len(variants)
        for position, options in enumerate(combos):
            vid = ids.take(v_t)
            sku = f"{leaf_code}-{pid:07d}-{position + 1}"
            first_sku = first_sku or sku
            step = leaf["axes"][0][1].index(options[priced_axis]) if priced_axis else 0
            price = _money(base * (1 + 0.2 * step))
            compare_at = _money(float(price) * markdown) if markdown else None
            if compare_at is not None and compare_at <= price:
                compare_at = price + Decimal("10.00")
            weight = None if digital else Decimal(f"{base_weight * rng.uniform(0.95, 1.05):.3f}")
            variants.append(
                {
                    "id": vid,
                    "tenant_id": tid,
                    "product_id": pid,
                    "seller_id": seller["id"],
                    "sku": sku,
                    "title": " / ".join(options.values()) or None,
                    "price": price,
                    "compare_at_price": compare_at,
                    "currency": currency,
                    "weight_kg": weight,
                    "options": options,
                    "is_active": status != "archived",
                    "position": position,
                    "created_at": created,
                    "updated_at": updated,
                }
            )
            if fulfilment == "digital":
                places = [ctx.digital_warehouse]
            elif fulfilment == "seller":
                places = [seller["warehouse_id"]]
            elif fulfilment == "platform":
                places = [platform_wh]
            else:
                places = [seller["warehouse_id"], platform_wh]
            for wh in places:
                sid = ids.take(sl_t)
                if digital:
                    reorder, on_hand = 50, rng.randint(500, 5000)
                else:
                    # a shop restocks before it runs out: a few rows in a thousand are out of
                    # stock or at their reorder point (the biggest seller sees a handful of
                    # alerts, not hundreds), the rest hold weeks of sales above it
                    reorder = rng.choice((5, 5, 10, 10, 15, 20))
                    r = rng.random()
                    on_hand = (
                        0
                        if r < OUT_OF_STOCK
                        else rng.randint(1, reorder)
                        if r < OUT_OF_STOCK + AT_REORDER_POINT
                        else rng.randint(reorder * 3, 250)
                    )
                stocks.append(
                    {
                        "id": sid,
                        "tenant_id": tid,
                        "variant_id": vid,
                        "seller_id": seller["id"],
                        "warehouse_id": wh,
                        "quantity_on_hand": on_hand,
                        "quantity_reserved": 0,
                        "reorder_point": reorder,
                        "created_at": created,
                        "updated_at": updated,
                    }
                )
                if on_hand:
                    moves.append(
                        {
                            "id": ids.take(sm_t),
                            "tenant_id": tid,
                            "stock_level_id": sid,
                            "seller_id": seller["id"],
                            "reason": "receipt",
                            "delta_on_hand": on_hand,
                            "delta_reserved": 0,
                            "on_hand_after": on_hand,
                            "reserved_after": 0,
                            "reference": "demo-seed",
                            "note": "Initial stock (demo data)",
                            "actor_id": None,
                            "created_at": created,
                        }
                    )
                if on_hand <= reorder and status == "active":
                    alerts.append(
                        {
                            "id": ids.take(la_t),
                            "tenant_id": tid,
                            "stock_level_id": sid,
                            "seller_id": seller["id"],
                            "available": on_hand,
                            "reorder_point": reorder,
                            "source_event_id": None,
                            "resolved_at": None,
                            "created_at": updated,
                        }
                    )
        # Core inserts skip the ORM hook that keeps products.min_price (app/catalog/min_price.py)
        active_prices = [v["price"] for v in variants[first_variant:] if v["is_active"]]
        products[-1]["min_price"] = min(active_prices) if active_prices else None
        for n in range(rng.choices((1, 2, 3), (40, 35, 25))[0]):
            image_seed = first_sku if n == 0 else f"{first_sku}-{n + 1}"
            images.append(
                {
                    "id": ids.take(i_t),
                    "tenant_id": tid,
                    "product_id": pid,
                    "variant_id": None,
                    "url": f"https://picsum.photos/seed/{image_seed}/600/600",
                    "alt_text": f"{title} — view {n + 1}"[:255],
                    "position": n,
                    "created_at": created,
                    "updated_at": created,
                }
            )
        for code in leaf["attrs"]:
            attribute_id = ctx.attribute_ids.get(code)
            if attribute_id is None:
                continue
            if any(code in combo for combo in combos):
                value = ", ".join(dict.fromkeys(combo[code] for combo in combos if code in combo))
            else:
                value = rng.choice(leaf["values"].get(code) or ATTRIBUTES[code][3])
            values.append(
                {
                    "id": ids.take(pav_t),
                    "tenant_id": tid,
                    "product_id": pid,
                    "attribute_id": attribute_id,
                    "value": value[:255],
                }
            )

    created = ctx.created
    _insert(p_t, products, created)
    _insert(v_t, variants, created)
    _insert(i_t, images, created)
    _insert(pav_t, values, created)
    _insert(sl_t, stocks, created)
    _insert(sm_t, moves, created)
    _insert(la_t, alerts, created)
    _insert(Review.__table__, reviews, created)


def _catalogue_reviews(ctx, rows, product_id, popularity, quality, published) -> list[int]:
    """Reviews of a product by the tenant's customers (one each, none verified: they bought
    before the shop's order history), spread since it was published, around its quality; a few
    wait for moderation or were hidden. Appends the rows; returns the stars of the approved."""
    rng, authors = ctx.review_rng, ctx.customer_profile_ids
    if not authors or published is None:
        return []
    stars = []
    span = (ctx.now - published).total_seconds()
    for customer_id in rng.sample(authors, min(len(authors), MAX_REVIEWS, -(-popularity // 3))):
        rating = max(1, min(5, round(rng.gauss(quality, 0.9))))
        status = rng.choices(("approved", "pending", "hidden"), (95, 4, 1))[0]
        title, body = rng.choice(REVIEW_TEXT[rating])
        at = published + dt.timedelta(seconds=int(span * rng.random()))
        rows.append(
            {
                "id": ctx.ids.take(Review.__table__),
                "tenant_id": ctx.tenant.id,
                "product_id": product_id,
                "customer_id": customer_id,
                "rating": rating,
                "title": title,
                "body": body,
                "status": status,
                "verified_purchase": False,
                "helpful_count": 0,
                "created_at": at,
                "updated_at": at,
            }
        )
        if status == "approved":
            stars.append(rating)
    return stars
