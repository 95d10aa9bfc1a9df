#!/bin/sh
# Runs every fuzz target (or the ones named) for SECONDS each (default 600), two at a time,
# seeded from the small committed corpora in fuzz/corpus/; new inputs go to $FUZZ_WORK
# (default /tmp/ubiq-fuzz), crashes to fuzz/artifacts/. Prints each target's last libFuzzer
# status line. Needs cargo-fuzz and a nightly toolchain:
#   cargo install cargo-fuzz && rustup toolchain install nightly
#   scripts/fuzz.sh 600 scene_parse command_parse
set -eu
cd "$(dirname "$0")/../fuzz"
seconds=${1:-600}
[ $# -gt 0 ] && shift
targets=${*:-"scene_parse command_parse midi_import audio_decode session_log"}
work=${FUZZ_WORK:-/tmp/ubiq-fuzz}
cargo +nightly fuzz build --release
run() {
    mkdir -p "$work/$1"
    cargo +nightly fuzz run --release "$1" "$work/$1" "corpus/$1" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
        > "$work/$1.log" 2>&1
    echo "$1: $(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "$work/$1.log" | tail -1)"
    grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "$work/$1.log" | tr '\n' ' '
    echo
}
set -- $targets
while [ $# -gt 0 ]; do
    run "$1" &
    if [ $# -gt 1 ]; then run "$2" & shift; fi
    shift
    wait
done
