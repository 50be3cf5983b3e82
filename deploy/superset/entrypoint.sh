#!/bin/sh
# docker-compose's `superset`: metadata DB upgrade, its admin from the environment, roles, serve.
# (scripts/superset.sh does the same outside Docker.)
set -eu
superset db upgrade
superset fab create-admin --username "${SUPERSET_ADMIN_USERNAME:-admin}" --firstname Superset \
    --lastname Admin --email "${SUPERSET_ADMIN_EMAIL:-superset-admin@localhost}" \
    --password "$SUPERSET_ADMIN_PASSWORD"
superset init
exec gunicorn --bind 0.0.0.0:8088 --workers "${SUPERSET_WORKERS:-2}" --worker-class gthread \
    --threads 8 --timeout 120 --limit-request-line 0 --limit-request-field_size 0 \
    "superset.app:create_app()"
