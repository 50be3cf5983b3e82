"""Admin list latency: the product list of the real admin, served by the real server, on the
100,000-product database made by bench/seed_bench.py.

    /root/.cache/mkt/devvenv/bin/python bench/admin_list_bench.py                 # 200 requests per case
    python bench/admin_list_bench.py --requests 100 --profile                     # + an SQL/cProfile report

It starts gunicorn (gunicorn.conf.py, the production setup) on 127.0.0.1 with
APP_CONFIG=production (a random 48-character SECRET_KEY, REDIS_URL=redis://127.0.0.1:6379/14,
DATABASE_URL at the bench database), logs in through FAB's HTML form at /login/ (CSRF token
included) as the Super Admin and as a Seller, and times GET requests one after another with a
requests.Session: the first page of /admin/products/list/, text filters on the title, equality
filters on status and seller, a sort on the title and a deep page. Timings are client-side wall
time of the whole request (HTML rendered, body read). It reports mean, p50, p95 and p99 per case,
writes bench/results/admin_list.json and bench/results/admin_list.md, and stops the server.

--profile (or any p95 over --target-ms, unless --no-profile) then replays each case in-process
with the same configuration and records every SQL statement with its time and EXPLAIN plan,
plus a cProfile summary, into bench/results/admin_list_profile.md.

Production sets SESSION_COOKIE_SECURE, so the session cookie is marked Secure; like a browser
on http://127.0.0.1 (a secure context), this client sends it back over plain HTTP to loopback.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import platform
import pstats
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))
from seed_bench import BENCH_ADMIN_PASSWORD, DEFAULT_URL  # noqa: E402
from serving import gunicorn_argv  # noqa: E402

SERVER = gunicorn_argv(0)[1]

DEMO_PASSWORD = "demo-password-1"
LIST = "/admin/products/list/"


class LoopbackSession(requests.Session):
    """Sends the Secure session cookie back to 127.0.0.1 over http, as browsers do for loopback
    (requests copies cookies into a fresh jar per request, so a cookie policy would not stick)."""

    def send(self, request, **kwargs):
        response = super().send(request, **kwargs)
        for cookie in self.cookies:
            cookie.secure = False
        return response


def _csrf(html: str) -> str | None:
    tag = re.search(r"<input[^>]*name=\"csrf_token\"[^>]*>", html)
    value = re.search(r"value=\"([^\"]+)\"", tag.group(0)) if tag else None
    return value.group(1) if value else None


def login(base: str, username: str, password: str) -> requests.Session:
    session = LoopbackSession()
    page = session.get(f"{base}/login/", timeout=30)
    page.raise_for_status()
    token = _csrf(page.text)
    if not token:
        raise RuntimeError("no csrf_token on the login page")
    response = session.post(
        f"{base}/login/",
        data={"username": username, "password": password, "csrf_token": token},
        allow_redirects=False,
        timeout=30,
    )
    if response.status_code != 302 or "/login" in response.headers.get("Location", ""):
        raise RuntimeError(
            f"login as {username} failed: HTTP {response.status_code} "
            f"{response.headers.get('Location', '')}"
        )
    return session


def record_count(html: str) -> int | None:
    found = re.search(r"Record Count:</strong>\s*(\d+)", html)
    return int(found.group(1)) if found else None


def summarise(samples_ms: list[float]) -> dict:
    q = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return {
        "n": len(samples_ms),
        "mean_ms": round(statistics.fmean(samples_ms), 1),
        "p50_ms": round(q[49], 1),
        "p95_ms": round(q[94], 1),
        "p99_ms": round(q[98], 1),
        "min_ms": round(min(samples_ms), 1),
        "max_ms": round(max(samples_ms), 1),
    }


def server_cpu_s(master_pid: int) -> float:
    """CPU seconds (user + system) used so far by the gunicorn master's workers, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[1]) == master_pid:  # ppid; utime and stime are fields 14 and 15 of stat
            total += int(fields[11]) + int(fields[12])
    return total / tick


