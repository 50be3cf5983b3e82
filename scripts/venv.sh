#!/usr/bin/env bash
# Ensure the virtualenv ($VENV, outside the clone, keyed by requirements.lock) and the vendored
# front-end packages (admin/static/vendor, from admin/assets/package-lock.json). `--path` prints the venv.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
if [[ ${1:-} == --path ]]; then
    printf '%s\n' "$VENV"
    exit 0
fi
ensure_venv
ensure_assets
