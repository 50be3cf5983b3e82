#!/usr/bin/env bash
# `make bench-compare` (issue 19): the storefront API side by side with a reference peer
# (django-oscar 4.2 + django-oscar-api 3.3) and a bare Flask ceiling, in one run, from a clean clone.
#
#   scripts/bench-compare.sh            set everything up that is missing, run bench/peers/compare.sh,
#                                       copy its table.md / results.tsv to bench/results/compare-<UTC date>.*
#   scripts/bench-compare.sh setup      only the set-up (venvs, databases, search index)
#   scripts/bench-compare.sh --path     print the peer's directory (its two virtualenvs)
#
# Set-up, each step skipped when already done:
#   1. Debian packages: wrk, time, curl, mariadb/redis clients, and mysqlclient's build deps
#      (pkg-config, default-libmysqlclient-dev, build-essential) (apt_install, scripts/common.sh)
#   2. the project's venv (scripts/common.sh ensure_venv, as `make install`)
#   3. the peer's venvs, OUTSIDE the clone, under a flock, keyed by the pins:
#        $PEER_DIR = ~/.cache/marketplace/peer-oscar-<hash of oscar/ + ceiling/requirements.txt>
#        $PEER_DIR/venv-oscar (bench/peers/oscar/requirements.txt), $PEER_DIR/venv-flask (ceiling)
#      with Python 3.11 or 3.12 (Django 5.2)
#   4. database peer_oscar: created, migrated and seeded (seed_catalog --products $PRODUCTS, ~2 min)
#      unless it already holds $PRODUCTS products
#   5. database shop_bench: bench/seed_bench.py --products $PRODUCTS (~3 min) unless it exists, is at
#      the migration head(s) and holds $PRODUCTS products (seed_bench.py only ever drops a database
#      it created itself)
#   6. the project's search index for shop_bench: `flask search reindex` into $SEARCH_INDEX_DIR
#      (about a minute) unless it was built for this shop_bench already
# Then bench/peers/compare.sh runs with this environment passed through (ROUNDS, DURATION, ROWS,
# PROFILE_ROW, SHAPE, ... : see its header).
#
# Touches only: databases peer_oscar and shop_bench, Redis dbs 13 (project) and 14 (peer), files
# under ~/.cache/marketplace and $WORK_DIR. Environment: PRODUCTS=100000, PEER_DIR, WORK_DIR
# (default /tmp/bench-compare: search index, runs), RESULTS_NAME (default compare-<UTC date>),
# PROJECT_DIR (default this clone: another tree of the project to measure, e.g. a worktree of an
# earlier commit for a before/after pair; same venv, database and index).
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PEERS="$ROOT/bench/peers"
PRODUCTS=${PRODUCTS:-100000}
PEER_HASH="$(cat "$PEERS/oscar/requirements.txt" "$PEERS/ceiling/requirements.txt" | sha256sum | cut -c1-12)"
PEER_DIR="${PEER_DIR:-${HOME:-/root}/.cache/marketplace/peer-oscar-$PEER_HASH}"
OSCAR_VENV="$PEER_DIR/venv-oscar"
FLASK_VENV="$PEER_DIR/venv-flask"
WORK_DIR=${WORK_DIR:-/tmp/bench-compare}
SEARCH_INDEX_DIR=${SEARCH_INDEX_DIR:-$WORK_DIR/search-index}
PEER_DB=peer_oscar
PROJECT_DB=shop_bench
PROJECT_DB_URL="mysql+mysqldb://root@127.0.0.1:3306/$PROJECT_DB?charset=utf8mb4"
MYSQL=(mysql -uroot -h127.0.0.1 -N -B)

# ---- 1. Debian packages ---------------------------------------------------------------------
ensure_tools() {
    local missing=()
    command -v wrk >/dev/null 2>&1 || missing+=(wrk)
    [[ -x /usr/bin/time ]] || missing+=(time)
    command -v curl >/dev/null 2>&1 || missing+=(curl)
    command -v mysql >/dev/null 2>&1 || missing+=(mariadb-client)
    command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
    command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
    pkg-config --exists mysqlclient 2>/dev/null || pkg-config --exists libmariadb 2>/dev/null \
        || missing+=(default-libmysqlclient-dev)
    command -v gcc >/dev/null 2>&1 && command -v make >/dev/null 2>&1 || missing+=(build-essential)
    apt_install "${missing[@]}"
}

