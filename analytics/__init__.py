"""Analytics: metrics queries, scikit-learn models, Superset dashboards as code and guest tokens.

Arrives with the analytics issues; it calls into app/ and is wired by create_app() then.
"""
