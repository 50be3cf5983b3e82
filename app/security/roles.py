"""Role names and which ones are staff (may use the admin UI)."""

GUEST = "Guest"
CUSTOMER = "Customer"
PREMIUM_CUSTOMER = "Premium Customer"
SELLER = "Seller"
ADMIN = "Admin"
SUPER_ADMIN = "Super Admin"

ALL_ROLES = (GUEST, CUSTOMER, PREMIUM_CUSTOMER, SELLER, ADMIN, SUPER_ADMIN)
STAFF_ROLES = frozenset({SELLER, ADMIN, SUPER_ADMIN})
CUSTOMER_ROLES = frozenset({CUSTOMER, PREMIUM_CUSTOMER})
