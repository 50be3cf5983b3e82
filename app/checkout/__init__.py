"""Checkout: turns a cart into orders, reserving stock without ever overselling."""
