"""Live chat between a customer and a seller about a product or an order."""
