"""Build the dashboards bundle (analytics/superset/bundle/) once, through Superset's REST API, and
export it: the database, one dataset per BI view used, the charts and the six dashboards
(Sales, Products, Customers and segments, Sellers, Inventory, Search).

Run against a Superset started by scripts/superset.sh whose metadata database is EMPTY of these
objects, with a database holding the bi_* views (migration 0038) and a read-only user:

    python analytics/superset/build_bundle.py --superset http://127.0.0.1:8088 \
        --user admin --password ... \
        --bi-uri 'mysql+mysqldb://shop_bi:PW@127.0.0.1:3306/shop?charset=utf8mb4'

It replaces analytics/superset/bundle/ with the export (YAML; the password is masked by Superset).
`flask bi import-dashboards` imports that bundle by uuid on every setup. To add a chart or a
dashboard: add it to DASHBOARDS below and rebuild, or build it in Superset's UI and export it into
the bundle (README, "Adding a dashboard").
"""

from __future__ import annotations

import argparse
import io
import json
import re
import shutil
import sys
import zipfile
from pathlib import Path

import requests

BUNDLE = Path(__file__).resolve().parent / "bundle"
DATABASE_NAME = "Marketplace BI"
NO_FILTER = "No filter"
PLACEHOLDER_URI = "mysql+mysqldb://shop_bi:XXXXXXXXXX@mysql:3306/shop?charset=utf8mb4"


def _sum(column: str, label: str) -> dict:
    return {
        "expressionType": "SIMPLE",
        "column": {"column_name": column},
        "aggregate": "SUM",
        "label": label,
    }


def _count_distinct(column: str, label: str) -> dict:
    return {
        "expressionType": "SIMPLE",
        "column": {"column_name": column},
        "aggregate": "COUNT_DISTINCT",
        "label": label,
    }


COUNT = {"expressionType": "SQL", "sqlExpression": "COUNT(*)", "label": "Rows"}


def big_number(name, view, metric):
    return (name, view, "big_number_total", {"metric": metric, "subheader": ""})


def timeseries(name, view, metrics, kind="echarts_timeseries_bar"):
    return (
        name,
        view,
        kind,
        {
            "x_axis": "day",
            "time_grain_sqla": "P1D",
            "metrics": metrics,
            "groupby": [],
            "row_limit": 10000,
            "show_legend": True,
        },
    )


def table(name, view, groupby, metrics, order_by=None):
    return (
        name,
        view,
        "table",
        {
            "query_mode": "aggregate",
            "groupby": groupby,
            "metrics": metrics,
            "timeseries_limit_metric": order_by or metrics[0],
            "order_desc": True,
            "row_limit": 50,
            "server_pagination": False,
        },
    )


def pie(name, view, groupby, metric):
    return (
        name,
        view,
        "pie",
        {"groupby": groupby, "metric": metric, "row_limit": 20, "show_legend": True},
    )


