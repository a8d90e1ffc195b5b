#!/usr/bin/env bash
# Set up and serve the console on http://127.0.0.1:8000: install, migrate, load the demo
# into an empty database, print the demo sign-ins, serve. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/venv.sh
.venv/bin/fangkong migrate --noinput
.venv/bin/fangkong demo --if-empty
exec .venv/bin/fangkong serve "$@"
