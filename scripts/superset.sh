#!/usr/bin/env bash
# Apache Superset, the analysts' BI service (issue 17), in its own virtualenv OUTSIDE the clone:
#   $SUPERSET_VENV = ~/.cache/marketplace/superset-venv-<hash of deploy/superset/requirements.txt>
# (never the app's venv: Superset pins SQLAlchemy<2).
#
#   scripts/superset.sh install   build the virtualenv (once per pins hash; flock-serialised)
#   scripts/superset.sh init      install + metadata DB upgrade + admin from the environment + init
#   scripts/superset.sh serve     init, then gunicorn on $SUPERSET_PORT (default 8088), foreground
#   scripts/superset.sh --path    print the virtualenv path
#
# Environment (deploy/superset/superset_config.py reads them):
#   SUPERSET_SECRET_KEY           required for init/serve (>= 32 characters)
#   SUPERSET_METADATA_DB_URI      its own metadata DB; default sqlite:///$SUPERSET_HOME/superset.db
#                                 (production: MariaDB, e.g. mysql+mysqldb://superset:...@mysql/superset)
#   SUPERSET_HOME                 its state dir (default ~/.cache/marketplace/superset-home)
#   SUPERSET_REDIS_URL            its cache (e.g. redis://127.0.0.1:6379/5); no Redis cache when unset
#   SUPERSET_ADMIN_ORIGIN         the admin's origin (CSP frame-ancestors, CORS), e.g. http://127.0.0.1:5000
#   SUPERSET_GUEST_TOKEN_SECRET   the guest tokens' signing secret (default: SUPERSET_SECRET_KEY)
#   SUPERSET_ADMIN_USERNAME / SUPERSET_ADMIN_PASSWORD / SUPERSET_ADMIN_EMAIL   its admin (created once)
#   SUPERSET_PORT, SUPERSET_HOST, SUPERSET_WORKERS (gunicorn; defaults 8088, 127.0.0.1, 2)
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

SUPERSET_REQS="$ROOT/deploy/superset/requirements.txt"
SUPERSET_HASH="$(sha256sum "$SUPERSET_REQS" | cut -c1-12)"
SUPERSET_VENV="${SUPERSET_VENV:-${HOME:-/root}/.cache/marketplace/superset-venv-$SUPERSET_HASH}"
export SUPERSET_HOME="${SUPERSET_HOME:-${HOME:-/root}/.cache/marketplace/superset-home}"
export SUPERSET_CONFIG_PATH="${SUPERSET_CONFIG_PATH:-$ROOT/deploy/superset/superset_config.py}"
export FLASK_APP=superset

ensure_superset_venv() {
    local stamp="$SUPERSET_VENV/.superset-installed" want
    want="$(sha256sum "$SUPERSET_REQS" | cut -d' ' -f1)"
    if [[ -x $SUPERSET_VENV/bin/superset && -f $stamp && $(<"$stamp") == "$want" ]]; then
        return 0
    fi
    mkdir -p "$(dirname "$SUPERSET_VENV")"
    local lock_fd
    exec {lock_fd}>"$SUPERSET_VENV.lock"
    flock "$lock_fd"
    if [[ -x $SUPERSET_VENV/bin/superset && -f $stamp && $(<"$stamp") == "$want" ]]; then
        exec {lock_fd}>&-
        return 0
    fi
    local py
    py="$(command -v "$PYTHON" || true)"
    [[ -n $py ]] || die "python3 not found (set PYTHON=/path/to/python3.11)"
    "$py" -c 'import sys; sys.exit(not (3, 10) <= sys.version_info < (3, 13))' \
        || die "$py: Superset 6.1 needs Python 3.10-3.12"
    if ! "$py" -c 'import ensurepip, venv' >/dev/null 2>&1; then
        apt_install python3-venv
    fi
    ensure_mysqlclient_build_deps "$py"  # mysqlclient, as for the app
    log "Creating Superset virtualenv $SUPERSET_VENV (pins $SUPERSET_HASH) with $py"
    rm -rf "$SUPERSET_VENV"
    "$py" -m venv "$SUPERSET_VENV"
    "$SUPERSET_VENV/bin/python" -m pip install --disable-pip-version-check --no-input -q \
        -r "$SUPERSET_REQS" || die "pip install -r $SUPERSET_REQS failed; the next run redoes it"
    printf '%s\n' "$want" >"$stamp"
    exec {lock_fd}>&-
    echo "Superset virtualenv ready: $SUPERSET_VENV"
}

superset_init() {
    ensure_superset_venv
    [[ -n ${SUPERSET_SECRET_KEY:-} ]] || die "set SUPERSET_SECRET_KEY (at least 32 characters)"
    mkdir -p "$SUPERSET_HOME"
    local ss="$SUPERSET_VENV/bin/superset"
    log "Superset metadata DB: ${SUPERSET_METADATA_DB_URI:-sqlite:///$SUPERSET_HOME/superset.db}"
    "$ss" db upgrade
    # create-admin says so and exits 0 when the user exists: safe on every start
    "$ss" fab create-admin --username "${SUPERSET_ADMIN_USERNAME:-admin}" \
        --firstname Superset --lastname Admin \
        --email "${SUPERSET_ADMIN_EMAIL:-superset-admin@localhost}" \
        --password "${SUPERSET_ADMIN_PASSWORD:?set SUPERSET_ADMIN_PASSWORD}"
    "$ss" init
}

superset_serve() {
    exec "$SUPERSET_VENV/bin/gunicorn" --bind "${SUPERSET_HOST:-127.0.0.1}:${SUPERSET_PORT:-8088}" \
        --workers "${SUPERSET_WORKERS:-2}" --worker-class gthread --threads 8 --timeout 120 \
        --limit-request-line 0 --limit-request-field_size 0 "superset.app:create_app()"
}

case "${1:-}" in
    --path) printf '%s\n' "$SUPERSET_VENV" ;;
    install) ensure_superset_venv ;;
    init) superset_init ;;
    serve) superset_init; superset_serve ;;
    serve-only) ensure_superset_venv; superset_serve ;;
    *) die "usage: scripts/superset.sh install|init|serve|serve-only|--path" ;;
esac
