"""gunicorn's settings for the `web` service (docker-compose) and the benchmarks in bench/.

gunicorn reads ./gunicorn.conf.py from its working directory, so `gunicorn wsgi:app` from the
project root serves with these; command-line flags (`-b`, `-w`, `-k`) and GUNICORN_CMD_ARGS
override them.

Worker model: sync workers, two per CPU (WEB_CONCURRENCY overrides). Each process runs one
request at a time, so no request waits for the GIL behind another one: threads in one process
hand the GIL over every 5 ms (sys.getswitchinterval()), and a request whose answer from Redis or
MariaDB has arrived waits behind the others' Python work. Measured by bench/api_bench.py on the
2-CPU development machine, 100,000 products, 16 connections, minutes apart (2026-11-26 01:43-01:46
UTC, bench/results/api_bench.md):

    server                         ceiling req/s, p99   product list req/s, p99   detail req/s, p99
    sync, 4 workers (this file)    2594, 8.9 ms         1742, 11.5 ms             1770, 11.4 ms
    gthread, 2 workers x 4 threads 2694, 24.8 ms         642, 36.3 ms             1692, 27.2 ms

What sync workers need from the deployment:
- a buffering reverse proxy in front (nginx, a cloud load balancer): a sync worker is busy for
  as long as a client takes to send its request and read its answer, so slow clients must meet
  the proxy, not the worker;
- no long-lived connections: /socket.io/ has its own service, `realtime` (`flask realtime`:
  gunicorn with one threaded worker, jobs/realtime_server.py), behind the same proxy, never
  these workers.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:5000")
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2)
worker_class = "sync"
# a request running longer than this is killed and logged (bulk work belongs in RQ jobs)
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
