#!/usr/bin/env bash
# A throwaway PostgreSQL server for the test suite.
#
#   scripts/postgres.sh start DIR   initdb into DIR, start on 127.0.0.1 (port $FANGKONG_PG_PORT
#                                   or a free one), create database "fangkong", print the port
#   scripts/postgres.sh stop DIR    stop the server and remove DIR
#
# The server refuses to run as root, so as root it runs as the `postgres` OS user.
# Authentication is trust, on 127.0.0.1 only.
set -euo pipefail

pg_ctl_path="$(ls /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | sort -V | tail -1)"
if [ -z "$pg_ctl_path" ]; then
    echo "PostgreSQL is not installed (apt-get install postgresql)" >&2
    exit 1
fi
bin="$(dirname "$pg_ctl_path")"

as_server_user() {
    # From /, which the postgres user may enter (it may not enter root's home).
    if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    local dir="$1" port="${FANGKONG_PG_PORT:-$(free_port)}"
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    cd "$dir"
    as_server_user "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log"
    as_server_user tee -a "$dir/data/postgresql.conf" >/dev/null <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 50
CONF
    echo "host all all 127.0.0.1/32 trust" | as_server_user tee "$dir/data/pg_hba.conf" >/dev/null
    as_server_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null
    "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres fangkong
    echo "$port"
}

stop() {
    local dir="$1"
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_server_user "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    fi
    rm -rf "$dir"
}

case "${1:-}" in
    start) start "$2" ;;
    stop) stop "$2" ;;
    *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