# ---- 3. the peer's virtualenvs ----------------------------------------------------------------
peer_python() { # Python 3.11 or 3.12 (Django 5.2); python3 first, then python3.11 / python3.12
    local py
    for py in "$PYTHON" python3.11 python3.12; do
        py="$(command -v "$py" || true)"
        [[ -n $py ]] || continue
        if "$py" -c 'import sys; sys.exit(not (3, 11) <= sys.version_info < (3, 13))' 2>/dev/null; then
            printf '%s\n' "$py"
            return 0
        fi
    done
    die "Python 3.11 or 3.12 not found (the peer pins Django 5.2): set PYTHON=/path/to/python3.11"
}

ensure_peer_venvs() {
    local stamp="$PEER_DIR/.peer-installed" want
    want="$PEER_HASH"
    if [[ -x $OSCAR_VENV/bin/gunicorn && -x $FLASK_VENV/bin/gunicorn && -f $stamp && $(<"$stamp") == "$want" ]]; then
        return 0
    fi
    mkdir -p "$(dirname "$PEER_DIR")"
    local lock_fd
    exec {lock_fd}>"$PEER_DIR.lock"
    flock "$lock_fd"
    if [[ -x $OSCAR_VENV/bin/gunicorn && -x $FLASK_VENV/bin/gunicorn && -f $stamp && $(<"$stamp") == "$want" ]]; then
        exec {lock_fd}>&-
        return 0
    fi
    local py
    py="$(peer_python)"
    if ! "$py" -c 'import ensurepip, venv' >/dev/null 2>&1; then
        apt_install python3-venv
    fi
    ensure_mysqlclient_build_deps "$py"  # mysqlclient is built from source, as for the app
    log "Creating the peer's virtualenvs in $PEER_DIR (pins $PEER_HASH) with $py"
    rm -rf "$PEER_DIR"
    mkdir -p "$PEER_DIR"
    "$py" -m venv "$OSCAR_VENV"
    "$OSCAR_VENV/bin/python" -m pip install --disable-pip-version-check --no-input -q \
        -r "$PEERS/oscar/requirements.txt" || die "pip install -r bench/peers/oscar/requirements.txt failed"
    "$py" -m venv "$FLASK_VENV"
    "$FLASK_VENV/bin/python" -m pip install --disable-pip-version-check --no-input -q \
        -r "$PEERS/ceiling/requirements.txt" || die "pip install -r bench/peers/ceiling/requirements.txt failed"
    printf '%s\n' "$want" >"$stamp"
    exec {lock_fd}>&-
    echo "peer virtualenvs ready: $PEER_DIR"
}

# ---- 4. peer_oscar ----------------------------------------------------------------------------
oscar_manage() {
    (cd "$PEERS/oscar" && env PYTHONPYCACHEPREFIX="$PEER_DIR/pycache" PEER_DB_NAME="$PEER_DB" \
        PEER_STATIC_ROOT="$PEER_DIR/static" PEER_MEDIA_ROOT="$PEER_DIR/media" \
        PEER_REDIS_URL="redis://127.0.0.1:6379/14" \
        "$OSCAR_VENV/bin/python" manage.py "$@")
}

ensure_peer_db() {
    local n
    n=$("${MYSQL[@]}" -e "SELECT COUNT(*) FROM $PEER_DB.catalogue_product" 2>/dev/null || echo 0)
    if ((n == PRODUCTS)); then
        echo "$PEER_DB: $n products, seeded already"
        oscar_manage migrate --noinput -v 0  # no-op unless the pins changed
        return 0
    fi
    log "$PEER_DB: $n products; creating/migrating and seeding $PRODUCTS (about 2 minutes)"
    "${MYSQL[@]}" -e "CREATE DATABASE IF NOT EXISTS $PEER_DB CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    oscar_manage migrate --noinput -v 0
    time oscar_manage seed_catalog --products "$PRODUCTS"
}

# ---- 5. shop_bench ------------------------------------------------------------------------------
project_db_state() { # prints "ok" when shop_bench exists, is at the migration head(s), has the products
    "$VENV/bin/python" - "$PROJECT_DB_URL" "$PRODUCTS" "$ROOT/migrations" <<'PY'
import sys

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

url, products, migrations = sys.argv[1], int(sys.argv[2]), sys.argv[3]
cfg = Config()
cfg.set_main_option("script_location", migrations)
heads = set(ScriptDirectory.from_config(cfg).get_heads())
engine = create_engine(url)
try:
    with engine.connect() as conn:
        current = {r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))}
        n = conn.execute(
            text(
                "SELECT COUNT(*) FROM products p JOIN tenants t ON t.id = p.tenant_id"
                " WHERE t.slug = 'default'"
            )
        ).scalar()
except Exception as exc:  # noqa: BLE001 - absent database or table: reseed
    print(f"absent ({type(exc).__name__})")
    sys.exit(0)
if current != heads:
    print(f"at {sorted(current)}, not at the head(s) {sorted(heads)}")
elif n != products:
    print(f"{n} products in tenant default, not {products}")
