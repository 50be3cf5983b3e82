"""Purchasing: suppliers and purchase orders; receiving a purchase order adds stock through the
inventory ledger (app.inventory.services.move_stock, reason "receipt")."""
