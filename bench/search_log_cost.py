"""What logging a search costs the search (issue 19: under 10 %), in one process, interleaved:
the same anonymous search (`/api/v1/search/products/?q=WORD`, cards included) with the search log
off, logged the production way with RQ (JOBS_MODE=rq: one Redis call, app/search/log_buffer.py)
and logged through the outbox as before (SEARCH_LOG_BUFFER=false: an outbox row, a commit and an
RQ job per search; no worker runs, so jobs only pile up in Redis db 13, emptied first and last).

CPU per request from the process's own clock (time.process_time: the app's Python and driver
work; MariaDB's and Redis's own CPU are not in it, and the outbox path also costs MariaDB a
commit), over ROUNDS rounds of N requests per mode, modes rotated each round. Prints and writes
bench/results/search_log_cost.{json,md}.

    <venv>/bin/python bench/search_log_cost.py [N] [ROUNDS]

Needs `shop_bench` (bench/seed_bench.py) and its search index in SEARCH_INDEX_DIR (default
/tmp/bench-compare/search-index, the one `make bench-compare` builds)."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, os.getcwd())
os.environ.update(
    APP_CONFIG="production",
    DATABASE_URL=os.environ.get(
        "BENCH_DATABASE_URL", "mysql+mysqldb://root@127.0.0.1:3306/shop_bench?charset=utf8mb4"
    ),
    REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"),
    SECRET_KEY="bench-" + "x" * 40,
    JWT_SECRET_KEY="bench-" + "y" * 40,
    INSTANCE_PATH=os.environ.get("BENCH_INSTANCE_PATH", "/tmp/search-log-bench-instance"),
    SEARCH_INDEX_DIR=os.environ.get("SEARCH_INDEX_DIR", "/tmp/bench-compare/search-index"),
    JOBS_MODE="rq",
)

import redis  # noqa: E402  (after the environment is set)

from app import create_app  # noqa: E402
from app.search import log_buffer  # noqa: E402

MODES = {
    "off": {"SEARCH_LOG_QUERIES": False},
    "buffered": {"SEARCH_LOG_QUERIES": True, "SEARCH_LOG_BUFFER": True},
    "outbox": {"SEARCH_LOG_QUERIES": True, "SEARCH_LOG_BUFFER": False},
}
RESULTS = Path(__file__).parent / "results"


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 6
    word = os.environ.get("SEARCH_WORD", "classic")
    connection = redis.Redis.from_url(os.environ["REDIS_URL"])
    connection.flushdb()
    app = create_app()
    app.config["RATELIMIT_ENABLED"] = False
    app.config["API_SEARCH_RATE_LIMIT"] = "100000000/minute"
    client = app.test_client()
    path = f"/api/v1/search/products/?q={word}"
    headers = {"X-Tenant": "default"}
    first = client.get(path, headers=headers)
    assert first.status_code == 200 and first.get_json()["total"] > 0, first.get_data()[:300]
    samples: dict[str, list[float]] = {mode: [] for mode in MODES}
    names = list(MODES)
    for r in range(rounds):
        order = names[r % 3 :] + names[: r % 3]
        for mode in order:
            app.config.update(MODES[mode])
            for _ in range(30):  # warm-up
                assert client.get(path, headers=headers).status_code == 200
            start = time.process_time()
            statuses = {client.get(path, headers=headers).status_code for _ in range(n)}
            samples[mode].append((time.process_time() - start) / n * 1000)
            assert statuses == {200}, (mode, statuses)
    with app.app_context():
        buffered_left = log_buffer.pending()
        written = log_buffer.flush()
    connection.flushdb()
    off = statistics.median(samples["off"])
    result = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": f"{platform.node()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}",
        "requests_per_mode_and_round": n,
        "rounds": rounds,
        "query": path,
        "cpu_ms_per_search_median": {m: round(statistics.median(v), 3) for m, v in samples.items()},
        "cpu_ms_per_search_rounds": {m: [round(x, 3) for x in v] for m, v in samples.items()},
        "logging_cost_vs_off": {
            m: round(statistics.median(samples[m]) / off - 1, 3) for m in ("buffered", "outbox")
        },
        "buffered_entries_flushed_after": {"pending": buffered_left, "written": written},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "search_log_cost.json").write_text(json.dumps(result, indent=2) + "\n")
    med = result["cpu_ms_per_search_median"]
    cost = result["logging_cost_vs_off"]
    md = [
        "# What logging a search costs the search (bench/search_log_cost.py)",
        "",
        f"{result['when']}, {result['machine']}; `{path}` anonymous, {rounds} rounds of {n}"
        " requests per mode, modes rotated; app process CPU (time.process_time) per request.",
        "",
        "| search log | CPU ms per search (median of rounds) | cost vs. off |",
        "|---|---|---|",
        f"| off | {med['off']} | |",
        f"| buffered in Redis (JOBS_MODE=rq, the default) | {med['buffered']} |"
        f" {cost['buffered']:+.1%} |",
        f"| through the outbox (SEARCH_LOG_BUFFER=false) | {med['outbox']} |"
        f" {cost['outbox']:+.1%} |",
        "",
        f"The buffered entries were then written by one flush: {written} rows"
        f" ({buffered_left} pending before it).",
    ]
    (RESULTS / "search_log_cost.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
