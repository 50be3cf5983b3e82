"""Pricing of a basket: promotions, tax and shipping turned into per-line and per-seller figures.

`app.pricing_contract` is the boundary between the basket owners (cart, checkout: they build a
`PricingRequest`) and the pricing domains (promotions, tax, shipping: `engine.price()` answers with a
`PricingResult`). Neither side imports the other's models; the contract sits below all of them.
"""
