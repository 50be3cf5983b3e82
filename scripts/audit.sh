#!/usr/bin/env bash
# `make audit`: known vulnerabilities in what we ship.
#   - Python: pip-audit on requirements.lock (every pin, no resolution: --no-deps --disable-pip),
#     advisories from PyPI's JSON API (https://pypi.org/pypi/<name>/<version>/json) or OSV.
#   - Front end: npm audit on admin/assets/package-lock.json (the packages vendored into the admin),
#     advisories from the npm registry's bulk advisory endpoint.
#
# Each source is probed first. A source that cannot be reached is reported by name and the audit it
# feeds is not run: then `make audit` exits 3 ("nothing was audited" is not a pass), unless
# AUDIT_IF_REACHABLE=1 (what `make test` sets), which reports the skip and exits 0. A finding exits 1.
#
# pip-audit lives in its own virtualenv outside the clone (it is a tool, not a dependency of the
# app), keyed by scripts/audit-requirements.txt, built only when PyPI's advisory API answers.
#
# Knobs: AUDIT_PYPI_URL (default https://pypi.org; only the probe reads it, pip-audit itself always
# asks pypi.org), AUDIT_OSV_URL (an OSV /v1/query endpoint to use instead), AUDIT_NPM_REGISTRY
# (default https://registry.npmjs.org), AUDIT_IF_REACHABLE=1.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"

PYPI_URL="${AUDIT_PYPI_URL:-https://pypi.org}"
NPM_REGISTRY="${AUDIT_NPM_REGISTRY:-https://registry.npmjs.org}"
TOOL_REQS="$ROOT/scripts/audit-requirements.txt"
TOOL_VENV="${HOME:-/root}/.cache/marketplace/audit-venv-$(sha256sum "$TOOL_REQS" | cut -c1-12)"

unreachable=()
findings=()

# http_status METHOD URL [BODY]: the HTTP status, or 000 when nothing answered
http_status() {
    local method=$1 url=$2 body=${3:-}
    local args=(-sS -o /dev/null -w '%{http_code}' --max-time 15 -X "$method")
    [[ -n $body ]] && args+=(-H 'Content-Type: application/json' --data "$body")
    curl "${args[@]}" "$url" 2>/dev/null || true
}

# --- Python: the first advisory source that answers, probed with the lock's first pin:
# AUDIT_OSV_URL when set (an OSV-compatible /v1/query endpoint, e.g. a mirror), else PyPI's
# per-version JSON API (what pip-audit reads by default), else the public OSV API.
first_pin="$(grep -m1 -E '^[A-Za-z0-9_.-]+==' requirements.lock)"
pin_name="${first_pin%%==*}" pin_version="${first_pin##*==}"
osv_query="{\"package\": {\"name\": \"$pin_name\", \"ecosystem\": \"PyPI\"}, \"version\": \"$pin_version\"}"
service=()
python_tried=()
candidates=()
if [[ -n ${AUDIT_OSV_URL:-} ]]; then
    candidates=("osv $AUDIT_OSV_URL")
else
    candidates=("pypi $PYPI_URL/pypi/$pin_name/$pin_version/json" "osv https://api.osv.dev/v1/query")
fi
for candidate in "${candidates[@]}"; do
    kind="${candidate%% *}" url="${candidate#* }"
    if [[ $kind == pypi ]]; then
        status="$(http_status GET "$url")"
    else
        status="$(http_status POST "$url" "$osv_query")"
    fi
    if [[ $status == 200 ]]; then
        if [[ $kind == pypi ]]; then
            service=(--vulnerability-service pypi)
        else
            service=(--vulnerability-service osv --osv-url "$url")
        fi
        break
    fi
    python_tried+=("$url answered HTTP $status")
done
if ((${#service[@]})); then
    log "pip-audit on requirements.lock (${service[*]})"
    if [[ ! -x $TOOL_VENV/bin/pip-audit || ! -f $TOOL_VENV/.installed ]]; then
        rm -rf "$TOOL_VENV"
        "${PYTHON}" -m venv "$TOOL_VENV"
        "$TOOL_VENV/bin/pip" install -q -r "$TOOL_REQS"
        : >"$TOOL_VENV/.installed"
    fi
    if ! "$TOOL_VENV/bin/pip-audit" --no-deps --disable-pip --progress-spinner off \
        --cache-dir "$TOOL_VENV/http-cache" "${service[@]}" -r requirements.lock; then
        findings+=("pip-audit: requirements.lock")
    fi
else
    unreachable+=("an advisory source for Python packages ($(IFS=';'; echo "${python_tried[*]}"))")
fi

# --- Front end: the bulk advisory endpoint npm audit posts to (an empty query answers 200 {})
status="$(http_status POST "$NPM_REGISTRY/-/npm/v1/security/advisories/bulk" '{}')"
if [[ $status == 200 ]]; then
    log "npm audit on admin/assets/package-lock.json"
    command -v npm >/dev/null 2>&1 || apt_install nodejs npm
    scratch="$(mktemp -d)"
    trap 'rm -rf "$scratch"' EXIT
    cp "$ASSETS_DIR/package.json" "$ASSETS_DIR/package-lock.json" "$scratch/"
    if ! (cd "$scratch" && npm audit --package-lock-only --omit=dev --fetch-retries=1 --fetch-retry-mintimeout=1000 --fetch-retry-maxtimeout=2000 --registry "$NPM_REGISTRY"); then
        findings+=("npm audit: admin/assets/package-lock.json")
    fi
else
    unreachable+=("the npm registry's advisory endpoint ($NPM_REGISTRY/-/npm/v1/security/advisories/bulk answered HTTP $status)")
fi

echo
for finding in "${findings[@]}"; do
    echo "VULNERABLE: $finding" >&2
done
for source in "${unreachable[@]}"; do
    echo "NOT AUDITED: cannot reach $source" >&2
done
if ((${#findings[@]})); then
    exit 1
fi
if ((${#unreachable[@]})); then
    if [[ ${AUDIT_IF_REACHABLE:-0} == 1 ]]; then
        echo "audit: skipped what could not be reached (AUDIT_IF_REACHABLE=1); no finding in the rest"
        exit 0
    fi
    echo "audit: incomplete, see NOT AUDITED above (exit 3)" >&2
    exit 3
fi
echo "audit: no known vulnerability in requirements.lock or admin/assets/package-lock.json"
