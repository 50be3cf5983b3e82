"""What the marketplace owes its sellers: the append-only seller ledger (entries written by
consumers of orders' and payments' events, balances derived from them), the per-tenant payout
settings and the sellers' statements. Payout batches join this package later."""
