#!/usr/bin/env bash
# `make test-faults` (and step 8 of `make test`): the fault suite, tests/faults (pytest -m faults).
#
# It needs no running service: it starts its own MariaDB (mariadb-install-db + mariadbd on a
# temporary data directory), Redis, gunicorn, RQ worker and scheduler on spare ports, so the
# machine's MariaDB (3306) and Redis (6379) are never touched. One process, no xdist. The suite
# prints what each case measured (-s). KEEP_FAULTS_TMP=1 keeps the stack's directory and logs.
# Extra arguments go to pytest (e.g. scripts/test-faults.sh -k redis).
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"

for tool in mariadb-install-db mariadbd redis-server; do
    command -v "$tool" >/dev/null 2>&1 || [[ -x /usr/sbin/$tool ]] ||
        die "$tool is missing (apt-get install mariadb-server redis-server)"
done
unset DATABASE_URL REDIS_URL ELASTICSEARCH_URL SUPERSET_URL SOCKETIO_MESSAGE_QUEUE \
    RATELIMIT_STORAGE_URI JOBS_MODE SECRET_KEY
export APP_CONFIG=testing FLASK_APP=wsgi.py
exec "$VENV/bin/python" -m pytest -m faults -s -p no:cacheprovider --durations=0 "$@" tests/faults
