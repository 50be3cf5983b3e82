"""Analytics: the read side of the platform. Daily aggregates kept current by event consumers,
metrics queries over them, scikit-learn models trained by jobs (analytics.ml, analytics.training,
analytics.registry), and later Superset's dashboards as code and guest tokens.

It calls into app/ and never into a face; the faces call it (storefront_api's /api/v1/analytics/,
the admin's analytics pages, the jobs that train and rebuild). See pyproject's import contracts.
"""
