"""Storefront API throughput and latency against gunicorn on the 100k-product MariaDB database.

    python bench/api_bench.py [--duration 15] [--connections 16]
    python bench/api_bench.py --worker-class gthread --workers 2 --threads 4   # another server shape

Needs the database made by bench/seed_bench.py (shop_bench, at the current migration head: run
`flask db upgrade` against it after pulling) and Redis (db 13, flushed at start). Serves the app
with gunicorn and the project's gunicorn.conf.py (what `web` runs in production: sync workers, two
per CPU; production config, catalog cache in Redis), then runs
wrk (Debian's package; installed if missing) with 16 connections per case:
  ceiling    GET /api/core/ping                      (the same server's bare JSON endpoint)
  list       GET /api/v1/products/?page_size=24
  filtered   GET /api/v1/products/?category=<big category>&min_price=20&max_price=200&sort=price
  detail     GET /api/v1/products/<id>/
Each case runs cold first (catalog cache flushed: every request a miss until filled, which for a
fixed URL is only the first) and is reported warm: the figures are the cached path a storefront
sees for repeated pages. A second table times the uncached queries alone, one client, so the
database work behind a miss is visible too. Figures go to bench/results/api_bench.{json,md}.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from serving import gunicorn_argv, wait_until_up  # noqa: E402

RESULTS = ROOT / "bench" / "results"
DEFAULT_DB = "mysql+mysqldb://root@127.0.0.1:3306/shop_bench?charset=utf8mb4"


def _wrk_bin() -> str:
    path = shutil.which("wrk")
    if not path:
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False)
        path = shutil.which("wrk")
    if not path:
        sys.exit("wrk is needed: apt-get install wrk")
    return path


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(wrk: str, url: str, connections: int, duration: int, tenant: str) -> dict:
    out = subprocess.run(
        [
            wrk,
            "-t2",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "-H",
            f"X-Tenant: {tenant}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    dist = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)$", out, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": _ms(dist["50"]),
        "p90_ms": _ms(dist["90"]),
        "p99_ms": _ms(dist["99"]),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--port", type=int, default=5077)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--tenant", default="default")
    parser.add_argument(
        "--workers", type=int, help="gunicorn worker processes (default: gunicorn.conf.py's)"
    )
    parser.add_argument(
        "--worker-class", help="gunicorn worker class (default: gunicorn.conf.py's, sync)"
    )
    parser.add_argument(
        "--threads", type=int, help="gunicorn threads per worker (with --worker-class gthread)"
    )
    parser.add_argument(
        "--cases",
        default="ceiling,list,filtered,detail",
        help="comma-separated subset of the cases (ceiling is always run: it is the reference)",
    )
    args = parser.parse_args()

    import redis

    redis.Redis.from_url(args.redis_url).flushdb()
    env = {
        **os.environ,
        "APP_CONFIG": "production",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "SECRET_KEY": "bench-secret-key-0123456789abcdefghijklmnop",
        "INSTANCE_PATH": "/tmp/api-bench-instance",
    }
    gunicorn, server_desc = gunicorn_argv(
        args.port, worker_class=args.worker_class, workers=args.workers, threads=args.threads
    )
    server = subprocess.Popen(gunicorn, cwd=ROOT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{args.port}"
    headers = {"X-Tenant": args.tenant}
    try:
        wait_until_up(base, server)
        listing = requests.get(
            base + "/api/v1/products/?page_size=1", headers=headers, timeout=30
        ).json()
        product_id = listing["items"][0]["id"]
        categories = requests.get(
            base + "/api/v1/products/categories/", headers=headers, timeout=30
        ).json()["items"]
        category = max((c for c in categories if c.get("depth", 0) >= 1), key=lambda c: c["id"])[
            "slug"
        ]
        cases = {
            "ceiling": "/api/core/ping",
            "list": "/api/v1/products/?page_size=24",
            "filtered": f"/api/v1/products/?page_size=24&category={category}&min_price=20&max_price=200&sort=price",
            "detail": f"/api/v1/products/{product_id}/",
        }
        wanted = {"ceiling", *args.cases.split(",")}
        cases = {name: path for name, path in cases.items() if name in wanted}
        # the database work behind a cache miss: one client, cache flushed before each request
        cold = {}
        for name, path in cases.items():
            times = []
            for _ in range(15):
                redis.Redis.from_url(args.redis_url).flushdb()
                start = time.perf_counter()
                response = requests.get(base + path, headers=headers, timeout=60)
                times.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, (
                    path,
                    response.status_code,
                    response.text[:200],
                )
            cold[name] = {
                "p50_ms": round(statistics.median(times), 1),
                "max_ms": round(max(times), 1),
            }
        wrk = _wrk_bin()
        warm = {}
        for name, path in cases.items():
            run_wrk(wrk, base + path, args.connections, 3, args.tenant)  # warm-up (fills the cache)
            warm[name] = run_wrk(wrk, base + path, args.connections, args.duration, args.tenant)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)

    ceiling = warm["ceiling"]["rps"]
    for figures in warm.values():
        figures["share_of_ceiling"] = round(figures["rps"] / ceiling, 3)
    result = {
        "when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "connections": args.connections,
        "duration_s": args.duration,
        "server": server_desc,
        "cases": cases,
        "warm": warm,
        "uncached_single_client": cold,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "api_bench.json").write_text(json.dumps(result, indent=2))
    lines = [
        f"### {result['when']}: {args.connections} connections, {args.duration} s per case (wrk), "
        f"{result['server']}, MariaDB 100k products, catalog cache in Redis",
        "",
        "| case | req/s | share of ceiling | p50 ms | p90 ms | p99 ms | non-2xx | uncached p50 ms (1 client) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, f in warm.items():
        lines.append(
            f"| {name} | {f['rps']:.0f} | {f['share_of_ceiling']:.0%} | {f['p50_ms']:.2f} | "
            f"{f['p90_ms']:.2f} | {f['p99_ms']:.2f} | {f['non_2xx']} | {cold[name]['p50_ms']} |"
        )
    with open(RESULTS / "api_bench.md", "a") as fh:
        fh.write("\n".join(lines) + "\n\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
