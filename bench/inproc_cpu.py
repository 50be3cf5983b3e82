"""CPU per request in one process (Flask's test client, production config, no HTTP): ping, the
cached product list, a filtered list and a cached product detail on the 100k-product `shop_bench`
(bench/seed_bench.py), Redis db 13. Prints one JSON line of milliseconds of process CPU per
request (1,000 requests per case after 50 warm-up). Run it from each tree to compare two commits:

    cd <tree> && <venv>/bin/python bench/inproc_cpu.py

Interleave the trees (A, B, A, B, ...): runs drift 10-15 % on a shared 2-CPU machine."""

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
    INSTANCE_PATH="/tmp/inproc-bench-instance",
)

from app import create_app  # noqa: E402  (after the environment is set)


def main() -> None:
    app = create_app()
    app.config["RATELIMIT_ENABLED"] = False
    client = app.test_client()
    headers = {"X-Tenant": "default"}
    first = client.get("/api/v1/products/?page_size=1", headers=headers).get_json()["items"][0]
    cases = {
        "ping": "/api/core/ping",
        "list": "/api/v1/products/?page=2",
        "filtered": "/api/v1/products/?min_price=10&max_price=200&sort=price",
        "detail": f"/api/v1/products/{first['id']}/",
    }
    out = {}
    for name, path in cases.items():
        for _ in range(50):
            response = client.get(path, headers=headers)
            assert response.status_code == 200, (path, response.status_code)
        n = 1000
        start = time.process_time()
        for _ in range(n):
            client.get(path, headers=headers)
        out[name] = round((time.process_time() - start) / n * 1000, 3)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
