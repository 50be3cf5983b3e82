"""Analytics > Models: the shop's trained model versions (analytics.registry), newest first, with
what each was trained on and how it did against its naive baseline, and two actions (POST, CSRF):
"Train now" (the training job for this shop, queued on `low`; in the embedded default it runs at
once) and "Roll back" a kind to its previous version. Admin only (a Seller's role has no permission
on this view: customers and models are the platform's)."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_appbuilder import AppBuilder, BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name

from analytics import registry
from app.core.errors import NotFound
from app.core.tenancy import current_tenant_id
from app.events.bus import get_bus
from app.extensions import db

KIND_TITLES = {
    registry.SEGMENTS: "Customer segments",
    registry.CHURN: "Churn risk",
    registry.LIFETIME_VALUE: "Lifetime value",
    registry.SALES_FORECAST: "Sales forecast",
    registry.DEMAND: "Demand",
    registry.RECOMMENDATIONS: "Recommendations",
}
# the headline figures shown against the baseline's, per kind (others are in the details)
HEADLINES = ("silhouette", "chosen_k", "roc_auc", "brier", "mae", "mape", "rmse", "hit_rate")
# which way is better, said next to the figure (staff should not have to know each metric)
BETTER = {"silhouette": "higher", "roc_auc": "higher", "hit_rate": "higher"} | dict.fromkeys(
    ("brier", "mae", "mape", "rmse"), "lower"
)


def comparison(version: registry.ModelVersion) -> list[tuple[str, object, object, str | None]]:
    """(metric, model's value, baseline's value or None, "higher"/"lower" is better or None) for
    the scalar metrics, headline first."""
    scalars = {k: v for k, v in (version.metrics or {}).items() if isinstance(v, int | float | str)}
    names = [k for k in HEADLINES if k in scalars] + [k for k in scalars if k not in HEADLINES]
    return [(k, scalars[k], (version.baseline or {}).get(k), BETTER.get(k)) for k in names]


class ModelsView(BaseView):
    route_base = "/admin/models"
    default_view = "list"
    base_permissions = ["can_list", "can_train", "can_rollback"]

    @expose("/")
    @has_access
    @permission_name("list")
    def list(self):
        versions = registry.history(limit=100) if current_tenant_id() else []
        rollback_kinds = {v.kind for v in versions if v.status == registry.PREVIOUS}
        return self.render_template(
            "admin/models/list.html",
            title="Models",
            versions=versions,
            titles=KIND_TITLES,
            comparison=comparison,
            rollback_kinds=sorted(rollback_kinds),
        )

    @expose("/train", methods=["POST"])
    @has_access
    @permission_name("train")
    def train(self):
        tenant_id = current_tenant_id()
        if tenant_id is None:
            flash("Open a storefront first: models are trained per shop.", "warning")
        else:
            get_bus().runner.enqueue("jobs.tasks.train_models", None, tenant_id, queue="low")
            flash(
                "Training started for every model of this shop: new versions appear below "
                "when they are ready (reload the page).",
                "success",
            )
        return redirect(url_for(f"{self.endpoint}.list"))

    @expose("/rollback/<kind>", methods=["POST"])
    @has_access
    @permission_name("rollback")
    def rollback(self, kind):
        try:
            version = registry.rollback(kind)
            db.session.commit()
        except NotFound as exc:
            db.session.rollback()
            flash(exc.message, "warning")
        else:
            flash(
                f"{KIND_TITLES.get(kind, kind)}: version {version.version} is served again.",
                "success",
            )
        return redirect(url_for(f"{self.endpoint}.list"))


def register(appbuilder: AppBuilder) -> None:
    appbuilder.add_view(
        ModelsView, "Models", icon="fa-flask", category="Analytics", category_icon="fa-bar-chart"
    )
