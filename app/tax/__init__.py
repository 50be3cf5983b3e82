"""Tax: rules by destination (country, optional region) with category overrides, and the tenant's
prices-include-tax setting. The arithmetic lives in `app.tax.calc` and is used by `app.pricing.engine`."""