GROSS = _sum("gross", "Gross")
DASHBOARDS = {
    "sales": (
        "Sales",
        [
            big_number("Gross sales", "bi_sales_daily", GROSS),
            big_number("Orders", "bi_sales_daily", _sum("orders", "Orders")),
            timeseries("Gross and net by day", "bi_sales_daily", [GROSS, _sum("net", "Net")]),
            table(
                "Sales by store",
                "bi_sales_daily",
                ["store_name", "currency"],
                [GROSS, _sum("net", "Net"), _sum("orders", "Orders"), _sum("units", "Units")],
            ),
            pie("Gross by category", "bi_category_sales_daily", ["category"], GROSS),
        ],
    ),
    "products": (
        "Products",
        [
            big_number("Products", "bi_products", COUNT),
            table(
                "Top products by revenue",
                "bi_product_sales_daily",
                ["product", "currency"],
                [
                    _sum("revenue", "Revenue"),
                    _sum("units", "Units"),
                    _sum("units_refunded", "Refunded"),
                ],
            ),
            table(
                "Most viewed products",
                "bi_product_activity_daily",
                ["product"],
                [_sum("views", "Views"), _sum("cart_adds", "Cart adds")],
            ),
            pie("Products by status", "bi_products", ["status"], COUNT),
        ],
    ),
    "customers": (
        "Customers and segments",
        [
            big_number(
                "Customers", "bi_customers", _count_distinct("customer_user_id", "Customers")
            ),
            timeseries(
                "Spend by day",
                "bi_customer_days",
                [_sum("spend", "Spend")],
                "echarts_timeseries_line",
            ),
            pie("Customers by segment", "bi_customer_segments", ["segment"], COUNT),
        ],
    ),
    "sellers": (
        "Sellers",
        [
            big_number("Sellers", "bi_sellers", COUNT),
            table(
                "Stores' sales",
                "bi_sales_daily",
                ["store_name"],
                [GROSS, _sum("commission", "Commission"), _sum("net", "Net")],
            ),
            table(
                "Payouts by store and status",
                "bi_payouts",
                ["store_name", "status", "currency"],
                [_sum("amount", "Amount"), COUNT],
            ),
        ],
    ),
    "inventory": (
        "Inventory",
        [
            timeseries("Stock value by day", "bi_inventory_daily", [_sum("stock_value", "Value")]),
            timeseries(
                "Units sold by day", "bi_inventory_sales_daily", [_sum("units", "Units sold")]
            ),
            table(
                "Variants at or below their reorder point by day",
                "bi_inventory_daily",
                ["day"],
                [_sum("at_or_below_reorder", "At or below reorder point")],
            ),
        ],
    ),
    "search": (
        "Search",
        [
            table(
                "Top search terms",
                "bi_search_terms_daily",
                ["term"],
                [
                    _sum("searches", "Searches"),
                    _sum("zero_result_searches", "Zero results"),
                    _sum("clicks", "Clicks"),
                ],
            ),
            table(
                "Most clicked products",
                "bi_search_clicks_daily",
                ["product"],
                [_sum("clicks", "Clicks")],
            ),
        ],
    ),
}


class Api:
    def __init__(self, url: str, user: str, password: str):
        self.url = url.rstrip("/")
        self.session = requests.Session()
        answer = self.session.post(
            f"{self.url}/api/v1/security/login",
            json={"username": user, "password": password, "provider": "db", "refresh": False},
            timeout=30,
        )
        answer.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        csrf = self.session.get(f"{self.url}/api/v1/security/csrf_token/", timeout=30)
        csrf.raise_for_status()
        self.session.headers.update({"X-CSRFToken": csrf.json()["result"], "Referer": self.url})

    def call(self, method: str, path: str, **kwargs):
        answer = self.session.request(method, f"{self.url}{path}", timeout=120, **kwargs)
        if answer.status_code >= 400:
            sys.exit(f"{method} {path}: {answer.status_code} {answer.text[:2000]}")
        return answer


