"""Carts: a customer's persistent cart, or a guest's, found by an opaque token."""
