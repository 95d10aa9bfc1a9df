#!/bin/sh
# ubiq quick start: installs the system libraries the audio stack links against (ALSA and
# JACK headers, pkg-config; the JACK server for the real-time tests, tmux for the terminal
# interface's end-to-end test) when they are missing,
# then builds and plays, or runs the tests.
#
#   ./ubiq.sh [ARGS...]   build and run ubiq (no ARGS: play the default scene)
#   ./ubiq.sh test        run the whole test suite (release profile, as CI does)
set -eu
cd "$(dirname "$0")"

need_packages() {
    missing=""
    pkg-config --exists alsa 2>/dev/null || missing="$missing libasound2-dev"
    pkg-config --exists jack 2>/dev/null || missing="$missing libjack-jackd2-dev"
    command -v pkg-config >/dev/null 2>&1 || missing="$missing pkg-config"
    if [ "${1:-}" = test ]; then
        command -v jackd >/dev/null 2>&1 || missing="$missing jackd2"
        command -v jack_rec >/dev/null 2>&1 || missing="$missing jackd2"
        command -v tmux >/dev/null 2>&1 || missing="$missing tmux"
    fi
    echo "$missing"
}

install_packages() {
    missing=$(need_packages "${1:-}")
    [ -z "$missing" ] && return 0
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "ubiq: please install the ALSA and JACK development files (missing:$missing)" >&2
        exit 1
    fi
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "ubiq: installing system packages:$missing" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null
}

if [ "${1:-}" = test ]; then
    install_packages test
    shift
    exec cargo test --release "$@"
fi
install_packages
exec cargo run --release --quiet -- "$@"
