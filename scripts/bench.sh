#!/usr/bin/env bash
# `make bench`: HTTP latency/throughput of the production server setup (gunicorn gthread, as in
# docker-compose.yml) on a throw-away database, written to bench/results/<UTC time>.json.
#   BENCH_DATABASE_URL  database to use (default: a fresh SQLite file in a temp dir)
#   BENCH_PATHS         space-separated URL paths (default: "/api/core/health /api/v1/products")
#   BENCH_SECONDS       duration per path (10), BENCH_CONCURRENCY client threads (8)
#   BENCH_PORT          port for the benchmarked server (5055)
#   BENCH_SEED_ARGS     arguments for `flask seed` (default: --if-empty)
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"

ensure_venv
export PATH="$VENV/bin:$PATH"

work="$(mktemp -d "${TMPDIR:-/tmp}/marketplace-bench.XXXXXX")"
server_pid=""
cleanup() {
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

unset REDIS_URL ELASTICSEARCH_URL SUPERSET_URL SOCKETIO_MESSAGE_QUEUE RATELIMIT_STORAGE_URI JOBS_MODE
export APP_CONFIG=development
export FLASK_APP=wsgi.py
export INSTANCE_PATH="$work/instance"
export DATABASE_URL="${BENCH_DATABASE_URL:-sqlite:///$work/bench.db}"
BENCH_PORT="${BENCH_PORT:-5055}"
read -r -a seed_args <<<"${BENCH_SEED_ARGS:---if-empty}"
mkdir -p "$INSTANCE_PATH" "$ROOT/bench/results"

log "Preparing $DATABASE_URL"
flask db upgrade
flask init >/dev/null
flask seed "${seed_args[@]}"

log "Starting gunicorn on 127.0.0.1:$BENCH_PORT"
gunicorn -w 2 -k gthread --threads 4 -b "127.0.0.1:$BENCH_PORT" --log-level warning wsgi:app \
    >"$work/gunicorn.log" 2>&1 &
server_pid=$!
ready=0
for ((i = 0; i < 60; i++)); do
    if "$VENV/bin/python" -c "import sys, urllib.request
try:
    urllib.request.urlopen('http://127.0.0.1:$BENCH_PORT/api/core/health', timeout=1)
except urllib.error.HTTPError:
    pass
except OSError:
    sys.exit(1)" 2>/dev/null; then
        ready=1
        break
    fi
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/gunicorn.log" >&2; die "gunicorn exited"; }
    sleep 1
done
((ready)) || { cat "$work/gunicorn.log" >&2; die "gunicorn did not answer on port $BENCH_PORT within 60s"; }

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
out="$ROOT/bench/results/$stamp.json"
log "Benchmarking (results: bench/results/$stamp.json)"
BENCH_BASE="http://127.0.0.1:$BENCH_PORT" BENCH_OUT="$out" \
    BENCH_PATHS="${BENCH_PATHS:-/api/core/health /api/v1/products}" \
    BENCH_SECONDS="${BENCH_SECONDS:-10}" BENCH_CONCURRENCY="${BENCH_CONCURRENCY:-8}" \
    "$VENV/bin/python" - <<'PY'
import json
import os
import platform
import statistics
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import Counter

base = os.environ["BENCH_BASE"]
seconds = float(os.environ["BENCH_SECONDS"])
concurrency = int(os.environ["BENCH_CONCURRENCY"])


def hit(url):
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            resp.read()
            status = resp.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except OSError:
        status = 0
    return status, (time.perf_counter() - start) * 1000


def bench(path):
    url = base + path
    latencies, statuses, lock = [], Counter(), threading.Lock()
    deadline = time.monotonic() + seconds

    def loop():
        while time.monotonic() < deadline:
            status, ms = hit(url)
            with lock:
                latencies.append(ms)
                statuses[status] += 1

    hit(url)  # warm-up
    threads = [threading.Thread(target=loop) for _ in range(concurrency)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - began
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [latencies[0]] * 99
    ok = sum(n for s, n in statuses.items() if 200 <= s < 400)
    return {
        "path": path, "requests": len(latencies), "ok": ok, "errors": len(latencies) - ok,
        "statuses": {str(s): n for s, n in sorted(statuses.items())},
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(q[49], 2), "p95_ms": round(q[94], 2), "p99_ms": round(q[98], 2),
        "max_ms": round(max(latencies), 2),
    }


try:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
except OSError:
    commit = ""
results = [bench(p) for p in os.environ["BENCH_PATHS"].split()]
report = {
    "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "commit": commit or None,
    "python": platform.python_version(), "server": "gunicorn -w 2 -k gthread --threads 4",
    "database": os.environ["DATABASE_URL"].split("://")[0], "seconds_per_path": seconds,
    "concurrency": concurrency, "results": results,
}
tmp = os.environ["BENCH_OUT"] + ".tmp"
with open(tmp, "w") as fh:
    json.dump(report, fh, indent=2)
os.replace(tmp, os.environ["BENCH_OUT"])
print(f"{'path':<32} {'req':>7} {'err':>6} {'rps':>8} {'p50':>8} {'p95':>8} {'p99':>8}")
for r in results:
    print(f"{r['path']:<32} {r['requests']:>7} {r['errors']:>6} {r['rps']:>8} "
          f"{r['p50_ms']:>8} {r['p95_ms']:>8} {r['p99_ms']:>8}")
PY
