#!/usr/bin/env bash
# Make sure Debian's redis-server is installed at $REDIS_SERVER (default /usr/bin/redis-server),
# installing it with apt-get when we are root or have passwordless sudo; otherwise fail with a
# clear message. Only the binary is needed: the RQ test starts its own server (127.0.0.1, a free
# port, no persistence) and stops it; the package's system service is not used.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
. "$HERE/lib.sh"

REDIS_SERVER="${REDIS_SERVER:-/usr/bin/redis-server}"

if [ ! -x "$REDIS_SERVER" ]; then
    info "$REDIS_SERVER not found; installing Debian's redis-server"
    if ! apt_install redis-server; then
        die "redis-server is needed for the RQ test and could not be installed.
       Install it (Debian: 'sudo apt-get install redis-server'), or point REDIS_SERVER at a
       redis-server binary, then run this again."
    fi
    [ -x "$REDIS_SERVER" ] || die "redis-server was installed but $REDIS_SERVER does not exist"
fi
info "$("$REDIS_SERVER" --version 2>/dev/null || echo "$REDIS_SERVER")"
