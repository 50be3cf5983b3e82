"""bench/soak.py's pieces, in seconds, against real processes (no mocks): its /proc reader, its
load generator and sampler against a pre-forking HTTP server of a few lines (a master and two
worker processes, as gunicorn's), and its verdict, which must fail on a 5xx and on memory growth
and pass on a clean, flat run. The whole soak (gunicorn, RQ, MariaDB, Redis) is run by hand:
`python bench/soak.py --minutes 1 --products 2000` (bench/README.md)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "soak.py"
_spec = importlib.util.spec_from_file_location("bench_soak", SCRIPT)
soak = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(soak)

# A master that binds, then forks two workers serving the same socket: /ok answers 200, /boom
# 500, /leak 200 after keeping 2 MB more in that worker (a leak the sampler must see).
SERVER = textwrap.dedent(
    """
    import os, sys, time
    from http.server import BaseHTTPRequestHandler, HTTPServer

    kept = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self):
            if self.path == "/leak":
                kept.append(bytearray(os.urandom(2 * 2**20)))
            status = 500 if self.path == "/boom" else 200
            body = b'{"ok": true}'
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    for _ in range(2):
        if os.fork() == 0:
            server.serve_forever()
    while True:
        time.sleep(1)
    """
)


@pytest.fixture
def server():
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    port = int(proc.stdout.readline())
    yield proc, port
    os.killpg(proc.pid, 9)
    proc.wait()


def _get(path: str):
    def action(http, shop, rng, due):
        http.request(path, "GET", path, due=due)

    action.__name__ = f"a_{path.strip('/')}"
    return action


def _run(port: int, pid: int, actions, seconds: float = 2.0, rate: float = 60.0):
    """An open-loop run with the sampler going every 0.25 s: (samples, recorder, figures)."""
    recorder = soak.Recorder()
    sampler = soak.Sampler(recorder, 0.25, web_master=pid)
    thread = threading.Thread(target=sampler.run, daemon=True)
    thread.start()
    figures = soak.open_loop(("127.0.0.1", port), None, rate, seconds, 8, recorder, actions=actions)
    sampler.stop.set()  # at once: the last, partial interval must be sampled too
    thread.join()
    return sampler.samples, recorder, figures


def test_proc_stat_reads_rss_cpu_and_parent_of_a_real_process():
    # a child with a command name holding ") (" (the stat line must be split after the last ")"),
    # 96 MB resident, and about half a second of CPU used
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                """
                import sys, time
                open("/proc/self/comm", "w").write("a) b (c")
                block = bytearray(96 * 2**20)
                for i in range(0, len(block), 4096):
                    block[i] = 1
                end = time.process_time() + 0.5
                while time.process_time() < end:
                    pass
                print("ready", flush=True)
                sys.stdin.read()
                """
            ),
        ],
        stdout=subprocess.PIPE,
        stdin=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "ready"
        stat = soak.proc_stat(child.pid)
        assert Path(f"/proc/{child.pid}/comm").read_text().strip() == "a) b (c"
        assert stat["pid"] == child.pid
        assert stat["ppid"] == os.getpid()
        assert 96 <= stat["rss_mb"] < 200
        assert 0.4 <= stat["cpu_s"] < 5
        assert child.pid in soak.children(os.getpid())
    finally:
        child.stdin.close()
        child.wait()
    assert soak.proc_stat(child.pid) is None  # gone (reaped)


def test_the_load_generator_and_sampler_count_what_the_server_answered(server):
    proc, port = server
    samples, recorder, figures = _run(port, proc.pid, ((_get("/ok"), 3), (_get("/boom"), 1)))
    assert len(samples) >= 6
    # every request the client recorded is in exactly one sample (the sampler's baseline took
    # none, its last sample, taken when stopped, the rest)
    assert sum(s["requests"] for s in samples) == len(recorder.records)
    assert figures["actions"] == len(recorder.records) > 60
    statuses = {}
    for s in samples:
        for code, n in s["statuses"].items():
            statuses[code] = statuses.get(code, 0) + n
    assert statuses == {
        "200": sum(1 for r in recorder.records if r[1] == "/ok"),
        "500": sum(1 for r in recorder.records if r[1] == "/boom"),
    }
    assert statuses["500"] > 0
    # the master's two forked workers, found through /proc, with their resident memory
    workers = soak.children(proc.pid)
    assert len(workers) == 2
    assert set(samples[-1]["web_rss_mb"]) == set(workers)
    assert all(5 < mb < 100 for mb in samples[-1]["web_rss_mb"].values())
    assert all(s["p99_ms"] >= s["p50_ms"] > 0 for s in samples if s["requests"])

    result = soak.verdict(samples)
    checks = {c["name"]: c for c in result["checks"]}
    assert not result["ok"]
    assert not checks["zero 5xx"]["ok"]
    assert f"{statuses['500']} 5xx" in checks["zero 5xx"]["detail"]
    assert checks["web RSS growth < 10 %"]["ok"], checks["web RSS growth < 10 %"]["detail"]


def test_the_verdict_passes_a_flat_clean_run_and_fails_on_memory_growth(server):
    proc, port = server
    samples, _, _ = _run(port, proc.pid, ((_get("/ok"), 1),))
    result = soak.verdict(samples, p99_slack_ms=1000)
    assert result["ok"], result["checks"]

    # the same server, now keeping 2 MB per request: ~40 requests/s grow its workers' memory
    samples, _, _ = _run(port, proc.pid, ((_get("/leak"), 1),), seconds=3.0, rate=40)
    result = soak.verdict(samples, p99_slack_ms=1000)
    checks = {c["name"]: c for c in result["checks"]}
    assert not result["ok"]
    assert not checks["web RSS growth < 10 %"]["ok"]
    assert checks["zero 5xx"]["ok"]
    first, last = samples[0]["web_rss_total_mb"], samples[-1]["web_rss_total_mb"]
    assert last > first * 1.5, (first, last)
