# Shared helpers for the scripts in this folder (sourced, not run).
# shellcheck shell=bash

# Print a section header on stderr-safe stdout.
section() {
    printf '\n==> %s\n' "$*"
}

info() {
    printf '    %s\n' "$*" >&2
}

die() {
    printf '\nERROR: %s\n' "$*" >&2
    exit 1
}

# Run a command with root rights: directly when we are root, through passwordless sudo
# otherwise. Returns 1 (without running anything) when neither is possible.
can_be_root() {
    [ "$(id -u)" -eq 0 ] && return 0
    command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    else
        sudo -n "$@"
    fi
}

# Install Debian packages with apt-get; 'apt-get update' runs at most once an hour.
apt_install() {
    can_be_root || return 1
    command -v apt-get >/dev/null 2>&1 || return 1
    local stamp=/tmp/.django-upscope-apt-updated
    if [ -z "$(find "$stamp" -mmin -60 2>/dev/null)" ]; then
        info "apt-get update"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null || return 1
        touch "$stamp" 2>/dev/null || true
    fi
    local log=/tmp/django-upscope-apt-install.log
    info "apt-get install -y $* (log: $log)"
    if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" </dev/null \
        >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        return 1
    fi
}
