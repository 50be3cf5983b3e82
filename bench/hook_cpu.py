"""Thread CPU of each per-request hook (before/after/teardown, the session's open and save, the
view) over 3,000 test-client requests to one path, in the environment of bench/inproc_cpu.py
(production config, `shop_bench`, Redis db 13 unless BENCH_REDIS_URL says otherwise): where the
framework floor goes, hook by hook. Microseconds per request, largest first:

    cd <tree> && <venv>/bin/python bench/hook_cpu.py [/api/core/ping]

Each hook is wrapped in a timer (time.thread_time_ns, a system call on some machines); the timer's
own cost, measured on an empty function first, is printed and taken off each figure. Compare
trees by interleaved bench/inproc_cpu.py runs, not by these."""

from __future__ import annotations

import collections
import functools
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

spent: collections.Counter = collections.Counter()


def timed(name: str, fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        start = time.thread_time_ns()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[name] += time.thread_time_ns() - start

    return wrapper


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else "/api/core/ping"
    app = create_app()
    for kind in ("before_request_funcs", "after_request_funcs", "teardown_request_funcs"):
        for scope, hooks in getattr(app, kind).items():
            for i, hook in enumerate(hooks):
                name = getattr(hook, "__qualname__", None) or getattr(hook, "func", hook).__name__
                hooks[i] = timed(f"{kind.split('_')[0]:8} {scope or 'app'}: {name}", hook)
    app.teardown_appcontext_funcs[:] = [
        timed(f"appctx   app: {fn.__qualname__}", fn) for fn in app.teardown_appcontext_funcs
    ]
    sessions = app.session_interface
    sessions.open_session = timed("session  open", sessions.open_session)
    sessions.save_session = timed("session  save", sessions.save_session)
    for endpoint, view in list(app.view_functions.items()):
        app.view_functions[endpoint] = timed("view", view)
    app.wsgi_app = timed("app.wsgi_app, all of it", app.wsgi_app)
    client = app.test_client()
    headers = {"X-Tenant": "default"}
    for _ in range(100):
        assert client.get(path, headers=headers).status_code == 200
    empty = timed("empty", lambda: None)
    for _ in range(20000):
        empty()
    overhead = spent.pop("empty") / 20000
    print(f"{overhead / 1000:8.1f} us  the timer itself, taken off each line below")
    spent.clear()
    n = 3000
    for _ in range(n):
        client.get(path, headers=headers)
    for name, ns in spent.most_common():
        print(f"{(ns / n - overhead) / 1000:8.1f} us  {name}")


if __name__ == "__main__":
    main()
