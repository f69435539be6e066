#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the test suite and the benchmarks.
#
#   scripts/pg_cluster.sh start    # init + start (idempotent), print the DATABASE_URL
#   scripts/pg_cluster.sh url      # print the DATABASE_URL of the running cluster
#   scripts/pg_cluster.sh status   # exit 0 when running
#   scripts/pg_cluster.sh psql     # open psql on it as the superuser
#   scripts/pg_cluster.sh stop     # stop it and delete its data
#
# The cluster listens on 127.0.0.1 only (port UPSCOPE_PG_PORT, default the first free port
# from 54329), keeps its data and socket under /tmp, and has a role "upscope" (password
# "upscope", CREATEDB so Django can create test_<name>) owning a database "upscope".
# PostgreSQL refuses to run as root: as root the server runs as the "postgres" system user
# (created if missing); otherwise as the current user.
#
# Environment:
#   UPSCOPE_PG_NAME  name of the cluster (default: one per checkout); make test uses a fresh
#                    name per run so that two runs never share or stop each other's cluster.
#   UPSCOPE_PG_PORT  port to listen on (default: first free from 54329).
#   PG_BIN           folder holding initdb/pg_ctl (default: newest /usr/lib/postgresql/*/bin).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
. "$HERE/lib.sh"
REPO_ROOT="$(cd "$HERE/.." && pwd)"

DB_NAME=upscope
DB_USER=upscope
DB_PASSWORD=upscope
SUPERUSER=postgres

default_name() {
    printf 'co%s' "$(printf '%s' "$REPO_ROOT" | cksum | cut -d' ' -f1)"
}
NAME="${UPSCOPE_PG_NAME:-$(default_name)}"
case "$NAME" in
    *[!A-Za-z0-9_.-]*) die "UPSCOPE_PG_NAME may hold only letters, digits, '.', '_' and '-'" ;;
esac
PG_DIR="/tmp/django-upscope-pg-$(id -u)-$NAME"
DATA="$PG_DIR/data"
LOG="$PG_DIR/server.log"
PORT_FILE="$PG_DIR/port"

find_pg_bin() {
    if [ -n "${PG_BIN:-}" ] && [ -x "$PG_BIN/initdb" ]; then
        printf '%s\n' "$PG_BIN"; return 0
    fi
    local d best
    # Highest version number first (a glob sorts 10 < 15 < 9).
    best="$(for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && echo "$d"; done \
        | sort -t/ -k5,5n | tail -n1)"
    if [ -n "$best" ]; then printf '%s\n' "$best"; return 0; fi
    if command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v initdb)"; return 0
    fi
    if command -v pg_config >/dev/null 2>&1; then
        d="$(pg_config --bindir)"
        if [ -x "$d/initdb" ]; then printf '%s\n' "$d"; return 0; fi
    fi
    return 1
}

ensure_pg_bin() {
    if PGBIN="$(find_pg_bin)"; then return 0; fi
    info "PostgreSQL server binaries (initdb, pg_ctl) not found; installing Debian's postgresql"
    if ! apt_install postgresql; then
        die "PostgreSQL server binaries are missing and could not be installed.
       Install them (Debian/Ubuntu: 'sudo apt-get install postgresql') or set PG_BIN to the
       folder holding initdb and pg_ctl, then run this again."
    fi
    PGBIN="$(find_pg_bin)" || die "postgresql was installed but initdb is still not found"
}

# The user the server runs as, and how to run a command as that user.
RUN_AS=""
setup_user() {
    if [ "$(id -u)" -ne 0 ]; then
        RUN_AS=""; return 0
    fi
    RUN_AS=postgres
    if ! id -u "$RUN_AS" >/dev/null 2>&1; then
        info "creating system user '$RUN_AS' (PostgreSQL refuses to run as root)"
        useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin "$RUN_AS"
    fi
}

as_pg() {
    if [ -n "$RUN_AS" ]; then
        (cd /tmp && runuser -u "$RUN_AS" -- "$@")
    else
        (cd /tmp && "$@")
    fi
}

