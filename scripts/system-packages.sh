#!/usr/bin/env bash
# Install what the test suite needs from Debian's packages when missing: PostgreSQL (the
# second database the suite runs on), Chromium (browser tests) and libatomic1 (the driver
# that ships inside Playwright's wheel needs it; a minimal Debian lacks it). Only as root;
# otherwise say what is missing and carry on.
set -euo pipefail

need=()
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
[ -x /usr/bin/chromium ] || need+=(chromium)
"$(command -v ldconfig || echo /sbin/ldconfig)" -p 2>/dev/null | grep -q 'libatomic\.so\.1 ' || need+=(libatomic1)
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${need[*]} (as root: apt-get install ${need[*]})" >&2
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
if [[ " ${need[*]} " == *" postgresql "* ]]; then
    # The tests start their own throwaway server; don't let the package create and start one.
    apt-get install -y -q postgresql-common
    sed -i 's/^#*\s*create_main_cluster\s*=.*/create_main_cluster = false/' /etc/postgresql-common/createcluster.conf
fi
apt-get install -y -q "${need[@]}"
