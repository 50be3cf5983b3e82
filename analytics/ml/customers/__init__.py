"""Customer models (issue 16, item 4): segments, churn and lifetime value, from one set of customer
features (features.py); their prediction tables (models.py), trainers (trainers.py, registered
on import) and what the Customer Analytics API reads (read.py)."""

from analytics.ml.customers import trainers  # noqa: F401  (registers the three trainers)
