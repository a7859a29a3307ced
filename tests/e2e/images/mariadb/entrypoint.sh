#!/usr/bin/env bash
# Entrypoint of the MariaDB stand-in (tests only): initializes /var/lib/mysql on the first start from the upstream
# image's variables, then execs mariadbd as PID 1. Arguments: `mariadbd [options]` or just options.
set -euo pipefail

readonly DATADIR=/var/lib/mysql
# Upstream also reads the older MYSQL_* names.
readonly ROOT_PASSWORD="${MARIADB_ROOT_PASSWORD:-${MYSQL_ROOT_PASSWORD:-}}"
readonly DATABASE="${MARIADB_DATABASE:-${MYSQL_DATABASE:-}}"
readonly DB_USER="${MARIADB_USER:-${MYSQL_USER:-}}"
readonly DB_PASSWORD="${MARIADB_PASSWORD:-${MYSQL_PASSWORD:-}}"

log() { printf 'mariadb-standin: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

sql_string() { local s=${1//\\/\\\\}; printf "'%s'" "${s//\'/\\\'}"; }
# shellcheck disable=SC2016  # the backticks are SQL quoting, not a command substitution
sql_name() { printf '`%s`' "${1//\`/\`\`}"; }

# One statement per line, as --init-file requires. Idempotent: it runs on every start, so that a first start killed
# before mariadbd ran it is completed by the next one; existing data is never touched.
write_init_sql() {
    local file=$1
    {
        echo "ALTER USER 'root'@'localhost' IDENTIFIED BY $(sql_string "$ROOT_PASSWORD");"
        echo "CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY $(sql_string "$ROOT_PASSWORD");"
        echo "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
        # mariadb-install-db also makes password-less root@127.0.0.1, root@::1 and root@<hostname>; upstream drops them.
        echo "DELETE FROM mysql.global_priv WHERE User = 'root' AND Host NOT IN ('localhost', '%');"
        echo "FLUSH PRIVILEGES;"
        [[ -z "$DATABASE" ]] || echo "CREATE DATABASE IF NOT EXISTS $(sql_name "$DATABASE");"
        if [[ -n "$DB_USER" ]]; then
            echo "CREATE USER IF NOT EXISTS $(sql_string "$DB_USER")@'%' IDENTIFIED BY $(sql_string "$DB_PASSWORD");"
            [[ -z "$DATABASE" ]] || echo "GRANT ALL ON $(sql_name "$DATABASE").* TO $(sql_string "$DB_USER")@'%';"
        fi
    } >"$file"
}

main() {
    [[ "${1-}" == mariadbd ]] && shift
    # Run as root (docker default): fix ownership of the volume, then drop to mysql like upstream's gosu step.
    if (($(id -u) == 0)); then
        chown -R mysql:mysql "$DATADIR" /run/mysqld
        exec setpriv --reuid=mysql --regid=mysql --clear-groups -- "$0" mariadbd "$@"
    fi
    [[ -n "$ROOT_PASSWORD" ]] || die "MARIADB_ROOT_PASSWORD is required"
    [[ -z "$DB_USER" || -n "$DB_PASSWORD" ]] || die "MARIADB_USER needs MARIADB_PASSWORD"

    if [[ -d "$DATADIR/mysql" ]]; then
        log "existing database in $DATADIR, not initializing"
    else
        log "initializing $DATADIR"
        mariadb-install-db --datadir="$DATADIR" --auth-root-authentication-method=normal \
            --skip-test-db --skip-name-resolve >/dev/null
    fi
    local init
    init=$(mktemp /run/mysqld/init.XXXXXX.sql)
    write_init_sql "$init"
    # With --init-file, mariadbd runs the statements before it accepts connections: an open port means the users
    # and the database exist.
    exec mariadbd --datadir="$DATADIR" --init-file="$init" "$@"
}

main "$@"
