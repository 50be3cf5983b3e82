"""CPU per request in one process on the uncached path: the product list (20 and 100 a page, sorted by
price, filtered by a brand), a product detail, a search and the category tree, each asked by a
signed-in customer (answers to a token are private, never served from the public cache), so every
request runs the catalog's and search's queries and the schemas' dumps. Flask's test client,
production config, no HTTP; the `shop_bench` database of bench/seed_bench.py by default
(BENCH_DATABASE_URL to use another), Redis db 13 (emptied first: the search endpoint's own rate
limit counts there, and a 429 would be cheap, so every timed answer must be a 200). Prints one JSON
line of milliseconds of process CPU per request (N requests per case, default 300, after 30
warm-up; CASES=list,detail for some). Run it from each tree to compare two commits:

    cd <tree> && <venv>/bin/python bench/uncached_cpu.py [N]

Interleave the trees (A, B, A, B, ...): runs drift 10-15 % on a shared 2-CPU machine. The search
case needs the tree's search index (`flask search reindex` with the same SEARCH_INDEX_DIR)."""

from __future__ import annotations

import json
import os
import sys
import time

sys.path.insert(0, os.getcwd())
os.environ.update(
    APP_CONFIG="production",
    DATABASE_URL=os.environ.get(
        "BENCH_DATABASE_URL", "mysql+mysqldb://root@127.0.0.1:3306/shop_bench?charset=utf8mb4"
    ),
    REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"),
    SECRET_KEY="bench-" + "x" * 40,
    JWT_SECRET_KEY="bench-" + "y" * 40,
    INSTANCE_PATH=os.environ.get("BENCH_INSTANCE_PATH", "/tmp/uncached-bench-instance"),
)

import redis  # noqa: E402
from flask_appbuilder.security.sqla.models import Role  # noqa: E402  (after the environment is set)
from flask_jwt_extended import create_access_token  # noqa: E402
from sqlalchemy import select  # noqa: E402

from app import create_app  # noqa: E402
from app.core.tenancy import tenant_scope  # noqa: E402
from app.extensions import db  # noqa: E402
from app.security import roles  # noqa: E402
from app.security.models import User  # noqa: E402
from app.tenants.models import Tenant  # noqa: E402


def _customer_token(app) -> str:
    """An access token of the default tenant's first customer."""
    with app.app_context():
        tenant_id = db.session.scalar(select(Tenant.id).where(Tenant.slug == "default"))
        with tenant_scope(tenant_id):
            user_id = db.session.scalar(
                select(User.id)
                .where(User.roles.any(Role.name == roles.CUSTOMER))
                .order_by(User.id)
                .limit(1)
            )
            if user_id is None:
                sys.exit("no customer in the default tenant: seed the bench database first")
            return create_access_token(identity=str(user_id))


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    app = create_app()
    app.config["RATELIMIT_ENABLED"] = False
    app.config["SEARCH_LOG_QUERIES"] = False
    app.config["API_SEARCH_RATE_LIMIT"] = "1000000/minute"  # read per request, unlike the above
    client = app.test_client()
    headers = {"X-Tenant": "default", "Authorization": f"Bearer {_customer_token(app)}"}
    first = client.get("/api/v1/products/?page_size=1", headers=headers).get_json()["items"][0]
    cases = {
        "list": "/api/v1/products/?page=2",
        "list100": "/api/v1/products/?page_size=100",
        # another sort and a filter: each its own statements (and, once, its own count)
        "list_price": "/api/v1/products/?page=3&sort=price",
        "list_brand": f"/api/v1/products/?brand={first['brand']['slug']}&sort=popularity",
        "detail": f"/api/v1/products/{first['id']}/",
        "search": "/api/v1/search/products/?q=shirt",
        "categories": "/api/v1/products/categories/",
    }
    wanted = os.environ.get("CASES")  # e.g. CASES=list,detail (default: every case)
    if wanted:
        cases = {k: v for k, v in cases.items() if k in wanted.split(",")}
    out = {}
    for name, path in cases.items():
        for _ in range(30):
            response = client.get(path, headers=headers)
            assert response.status_code == 200, (path, response.status_code)
            assert "public" not in response.headers.get("Cache-Control", ""), path
        start = time.process_time()
        statuses = [client.get(path, headers=headers).status_code for _ in range(n)]
        out[name] = round((time.process_time() - start) / n * 1000, 3)
        assert set(statuses) == {200}, (path, sorted(set(statuses)))  # a 429 would be cheap
    print(json.dumps(out))


if __name__ == "__main__":
    main()
