"""CPU per guest add to cart in one process: `POST /api/v1/cart/add/` of a random in-stock sellable
variant (quantity 1), exactly as a storefront sends it and as the side-by-side bench's
peers/compare/wrk/project_cart.lua does: a guest sends no token on its first add, keeps the
`X-Cart-Token` the answer hands out and sends it on the next adds; after PER_CART adds (default 5)
it drops it and a new guest starts a new cart. Every timed answer must be a 200 (a 429 or a 409
would be cheap): asserted. Flask's test client, production config, no HTTP; the `shop_bench`
database of bench/seed_bench.py (BENCH_DATABASE_URL for another; adds write carts and their
items), Redis BENCH_REDIS_URL (default db 15, emptied first). The write rate limit
(API_WRITE_RATE_LIMIT) is raised in this process's environment, not switched off.

Prints one JSON line: milliseconds of process CPU per add (N timed adds, default 500, after 30
warm-up), then, from 100 more adds with counters on (not timed), SQL statements and Redis commands
per add (a pipeline counts as one round trip). PROFILE=<file> also writes a cProfile of the
timed adds (`python -m pstats <file>`), PROFILE_SQL=1 prints each statement of one add (the 3rd
of a cart). Run it from each tree to compare two commits (for a tree without this script, copy
it to /tmp and run it with cwd=<tree>):

    cd <tree> && <venv>/bin/python bench/cart_cpu.py [N]

Interleave the trees (A, B, A, B, ...): runs drift 10-15 % on a shared 2-CPU machine."""

from __future__ import annotations

import json
import os
import random
import sys
import time

sys.path.insert(0, os.getcwd())
os.environ.update(
    APP_CONFIG="production",
    DATABASE_URL=os.environ.get(
        "BENCH_DATABASE_URL", "mysql+mysqldb://root@127.0.0.1:3306/shop_bench?charset=utf8mb4"
    ),
    REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"),
    SECRET_KEY="bench-" + "x" * 40,
    JWT_SECRET_KEY="bench-" + "y" * 40,
    INSTANCE_PATH=os.environ.get("BENCH_INSTANCE_PATH", "/tmp/cart-bench-instance"),
    API_WRITE_RATE_LIMIT="1000000 per second",  # raised for the bench, still counted per add
)

import redis  # noqa: E402
from sqlalchemy import event, text  # noqa: E402

from app import create_app  # noqa: E402  (after the environment is set)
from app.extensions import db  # noqa: E402

PER_CART = int(os.environ.get("PER_CART", "5"))
TOKEN_HEADER = "X-Cart-Token"


def _variant_ids(app) -> list[int]:
    """Up to 20,000 sellable variants of the default tenant with >= 30 units available (as
    bench/peers/compare.sh picks them; a guest cart holds at most PER_CART units of each)."""
    with app.app_context():
        ids = db.session.scalars(
            text(
                "SELECT v.id FROM product_variants v JOIN products p ON p.id = v.product_id"
                " JOIN tenants t ON t.id = v.tenant_id"
                " JOIN sellers s ON s.id = p.seller_id"
                " JOIN stock_levels l ON l.variant_id = v.id"
                " JOIN warehouses w ON w.id = l.warehouse_id"
                " WHERE t.slug = 'default' AND v.is_active = 1 AND p.status = 'active'"
                " AND s.status NOT IN ('suspended', 'rejected') AND w.is_active = 1"
                " GROUP BY v.id HAVING SUM(l.quantity_on_hand - l.quantity_reserved) >= 30"
                " ORDER BY v.id LIMIT 20000"
            )
        ).all()
    if not ids:
        sys.exit("no in-stock variant in the default tenant: seed the bench database first")
    return list(ids)


class Guests:
    """Guests adding to their carts in turn: PER_CART adds each, then a new guest."""

    def __init__(self, client, ids: list[int]):
        self.client, self.ids, self.rng = client, ids, random.Random(19)
        self.token, self.n = None, 0

    def add(self):
        if self.n >= PER_CART:
            self.token, self.n = None, 0
        self.n += 1
        headers = {"X-Tenant": "default"}
        if self.token:
            headers[TOKEN_HEADER] = self.token
        response = self.client.post(
            "/api/v1/cart/add/",
            json={"variant_id": self.rng.choice(self.ids), "quantity": 1},
            headers=headers,
        )
        if response.status_code != 200:
            raise AssertionError((response.status_code, response.get_data(as_text=True)[:500]))
        self.token = response.headers.get(TOKEN_HEADER) or self.token
        return response


class Counters:
    """SQL statements (before_cursor_execute) and Redis round trips (commands, pipelines)."""

    def __init__(self, engine, show_sql: bool = False):
        self.sql = self.redis = 0
        self.show_sql, self.on = show_sql, False
        self.engine = engine
        event.listen(engine, "before_cursor_execute", self._statement)
        counters = self
        self._command = redis.Redis.execute_command
        self._pipeline = redis.client.Pipeline.execute

        def command(client, *args, **kwargs):
            if counters.on:
                counters.redis += 1
                if counters.show_sql:
                    print("  redis:", *(str(a)[:80] for a in args[:3]))
            return counters._command(client, *args, **kwargs)

        def pipeline(pipe, *args, **kwargs):
            if counters.on:
                counters.redis += 1
                if counters.show_sql:
                    print("  redis: pipeline of", len(pipe.command_stack))
            return counters._pipeline(pipe, *args, **kwargs)

        redis.client.Pipeline.execute = pipeline
        redis.Redis.execute_command = command

    def _statement(self, conn, cursor, statement, parameters, context, executemany):
        if self.on:
            self.sql += 1
            if self.show_sql:
                print("  sql:", " ".join(statement.split())[:200])


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    app = create_app()
    assert app.config["RATELIMIT_ENABLED"], "the write rate limit stays on, raised"
    client = app.test_client()
    guests = Guests(client, _variant_ids(app))
    for _ in range(30):
        guests.add()
    profile = os.environ.get("PROFILE")
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile(time.process_time)  # CPU, not wall
        profiler.enable()
    start = time.process_time()
    for _ in range(n):
        guests.add()
    cpu = (time.process_time() - start) / n * 1000
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile)

    with app.app_context():
        counters = Counters(db.engine)
    guests.token, guests.n = None, 0
    if os.environ.get("PROFILE_SQL"):
        for i in range(PER_CART):
            counters.on = counters.show_sql = i == 2
            if counters.on:
                print(f"add {i + 1} of a cart:")
            guests.add()
        counters.on = counters.show_sql = False
        counters.sql = counters.redis = 0
        guests.token, guests.n = None, 0
    m = 100
    counters.on = True
    for _ in range(m):
        guests.add()
    counters.on = False
    print(
        json.dumps(
            {
                "cart_add_cpu_ms": round(cpu, 3),
                "n": n,
                "per_cart": PER_CART,
                "sql_per_add": counters.sql / m,
                "redis_per_add": counters.redis / m,
            }
        )
    )


if __name__ == "__main__":
    main()