def time_case(
    session: requests.Session,
    base: str,
    path: str,
    n: int,
    warmup: int,
    marker: str | None = None,
    server_pid: int | None = None,
) -> dict:
    """Time GET `path` n times. A list page must show its record count; another page (marker
    given) must answer 200 with `marker` in it. With server_pid, the workers' CPU per request."""
    first = session.get(base + path, allow_redirects=False, timeout=60)
    if marker is None and (first.status_code != 200 or record_count(first.text) is None):
        raise RuntimeError(f"GET {path}: HTTP {first.status_code}, not a list page (logged out?)")
    if marker is not None and (first.status_code != 200 or marker not in first.text):
        raise RuntimeError(f"GET {path}: HTTP {first.status_code}, {marker!r} not on the page")
    for _ in range(max(0, warmup - 1)):
        session.get(base + path, timeout=60)
    samples = []
    cpu_before = server_cpu_s(server_pid) if server_pid else None
    for _ in range(n):
        t = time.perf_counter()
        response = session.get(base + path, allow_redirects=False, timeout=60)
        _ = response.content
        samples.append((time.perf_counter() - t) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: HTTP {response.status_code}")
    cpu = round((server_cpu_s(server_pid) - cpu_before) * 1000 / n, 1) if server_pid and n else None
    return {
        "path": path,
        "records": record_count(first.text),
        "bytes": len(first.content),
        "server_cpu_ms": cpu,
        **summarise(samples),
    }


def bench_facts(url: str) -> dict:
    """Which seller, words and ids to use, read from the bench database."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        tenant_id = conn.execute(text("SELECT id FROM tenants WHERE slug = 'default'")).scalar()
        products = conn.execute(
            text("SELECT COUNT(*) FROM products WHERE tenant_id = :t"), {"t": tenant_id}
        ).scalar()
        top = conn.execute(
            text(
                "SELECT s.id, u.email, COUNT(p.id) AS n FROM sellers s JOIN ab_user u ON u.id = s.user_id "
                "JOIN products p ON p.seller_id = s.id WHERE s.tenant_id = :t GROUP BY s.id, u.email "
                "ORDER BY n DESC LIMIT 2"
            ),
            {"t": tenant_id},
        ).all()
    engine.dispose()
    if not products or len(top) < 2:
        sys.exit("the bench database has no products: run bench/seed_bench.py first")
    return {
        "tenant_id": tenant_id,
        "products": products,
        "seller": {"id": top[0][0], "email": top[0][1], "products": top[0][2]},
        "filter_seller": {"id": top[1][0], "email": top[1][1], "products": top[1][2]},
    }


def cases(facts: dict, word_contains: str, word_prefix: str) -> dict[str, list[tuple[str, str]]]:
    other = facts["filter_seller"]["id"]
    admin = [
        ("first page", LIST),
        (f"title contains '{word_contains}'", f"{LIST}?_flt_2_title={word_contains}"),
        (f"title starts with '{word_prefix}'", f"{LIST}?_flt_0_title={word_prefix}"),
        ("status = draft", f"{LIST}?_flt_3_status=draft"),
        (f"seller = {other}", f"{LIST}?_flt_0_seller_id={other}"),
        ("sorted by title", f"{LIST}?_oc_ProductView=title&_od_ProductView=asc"),
        ("page 200", f"{LIST}?page_ProductView=200"),
    ]
    seller = [
        ("first page (own products)", LIST),
        (f"title contains '{word_contains}' (own)", f"{LIST}?_flt_2_title={word_contains}"),
        ("status = draft (own)", f"{LIST}?_flt_3_status=draft"),
    ]
    return {"Super Admin": admin, "Seller": seller}


def order_facts(url: str, facts: dict) -> dict | None:
    """Orders, numbers, names and SKUs the order cases ask for, read from the bench database
    (None when the tenant has no orders: seed them with seed_bench.py --orders)."""
    from sqlalchemy import create_engine, text

    tid, seller_id = facts["tenant_id"], facts["seller"]["id"]
    engine = create_engine(url)
    with engine.connect() as conn:

        def one(sql: str, **params):
            return conn.execute(text(sql), {"t": tid, "s": seller_id, **params}).first()

        orders = one("SELECT COUNT(*) FROM orders WHERE tenant_id = :t")[0]
        if not orders:
            engine.dispose()
            return None
        middle = one(
            "SELECT id, number FROM orders WHERE tenant_id = :t ORDER BY id LIMIT 1 OFFSET :o",
            o=orders // 2,
        )
        big = conn.execute(
            text(
                "SELECT l.order_id, o.number, COUNT(*) AS n, COUNT(DISTINCT l.sub_order_id) "
                "FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE l.tenant_id = :t "
                "GROUP BY l.order_id, o.number ORDER BY n DESC, l.order_id LIMIT 3"
            ),
            {"t": tid},
        ).all()
        sub_orders = one("SELECT COUNT(*) FROM sub_orders WHERE tenant_id = :t AND seller_id = :s")[
            0
        ]
        seller_big = one(
            "SELECT s.id, s.number, COUNT(*) AS n FROM sub_orders s "
            "JOIN order_lines l ON l.sub_order_id = s.id "
            "WHERE s.tenant_id = :t AND s.seller_id = :s GROUP BY s.id, s.number "
            "ORDER BY n DESC, s.id LIMIT 1"
        )
        seller_mid = one(
            "SELECT id, number FROM sub_orders WHERE tenant_id = :t AND seller_id = :s "
            "ORDER BY id LIMIT 1 OFFSET :o",
            o=sub_orders // 2,
        )
        customer = one(
            "SELECT u.email, u.last_name FROM customer_profiles c JOIN ab_user u ON u.id = c.user_id "
            "WHERE c.tenant_id = :t AND u.last_name NOT LIKE '%%''%%' ORDER BY c.id LIMIT 1 OFFSET 150"
        )
        sku = one(
            "SELECT v.sku, p.title FROM product_variants v JOIN products p ON p.id = v.product_id "
            "WHERE v.tenant_id = :t AND v.seller_id = :s ORDER BY v.id LIMIT 1 OFFSET 100"
        )
    engine.dispose()
    return {
        "orders": orders,
        "middle": {"id": middle[0], "number": middle[1]},
        "big": [{"id": r[0], "number": r[1], "lines": r[2], "sub_orders": r[3]} for r in big],
        "seller_sub_orders": sub_orders,
        "seller_big": {"id": seller_big[0], "number": seller_big[1], "lines": seller_big[2]},
        "seller_mid": {"id": seller_mid[0], "number": seller_mid[1]},
        "customer": {"email": customer[0], "last_name": customer[1]},
        "sku": {"sku": sku[0], "title": sku[1]},
    }


ORDERS = "/admin/orders/list/"
SUB_ORDERS = "/admin/sub-orders/list/"


def order_cases(of: dict, word: str) -> dict[str, list[tuple[str, str, str | None]]]:
    """(name, path, marker): marker None for a list (its record count must show), else a text the
    page must hold. The search pages are asked with go=0 (a single hit would redirect to it)."""
    from urllib.parse import quote

    def find(q: str) -> str:
        return f"/admin/find/?q={quote(q)}&go=0"

    number = of["middle"]["number"]
    sku = of["sku"]["sku"]
    sku_prefix = sku.rsplit("-", 1)[0]  # the product's SKUs (ACT-0012345-1, -2, ...)
    admin = [
        ("orders: first page", ORDERS, None),
        ("orders: status = shipped", f"{ORDERS}?_flt_3_status=shipped", None),
        (
            f"orders: number starts with {number[:9]}",
            f"{ORDERS}?_flt_0_number={quote(number[:9])}",
            None,
        ),
        ("orders: number = one order", f"{ORDERS}?_flt_3_number={quote(number)}", None),
        ("orders: sorted by date", f"{ORDERS}?_oc_OrderView=created_at&_od_OrderView=desc", None),
        ("order desk: a typical order", f"/admin/orders/show/{of['middle']['id']}", number),
    ]
    admin += [
        (
            f"order desk: {b['lines']} lines, {b['sub_orders']} sub-orders",
            f"/admin/orders/show/{b['id']}",
            b["number"],
        )
        for b in of["big"]
    ]
    admin += [
        ("sub-orders: first page", SUB_ORDERS, None),
        ("find: order number", find(number), number),
        ("find: order number prefix", find(number[:8]), "find-order"),
        ("find: customer e-mail", find(of["customer"]["email"]), of["customer"]["email"]),
        ("find: customer name", find(of["customer"]["last_name"]), "find-customer"),
        (f"find: title word '{word}'", find(word), "find-product"),
        ("find: SKU", find(sku_prefix), "find-product"),
        ("find: nothing matches", find("zzqqxx"), "find-nothing"),
    ]
    seller_number = of["seller_mid"]["number"]
    seller = [
        ("sub-orders: first page (own)", SUB_ORDERS, None),
        ("sub-orders: status = shipped (own)", f"{SUB_ORDERS}?_flt_3_status=shipped", None),
        (
            "sub-orders: sorted by date (own)",
            f"{SUB_ORDERS}?_oc_SubOrderView=created_at&_od_SubOrderView=desc",
            None,
        ),
        (
            "fulfilment page: a typical sub-order",
            f"/admin/sub-orders/show/{of['seller_mid']['id']}",
            seller_number,
        ),
        (
            f"fulfilment page: {of['seller_big']['lines']} lines",
            f"/admin/sub-orders/show/{of['seller_big']['id']}",
            of["seller_big"]["number"],
        ),
        ("find: sub-order number", find(seller_number), seller_number),
        ("find: order number prefix", find(seller_number[:8]), "find-sub_order"),
        (f"find: title word '{word}'", find(word), "find-product"),
        ("find: SKU", find(sku_prefix), "find-product"),
        ("find: nothing matches", find("zzqqxx"), "find-nothing"),
    ]
    # the tenant's own Admin (scoped to its tenant) asks what the Super Admin asks
    return {"Super Admin": admin, "Admin": admin, "Seller": seller}


# other admin lists over the big tables: timed with fewer requests (some take seconds)
OTHER_LISTS = [
    ("variants", "/admin/variants/list/"),
    ("product images", "/admin/product-images/list/"),
    ("product attribute values", "/admin/product-attributes/list/"),
    ("stock levels", "/admin/inventory/list/"),
    ("stock movements", "/admin/stock-movements/list/"),
    ("low-stock alerts", "/admin/low-stock/list/"),
    # order count and spending for the page's customers (one grouped query over orders)
    ("customers", "/admin/customers/list/"),
    ("customers by name or e-mail", "/admin/customers/list/?_flt_0_user=customer1"),
]


STARTUP_S = 240  # four workers importing the app on a busy 2-CPU machine can take minutes


def start_server(env: dict, port: int, log_path: Path) -> subprocess.Popen:
    log = log_path.open("w")
    proc = subprocess.Popen(
        gunicorn_argv(port, timeout=120)[0], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"gunicorn exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}"
            )
        try:
            if requests.get(f"http://127.0.0.1:{port}/login/", timeout=2).status_code == 200:
                return proc
        except requests.RequestException:
            pass
        time.sleep(0.5)
    stop_server(proc)
    raise RuntimeError(
        f"gunicorn did not answer within {STARTUP_S}s:\n{log_path.read_text()[-3000:]}"
    )


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()  # the master stops its own workers
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---- profile -------------------------------------------------------------------------------------


def profile(env: dict, plan: dict, users: dict, out: Path) -> None:
    """Replay each case in-process: SQL statements with time and EXPLAIN, and a cProfile summary."""
    os.environ.update(env)
    from sqlalchemy import event

    from app import create_app
    from app.extensions import db

    app = create_app("production")
    with app.app_context():
        engine = db.engine
    statements: list[dict] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("_t", []).append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):
        took = (time.perf_counter() - conn.info["_t"].pop()) * 1000
        try:
            literal = cursor.mogrify(statement, parameters)
        except Exception:  # a driver without mogrify()
            literal = statement
        statements.append({"ms": took, "sql": literal})

    lines = [
        f"# Admin product list: where the time goes ({dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC)",
        "",
        "Each case is replayed in-process (Flask test client, production config, same database) after "
        "two warm-up requests; times are for that single request.",
        "",
    ]
    for role, role_cases in plan.items():
        client = app.test_client()  # outside any app context: each request gets its own `g`
        token = _csrf(client.get("/login/").get_data(as_text=True))
        username, password = users[role]
        client.post(
            "/login/", data={"username": username, "password": password, "csrf_token": token}
        )
        for name, path, *_marker in role_cases:
            if client.get(path).status_code != 200:
                continue
            client.get(path)
            statements.clear()
            profiler = cProfile.Profile()
            t = time.perf_counter()
            profiler.enable()
            response = client.get(path)
            profiler.disable()
            total = (time.perf_counter() - t) * 1000
            sql_ms = sum(s["ms"] for s in statements)
            lines += [
                f"## {role}: {name}",
                "",
                f"`GET {path}` → HTTP {response.status_code}, "
                f"{total:.0f} ms in-process; {len(statements)} SQL statements taking {sql_ms:.0f} ms; "
                f"Python/rendering {total - sql_ms:.0f} ms.",
                "",
            ]
            groups: dict[str, list[float]] = {}
            for st in statements:
                groups.setdefault(_group(st["sql"]), []).append(st["ms"])
            lines += ["| statements | total ms | statement (normalised) |", "|---|---|---|"]
            for key, times in sorted(groups.items(), key=lambda kv: -sum(kv[1]))[:8]:
                lines.append(f"| {len(times)} | {sum(times):.1f} | `{key.replace('|', '/')}` |")
            lines += ["", "Slowest statements:", ""]
            slow = sorted(statements, key=lambda s: -s["ms"])[:4]
            for s in slow:
                sql = s["sql"] if isinstance(s["sql"], str) else s["sql"].decode()
                lines += [f"- {s['ms']:.1f} ms", "", "```sql", _short(sql), "```"]
                if sql.lstrip().upper().startswith("SELECT") and s["ms"] > 5:
                    lines += ["", "EXPLAIN:", "", "```", _explain(engine, sql), "```"]
                lines.append("")
            stats = io.StringIO()
            pstats.Stats(profiler, stream=stats).sort_stats("cumulative").print_stats(18)
            top = "\n".join(line for line in stats.getvalue().splitlines() if line.strip())[-3500:]
            lines += [
                "<details><summary>cProfile (cumulative, top 18)</summary>",
                "",
                "```",
                top,
                "```",
                "</details>",
                "",
            ]
    out.write_text("\n".join(lines) + "\n")


def _short(sql: str) -> str:
    """One line, select lists elided (so that FROM / WHERE / ORDER BY stay visible)."""
    sql = re.sub(r"\s+", " ", sql).strip()
    sql = re.sub(
        r"SELECT (.+?) FROM",
        lambda m: "SELECT " + (m.group(1) if len(m.group(1)) < 60 else "…") + " FROM",
        sql,
    )
    return sql if len(sql) <= 1500 else sql[:1500] + " …"


def _group(sql) -> str:
    sql = sql if isinstance(sql, str) else sql.decode()
    return re.sub(r"'[^']*'|\b\d+\b", "?", _short(sql))[:140]


def _explain(engine, sql: str) -> str:
    raw = engine.raw_connection()  # the DB-API cursor, so '%' in LIKE patterns is left alone
    try:
        cursor = raw.cursor()
        cursor.execute("EXPLAIN " + sql)
        cols = [d[0] for d in cursor.description]
        rows = [dict(zip(cols, row, strict=True)) for row in cursor.fetchall()]
    finally:
        raw.close()
    keep = ("table", "type", "possible_keys", "key", "rows", "Extra")
    return "\n".join(" | ".join(f"{k}={r.get(k)}" for k in keep) for r in rows)


# ---- main --------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--port", type=int, default=5066)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per case")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--contains", default="Linen", help="word for the 'title contains' filter")
    parser.add_argument(
        "--prefix", default="Classic", help="word for the 'title starts with' filter"
    )
    parser.add_argument("--target-ms", type=float, default=300.0, help="p95 target")
    parser.add_argument(
        "--profile", action="store_true", help="always write the SQL/cProfile report"
    )
    parser.add_argument("--no-profile", action="store_true", help="never write it")
    parser.add_argument("--tag", default="", help="label for this run in admin_list.md")
    parser.add_argument(
        "--order-requests",
        type=int,
        default=50,
        help="timed requests per order, order-page, sub-order and search case (0: skip them)",
    )
    parser.add_argument(
        "--only-orders",
        action="store_true",
        help="time the order, sub-order and search cases only (not the product and other lists)",
    )
    parser.add_argument(
        "--other-requests",
        type=int,
        default=5,
        help="timed requests per case for the other admin lists (0: skip them)",
    )
    args = parser.parse_args()

    url = args.database_url
    facts = bench_facts(url)
    admin_user = os.environ.get("ADMIN_USERNAME", "admin")
    users = {
        "Super Admin": (admin_user, BENCH_ADMIN_PASSWORD),
        "Seller": (facts["seller"]["email"], DEMO_PASSWORD),
        # the default tenant's Admin that admin.demo.seed makes
        "Admin": (os.environ.get("BENCH_TENANT_ADMIN", "manager@example.com"), DEMO_PASSWORD),
    }
    plan = cases(facts, args.contains, args.prefix)
    of = order_facts(url, facts) if args.order_requests > 0 else None
    order_plan = order_cases(of, args.contains) if of else {}
    if args.only_orders:
        plan, args.other_requests = {role: [] for role in plan}, 0
    instance = Path(tempfile.mkdtemp(prefix="admin-list-bench-"))
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "ELASTICSEARCH_URL",
            "SUPERSET_URL",
            "JOBS_MODE",
            "RATELIMIT_STORAGE_URI",
            "SOCKETIO_MESSAGE_QUEUE",
        )
    }
    env.update(
        APP_CONFIG="production",
        SECRET_KEY=secrets.token_urlsafe(48),
        DATABASE_URL=url,
        REDIS_URL=args.redis_url,
        INSTANCE_PATH=str(instance),
        FLASK_APP="wsgi.py",
        PYTHONUNBUFFERED="1",
    )
    base = f"http://127.0.0.1:{args.port}"

    print(
        f"database {url.split('@')[-1]}: {facts['products']:,} products in the default tenant; "
        f"seller {facts['seller']['email']} has {facts['seller']['products']:,}",
        flush=True,
    )
    proc = start_server(env, args.port, instance / "gunicorn.log")
    print(f"gunicorn pid {proc.pid} on {base} (APP_CONFIG=production, {SERVER})", flush=True)
    results = []
    try:
        for role, role_cases in plan.items():
            session = login(base, *users[role])
            for name, path in role_cases:
                row = {
                    "user": role,
                    "case": name,
                    "group": "products",
                    **time_case(
                        session, base, path, args.requests, args.warmup, server_pid=proc.pid
                    ),
                }
                row["meets_target"] = row["p95_ms"] < args.target_ms
                results.append(row)
                print(
                    f"  {role:<11} {name:<34} records {row['records']:>7,}  mean {row['mean_ms']:7.1f}  "
                    f"p50 {row['p50_ms']:7.1f}  p95 {row['p95_ms']:7.1f}  p99 {row['p99_ms']:7.1f} ms"
                    f"{'' if row['meets_target'] else '   <-- p95 over target'}",
                    flush=True,
                )
        if args.other_requests > 0:
            for role in plan:
                session = login(base, *users[role])
                for name, path in OTHER_LISTS:
                    probe = session.get(base + path, allow_redirects=False, timeout=120)
                    if probe.status_code in (302, 403, 404):
                        print(
                            f"  {role:<11} {name + ' list':<34} skipped: HTTP {probe.status_code}",
                            flush=True,
                        )
                        continue
                    row = {
                        "user": role,
                        "case": f"{name} list",
                        "group": "other",
                        **time_case(
                            session, base, path, args.other_requests, 1, server_pid=proc.pid
                        ),
                    }
                    row["meets_target"] = row["p95_ms"] < args.target_ms
                    results.append(row)
                    print(
                        f"  {role:<11} {row['case']:<34} records {row['records']:>7,}  mean {row['mean_ms']:7.1f}  "
                        f"p50 {row['p50_ms']:7.1f}  p95 {row['p95_ms']:7.1f}  p99 {row['p99_ms']:7.1f} ms  "
                        f"{row['bytes'] / 1024:,.0f} KiB{'' if row['meets_target'] else '   <-- p95 over target'}",
                        flush=True,
                    )
        for role, role_cases in order_plan.items():
            session = login(base, *users[role])
            for name, path, marker in role_cases:
                row = {
                    "user": role,
                    "case": name,
                    "group": "orders",
                    **time_case(
                        session,
                        base,
                        path,
                        args.order_requests,
                        args.warmup,
                        marker=marker,
                        server_pid=proc.pid,
                    ),
                }
                row["meets_target"] = row["p95_ms"] < args.target_ms
                results.append(row)
                records = f"{row['records']:>7,}" if row["records"] is not None else " " * 7
                print(
                    f"  {role:<11} {name[:44]:<44} records {records}  mean {row['mean_ms']:7.1f}  "
                    f"p50 {row['p50_ms']:7.1f}  p95 {row['p95_ms']:7.1f}  p99 {row['p99_ms']:7.1f} ms"
                    f"  server CPU {row['server_cpu_ms']} ms"
                    f"{'' if row['meets_target'] else '   <-- p95 over target'}",
                    flush=True,
                )
    finally:
        stop_server(proc)

    stamp = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    summary = {
        "bench": "admin_list",
        "when": stamp,
        "tag": args.tag,
        "database": url.split("@")[-1].split("?")[0],
        "products_in_tenant": facts["products"],
        "seller": facts["seller"],
        "server": f"{SERVER}, APP_CONFIG=production",
        "client": "requests.Session, sequential, client-side wall time incl. body",
        "requests_per_case": args.requests,
        "warmup": args.warmup,
        "target_p95_ms": args.target_ms,
        "orders_in_tenant": of["orders"] if of else 0,
        "order_facts": of,
        "load_average": os.getloadavg(),
        "product_list_meets_target": all(
            r["meets_target"] for r in results if r["group"] == "products"
        ),
        "orders_meet_target": all(r["meets_target"] for r in results if r["group"] == "orders"),
        "all_meet_target": all(r["meets_target"] for r in results),
        "results": results,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "admin_list.json").write_text(json.dumps(summary, indent=2) + "\n")
    md = [
        f"### {stamp}{' — ' + args.tag if args.tag else ''}",
        "",
        f"{facts['products']:,} products in the tenant; {SERVER}, production config; "
        f"{args.requests} sequential requests per product-list case after {args.warmup} warm-up "
        f"({args.other_requests} for the other lists"
        + (
            f", {args.order_requests} for the order, order-page and search cases over "
            f"{of['orders']:,} orders"
            if of
            else ""
        )
        + f"); target p95 < {args.target_ms:.0f} ms. Load average at the end "
        f"{', '.join(f'{x:.2f}' for x in os.getloadavg())} (2 CPUs shared with other work); "
        "server CPU = the gunicorn workers' user+system CPU per request (/proc).",
        "",
        "| user | case | records | page KiB | mean ms | p50 ms | p95 ms | p99 ms | server CPU ms "
        "| p95 < target |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    md += [
        f"| {r['user']} | {r['case']} | {'' if r['records'] is None else format(r['records'], ',')} "
        f"| {r['bytes'] / 1024:,.0f} | {r['mean_ms']} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} "
        f"| {'' if r['server_cpu_ms'] is None else r['server_cpu_ms']} "
        f"| {'yes' if r['meets_target'] else '**no**'} |"
        for r in results
    ]
    path = RESULTS / "admin_list.md"
    previous = path.read_text() if path.exists() else "# Admin product list latency\n\n"
    path.write_text(previous.rstrip("\n") + "\n\n" + "\n".join(md) + "\n")
    print(f"written: {RESULTS / 'admin_list.json'}, {path}")

    if args.profile or (not args.no_profile and not summary["all_meet_target"]):
        out = RESULTS / "admin_list_profile.md"
        if args.other_requests > 0:
            plan = {role: cases_ + OTHER_LISTS for role, cases_ in plan.items()}
        for role, role_cases in order_plan.items():
            plan[role] = plan.get(role, []) + role_cases
        profile(env, plan, users, out)
        print(f"profile: {out}")
    return 0 if summary["product_list_meets_target"] and summary["orders_meet_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
