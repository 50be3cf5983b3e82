# The application image used by docker-compose.yml (web, migrate, worker, scheduler).

# Front-end packages from npm (admin/assets: Swagger UI, ReDoc, ...), the files vendor.txt lists;
# the same step as `make install`'s ensure_assets (scripts/common.sh)
FROM node:20-slim AS assets
WORKDIR /assets
COPY admin/assets/package.json admin/assets/package-lock.json admin/assets/vendor.txt ./
RUN npm ci --ignore-scripts --no-audit --no-fund --omit=peer --loglevel=error \
    && grep -v '^#' vendor.txt | while read -r source target; do \
         [ -n "$source" ] || continue; \
         mkdir -p "vendor/$(dirname "$target")" && cp "node_modules/$source" "vendor/$target"; \
       done

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    FLASK_APP=wsgi.py \
    APP_CONFIG=production \
    INSTANCE_PATH=/app/instance

WORKDIR /app

COPY requirements.lock ./
# mysqlclient (the C MySQL/MariaDB driver) is built here: compiler and headers only for the build,
# the MariaDB client library stays
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc pkg-config libmariadb-dev libmariadb3 \
    && pip install -r requirements.lock \
    && apt-get purge -y --auto-remove gcc pkg-config libmariadb-dev \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --system --create-home --home-dir /home/app --uid 10001 app
COPY --chown=app:app . .
COPY --from=assets --chown=app:app /assets/vendor /app/admin/static/vendor
RUN mkdir -p /app/instance && chown app:app /app/instance

USER app
EXPOSE 5000
CMD ["gunicorn", "-c", "gunicorn.conf.py", "-b", "0.0.0.0:5000", "wsgi:app"]
