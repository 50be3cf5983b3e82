"""Shipping: zones, methods with flat / weight-based / price-based rates, quotes per seller, and
the carrier adapters (`app.shipping.carriers`) that make labels and tracking timelines."""
