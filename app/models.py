"""Imports every model module so that SQLAlchemy's metadata (and Alembic) sees them all."""

from app.cart.models import Cart, CartItem  # noqa: F401
from app.catalog.models import (  # noqa: F401
    Attribute,
    Brand,
    Category,
    Product,
    ProductAttributeValue,
    ProductImage,
    ProductVariant,
)
from app.chat.models import ChatMessage, ChatParticipant, Conversation  # noqa: F401
from app.commissions.models import CommissionRule  # noqa: F401
from app.customers.engagement_models import CustomerActivity, WishlistItem  # noqa: F401
from app.customers.models import Address, CustomerProfile  # noqa: F401
from app.dataio.models import (  # noqa: F401
    DataExport,
    DataImport,
    DataImportError,
)
from app.events.idempotency import IdempotencyKey  # noqa: F401
from app.events.models import OutboxEvent, ProcessedEvent  # noqa: F401
from app.inbox.models import (  # noqa: F401
    Notification,
    NotificationDefault,
    NotificationDelivery,
    NotificationPreference,
    NotificationReceipt,
    RecordedMessage,
)
from app.inventory.models import LowStockAlert, StockLevel, StockMovement, Warehouse  # noqa: F401
from app.notifications.models import MailTemplate  # noqa: F401
from app.orders.models import (  # noqa: F401
    Order,
    OrderEvent,
    OrderLine,
    RefundRequest,
    RefundRequestLine,
    StockReservation,
    SubOrder,
)
from app.payments.models import (  # noqa: F401
    Payment,
    PaymentMethodSetting,
    PaymentTransaction,
    ProcessedWebhook,
    Refund,
)
from app.payouts.models import (  # noqa: F401
    Payout,
    PayoutItem,
    PayoutSettings,
    PayoutSkip,
    SellerLedgerEntry,
    SellerLedgerRelease,
)
from app.promotions.models import Promotion, PromotionCustomerUsage, PromotionRedemption  # noqa: F401
from app.purchasing.models import (  # noqa: F401
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseReceipt,
    Supplier,
)
from app.reviews.models import Review, ReviewVote  # noqa: F401
from app.search.models import SearchClick, SearchQueryLog  # noqa: F401
from app.security.models import AuditLog, User  # noqa: F401
from app.security.session_models import AuthSession, OneTimeToken  # noqa: F401
from app.sellers.banking.models import SellerBankAccount  # noqa: F401
from app.sellers.models import (  # noqa: F401
    KycDocument,
    KycRequirement,
    KycReview,
    SellerProfile,  # noqa: F401
)
from app.shipments.models import Shipment, TrackingEvent  # noqa: F401
from app.shipping.models import ShippingMethod, ShippingRateBracket, ShippingZone  # noqa: F401
from app.tax.models import TaxRule, TaxSettings  # noqa: F401
from app.tenants.models import Tenant, TenantScoped  # noqa: F401

# Every tenant-owned model; the tenancy tests walk this list.
TENANT_OWNED = (
    Attribute,
    Brand,
    Category,
    Product,
    ProductAttributeValue,
    ProductImage,
    ProductVariant,
    Address,
    CustomerProfile,
    LowStockAlert,
    StockLevel,
    StockMovement,
    Warehouse,
    SellerProfile,
    WishlistItem,
    CustomerActivity,
    Review,
    ReviewVote,
    TaxRule,
    TaxSettings,
    ShippingZone,
    ShippingMethod,
    ShippingRateBracket,
    Promotion,
    PromotionRedemption,
    PromotionCustomerUsage,
    Payment,
    PaymentTransaction,
    Refund,
    ProcessedWebhook,
    IdempotencyKey,
    PaymentMethodSetting,
    Cart,
    CartItem,
    Order,
    SubOrder,
    OrderLine,
    StockReservation,
    OrderEvent,
    RefundRequest,
    RefundRequestLine,
    Shipment,
    TrackingEvent,
    SearchQueryLog,
    SearchClick,
    SellerLedgerEntry,
    SellerLedgerRelease,
    PayoutSettings,
    Payout,
    PayoutItem,
    PayoutSkip,
    SellerBankAccount,
    CommissionRule,
    KycRequirement,
    KycDocument,
    KycReview,
    Conversation,
    ChatParticipant,
    ChatMessage,
    Notification,
    NotificationReceipt,
    NotificationDelivery,
    NotificationPreference,
    NotificationDefault,
    RecordedMessage,
    Supplier,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseReceipt,
)
