#!/usr/bin/env bash
# `make demo`: the example project on the embedded fake Upscope, ready to click through.
#
#   0. writes UPSCOPE_FAKE_URL into .env (fake mode only), so that manage.py commands run by
#      hand afterwards reach this demo's server (settings.py reads .env)
#   1. manage.py migrate
#   2. manage.py upscope_fake_seed --visitors 300 --seed 42 --reset   (fake mode only)
#   3. manage.py upscope_sync, when that command exists, against a short-lived server
#      (the fake speaks HTTP, so it has to be served while the mirror syncs)
#   4. manage.py demo_setup (users admin/admin, agent/agent, visitor/visitor)
#   5. manage.py runserver $DEMO_HOST:$DEMO_PORT, with manage.py db_worker beside it (the
#      mirror syncs itself every minute, purges reconcile on their own; the worker gets
#      SIGTERM when the server exits)
#
# DEMO_PORT (default 8000) and DEMO_HOST (default 127.0.0.1) choose where it is served;
# UPSCOPE_FAKE_URL follows them unless you set it yourself. DJANGO_ENV_FILE chooses the .env
# file (default: .env at the repository root, git-ignored).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
. "$HERE/lib.sh"
cd "$HERE/.."

PY="${VENV:-.venv}/bin/python"
[ -x "$PY" ] || die "$PY not found: run 'make venv' first"
HOST="${DEMO_HOST:-127.0.0.1}"
PORT="${DEMO_PORT:-8000}"
BASE_URL="http://$HOST:$PORT"
export UPSCOPE_FAKE_URL="${UPSCOPE_FAKE_URL:-$BASE_URL/__upscope__}"
ENV_FILE="${DJANGO_ENV_FILE:-.env}"

manage() { "$PY" manage.py "$@"; }
has_command() { manage help "$1" >/dev/null 2>&1; }
port_in_use() { (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; }

if port_in_use; then
    die "something already listens on $HOST:$PORT (another 'make demo'?). Stop it, or run
       'make demo DEMO_PORT=8001'."
fi

USES_FAKE="$("$PY" -c 'import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")
import django; django.setup()
from django.conf import settings
print(1 if getattr(settings, "USE_FAKE_UPSCOPE", False) else 0)')"

if [ "$USES_FAKE" = 1 ]; then
    "$PY" -m example_project.demo_env "$ENV_FILE" "UPSCOPE_FAKE_URL=$UPSCOPE_FAKE_URL" \
        || die "could not write $ENV_FILE"
    info "Wrote UPSCOPE_FAKE_URL=$UPSCOPE_FAKE_URL to $ENV_FILE: manage.py commands you run
       by hand (upscope_sync, upscope_fake_seed ...) talk to this demo's server."
fi

section "Migrating the database"
manage migrate --no-input

if [ "$USES_FAKE" = 1 ]; then
    section "Seeding the fake Upscope (300 visitors, seed 42) at $UPSCOPE_FAKE_URL"
    if has_command upscope_fake_seed; then
        manage upscope_fake_seed --visitors 300 --seed 42 --reset
    else
        info "WARNING: manage.py upscope_fake_seed does not exist yet; the fake starts empty"
    fi
else
    info "Not using the fake: Upscope variables are set (or DEBUG is off); 'manage.py check'
       says whether they are complete"
fi

if has_command upscope_sync; then
    section "Syncing the local mirror (manage.py upscope_sync)"
    SERVER_PID=""
    stop_server() {
        if [ -n "$SERVER_PID" ]; then
            kill "$SERVER_PID" 2>/dev/null || true
            wait "$SERVER_PID" 2>/dev/null || true
            SERVER_PID=""
        fi
    }
    trap stop_server EXIT
    if [ "$USES_FAKE" = 1 ]; then
        # The fake answers over HTTP from this very project: serve it while syncing.
        # Started directly (not through manage()) so that $! is the server's own pid.
        "$PY" manage.py runserver "$HOST:$PORT" --noreload \
            >"${TMPDIR:-/tmp}/upscope-demo-sync.log" 2>&1 &
        SERVER_PID=$!
        "$PY" - "$BASE_URL/admin/login/" <<'PYEOF' || die "the temporary server did not start"
import sys, time, urllib.error, urllib.request

deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    try:
        urllib.request.urlopen(sys.argv[1], timeout=2)  # noqa: S310 - our own loopback server
        sys.exit(0)
    except urllib.error.HTTPError:
        sys.exit(0)
    except OSError:
        time.sleep(0.3)
sys.exit(1)
PYEOF
    fi
    manage upscope_sync
    stop_server
    trap - EXIT
else
    info "manage.py upscope_sync does not exist yet: the mirror is filled as pages read Upscope"
fi

# -- background worker (django_upscope.tasks) --
section "Starting the task worker (manage.py db_worker) and the periodic sync"
manage upscope_schedule
WORKER_LOG="${TMPDIR:-/tmp}/upscope-demo-worker.log"
# setpriv --pdeathsig: the worker is stopped when its parent (this script, which becomes the
# server through exec below) exits, however it exits.
setpriv --pdeathsig TERM "$PY" manage.py db_worker --no-reload >"$WORKER_LOG" 2>&1 &
info "worker pid $!, log $WORKER_LOG"
# -- end of background worker --

section "Demo users"
manage demo_setup --base-url "$BASE_URL"

section "Serving $BASE_URL/admin/ and the agent console $BASE_URL/console/ (Ctrl-C stops it)"
exec "$PY" manage.py runserver "$HOST:$PORT"
