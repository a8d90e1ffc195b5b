#!/usr/bin/env bash
# Compile the translation catalogues (.po → .mo); needs msgfmt from Debian's gettext.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v msgfmt >/dev/null; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "msgfmt is missing: apt-get install gettext" >&2
        exit 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q gettext
fi
scripts/venv.sh
.venv/bin/fangkong compilemessages --ignore .venv --ignore var
