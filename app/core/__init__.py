"""Shared building blocks for every domain: column types, errors, transactions, crypto."""
