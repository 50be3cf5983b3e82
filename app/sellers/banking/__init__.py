"""A seller's bank accounts: where its payouts go (models, numbers, services).

The number is kept encrypted (app.core.crypto's Fernet), with its last 4 characters for display
and a keyed hash (HMAC-SHA256) to find a duplicate without decrypting; it is never returned,
logged or audited in clear. Staff verify or reject an account; a payout provider (a later issue)
asks `services.default_account(seller_id, currency)` for the verified default.
"""
