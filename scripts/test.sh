#!/usr/bin/env bash
# `make test`: ruff, the full pytest suite on MariaDB + Redis, the smoke subset on SQLite, the
# fault suite (tests/faults: a private MariaDB, Redis, gunicorn, worker and scheduler, pieces
# killed under traffic; `make test-faults` runs it alone), then the dependency audit (scripts/audit.sh).
#
# Prepares what it needs: the virtualenvs (the app's; Superset's, for tests/superset), Debian's
# chromium (browser tests) and docker-compose (tests/test_compose.py), MariaDB + Redis, and the
# test database. Lint and both pytest runs always all run; the script exits non-zero if any of
# them failed (pytest exit 5, "no tests collected", counts as a failure).
#
# Runs are serialised per machine (flock), because the suite recreates the test database.
#
# Environment knobs: TEST_DATABASE_URL, TEST_REDIS_URL (full run), PYTEST_ARGS (extra arguments for
# both pytest runs, e.g. PYTEST_ARGS="-x -k orders"), KEEP_TEST_TMP=1 (keep the temp dir),
# TEST_WORKERS (pytest-xdist workers, default 2; each has its own database and Redis db, see
# tests/conftest.py; 0 runs in one process).
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"

log "Step 1/9: virtualenvs (the app's, Superset's) and front-end assets"
ensure_venv
ensure_assets
echo "using $VENV"
# Apache Superset's own venv (tests/superset start it for real): built once per pins hash (~80 s),
# a no-op afterwards; the tests never skip for a missing one
"$ROOT/scripts/superset.sh" install
echo "Superset venv: $("$ROOT/scripts/superset.sh" --path)"
PY="$VENV/bin/python"