is_running() {
    [ -f "$DATA/PG_VERSION" ] || return 1
    as_pg "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pick_port() {
    if [ -n "${UPSCOPE_PG_PORT:-}" ]; then
        printf '%s\n' "$UPSCOPE_PG_PORT"; return 0
    fi
    local p
    for p in $(seq "${1:-54329}" 54499); do
        port_in_use "$p" || { printf '%s\n' "$p"; return 0; }
    done
    die "no free port between 54329 and 54499 on 127.0.0.1"
}

url() {
    printf 'postgres://%s:%s@127.0.0.1:%s/%s\n' "$DB_USER" "$DB_PASSWORD" "$(cat "$PORT_FILE")" "$DB_NAME"
}

psql_super() {
    as_pg "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_DIR" -p "$(cat "$PORT_FILE")" \
        -U "$SUPERUSER" -d postgres "$@"
}

init_cluster() {
    rm -rf "$PG_DIR"
    mkdir -p "$PG_DIR"
    chmod 700 "$PG_DIR"
    if [ -n "$RUN_AS" ]; then chown "$RUN_AS:" "$PG_DIR"; fi
    info "initdb in $DATA ($("$PGBIN/postgres" --version))"
    if ! as_pg "$PGBIN/initdb" -D "$DATA" -U "$SUPERUSER" --auth-local=trust \
        --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1
    then
        cat "$PG_DIR/initdb.log" >&2
        die "initdb failed (log above)"
    fi
    # Test-only tuning: durability is worthless for a cluster that is thrown away.
    as_pg tee -a "$DATA/postgresql.conf" >/dev/null <<CONF

# --- django-upscope throwaway test cluster ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 100
CONF
}

start_server() {
    local attempt port next=54329
    for attempt in 1 2 3 4 5; do
        port="$(pick_port "$next")"
        printf '%s\n' "$port" | as_pg tee "$PORT_FILE" >/dev/null
        if as_pg "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -o "-p $port" -w -t 60 start >/dev/null
        then
            return 0
        fi
        if [ -n "${UPSCOPE_PG_PORT:-}" ]; then break; fi
        info "start on port $port failed (attempt $attempt); trying the next port"
        next=$((port + 1))
    done
    tail -n 30 "$LOG" >&2 || true
    die "PostgreSQL did not start (server log above, full log in $LOG)"
}

create_role_and_db() {
    psql_super <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER') THEN
    CREATE ROLE $DB_USER LOGIN CREATEDB PASSWORD '$DB_PASSWORD';
  END IF;
END \$\$;
SQL
    if [ "$(psql_super -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" != 1 ]; then
        psql_super -c "CREATE DATABASE $DB_NAME OWNER $DB_USER"
    fi
}

cmd_start() {
    ensure_pg_bin
    setup_user
    if is_running; then
        info "already running: $DATA"
        url; return 0
    fi
    init_cluster
    start_server
    create_role_and_db
    info "PostgreSQL running on 127.0.0.1:$(cat "$PORT_FILE") (data: $DATA)"
    url
}

cmd_stop() {
    if [ ! -d "$PG_DIR" ]; then
        info "no cluster at $PG_DIR"; return 0
    fi
    if PGBIN="$(find_pg_bin)"; then
        setup_user
        if is_running; then
            as_pg "$PGBIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null \
                || info "pg_ctl stop failed"
        fi
    fi
    rm -rf "$PG_DIR"
    info "stopped and removed $PG_DIR"
}

need_running() {
    PGBIN="$(find_pg_bin)" || die "PostgreSQL binaries not found"
    setup_user
    is_running || die "no cluster running (scripts/pg_cluster.sh start)"
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    url) need_running; url ;;
    status) PGBIN="$(find_pg_bin)" || exit 1; setup_user; is_running ;;
    psql) need_running; shift; psql_super "$@" ;;
    dir) printf '%s\n' "$PG_DIR" ;;
    *) echo "usage: $0 start|stop|url|status|psql|dir" >&2; exit 2 ;;
esac
