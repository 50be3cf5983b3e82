"""Superset bench (issue 17): the time from a cold start to the first rendered dashboard, and the
p50/p95 time for the embedded Sales dashboard to render for a Seller in headless Chromium.

    python bench/superset_bench.py --database-url 'mysql+mysqldb://root@127.0.0.1:3306/shop?charset=utf8mb4' \
        --seller seller1@example.com --password demo-password-1 [--tenant default] [--runs 20] [--cold]

Cold: a NEW Superset virtualenv (--cold; pip's download cache may be warm), a new metadata DB,
`superset init`, gunicorn, `flask bi grant`, the bundle imported, then the admin's BI page as the
Seller until the "Sales by store" table shows a row. Without --cold the cached venv is used. Each
render: a fresh page load of /admin/analytics/bi/?dashboard=sales (the app fetches a guest token,
the SDK mounts the iframe, Superset queries the BI views) until the table's first row is visible.
The app runs in-process (werkzeug, threaded) on the given database; Superset on a free port.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SCRIPT = ROOT / "scripts" / "superset.sh"


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--seller", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--tenant", default="default")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--cold", action="store_true")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="superset-bench-"))
    port, app_port = _port(), _port()
    url = f"http://127.0.0.1:{port}"
    admin_password = secrets.token_urlsafe(12)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUPERSET_")}
    env.update(
        SUPERSET_SECRET_KEY=secrets.token_urlsafe(40),
        SUPERSET_HOME=str(work / "home"),
        SUPERSET_PORT=str(port),
        SUPERSET_PUBLIC_URL=url,
        SUPERSET_ADMIN_PASSWORD=admin_password,
        SUPERSET_ADMIN_ORIGIN=f"http://127.0.0.1:{app_port}",
        SUPERSET_CACHE_KEY_PREFIX=f"superset_bench_{secrets.token_hex(4)}_",
    )
    if args.cold:
        env["SUPERSET_VENV"] = str(work / "venv")
    # the app's settings, read by config.py when it is imported below
    bi_password = secrets.token_urlsafe(16)
    os.environ.update(
        APP_CONFIG="development",
        DATABASE_URL=args.database_url,
        SUPERSET_URL=url,
        SUPERSET_PUBLIC_URL=url,
        SUPERSET_PASSWORD=admin_password,
        BI_DB_USER="shop_bi_bench",
        BI_DB_PASSWORD=bi_password,
        INSTANCE_PATH=str(work / "instance"),
    )
    log = open(work / "superset.log", "w")  # noqa: SIM115
    started = time.monotonic()
    steps = {}
    subprocess.run([str(SCRIPT), "install"], env=env, check=True, stdout=log, stderr=log)
    steps["venv"] = time.monotonic() - started
    print(f"venv ready at {steps['venv']:.1f} s", flush=True)
    subprocess.run([str(SCRIPT), "init"], env=env, check=True, stdout=log, stderr=log)
    steps["init"] = time.monotonic() - started
    server = subprocess.Popen(
        [str(SCRIPT), "serve-only"], env=env, stdout=log, stderr=log, start_new_session=True
    )
    try:
        while True:
            try:
                if requests.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.3)
        steps["serving"] = time.monotonic() - started

        from werkzeug.serving import make_server

        from analytics import bi
        from app import create_app
        from app.extensions import db

        app = create_app("development")
        with app.app_context():
            bi.grant_readonly_user(db.engine, "shop_bi_bench", bi_password, "%")
            bi.SupersetClient.from_config(app.config).import_bundle(
                bi.bi_database_uri(app.config), bi_password
            )
        steps["imported"] = time.monotonic() - started
        http = make_server("127.0.0.1", app_port, app, threaded=True)
        threading.Thread(target=http.serve_forever, daemon=True).start()
        times = render(f"http://127.0.0.1:{app_port}", args, steps, started)
        http.shutdown()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
        log.close()
    ms = sorted(t * 1000 for t in times)
    p95 = ms[max(0, round(0.95 * len(ms)) - 1)]
    print(f"cold={'yes (new venv)' if args.cold else 'no (cached venv)'}")
    for name, at in steps.items():
        print(f"  {name:<16} at {at:6.1f} s")
    print(
        f"Seller's embedded Sales dashboard, {len(ms)} renders: p50 {statistics.median(ms):.0f} ms,"
        f" p95 {p95:.0f} ms, max {ms[-1]:.0f} ms"
    )


def render(app_url: str, args, steps: dict, started: float) -> list[float]:
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(
            viewport={"width": 1400, "height": 1200}, extra_http_headers={"X-Tenant": args.tenant}
        )
        page.goto(f"{app_url}/login/")
        page.fill("input[name=username]", args.seller)
        page.fill("input[name=password]", args.password)
        page.click("input[type=submit], button[type=submit]")
        page.wait_for_url(lambda u: "/login" not in u)
        for run in range(args.runs + 1):
            t0 = time.monotonic()
            page.goto(f"{app_url}/admin/analytics/bi/?dashboard=sales")
            frame = page.frame_locator("#bi-frame iframe")
            try:
                frame.locator("table tbody tr").first.wait_for(state="visible", timeout=120_000)
            except Exception:
                page.screenshot(path="/tmp/superset-bench-failed.png", full_page=True)
                raise
            took = time.monotonic() - t0
            if run == 0:
                steps["first render"] = time.monotonic() - started
            else:
                times.append(took)
        browser.close()
    return times


if __name__ == "__main__":
    main()
