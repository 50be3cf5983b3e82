# shellcheck shell=bash
# Shared helpers for scripts/*.sh. Source it; do not run it.
#   ROOT  the repository root
#   VENV  the virtualenv, outside the clone, keyed by a hash of requirements.lock
#         (the Makefile exports the same value; override with VENV=/path)

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCK_FILE="$ROOT/requirements.lock"
LOCK_HASH="$(sha256sum "$LOCK_FILE" | cut -c1-12)"
VENV="${VENV:-${HOME:-/root}/.cache/marketplace/venv-$LOCK_HASH}"
PYTHON="${PYTHON:-python3}"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
ASSETS_DIR="$ROOT/admin/assets"   # package.json + package-lock.json + vendor.txt
VENDOR_DIR="$ROOT/admin/static/vendor"  # what the pages load, served at /admin/static/vendor/
export ROOT VENV

log() { printf '\n==> %s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

_apt_updated=0
# apt_install PKG...: install Debian packages; `apt-get update` at most once per script run.
apt_install() {
    (($# > 0)) || return 0
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install $* by hand"
    local sudo=()
    if [[ $(id -u) != 0 ]]; then
        command -v sudo >/dev/null 2>&1 || die "need root (or sudo) to install: $*"
        sudo=(sudo)
    fi
    local apt_opts=(-q -o DPkg::Lock::Timeout=300)
    if ((_apt_updated == 0)); then
        echo "apt-get update (to install: $*)"
        "${sudo[@]}" apt-get "${apt_opts[@]}" update
        _apt_updated=1
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y "$@"
}

# ensure_mysqlclient_build_deps PYTHON: mysqlclient (the C MySQL/MariaDB driver in requirements.lock)
# is built from source by pip: it needs a C compiler, pkg-config, the MariaDB client headers and
# the headers of the Python that builds it. Installs what is missing (Debian packages).
ensure_mysqlclient_build_deps() {
    local py=$1 missing=()
    command -v gcc >/dev/null 2>&1 || missing+=(gcc)
    command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
    if ! pkg-config --exists libmariadb 2>/dev/null && ! pkg-config --exists mysqlclient 2>/dev/null; then
        missing+=(libmariadb-dev)
    fi
    if ! "$py" -c 'import os, sysconfig; sys_inc = sysconfig.get_paths()["include"]; raise SystemExit(not os.path.exists(os.path.join(sys_inc, "Python.h")))' 2>/dev/null; then
        case "$(readlink -f "$py")" in
            /usr/bin/*) missing+=(python3-dev) ;;
            *) die "$py has no C headers (Python.h): mysqlclient cannot be built with it" ;;
        esac
    fi
    apt_install "${missing[@]}"
}

# ensure_venv: create $VENV and `pip install -r requirements.lock` unless a stamp written after a
# successful install says it is already done for this exact lock file. A venv without the stamp
# (interrupted install) is redone. Serialised with flock so parallel make targets do not race.
ensure_venv() {
    local stamp="$VENV/.marketplace-installed" want
    want="$(sha256sum "$LOCK_FILE" | cut -d' ' -f1)"
    if [[ -x $VENV/bin/python && -f $stamp && $(<"$stamp") == "$want" ]]; then
        return 0
    fi
    mkdir -p "$(dirname "$VENV")"
    local lock_fd
    exec {lock_fd}>"$VENV.lock"
    flock "$lock_fd"
    if [[ -x $VENV/bin/python && -f $stamp && $(<"$stamp") == "$want" ]]; then
        exec {lock_fd}>&-
        return 0
    fi

    local py
    py="$(command -v "$PYTHON" || true)"
    if [[ -z $py ]] || ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        py="$(command -v python3.11 || true)"
    fi
    [[ -n $py ]] || die "Python >= 3.11 not found (set PYTHON=/path/to/python3.11)"
    "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "$py is older than Python 3.11"
    if ! "$py" -c 'import ensurepip, venv' >/dev/null 2>&1; then
        case "$(readlink -f "$py")" in
            /usr/bin/*) apt_install python3-venv ;;
            *) die "$py cannot create virtualenvs (no ensurepip)" ;;
        esac
    fi

    ensure_mysqlclient_build_deps "$py"

    log "Creating virtualenv $VENV (requirements.lock $LOCK_HASH) with $py"
    if [[ -e $VENV && ( -f $VENV/.marketplace-installing || -f $stamp ) ]]; then
        rm -rf "$VENV"  # ours, and half-installed or for another lock: start again
    fi
    "$py" -m venv "$VENV"
    : >"$VENV/.marketplace-installing"
    rm -f "$stamp"
    "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input -q -r "$LOCK_FILE" \
        || die "pip install -r requirements.lock failed; the next run will redo $VENV"
    printf '%s\n' "$want" >"$stamp"
    rm -f "$VENV/.marketplace-installing"
    exec {lock_fd}>&-
    echo "virtualenv ready: $VENV"
}

# ensure_assets: the front-end packages the pages serve from this origin (Swagger UI, ReDoc, ...):
# `npm ci` from admin/assets/package-lock.json into a cache outside the clone, keyed by the lock's
# hash, then the files vendor.txt lists are copied to admin/static/vendor/ (not committed). Redone
# when the lock or vendor.txt changes; installs Node.js and npm from Debian when missing.
ensure_assets() {
    local want stamp="$VENDOR_DIR/.stamp"
    want="$(cat "$ASSETS_DIR/package-lock.json" "$ASSETS_DIR/vendor.txt" | sha256sum | cut -c1-16)"
    if [[ -f $stamp && $(<"$stamp") == "$want" ]]; then
        return 0
    fi
    command -v npm >/dev/null 2>&1 || apt_install nodejs npm
    local cache="${HOME:-/root}/.cache/marketplace/assets-$want" lock_fd
    mkdir -p "$cache"
    exec {lock_fd}>"$cache.lock"
    flock "$lock_fd"
    if [[ ! -f $cache/.installed ]]; then
        log "Installing front-end packages (npm ci) into $cache"
        cp "$ASSETS_DIR/package.json" "$ASSETS_DIR/package-lock.json" "$cache/"
        (cd "$cache" && npm ci --ignore-scripts --no-audit --no-fund --omit=peer --loglevel=error) \
            || die "npm ci failed for admin/assets (is the npm registry reachable?)"
        : >"$cache/.installed"
    fi
    rm -rf "$VENDOR_DIR"
    local source target
    while read -r source target; do
        [[ -z $source || $source == \#* ]] && continue
        [[ -f $cache/node_modules/$source ]] || die "admin/assets/vendor.txt: $source is not in the installed packages"
        mkdir -p "$(dirname "$VENDOR_DIR/$target")"
        cp "$cache/node_modules/$source" "$VENDOR_DIR/$target"
    done <"$ASSETS_DIR/vendor.txt"
    printf '%s\n' "$want" >"$stamp"
    exec {lock_fd}>&-
    echo "front-end assets ready: $VENDOR_DIR"
}
