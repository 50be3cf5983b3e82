"""Times each SQL statement of the biggest seller's uncached dashboard, balances and statement
export on the bench's shop (bench/seller_ledger_bench.py seeds it; run that first):

    python bench/seller_queries_timing.py [--repeat 3] [--only statement|dashboard|balances]

In-process (no HTTP), no cache: the figures a request recomputes after a change. Prints, per run,
each statement's time (cursor execute to last row fetched is not split: the statement's time is
from execute to the next statement, so a streamed export's rows count in its time) and the total."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "mysql+mysqldb://root@127.0.0.1:3306/shop_ledger_bench?charset=utf8mb4"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/2")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=("statement", "dashboard", "balances"), action="append")
    args = parser.parse_args()
    os.environ["APP_CONFIG"] = "testing"
    os.environ["TEST_REDIS_URL"] = args.redis_url

    from sqlalchemy import event

    from app import create_app
    from app.core.tenancy import tenant_scope
    from app.dashboards import Period, _seller_figures
    from app.extensions import db
    from app.payouts.statements import Period as StatementPeriod
    from app.payouts.statements import balances_and_next_change, statement_lines

    shop = json.loads((ROOT / "bench" / "results" / "seller_ledger_shop.json").read_text())
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=args.database_url)
    marks: list[tuple[float, str]] = []

    with app.app_context(), tenant_scope(shop["tenant_id"]):

        @event.listens_for(db.engine, "before_cursor_execute")
        def _before(conn, cursor, statement, parameters, context, executemany):
            marks.append((time.perf_counter(), " ".join(statement.split())[:110]))

        seller = shop["biggest_seller_id"]
        cases = {
            "balances": lambda: balances_and_next_change(seller),
            "dashboard": lambda: _seller_figures(seller, Period.last(30)),
            "statement": lambda: sum(1 for _ in statement_lines(seller, StatementPeriod())),
        }
        for name in args.only or list(cases):
            for run in range(args.repeat):
                marks.clear()
                started = time.perf_counter()
                result = cases[name]()
                ended = time.perf_counter()
                db.session.rollback()
                print(
                    f"{name} run {run + 1}: {ended - started:.3f} s"
                    + (f" ({result} rows)" if isinstance(result, int) else "")
                )
                for i, (at, sql) in enumerate(marks):
                    until = marks[i + 1][0] if i + 1 < len(marks) else ended
                    print(f"    {1000 * (until - at):9.1f} ms  {sql}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
