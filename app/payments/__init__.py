"""Payments: gateways (manual, test, Stripe), payments, refunds, webhooks."""
