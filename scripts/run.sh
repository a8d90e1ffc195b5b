#!/usr/bin/env bash
# Set up and serve the console on http://127.0.0.1:8000: install, migrate, load the demo
# into an empty database, print the demo sign-ins, then run the web server and, beside it, the
# background worker (ledger imports and other long jobs). Ctrl-C stops both. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/venv.sh
.venv/bin/fangkong migrate --noinput
.venv/bin/fangkong demo --if-empty

# Each runs in a session of its own, so Ctrl-C reaches only this script, which stops them one
# signal at a time: the server at once, the worker once the task in hand is finished.
server_pid=""
worker_pid=""

running() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

stop_server() {
    running "$server_pid" || return 0
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do running "$server_pid" || return 0; sleep 0.2; done
    kill -KILL -- "-$server_pid" 2>/dev/null || true  # a server that hangs on its way out, with its processes
}

stop_worker() {
    running "$worker_pid" || return 0
    echo "fangkong worker: 当前任务完成后停止(再按 Ctrl-C 立即停止,任务记为中断)……"
    kill -TERM "$worker_pid" 2>/dev/null || true
    trap 'kill -TERM "$worker_pid" 2>/dev/null || true' INT TERM
    while running "$worker_pid"; do wait "$worker_pid" 2>/dev/null || true; done
}

stop() {
    trap - EXIT
    trap '' INT TERM
    stop_server
    stop_worker
    wait 2>/dev/null || true
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

setsid .venv/bin/fangkong worker &
worker_pid=$!
setsid .venv/bin/fangkong serve "$@" &
server_pid=$!
# Whichever stops first, the other is stopped with it.
wait -n "$server_pid" "$worker_pid"
