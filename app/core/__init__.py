"""Shared building blocks for every domain: column types, errors, transactions, crypto, the
current tenant (tenancy.py), the response cache and health-check primitives. Core imports no
domain."""
