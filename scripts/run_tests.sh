#!/usr/bin/env bash
# The test stages behind `make test` (all of them) and `make test-sqlite|test-pg|test-browser`.
#
#   scripts/run_tests.sh [all|lint|migrations|sqlite|pg|browser]...
#
# all = lint migrations sqlite pg browser. Every stage runs even after one failed (so one run
# shows everything that is wrong); the exit status is non-zero when any stage failed, and a
# summary with the time of each stage and the total test counts is printed last.
#
# Environment:
#   PYTEST_ARGS      extra pytest arguments for every pytest stage (e.g. "-x -k client")
#   PYTEST_TIMEOUT   per-test timeout in seconds (pytest-timeout; default 600)
#   FAIL_FAST=1      stop at the first failed stage
#   CHROMIUM         browser for the browser stage (default /usr/bin/chromium)
#   REDIS_SERVER     redis-server for the RQ test of the sqlite stage (default /usr/bin/redis-server)
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
. "$HERE/lib.sh"
cd "$HERE/.."

VENV="${VENV:-.venv}"
PY="$VENV/bin/python"
[ -x "$PY" ] || die "$PY not found: run 'make venv' (or scripts/bootstrap_venv.sh) first"

ARTIFACTS="${ARTIFACTS:-artifacts}"
JUNIT_DIR="$ARTIFACTS/junit"
mkdir -p "$JUNIT_DIR"
read -r -a EXTRA_ARGS <<<"${PYTEST_ARGS:-}"
PYTEST=("$PY" -m pytest --timeout="${PYTEST_TIMEOUT:-600}")

PG_NAME=""
cleanup() {
    if [ -n "$PG_NAME" ]; then
        UPSCOPE_PG_NAME="$PG_NAME" scripts/pg_cluster.sh stop || true
        PG_NAME=""
    fi
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

stage_lint() {
    "$VENV/bin/ruff" check .
}

stage_migrations() {
    "$PY" manage.py makemigrations --check --dry-run
}

stage_sqlite() {
    rm -f "$JUNIT_DIR/sqlite.xml"
    scripts/ensure_redis.sh || return 1  # the RQ test (tests/tasks/test_workers.py)
    env -u DATABASE_URL "${PYTEST[@]}" -m "not browser" --junitxml="$JUNIT_DIR/sqlite.xml" \
        "${EXTRA_ARGS[@]}"
}

stage_pg() {
    rm -f "$JUNIT_DIR/postgres.xml"
    local url rc
    PG_NAME="run-$$-$(date +%s)"
    url="$(UPSCOPE_PG_NAME="$PG_NAME" scripts/pg_cluster.sh start)" || return 1
    info "DATABASE_URL=$url"
    DATABASE_URL="$url" "${PYTEST[@]}" -m "not browser" --junitxml="$JUNIT_DIR/postgres.xml" \
        "${EXTRA_ARGS[@]}"
    rc=$?
    cleanup
    return $rc
}

# Test files that hold browser tests: everything under tests/browser/, and any other test
# file that uses the marker.
browser_test_files() {
    {
        find tests/browser -name 'test_*.py' 2>/dev/null
        grep -rl --include='test_*.py' 'mark\.browser' tests 2>/dev/null
    } | sort -u
}

stage_browser() {
    rm -f "$JUNIT_DIR/browser.xml"
    if [ -z "$(browser_test_files)" ]; then
        info "no browser tests yet (tests/browser/test_*.py): nothing to run"
        return 0
    fi
    scripts/ensure_chromium.sh || return 1
    CHROMIUM="${CHROMIUM:-/usr/bin/chromium}" "$PY" scripts/browser_smoke.py || {
        printf '\nERROR: Playwright could not drive %s; the browser tests cannot run.\n' \
            "${CHROMIUM:-/usr/bin/chromium}" >&2
        return 1
    }
    mkdir -p "$ARTIFACTS/browser"
    env -u DATABASE_URL "${PYTEST[@]}" -m browser --junitxml="$JUNIT_DIR/browser.xml" \
        "${EXTRA_ARGS[@]}"
    local rc=$?
    if [ $rc -eq 5 ]; then
        printf '\nERROR: browser test files exist but pytest selected none: mark them with\n' >&2
        printf '       @pytest.mark.browser (pytestmark = pytest.mark.browser).\n' >&2
    fi
    return $rc
}

STAGES=()
for arg in "${@:-all}"; do
    case "$arg" in
        all) STAGES+=(lint migrations sqlite pg browser) ;;
        lint | migrations | sqlite | pg | browser) STAGES+=("$arg") ;;
        *) die "unknown stage '$arg' (all, lint, migrations, sqlite, pg, browser)" ;;
    esac
done

declare -A TITLE=(
    [lint]="ruff check ."
    [migrations]="manage.py makemigrations --check --dry-run"
    [sqlite]="pytest on SQLite"
    [pg]="pytest on PostgreSQL (throwaway cluster)"
    [browser]="browser tests (Playwright + Debian's Chromium)"
)
RESULTS=()
FAILED=0
START_ALL=$SECONDS
for stage in "${STAGES[@]}"; do
    section "[$stage] ${TITLE[$stage]}"
    t0=$SECONDS
    "stage_$stage"
    rc=$?
    dt=$((SECONDS - t0))
    if [ $rc -eq 0 ]; then
        RESULTS+=("$(printf '%-11s ok       %4ss' "$stage" "$dt")")
    else
        RESULTS+=("$(printf '%-11s FAILED   %4ss  (exit %s)' "$stage" "$dt" "$rc")")
        FAILED=1
        if [ "${FAIL_FAST:-0}" = 1 ]; then break; fi
    fi
done

section "Summary ($((SECONDS - START_ALL))s)"
for line in "${RESULTS[@]}"; do
    printf '    %s\n' "$line"
done
"$PY" scripts/junit_total.py "$JUNIT_DIR" "${STAGES[@]}" || true
exit $FAILED
