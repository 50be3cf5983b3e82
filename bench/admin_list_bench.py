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


def time_case(session: requests.Session, base: str, path: str, n: int, warmup: int) -> dict:
    first = session.get(base + path, allow_redirects=False, timeout=60)
    if first.status_code != 200 or record_count(first.text) is None:
        raise RuntimeError(f"GET {path}: HTTP {first.status_code}, not a list page (logged out?)")
    for _ in range(max(0, warmup - 1)):
        session.get(base + path, timeout=60)
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        response = session.get(base + path, allow_redirects=False, timeout=60)
        _ = response.content
        samples.append((time.perf_counter() - t) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: HTTP {response.status_code}")
    return {
        "path": path,
        "records": record_count(first.text),
        "bytes": len(first.content),
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


def start_server(env: dict, port: int, log_path: Path) -> subprocess.Popen:
    log = log_path.open("w")
    proc = subprocess.Popen(
        gunicorn_argv(port, timeout=120)[0], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 90
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
    raise RuntimeError(f"gunicorn did not answer within 90s:\n{log_path.read_text()[-3000:]}")


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
        for name, path in role_cases:
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
    }
    plan = cases(facts, args.contains, args.prefix)
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
                    **time_case(session, base, path, args.requests, args.warmup),
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
                        **time_case(session, base, path, args.other_requests, 1),
                    }
                    row["meets_target"] = row["p95_ms"] < args.target_ms
                    results.append(row)
                    print(
                        f"  {role:<11} {row['case']:<34} records {row['records']:>7,}  mean {row['mean_ms']:7.1f}  "
                        f"p50 {row['p50_ms']:7.1f}  p95 {row['p95_ms']:7.1f}  p99 {row['p99_ms']:7.1f} ms  "
                        f"{row['bytes'] / 1024:,.0f} KiB{'' if row['meets_target'] else '   <-- p95 over target'}",
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
        "product_list_meets_target": all(
            r["meets_target"] for r in results if r["group"] == "products"
        ),
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
        f"({args.other_requests} for the other lists); target p95 < {args.target_ms:.0f} ms.",
        "",
        "| user | case | records | page KiB | mean ms | p50 ms | p95 ms | p99 ms | p95 < target |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    md += [
        f"| {r['user']} | {r['case']} | {r['records']:,} | {r['bytes'] / 1024:,.0f} | {r['mean_ms']} "
        f"| {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | {'yes' if r['meets_target'] else '**no**'} |"
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
        profile(env, plan, users, out)
        print(f"profile: {out}")
    return 0 if summary["product_list_meets_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
