#!/usr/bin/env bash
# Create .venv at the repository root (if missing) and install the project into it,
# editable, with the extras given as arguments (default: test,type,bench).
#
#   scripts/bootstrap_venv.sh [extras]
#
# `make demo` passes the demo's extras only (drf,spectacular,example); `make venv`, `make test`
# and the other targets pass every extra. An existing venv keeps what it has and gains the
# extras asked for.
#
# The interpreter is $PYTHON when set, else the first of python3.11, python3.12, python3.13,
# python3.10, python3 (PATH, then pyenv's versions) that is 3.10-3.13 and can make a venv.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
. "$HERE/lib.sh"
cd "$HERE/.."

VENV="${VENV:-.venv}"
EXTRAS="${1:-test,type,bench}"

usable() {
    # A Python 3.10-3.13 that has the venv module and ensurepip (Debian splits them out).
    "$1" -c 'import sys, venv, ensurepip
sys.exit(0 if (3, 10) <= sys.version_info[:2] <= (3, 13) else 1)' >/dev/null 2>&1
}

find_python() {
    local c
    local candidates=()
    if [ -n "${PYTHON:-}" ]; then
        candidates+=("$PYTHON")
    fi
    candidates+=(python3.11 python3.12 python3.13 python3.10 python3)
    local pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
    for c in 3.11 3.12 3.13 3.10; do
        for d in "$pyenv_root"/versions/"$c".*/bin/python3; do
            [ -x "$d" ] && candidates+=("$d")
        done
    done
    for c in "${candidates[@]}"; do
        if command -v "$c" >/dev/null 2>&1 && usable "$c"; then
            printf '%s\n' "$c"; return 0
        fi
    done
    return 1
}

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    info "using existing $VENV ($("$VENV/bin/python" --version))"
else
    rm -rf "$VENV"
    if ! PY="$(find_python)"; then
        info "no Python 3.10-3.13 with the venv module found; trying Debian's python3-venv"
        apt_install python3-venv python3-pip || true
        PY="$(find_python)" || die "need Python 3.10-3.13 with the venv module (Debian: \
apt-get install python3-venv), or set PYTHON=/path/to/python3.X"
    fi
    section "Creating $VENV with $PY ($("$PY" --version 2>&1))"
    "$PY" -m venv "$VENV"
fi

section "Installing django-upscope (editable) with extras [$EXTRAS] into $VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -e ".[$EXTRAS]"
info "done: $("$VENV/bin/python" -c 'import django, sys; print("Python", sys.version.split()[0], "/ Django", django.get_version())')"
