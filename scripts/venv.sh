#!/usr/bin/env bash
# Create .venv and install fangkong into it, editable. Usage: scripts/venv.sh [EXTRA]
# (EXTRA "test" installs the test tools too). Reinstalls only when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."

extra="${1:-}"
spec="."
[ -n "$extra" ] && spec=".[$extra]"
stamp=".venv/.installed${extra:+-$extra}"

if [ ! -x .venv/bin/python ]; then
    if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
        if [ "$(id -u)" -ne 0 ]; then
            echo "python3 cannot create a virtual environment: install python3-venv" >&2
            exit 1
        fi
        DEBIAN_FRONTEND=noninteractive apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv
    fi
    rm -rf .venv
    python3 -m venv .venv
fi

if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install --disable-pip-version-check -q -e "$spec"
    touch "$stamp"
fi
