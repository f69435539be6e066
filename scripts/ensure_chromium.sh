#!/usr/bin/env bash
# Make sure Debian's Chromium is installed at $CHROMIUM (default /usr/bin/chromium), installing
# it with apt-get when we are root or have passwordless sudo; otherwise fail with a clear
# message. The browser tests never download a browser of their own.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
. "$HERE/lib.sh"

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

if [ ! -x "$CHROMIUM" ]; then
    info "$CHROMIUM not found; installing Debian's chromium"
    if ! apt_install chromium; then
        die "Chromium is needed for the browser tests and could not be installed.
       Install it (Debian: 'sudo apt-get install chromium'), or point CHROMIUM at a
       Chromium/Chrome binary, then run this again."
    fi
    [ -x "$CHROMIUM" ] || die "chromium was installed but $CHROMIUM does not exist; set CHROMIUM"
fi
info "$("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
