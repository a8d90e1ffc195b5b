#!/usr/bin/env bash
# ruff first (the run stops at its findings), then the whole suite twice: on SQLite, then on a throwaway
# PostgreSQL server.
# Extra arguments go to pytest (e.g. scripts/test.sh tests/people -x).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/system-packages.sh
scripts/venv.sh test

echo "== ruff check src tests bench"
.venv/bin/ruff check src tests bench  # prints every finding; a finding stops the run here

sqlite_status=0
echo "== pytest on SQLite"
.venv/bin/pytest "$@" || sqlite_status=$?

pg_dir="$(mktemp -d /tmp/fangkong-pg.XXXXXX)"
trap 'scripts/postgres.sh stop "$pg_dir"' EXIT
port="$(scripts/postgres.sh start "$pg_dir")"

postgres_status=0
echo "== pytest on PostgreSQL (127.0.0.1:$port)"
FANGKONG_DATABASE_URL="postgres://postgres@127.0.0.1:$port/fangkong" .venv/bin/pytest "$@" || postgres_status=$?

echo "== SQLite: exit $sqlite_status, PostgreSQL: exit $postgres_status"
[ "$sqlite_status" -eq 0 ] && [ "$postgres_status" -eq 0 ]
