#!/usr/bin/env bash
# Ensure MariaDB (127.0.0.1:3306, root without password) and Redis (127.0.0.1:6379) answer.
# Starts them when they are down, installing the Debian packages first if they are missing.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DB_HOST=127.0.0.1
DB_PORT=3306
REDIS_HOST=127.0.0.1
REDIS_PORT=6379
WAIT_SECONDS="${SERVICES_WAIT_SECONDS:-60}"

mariadb_alive() {
    local admin
    admin="$(command -v mariadb-admin || command -v mysqladmin || true)"
    [[ -n $admin ]] || return 1
    "$admin" --protocol=tcp -h "$DB_HOST" -P "$DB_PORT" -uroot --connect-timeout=2 ping >/dev/null 2>&1
}

mariadb_root_tcp_ok() {
    mariadb --protocol=tcp -h "$DB_HOST" -P "$DB_PORT" -uroot --connect-timeout=2 -e 'SELECT 1' >/dev/null 2>&1
}

redis_alive() {
    command -v redis-cli >/dev/null 2>&1 || return 1
    [[ $(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]
}

wait_for() {  # wait_for NAME CHECK_FUNCTION
    local name=$1 check=$2 i
    for ((i = 0; i < WAIT_SECONDS; i++)); do
        if "$check"; then
            echo "$name is up"
            return 0
        fi
        sleep 1
    done
    return 1
}

mysqld_option() {  # mysqld_option NAME DEFAULT: a [mysqld] setting from the server's config files
    local value
    value="$(my_print_defaults --mysqld 2>/dev/null | sed -n "s/^--$1=//p" | tail -n1 || true)"
    printf '%s\n' "${value:-$2}"
}

ensure_mariadb() {
    if mariadb_alive; then
        echo "MariaDB answers on $DB_HOST:$DB_PORT"
    else
        local ours=0
        if [[ ! -x /usr/sbin/mariadbd ]]; then
            apt_install mariadb-server
            ours=1
        fi
        if ! mariadb_alive; then  # the package's postinst may have started it already
            local datadir log_error
            datadir="$(mysqld_option datadir /var/lib/mysql)"
            log_error="$(mysqld_option log-error '')"
            install -d -o mysql -g mysql -m 755 /run/mysqld
            if [[ -n $log_error ]]; then
                install -d -o mysql -g mysql "$(dirname "$log_error")"
            fi
            if [[ ! -d $datadir/mysql ]]; then
                echo "Initialising the MariaDB data directory $datadir"
                install -d -o mysql -g mysql "$datadir"
                local install_db
                install_db="$(command -v mariadb-install-db || command -v mysql_install_db)" \
                    || die "mariadb-install-db not found"
                "$install_db" --user=mysql --datadir="$datadir" --auth-root-authentication-method=normal \
                    --skip-test-db >/dev/null
                ours=1
            fi
            echo "Starting MariaDB"
            start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
            if ! wait_for MariaDB mariadb_alive; then
                [[ -n $log_error && -r $log_error ]] && tail -n 30 "$log_error" >&2
                die "MariaDB did not answer on $DB_HOST:$DB_PORT within ${WAIT_SECONDS}s"
            fi
        fi
        if ((ours)) && ! mariadb_root_tcp_ok; then
            # A fresh Debian install authenticates root@localhost by unix socket only; the tests
            # connect as root without password over TCP. Only done for a server this script set up.
            echo "Allowing root@127.0.0.1 without password on this freshly installed MariaDB"
            mariadb -uroot -e "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
                GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION; FLUSH PRIVILEGES;"
        fi
    fi
    mariadb_root_tcp_ok || die "MariaDB is up but 'root' without password cannot log in over TCP" \
        "at $DB_HOST:$DB_PORT (tests use TEST_DATABASE_URL=mysql+mysqldb://root@127.0.0.1:3306/...)"
}

ensure_redis() {
    if redis_alive; then
        echo "Redis answers on $REDIS_HOST:$REDIS_PORT"
        return 0
    fi
    if ! command -v redis-server >/dev/null 2>&1; then
        apt_install redis-server
        redis_alive && { echo "Redis is up"; return 0; }
    fi
    echo "Starting Redis"
    redis-server --daemonize yes --bind "$REDIS_HOST" --port "$REDIS_PORT" --save "" >/dev/null
    wait_for Redis redis_alive || die "Redis did not answer on $REDIS_HOST:$REDIS_PORT within ${WAIT_SECONDS}s"
}

log "Services: MariaDB and Redis"
ensure_mariadb
ensure_redis
