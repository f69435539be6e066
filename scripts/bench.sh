#!/usr/bin/env bash
# Run every bench/bench_*.py script (`make bench`), each with the project's .venv Python.
#
# A throwaway PostgreSQL cluster is started first and its URL exported as PG_DATABASE_URL
# (DATABASE_URL itself is left alone), so a benchmark can measure SQLite and PostgreSQL in one
# run; the cluster is stopped at the end. Set BENCH_NO_PG=1 to skip PostgreSQL, or pass script
# names to run only those: scripts/bench.sh bench/bench_sync.py
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
. "$HERE/lib.sh"
cd "$HERE/.."

PY="${VENV:-.venv}/bin/python"
[ -x "$PY" ] || die "$PY not found: run 'make venv' first"

if [ $# -gt 0 ]; then
    SCRIPTS=("$@")
else
    shopt -s nullglob
    SCRIPTS=(bench/bench_*.py)
    shopt -u nullglob
fi
if [ ${#SCRIPTS[@]} -eq 0 ]; then
    info "no benchmarks yet (bench/bench_*.py)"
    exit 0
fi

PG_NAME=""
cleanup() {
    if [ -n "$PG_NAME" ]; then
        UPSCOPE_PG_NAME="$PG_NAME" scripts/pg_cluster.sh stop || true
        PG_NAME=""
    fi
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

if [ "${BENCH_NO_PG:-0}" != 1 ]; then
    section "Starting a throwaway PostgreSQL cluster for the benchmarks"
    PG_NAME="bench-$$-$(date +%s)"
    PG_DATABASE_URL="$(UPSCOPE_PG_NAME="$PG_NAME" scripts/pg_cluster.sh start)" \
        || die "could not start PostgreSQL (BENCH_NO_PG=1 runs the benchmarks without it)"
    export PG_DATABASE_URL
    info "PG_DATABASE_URL=$PG_DATABASE_URL"
fi

FAILED=()
for script in "${SCRIPTS[@]}"; do
    section "bench: $script"
    t0=$SECONDS
    if "$PY" "$script"; then
        info "$script finished in $((SECONDS - t0))s"
    else
        FAILED+=("$script")
        info "$script FAILED after $((SECONDS - t0))s"
    fi
done

if [ ${#FAILED[@]} -gt 0 ]; then
    die "failed benchmarks: ${FAILED[*]}"
fi
section "All ${#SCRIPTS[@]} benchmark(s) ran"
