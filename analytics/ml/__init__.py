"""The scikit-learn models, one module per kind; importing this package registers every trainer
(analytics.training). Each module: its prediction table(s) (keyed by model_version_id, registered
with analytics.registry.register_predictions), its trainer (@register_trainer), and the read
functions the API serves from the active version's predictions."""

# segments, churn and lifetime value (customers); demand; the sales forecast; recommendations
from analytics.ml import customers, demand, forecast, recommendations  # noqa: E402, F401