log "Step 2/9: system packages (chromium for browser tests, docker-compose for compose checks)"
missing=()
[[ -x $CHROMIUM ]] || missing+=(chromium)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
if ((${#missing[@]})); then
    apt_install "${missing[@]}"
else
    echo "chromium and docker-compose present"
fi
[[ -x $CHROMIUM ]] || die "$CHROMIUM missing after apt-get install chromium"

log "Step 3/9: MariaDB and Redis"
"$ROOT/scripts/services.sh"

# The tests configure themselves through TEST_* variables only: drop the runtime settings a
# developer's shell may carry so that a run cannot reach a real database, cluster or Redis.
unset DATABASE_URL REDIS_URL ELASTICSEARCH_URL SUPERSET_URL SOCKETIO_MESSAGE_QUEUE \
    RATELIMIT_STORAGE_URI JOBS_MODE SECRET_KEY INSTANCE_PATH SUPERSET_PUBLIC_URL SUPERSET_USERNAME \
    SUPERSET_PASSWORD SUPERSET_METADATA_DB_URI SUPERSET_HOME SUPERSET_PORT BI_DATABASE_URL \
    BI_DB_USER BI_DB_PASSWORD BI_EMBED_ORIGIN
export APP_CONFIG=testing
export FLASK_APP=wsgi.py
export CHROMIUM_PATH="$CHROMIUM"  # for Playwright's executable_path (never `playwright install`)
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-mysql+mysqldb://root@127.0.0.1:3306/shop_test?charset=utf8mb4}"
export TEST_REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}"

work="$(mktemp -d "${TMPDIR:-/tmp}/marketplace-test.XXXXXX")"
cleanup() {
    if [[ -n ${faults_pid:-} ]] && kill -0 "$faults_pid" 2>/dev/null; then
        kill "$faults_pid" 2>/dev/null || true  # the script ended early: so does the fault suite
    fi
    if [[ ${KEEP_TEST_TMP:-0} == 1 ]]; then
        echo "kept $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

# tests/conftest.py drops and recreates the test database: one `make test` at a time per machine.
exec {run_lock}>"${TMPDIR:-/tmp}/marketplace-make-test.lock"
if ! flock -n "$run_lock"; then
    echo "another make test is running on this machine; waiting for it (up to 30 min)"
    flock -w 1800 "$run_lock" || die "gave up waiting for the other make test run"
fi

log "Step 4/9: test database ($TEST_DATABASE_URL)"
"$PY" - <<'PY'
import os
import re
import sys

import pymysql
from sqlalchemy.engine import make_url

url = make_url(os.environ["TEST_DATABASE_URL"])
if url.get_backend_name() not in ("mysql", "mariadb"):
    print(f"{url.get_backend_name()}: nothing to create")
    sys.exit(0)
name = url.database or ""
if not re.fullmatch(r"\w+", name):
    sys.exit(f"unexpected database name in TEST_DATABASE_URL: {name!r}")
conn = pymysql.connect(host=url.host or "127.0.0.1", port=url.port or 3306, user=url.username or "root",
                       password=url.password or "", connect_timeout=10)
with conn.cursor() as cur:
    cur.execute(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4")
conn.close()
print(f"database {name} ready")
PY

failures=()
run_step() {  # run_step TITLE COMMAND...: run, report, remember a failure, keep going
    local title=$1 rc=0
    shift
    log "$title"
    echo "+ $*"
    "$@" || rc=$?
    if ((rc == 0)); then
        echo "PASSED: $title"
        return 0
    fi
    if ((rc == 5)); then
        echo "ERROR: $title collected no tests (pytest exit code 5): the tests are missing or deselected" >&2
    fi
    echo "FAILED: $title (exit code $rc)" >&2
    failures+=("$title (exit code $rc)")
}

extra=()
read -r -a extra <<<"${PYTEST_ARGS:-}"
workers=()
if ((${TEST_WORKERS:-2} > 0)); then
    workers=(-n "${TEST_WORKERS:-2}" --dist loadfile)  # a test file stays on one worker
fi

run_step "Step 5/9: lint (ruff check, ruff format --check, lint-imports)" \
    bash -c '"$1/ruff" check . && "$1/ruff" format --check . && "$1/lint-imports"' lint "$VENV/bin"

# The fault suite runs beside steps 6 and 7: it starts its own MariaDB, Redis, gunicorn and workers
# on spare ports (never the services steps 6-7 use) and spends most of its time waiting out its
# faults (a 60 s Redis outage, RQ's abandoned-job cleanup), so in series it would add ~8 minutes.
# Its output is printed as step 8, when it has finished.
faults_log="$work/faults.log"
log "Step 8/9 starts now, in the background: fault suite (output: after step 7)"
"$ROOT/scripts/test-faults.sh" >"$faults_log" 2>&1 &
faults_pid=$!
finish_faults() {
    local rc=0
    wait "$faults_pid" || rc=$?
    cat "$faults_log"
    return "$rc"
}

run_step "Step 6/9: full pytest suite on MariaDB + Redis (without the fault suite: step 8)" \
    env INSTANCE_PATH="$work/instance-full" \
    "$PY" -m pytest -m "not faults" --durations=25 "${workers[@]}" "${extra[@]}"

smoke_db="$work/smoke.db"
run_step "Step 7/9: smoke tests (-m smoke) on SQLite $smoke_db" \
    env INSTANCE_PATH="$work/instance-smoke" TEST_DATABASE_URL="sqlite:///$smoke_db" \
    "$PY" -m pytest -m smoke "${workers[@]}" "${extra[@]}"

# one process, no xdist: the suite starts its own stack of servers once (tests/faults/harness.py)
run_step "Step 8/9: fault suite (-m faults: MariaDB, Redis, worker, gunicorn and gateway faults)" \
    finish_faults

# Known vulnerabilities in the pins (scripts/audit.sh): sources this machine cannot reach are
# reported and skipped here; `make audit` alone fails on them.
run_step "Step 9/9: dependency audit (pip-audit, npm audit; where the advisory sources are reachable)" \
    env AUDIT_IF_REACHABLE=1 "$ROOT/scripts/audit.sh"

echo
if ((${#failures[@]})); then
    echo "make test FAILED:" >&2
    printf '  - %s\n' "${failures[@]}" >&2
    exit 1
fi
echo "make test passed: lint, full suite (MariaDB + Redis), smoke (SQLite), fault suite, dependency audit"