def build(api: Api, bi_uri: str) -> list[int]:
    # Superset finds a MySQL view only in a named schema (the database); the import sets each
    # dataset's schema to the database of the URI it is given (analytics.bi.build_bundle_zip)
    schema = bi_uri.rsplit("/", 1)[1].split("?")[0]
    database = api.call(
        "POST",
        "/api/v1/database/",
        json={
            "database_name": DATABASE_NAME,
            "sqlalchemy_uri": bi_uri,
            "expose_in_sqllab": True,
            "allow_dml": False,
            "allow_run_async": False,
        },
    ).json()["id"]
    datasets: dict[str, int] = {}
    dashboard_ids = []
    for slug, (title, charts) in DASHBOARDS.items():
        dashboard = api.call(
            "POST",
            "/api/v1/dashboard/",
            json={"dashboard_title": title, "slug": slug, "published": True},
        ).json()["id"]
        dashboard_ids.append(dashboard)
        layout = {
            "DASHBOARD_VERSION_KEY": "v2",
            "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
            "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
            "HEADER_ID": {"id": "HEADER_ID", "type": "HEADER", "meta": {"text": title}},
        }
        row = None
        for index, (name, view, viz, params) in enumerate(charts):
            if view not in datasets:
                datasets[view] = api.call(
                    "POST",
                    "/api/v1/dataset/",
                    json={"database": database, "schema": schema, "table_name": view},
                ).json()["id"]
            form_data = {
                **params,
                "viz_type": viz,
                "datasource": f"{datasets[view]}__table",
                "time_range": NO_FILTER,
                "adhoc_filters": [],
            }
            chart = api.call(
                "POST",
                "/api/v1/chart/",
                json={
                    "slice_name": name,
                    "viz_type": viz,
                    "datasource_id": datasets[view],
                    "datasource_type": "table",
                    "params": json.dumps(form_data),
                    "dashboards": [dashboard],
                },
            ).json()["id"]
            chart_uuid = api.call("GET", f"/api/v1/chart/{chart}").json()["result"].get("uuid")
            if chart_uuid is None:  # older APIs: read it from the list endpoint
                query = json.dumps({"filters": [{"col": "id", "opr": "eq", "value": chart}]})
                chart_uuid = api.call(
                    "GET", "/api/v1/chart/", params={"q": query, "columns": "uuid"}
                ).json()["result"][0]["uuid"]
            if index % 2 == 0:  # two charts a row
                row = f"ROW-{slug}-{index}"
                layout[row] = {
                    "type": "ROW",
                    "id": row,
                    "children": [],
                    "parents": ["ROOT_ID", "GRID_ID"],
                    "meta": {"background": "BACKGROUND_TRANSPARENT"},
                }
                layout["GRID_ID"]["children"].append(row)
            key = f"CHART-{slug}-{index}"
            layout[row]["children"].append(key)
            layout[key] = {
                "type": "CHART",
                "id": key,
                "children": [],
                "parents": ["ROOT_ID", "GRID_ID", row],
                "meta": {
                    "width": 6,
                    "height": 50,
                    "chartId": chart,
                    "uuid": chart_uuid,
                    "sliceName": name,
                },
            }
        api.call(
            "PUT",
            f"/api/v1/dashboard/{dashboard}",
            json={
                "position_json": json.dumps(layout),
                "json_metadata": json.dumps(
                    {"color_scheme": "supersetColors", "refresh_frequency": 0}
                ),
            },
        )
    return dashboard_ids


def export(api: Api, dashboard_ids: list[int]) -> None:
    query = "!(" + ",".join(str(i) for i in dashboard_ids) + ")"
    data = api.call("GET", "/api/v1/dashboard/export/", params={"q": query}).content
    shutil.rmtree(BUNDLE, ignore_errors=True)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            relative = Path(*Path(name).parts[1:])  # drop the export's dated root folder
            target = BUNDLE / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(name))
    normalise(BUNDLE)
    print(f"exported {len(dashboard_ids)} dashboards into {BUNDLE}")


def normalise(bundle: Path) -> None:
    """Write the builder's database out of the bundle: the import puts the real one back (its URI
    and, on each dataset, its schema), so the committed YAML names the production defaults."""
    for path in bundle.glob("databases/*.yaml"):
        text = re.sub(
            r"(?m)^sqlalchemy_uri: .*$", f"sqlalchemy_uri: {PLACEHOLDER_URI}", path.read_text()
        )
        path.write_text(text)
    for path in bundle.glob("datasets/*/*.yaml"):
        path.write_text(re.sub(r"(?m)^schema: .*$", "schema: shop", path.read_text()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--superset", required=True)
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", required=True)
    parser.add_argument("--bi-uri", required=True)
    args = parser.parse_args()
    api = Api(args.superset, args.user, args.password)
    export(api, build(api, args.bi_uri))


if __name__ == "__main__":
    main()