else:
    print("ok")
PY
}

ensure_project_db() {
    local state
    state=$(project_db_state)
    if [[ $state == ok ]]; then
        echo "$PROJECT_DB: at the migration head(s), $PRODUCTS products in tenant default, seeded already"
        return 0
    fi
    log "$PROJECT_DB: $state; seeding $PRODUCTS products with bench/seed_bench.py (about 3 minutes)"
    # seed_bench.py records its own timing in bench/results/seed_bench.{json,md}: keep those as they were
    local keep
    keep=$(mktemp -d)
    cp "$ROOT/bench/results/seed_bench.json" "$ROOT/bench/results/seed_bench.md" "$keep/" 2>/dev/null || true
    (cd "$ROOT" && "$VENV/bin/python" bench/seed_bench.py --products "$PRODUCTS" --database-url "$PROJECT_DB_URL")
    cp "$keep"/* "$ROOT/bench/results/" 2>/dev/null || true
    rm -rf "$keep"
}

# ---- 6. the search index ------------------------------------------------------------------------
# rebuilt (about a minute) when absent or built for another shop_bench (its products table re-created
# by a new seed, or another migration head)
search_index_stamp() {
    "${MYSQL[@]}" -e "SELECT CONCAT(t.create_time, ' ', (SELECT GROUP_CONCAT(version_num ORDER BY \
        version_num) FROM $PROJECT_DB.alembic_version)) FROM information_schema.tables t \
        WHERE t.table_schema = '$PROJECT_DB' AND t.table_name = 'products'"
}

ensure_search_index() {
    local want
    want=$(search_index_stamp)
    if [[ -f $SEARCH_INDEX_DIR/.built-for && $(<"$SEARCH_INDEX_DIR/.built-for") == "$want" ]]; then
        echo "search index $SEARCH_INDEX_DIR: built for this $PROJECT_DB already"
        return 0
    fi
    log "Search index of $PROJECT_DB -> $SEARCH_INDEX_DIR (flask search reindex, about a minute)"
    rm -rf "$SEARCH_INDEX_DIR"
    mkdir -p "$SEARCH_INDEX_DIR"
    (cd "$ROOT" && env -u ELASTICSEARCH_URL APP_CONFIG=development FLASK_APP=wsgi.py \
        DATABASE_URL="$PROJECT_DB_URL" INSTANCE_PATH="$WORK_DIR/instance" \
        SEARCH_INDEX_DIR="$SEARCH_INDEX_DIR" PYTHONPYCACHEPREFIX="$WORK_DIR/pycache" \
        "$VENV/bin/flask" search reindex)
    printf '%s\n' "$want" >"$SEARCH_INDEX_DIR/.built-for"
}

setup() {
    local t0=$SECONDS
    ensure_tools
    ensure_venv
    scripts/services.sh
    ensure_peer_venvs
    ensure_peer_db
    ensure_project_db
    ensure_search_index
    echo "set-up took $((SECONDS - t0)) s"
}

run() {
    local t0=$SECONDS stamp out name
    stamp=$(date -u +%Y%m%dT%H%M%SZ)
    out="$WORK_DIR/run-$stamp"
    log "bench/peers/compare.sh -> $out (ROUNDS=${ROUNDS:-2}: about 8-9 minutes a round)"
    PROJECT_DIR="${PROJECT_DIR:-$ROOT}" PROJECT_VENV="$VENV" OSCAR_VENV="$OSCAR_VENV" FLASK_VENV="$FLASK_VENV" \
        SEARCH_INDEX_DIR="$SEARCH_INDEX_DIR" OUT="$out" PROJECT_DB="$PROJECT_DB" \
        PROJECT_REDIS_DB=13 OSCAR_REDIS_DB=14 \
        bash "$PEERS/compare.sh"
    name=${RESULTS_NAME:-compare-$(date -u +%F)}
    mkdir -p "$ROOT/bench/results"
    { # the run's header (host, load average at start and end, shape, commit) above the tables
        printf '# Storefront API vs django-oscar vs bare Flask (make bench-compare)\n\n```text\n'
        cat "$out/header.txt"
        printf '```\n\n'
        cat "$out/table.md"
    } >"$ROOT/bench/results/$name.md"
    cp "$out/results.tsv" "$ROOT/bench/results/$name.tsv"
    echo "the run took $((SECONDS - t0)) s"
    echo "recorded: bench/results/$name.md, bench/results/$name.tsv (raw: $out)"
}

cd "$ROOT"
case "${1:-}" in
    --path) printf '%s\n' "$PEER_DIR" ;;
    setup) setup ;;
    "") setup; run ;;
    *) die "usage: scripts/bench-compare.sh [setup|--path]" ;;
esac
